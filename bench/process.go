package bench

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// process is a duban subprocess (worker or API) whose memory we read.
type process struct {
	cmd *exec.Cmd
	log *os.File
}

func startProcess(ctx context.Context, binary string, args, env []string, logPath string) (*process, error) {
	if binary == "" {
		return nil, fmt.Errorf("no duban binary to run %v (run the benchmark through `duban bench`)", args)
	}
	f, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, err
	}
	p := &process{cmd: cmd, log: f}
	// Give it a moment, and fail early if it died at once.
	select {
	case <-time.After(2 * time.Second):
	case <-ctx.Done():
	}
	if err := syscall.Kill(cmd.Process.Pid, 0); err != nil {
		out, _ := os.ReadFile(logPath)
		return nil, fmt.Errorf("%v exited: %s", args, out)
	}
	return p, nil
}

func (p *process) pid() int { return p.cmd.Process.Pid }

func (p *process) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		_ = p.cmd.Process.Kill()
		<-done
	}
	p.log.Close()
}

// memory reads a process's resident set size and its peak, in bytes.
func memory(pid int) (rss, peak int64, err error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 {
			continue
		}
		kb, _ := strconv.ParseInt(fields[1], 10, 64)
		switch fields[0] {
		case "VmRSS:":
			rss = kb * 1024
		case "VmHWM:":
			peak = kb * 1024
		}
	}
	return rss, peak, sc.Err()
}

func mib(b int64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }

// describeMachine says what the figures were measured on.
func describeMachine(ctx context.Context) []string {
	var out []string
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "model name") {
				out = append(out, "CPU: "+strings.TrimSpace(strings.SplitN(line, ":", 2)[1])+fmt.Sprintf(", %d logical cores", runtime.NumCPU()))
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		line := strings.SplitN(string(b), "\n", 2)[0]
		f := strings.Fields(line)
		if len(f) >= 2 {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			out = append(out, fmt.Sprintf("Memory: %.0f GiB", float64(kb)/(1<<20)))
		}
	}
	out = append(out, "Go: "+runtime.Version()+" "+runtime.GOOS+"/"+runtime.GOARCH)
	if v, err := exec.CommandContext(ctx, "psql", "--version").Output(); err == nil {
		out = append(out, "PostgreSQL client: "+strings.TrimSpace(string(v))+" (server on 127.0.0.1:5432)")
	}
	out = append(out, "Temporal: embedded server go.temporal.io/server v1.32.1 (SQLite, 1 history shard), in the benchmark's process; the worker and the API run as separate processes")
	return out
}
