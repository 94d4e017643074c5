package chaos

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// proc is one process of the stack (the Temporal server, a worker, an
// API), started again after each kill with the same arguments.
type proc struct {
	name    string
	binary  string
	args    []string
	env     []string
	logPath string
	// ready reports whether the process serves (its readiness endpoint
	// answers); nil means alive is enough.
	ready func(ctx context.Context) error

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
	starts int
}

// start runs the process and waits until it is ready. A process that
// exits before (a worker started while Temporal is down gives up at once)
// is started again until it is ready or the limit passes.
func (p *proc) start(ctx context.Context, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	var last error
	for time.Now().Before(deadline) {
		if err := p.spawn(); err != nil {
			return err
		}
		last = p.waitReady(ctx, deadline)
		if last == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		p.kill()
		time.Sleep(300 * time.Millisecond)
	}
	return fmt.Errorf("%s not ready within %s: %w (log: %s)", p.name, limit, last, p.logPath)
}

func (p *proc) spawn() error {
	f, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(p.binary, p.args...)
	cmd.Env = append(os.Environ(), p.env...)
	cmd.Stdout, cmd.Stderr = f, f
	// Its own process group: a signal to the suite is not one to the stack.
	// Killed with the suite, should the suite die without its teardown.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	p.mu.Lock()
	p.starts++
	fmt.Fprintf(f, "---- chaos: start %d of %s at %s\n", p.starts, p.name, time.Now().Format(time.RFC3339Nano))
	if err := cmd.Start(); err != nil {
		p.mu.Unlock()
		f.Close()
		return fmt.Errorf("start %s: %w", p.name, err)
	}
	exited := make(chan struct{})
	p.cmd, p.exited = cmd, exited
	p.mu.Unlock()
	go func() {
		_ = cmd.Wait()
		f.Close()
		close(exited)
	}()
	return nil
}

func (p *proc) waitReady(ctx context.Context, deadline time.Time) error {
	p.mu.Lock()
	exited := p.exited
	p.mu.Unlock()
	err := errors.New("not ready yet")
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return errors.New("exited")
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
		if p.ready == nil {
			return nil
		}
		if err = p.ready(ctx); err == nil {
			return nil
		}
	}
	return err
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *proc) kill() {
	p.signal(syscall.SIGKILL, 0)
}

// stop asks the process to stop (SIGTERM), and kills it after grace.
func (p *proc) stop(grace time.Duration) {
	p.signal(syscall.SIGTERM, grace)
}

func (p *proc) signal(sig syscall.Signal, grace time.Duration) {
	p.mu.Lock()
	cmd, exited := p.cmd, p.exited
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(sig)
	select {
	case <-exited:
		return
	case <-time.After(grace):
	}
	_ = cmd.Process.Kill()
	<-exited
}

// httpReady is ready when GET url answers 200.
func httpReady(url string) func(context.Context) error {
	c := &http.Client{Timeout: 3 * time.Second}
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
		if err != nil {
			return err
		}
		res, err := c.Do(req)
		if err != nil {
			return err
		}
		res.Body.Close()
		if res.StatusCode != 200 {
			return fmt.Errorf("GET %s: %d", url, res.StatusCode)
		}
		return nil
	}
}

// tcpReady is ready when addr accepts a connection.
func tcpReady(addr string) func(context.Context) error {
	return func(ctx context.Context) error {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return err
		}
		return c.Close()
	}
}

// freePort returns a port nothing listens on now.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// freePortRun returns the first of n consecutive free ports.
func freePortRun(n int) (int, error) {
	for try := 0; try < 50; try++ {
		first, err := freePort()
		if err != nil {
			return 0, err
		}
		if first+n > 65535 {
			continue
		}
		ok := true
		for i := 1; i < n && ok; i++ {
			l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(first+i)))
			if err != nil {
				ok = false
				continue
			}
			l.Close()
		}
		if ok {
			return first, nil
		}
	}
	return 0, errors.New("no run of free ports found")
}
