package chaos

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	sdklog "go.temporal.io/sdk/log"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/config"
	"github.com/duban-dev/duban/engine"
	"github.com/duban-dev/duban/internal/cli"
	"github.com/duban-dev/duban/internal/devpg"
	"github.com/duban-dev/duban/org"
	"github.com/duban-dev/duban/password"
	"github.com/duban-dev/duban/plan"
	"github.com/duban-dev/duban/store"
)

// chaosPassword is every drill user's password.
const chaosPassword = "chaos-drill-password"

// stack is the running system: its processes and the suite's own
// connections to the database and Temporal.
type stack struct {
	o   *Options
	dir string
	cfg config.Config

	pgHow     string
	pgRestart func(context.Context) error
	cleanupPG []func()

	temporal *proc
	workers  []*proc
	apis     []*proc
	apiURLs  []string

	db     *store.DB
	eng    *engine.Engine
	closeC func()
	hook   *receiver
}

// Run runs the suite: it starts the stack, drives the chains while it
// injects the faults, checks, and tears the stack down. An error is a run
// that could not be made; what the checks found is in Result.Problems.
func Run(ctx context.Context, o Options) (Result, error) {
	if err := o.defaults(); err != nil {
		return Result{}, err
	}
	start := time.Now()
	s := &stack{o: &o}
	keep := o.Dir != ""
	if o.Dir == "" {
		d, err := os.MkdirTemp("", "duban-chaos-")
		if err != nil {
			return Result{}, err
		}
		o.Dir = d
	}
	s.dir = o.Dir
	// A private cluster runs as the postgres user when the suite is root:
	// it must reach its directory.
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return Result{}, err
	}
	_ = os.Chmod(s.dir, 0o755)
	res, err := s.run(ctx)
	s.teardown()
	res.Took = time.Since(start)
	res.Dir = s.dir
	if err == nil && res.OK() && !keep {
		_ = os.RemoveAll(s.dir)
		res.Dir = ""
	}
	return res, err
}

func (s *stack) progress(format string, args ...any) {
	fmt.Fprintf(s.o.Progress, "[%s] %s\n", time.Now().Format("15:04:05.000"), fmt.Sprintf(format, args...))
}

func (s *stack) run(ctx context.Context) (Result, error) {
	o := s.o
	bin := o.Bin
	if bin == "" {
		mod, err := ModuleDir()
		if err != nil {
			return Result{}, err
		}
		bin = filepath.Join(s.dir, "bin")
		s.progress("go build duban, duban-dev → %s", bin)
		if err := Build(ctx, mod, bin); err != nil {
			return Result{}, err
		}
	}
	if err := s.postgres(ctx); err != nil {
		return Result{}, err
	}
	s.progress("PostgreSQL: %s", s.pgHow)
	if s.pgRestart == nil {
		// Said in the PostgreSQL line of the output.
		o.Faults = slices.DeleteFunc(slices.Clone(o.Faults), func(f string) bool { return f == FaultPostgres })
	}
	var err error
	if s.db, err = cli.OpenStore(ctx, s.cfg); err != nil {
		return Result{}, err
	}
	h, err := s.db.Hierarchy(ctx)
	if err != nil {
		return Result{}, err
	}
	file, chains := planFor(h, o.Chains)
	if err := s.seed(ctx, h, file, chains); err != nil {
		return Result{}, err
	}
	if err := s.start(ctx, bin); err != nil {
		return Result{}, err
	}
	s.progress("stack up: temporal %s, workers %d, APIs %v", s.cfg.Temporal.Address, len(s.workers), s.apiURLs)
	if err := s.launch(ctx, len(chains)); err != nil {
		return Result{}, err
	}

	cl := newClient(s.apiURLs, chaosPassword)
	res := Result{Chains: len(chains), Postgres: s.pgHow, Processes: map[string]int{}}
	faultsDone := make(chan []Fault)
	drivingDone := make(chan struct{})
	go func() { faultsDone <- s.inject(ctx, cl, drivingDone) }()
	s.progress("driving %d chains (%d decisions), %d at once", len(chains), 4*len(chains), o.Concurrency)
	// The last chain is driven after the faults end, so that the last
	// fault has a decision after it to measure its recovery by.
	last := len(chains) - 1
	if last == 0 || len(o.Faults) == 0 {
		last = len(chains)
	}
	// With a Duration, the client paces itself so the chains last that long.
	var pace time.Duration
	if o.Duration > 0 {
		pace = o.Duration * time.Duration(o.Concurrency) / time.Duration(4*len(chains))
	}
	problems := s.drive(ctx, cl, chains[:last], pace)
	close(drivingDone)
	res.Faults = <-faultsDone
	problems = append(problems, s.drive(ctx, cl, chains[last:], 0)...)
	res.Problems = append(res.Problems, problems...)
	res.Retries = cl.retries.Load()
	res.ByCause = map[string]int64{}
	cl.byCause.Range(func(k, v any) bool {
		res.ByCause[k.(string)] = v.(*atomic.Int64).Load()
		return true
	})
	var successes []time.Time
	for _, ch := range chains {
		for _, d := range ch.decision {
			if d != nil && (d.ok || d.settled) {
				res.Decisions++
				if d.settled {
					res.Settled++
				}
				if d.ok {
					successes = append(successes, d.at)
				}
			}
		}
	}
	for i := range res.Faults {
		f := &res.Faults[i]
		for _, t := range successes {
			if t.After(f.At) && (f.Recovery == 0 || t.Sub(f.At) < f.Recovery) {
				f.Recovery = t.Sub(f.At)
			}
		}
		if f.Recovery == 0 {
			res.Problems = append(res.Problems, fmt.Sprintf("故障 %s（%s）之后再没有成功的决定", f.Kind, f.Target))
		}
	}
	s.progress("checking")
	checked, found, err := s.check(ctx, chains)
	if err != nil {
		return res, err
	}
	res.Checked = checked
	res.Problems = append(res.Problems, found...)
	for _, p := range append(append([]*proc{s.temporal}, s.workers...), s.apis...) {
		res.Processes[p.name] = p.starts
	}
	return res, nil
}

// postgres provides the database: a private cluster, or a throwaway
// database on the shared server.
func (s *stack) postgres(ctx context.Context) error {
	mode := s.o.Postgres
	if mode == "auto" || mode == "private" {
		port, err := freePort()
		if err != nil {
			return err
		}
		c, err := devpg.StartCluster(ctx, filepath.Join(s.dir, "postgres"), port)
		if err == nil {
			s.cleanupPG = append(s.cleanupPG, c.Stop)
			u, err := devpg.CreateDatabase(ctx, c.AdminURL(), "duban_chaos")
			if err != nil {
				return err
			}
			s.cfg = s.config(u)
			s.pgRestart = c.Restart
			s.pgHow = fmt.Sprintf("本演练自建的集群（127.0.0.1:%d），故障注入时以 pg_ctl restart -m immediate 重启", port)
			return nil
		}
		if mode == "private" {
			return err
		}
		s.progress("no private PostgreSQL cluster (%v): using the shared server", err)
	}
	u, drop, err := devpg.NewScratchDatabase(ctx, "duban_chaos")
	if err != nil {
		return err
	}
	s.cleanupPG = append(s.cleanupPG, drop)
	s.cfg = s.config(u)
	parsed, _ := url.Parse(u)
	s.pgHow = fmt.Sprintf("共用服务器 %s 上的临时数据库", parsed.Host)
	if !s.o.RestartSharedPostgres {
		s.pgHow += "；不重启共用服务器（其他用户会断线），PostgreSQL 故障未注入（加 --restart-shared-postgres 可开启）"
		return nil
	}
	restart, how, err := sharedRestart(parsed.Port())
	if err != nil {
		s.pgHow += "；无法重启：" + err.Error()
		return nil
	}
	s.pgRestart = restart
	s.pgHow += "，故障注入时以 " + how + " 重启"
	return nil
}

// sharedRestart finds the local cluster on port with pg_lsclusters and
// restarts it with pg_ctlcluster in immediate mode.
func sharedRestart(port string) (func(context.Context) error, string, error) {
	if port == "" {
		port = "5432"
	}
	if _, err := exec.LookPath("pg_ctlcluster"); err != nil {
		return nil, "", errors.New("没有 pg_ctlcluster")
	}
	out, err := exec.Command("pg_lsclusters", "-h").Output()
	if err != nil {
		return nil, "", fmt.Errorf("pg_lsclusters: %w", err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) >= 3 && f[2] == port {
			args := []string{"--skip-systemctl-redirect", f[0], f[1], "restart", "-m", "immediate"}
			return func(ctx context.Context) error {
				if out, err := exec.CommandContext(ctx, "pg_ctlcluster", args...).CombinedOutput(); err != nil {
					return fmt.Errorf("pg_ctlcluster: %w: %s", err, out)
				}
				return nil
			}, "pg_ctlcluster " + strings.Join(args, " "), nil
		}
	}
	return nil, "", fmt.Errorf("端口 %s 上没有本机集群", port)
}

func (s *stack) config(dbURL string) config.Config {
	cfg := config.Default()
	cfg.DatabaseURL = dbURL
	cfg.DataDir = filepath.Join(s.dir, "data")
	return cfg
}

// seed stores the drill's users, its plan and a plan clock: plan time
// from 1 June 2021 at the real pace.
func (s *stack) seed(ctx context.Context, h *org.Hierarchy, file []byte, chains []*chain) error {
	p, err := plan.Parse("chaos.yaml", file, h)
	if err != nil {
		return fmt.Errorf("drill plan: %w", err)
	}
	if _, err := s.db.ImportPlan(ctx, p, file, "duban-dev chaos"); err != nil {
		return err
	}
	hash, err := password.Hash(chaosPassword)
	if err != nil {
		return err
	}
	noDigest := false
	for _, u := range people(h, chains) {
		u.PasswordHash = hash
		created, err := s.db.CreateUser(ctx, u)
		if err != nil {
			return fmt.Errorf("user %s: %w", u.Username, err)
		}
		// Every notice also goes out on the drill's webhook, at once.
		if err := s.db.SetPrefs(ctx, duban.NotifyPrefs{UserID: created.ID, Webhook: webhookName, Digest: &noDigest}); err != nil {
			return fmt.Errorf("notification settings of %s: %w", u.Username, err)
		}
	}
	for i, ch := range chains {
		for step := range ch.decision {
			ch.decision[step] = &decision{step: step, key: fmt.Sprintf("chaos-%d-%d", i, step)}
		}
	}
	clock := duban.Clock{Scale: 1, VirtualEpoch: time.Date(planYear, 6, 1, 9, 0, 0, 0, duban.Shanghai), RealEpoch: time.Now()}
	return s.db.SetSetting(ctx, cli.DemoClockKey, clock)
}

// start starts the Temporal server, the workers and the API processes.
func (s *stack) start(ctx context.Context, bin string) error {
	port, err := freePortRun(8)
	if err != nil {
		return err
	}
	s.cfg.Temporal.Address = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	logs := filepath.Join(s.dir, "logs")
	if err := os.MkdirAll(logs, 0o755); err != nil {
		return err
	}
	quiet := sdklog.NewStructuredLogger(discardLogger())
	s.temporal = &proc{name: "temporal", binary: filepath.Join(bin, "duban-dev"),
		args:    []string{"temporal", "--db", filepath.Join(s.dir, "temporal.db"), "--port", strconv.Itoa(port), "--namespace", s.cfg.Temporal.Namespace},
		logPath: filepath.Join(logs, "temporal.log"),
		ready: func(ctx context.Context) error {
			c, err := cli.DialTemporal(s.cfg, quiet)
			if err != nil {
				return err
			}
			c.Close()
			return nil
		}}
	if err := s.temporal.start(ctx, 2*time.Minute); err != nil {
		return err
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	if s.hook, err = startReceiver(); err != nil {
		return err
	}
	hooks, err := json.Marshal([]config.Webhook{{Name: webhookName, Kind: "generic", URL: s.hook.url, Secret: hex.EncodeToString(key[:16])}})
	if err != nil {
		return err
	}
	common := []string{
		"DATABASE_URL=" + s.cfg.DatabaseURL,
		"TEMPORAL_ADDRESS=" + s.cfg.Temporal.Address,
		"TEMPORAL_NAMESPACE=" + s.cfg.Temporal.Namespace,
		"DUBAN_DATA_DIR=" + s.cfg.DataDir,
		"DUBAN_LOG_LEVEL=warn",
		"DUBAN_CONFIG=",
		"DUBAN_JWT_KEY=" + hex.EncodeToString(key),
		"DUBAN_LOGIN_PER_IP_PER_MINUTE=1000000",
		// A decision waits this long for its Update before answering 504.
		"DUBAN_UPDATE_TIMEOUT=5s",
		"DUBAN_WEBHOOKS=" + string(hooks),
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	spawn := func(p *proc) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := p.start(ctx, 2*time.Minute); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	for i := 1; i <= 2; i++ {
		admin, err := freePort()
		if err != nil {
			return err
		}
		adminAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(admin))
		w := &proc{name: fmt.Sprintf("worker-%d", i), binary: filepath.Join(bin, "duban"), args: []string{"worker"},
			env: append(append([]string(nil), common...), "DUBAN_ADMIN_ADDR="+adminAddr), logPath: filepath.Join(logs, fmt.Sprintf("worker-%d.log", i)),
			ready: httpReady("http://" + adminAddr + "/healthz")}
		s.workers = append(s.workers, w)
		spawn(w)
	}
	for i := 1; i <= 2; i++ {
		port, err := freePort()
		if err != nil {
			return err
		}
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		a := &proc{name: fmt.Sprintf("api-%d", i), binary: filepath.Join(bin, "duban"), args: []string{"serve"},
			env:     append(append([]string(nil), common...), "DUBAN_HTTP_ADDR="+addr, "DUBAN_PUBLIC_URL=http://"+addr),
			logPath: filepath.Join(logs, fmt.Sprintf("api-%d.log", i)), ready: httpReady("http://" + addr + "/readyz")}
		s.apis = append(s.apis, a)
		s.apiURLs = append(s.apiURLs, "http://"+addr)
		spawn(a)
	}
	wg.Wait()
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	c, err := cli.DialTemporal(s.cfg, quiet)
	if err != nil {
		return err
	}
	s.closeC = c.Close
	s.eng = cli.NewEngine(s.cfg, c)
	return nil
}

// launch starts the drill plan's tasks and waits for their rows.
func (s *stack) launch(ctx context.Context, chains int) error {
	var clock duban.Clock
	if _, err := s.db.Setting(ctx, cli.DemoClockKey, &clock); err != nil {
		return err
	}
	id, err := s.eng.Launch(ctx, PlanID, planYear, engine.LaunchOptions{Clock: clock})
	if err != nil {
		return err
	}
	lctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	r, err := s.eng.WaitLaunch(lctx, id)
	if err != nil {
		return fmt.Errorf("launch: %w", err)
	}
	s.progress("launched: %+v", r)
	return nil
}

func (s *stack) teardown() {
	for _, p := range append(append([]*proc(nil), s.apis...), s.workers...) {
		p.stop(10 * time.Second)
	}
	if s.temporal != nil {
		s.temporal.stop(10 * time.Second)
	}
	if s.closeC != nil {
		s.closeC()
	}
	if s.hook != nil {
		s.hook.close()
	}
	if s.db != nil {
		s.db.Close()
	}
	for i := len(s.cleanupPG) - 1; i >= 0; i-- {
		s.cleanupPG[i]()
	}
}
