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
		return nil, fmt.Errorf("no duban binary to run %v (run the benchmark through `duban-dev bench`)", args)
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
func describeMachine(ctx context.Context, o Options) []string {
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
	shards := "1 history shard"
	if len(o.Shards) > 0 {
		shards = "history shards " + joinInts(o.Shards) + ", a fresh server for each"
	} else if o.HistoryShards > 1 {
		shards = fmt.Sprintf("%d history shards", o.HistoryShards)
	}
	out = append(out, fmt.Sprintf("Temporal: embedded server go.temporal.io/server v1.32.1 (%s, %s), in the benchmark's process; the worker and the API run as separate processes", o.storeLabel(), shards))
	return out
}

// cpuTicks is a process's user plus system CPU time in clock ticks, from
// /proc/PID/stat (fields 14 and 15, counted after the command's closing
// parenthesis, which may itself contain spaces).
func cpuTicks(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fields) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(fields))
	}
	u, err1 := strconv.ParseInt(fields[11], 10, 64)
	k, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: bad CPU times", pid)
	}
	return u + k, nil
}

// settle waits until the processes use less than a quarter of one core
// over two seconds (Temporal's internal queues, such as visibility
// writes, go on after the task queues are drained), so that one section's
// leftovers do not slow the next one's figures. It gives up after limit.
func settle(ctx context.Context, limit time.Duration, pids ...int) (time.Duration, error) {
	const window = 2 * time.Second
	const ticksPerSecond = 100 // USER_HZ on Linux
	start := time.Now()
	for time.Since(start) < limit {
		before, err := sumTicks(pids)
		if err != nil {
			return 0, err
		}
		select {
		case <-ctx.Done():
			return time.Since(start), ctx.Err()
		case <-time.After(window):
		}
		after, err := sumTicks(pids)
		if err != nil {
			return 0, err
		}
		if float64(after-before)/ticksPerSecond < 0.25*window.Seconds() {
			return time.Since(start), nil
		}
	}
	return time.Since(start), nil
}

func sumTicks(pids []int) (int64, error) {
	var sum int64
	for _, pid := range pids {
		t, err := cpuTicks(pid)
		if err != nil {
			return 0, err
		}
		sum += t
	}
	return sum, nil
}
