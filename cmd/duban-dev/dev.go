package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/duban-dev/duban/internal/cli"

	sdklog "go.temporal.io/sdk/log"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/config"
	"github.com/duban-dev/duban/engine"
	"github.com/duban-dev/duban/internal/devpg"
	"github.com/duban-dev/duban/internal/devtemporal"
	"github.com/duban-dev/duban/internal/devtemporal/webui"
	"github.com/duban-dev/duban/password"
	"github.com/duban-dev/duban/plan"
	"github.com/duban-dev/duban/store"
	"github.com/duban-dev/duban/worker"
)

// DemoPassword is the password of every demo user `duban-dev dev` creates.
const DemoPassword = "duban-demo"

// demoUsers are created by `duban-dev dev`, one or more per role at a few units.
var demoUsers = []store.User{
	{Username: "admin", DisplayName: "省计生协管理员", UnitCode: "43", Roles: []duban.Role{duban.RoleAdmin, duban.RoleSupervisor}},
	{Username: "hunan-official", DisplayName: "省计生协承办人", UnitCode: "43", Roles: []duban.Role{duban.RoleOfficial}},
	{Username: "hunan-approver", DisplayName: "省计生协审核人", UnitCode: "43", Roles: []duban.Role{duban.RoleApprover}},
	// A second province approver: 4.3 is signed by two of them (会签).
	{Username: "hunan-approver2", DisplayName: "省计生协审核人（秘书长）", UnitCode: "43", Roles: []duban.Role{duban.RoleApprover}},
	{Username: "hunan-supervisor", DisplayName: "省计生协督查人", UnitCode: "43", Roles: []duban.Role{duban.RoleSupervisor}},
	{Username: "changsha-official", DisplayName: "长沙市承办人", UnitCode: "4301", Roles: []duban.Role{duban.RoleOfficial}},
	{Username: "changsha-approver", DisplayName: "长沙市审核人", UnitCode: "4301", Roles: []duban.Role{duban.RoleApprover}},
	{Username: "changsha-supervisor", DisplayName: "长沙市督查人", UnitCode: "4301", Roles: []duban.Role{duban.RoleSupervisor}},
	{Username: "furong-official", DisplayName: "芙蓉区承办人", UnitCode: "430102", Roles: []duban.Role{duban.RoleOfficial}},
	{Username: "furong-approver", DisplayName: "芙蓉区审核人", UnitCode: "430102", Roles: []duban.Role{duban.RoleApprover, duban.RoleSupervisor}},
	{Username: "furong-approver2", DisplayName: "芙蓉区审核人（副会长）", UnitCode: "430102", Roles: []duban.Role{duban.RoleApprover}},
	{Username: "yueyang-official", DisplayName: "岳阳市承办人", UnitCode: "4306", Roles: []duban.Role{duban.RoleOfficial}},
	{Username: "yueyang-approver", DisplayName: "岳阳市审核人", UnitCode: "4306", Roles: []duban.Role{duban.RoleApprover, duban.RoleSupervisor}},
}

func dev(ctx context.Context, env *cli.Env, args []string) error {
	fs := cli.NewFlags(env, "dev")
	cfgPath := cli.ConfigFlag(fs)
	scale := fs.Float64("time-scale", 8640, "plan time per real time for the demo: 8640 runs a plan day every 10 seconds; 1 is real time")
	startDay := fs.String("start", "03-25", "plan date (MM-DD of the current year) the demo clock starts from on first run")
	year := fs.Int("year", time.Now().In(duban.Shanghai).Year(), "year to launch the 2021 plan onto")
	reset := fs.Bool("reset", false, "forget the demo clock and the embedded Temporal data, and start over")
	temporalStore := fs.String("temporal-store", "sqlite", "where the embedded Temporal keeps its state: sqlite (a file in the data directory), postgres (databases duban_temporal and duban_temporal_visibility on the PostgreSQL in use), memory (gone on stop)")
	temporalUI := fs.String("temporal-ui", "127.0.0.1:8233", "address of Temporal's Web UI for the embedded server (another free port if this one is taken); empty: no UI")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	cfg, err := env.LoadConfig(*cfgPath)
	if err != nil {
		return err
	}
	if _, set := os.LookupEnv("DUBAN_LOG_LEVEL"); !set && *cfgPath == "" && os.Getenv("DUBAN_CONFIG") == "" {
		// The console is for the banner and the launch; request logs and the
		// like only when asked for (DUBAN_LOG_LEVEL=info).
		env.Level.Set(slog.LevelWarn)
	}
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return fmt.Errorf("data directory %s: %w", cfg.DataDir, err)
	}
	temporalDB := filepath.Join(cfg.DataDir, "temporal.db")
	switch *temporalStore {
	case "sqlite", "postgres", "memory":
	default:
		return cli.UsageError{Msg: fmt.Sprintf("--temporal-store %q: want sqlite, postgres or memory", *temporalStore)}
	}
	if *reset && *temporalStore == "sqlite" {
		for _, f := range []string{temporalDB, temporalDB + "-wal", temporalDB + "-shm"} {
			_ = os.Remove(f)
		}
	}

	// 1. PostgreSQL.
	pg, err := devpg.Ensure(ctx, cfg.DatabaseURL, cfg.DataDir, "duban")
	if err != nil {
		return err
	}
	defer pg.Stop()
	cfg.DatabaseURL = pg.URL
	db, err := cli.OpenStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	if *reset {
		if err := resetDemo(ctx, db); err != nil {
			return err
		}
	}

	// 2. Temporal: embedded unless an address is configured, with its Web UI.
	var srv *devtemporal.Server
	var uiURL, temporalWhere string
	if cfg.Temporal.Address == "" {
		port := 7233
		if !portFree(port) {
			port = 0
		}
		opts := devtemporal.Options{Namespace: cfg.Temporal.Namespace, Port: port}
		switch *temporalStore {
		case "sqlite":
			opts.DatabaseFile = temporalDB
			temporalWhere = "数据文件 " + temporalDB
		case "postgres":
			opts.Postgres = &devtemporal.Postgres{URL: pg.URL}
			temporalWhere = "PostgreSQL 数据库 " + devtemporal.DefaultPostgresDatabase + "、" + devtemporal.DefaultPostgresDatabase + "_visibility"
			if *reset {
				if err := opts.Postgres.Drop(); err != nil {
					return err
				}
			}
		default:
			temporalWhere = "内存，停止即清空"
		}
		srv, err = devtemporal.Start(ctx, opts)
		if err != nil {
			return err
		}
		defer func() {
			if err := srv.Stop(); err != nil {
				env.Log.Warn("stop temporal", "err", err)
			}
		}()
		cfg.Temporal.Address = srv.HostPort()
		if *temporalUI != "" {
			ui, err := startWebUI(*temporalUI, srv)
			if err != nil {
				return err
			}
			defer func() {
				if err := ui.Stop(); err != nil {
					env.Log.Warn("stop temporal web UI", "err", err)
				}
			}()
			uiURL = ui.URL()
			if cfg.Temporal.UIURL == "" {
				cfg.Temporal.UIURL = uiURL
			}
		}
		// A new Temporal database with an old demo in Postgres (another data
		// directory, or its Temporal file deleted): the rows would describe
		// workflows that no longer exist, so the demo starts over.
		var old duban.Clock
		if found, err := db.Setting(ctx, cli.DemoClockKey, &old); err != nil {
			return err
		} else if found && srv.Fresh() && !*reset {
			fmt.Fprintln(env.Stdout, "内嵌 Temporal 的数据是新建的，而数据库里有上次的演示数据：清空后重新开始。")
			if err := resetDemo(ctx, db); err != nil {
				return err
			}
		}
	}
	c, err := cli.DialTemporal(cfg, sdklog.NewStructuredLogger(env.Log.With("component", "temporal-client")))
	if err != nil {
		return err
	}
	defer c.Close()
	if srv != nil {
		if err := worker.EnsureSearchAttributes(ctx, c, cfg.Temporal.Namespace); err != nil {
			return err
		}
		cfg.Temporal.SearchAttributes = true
	}

	// 3. Worker.
	// One process, one registry: the worker's and the API's metrics, served
	// on the admin address when one is set.
	reg := prometheus.NewRegistry()
	w, err := cli.StartWorker(ctx, env, cfg, db, c, reg)
	if err != nil {
		return err
	}
	defer w.Stop()

	// 4. Demo data: users, the shipped plan, the clock.
	if err := seedDemoUsers(ctx, db); err != nil {
		return err
	}
	if cfg.Notify.SMTP.Addr != "" {
		if err := seedDemoEmail(ctx, db, demoUsernames()); err != nil {
			return err
		}
	}
	p, src, err := plan.Shipped("hunan-2021")
	if err != nil {
		return err
	}
	if _, err := db.ImportPlan(ctx, p, src, "duban-dev dev"); err != nil {
		return err
	}
	clock, fresh, err := demoClock(ctx, db, *scale, *year, *startDay)
	if err != nil {
		return err
	}
	if cfg.JWTKey == "" {
		cfg.JWTKey, err = devJWTKey(cfg.DataDir)
		if err != nil {
			return err
		}
	}

	// 5. API and web UI.
	eng := cli.NewEngine(cfg, c)
	stop, err := cli.StartAPI(ctx, env, cfg, cli.APIDeps{DB: db, Engine: eng, Clock: clock, Registry: reg})
	if err != nil {
		return err
	}
	defer stop()
	admin, err := cli.StartAdmin(env, cfg.AdminAddr, reg, cli.Readiness(db, eng))
	if err != nil {
		return err
	}
	defer admin.Stop()

	fmt.Fprintln(env.Stdout, "\n督办 Duban 开发环境")
	fmt.Fprintf(env.Stdout, "  PostgreSQL : %s  %s\n", config.MaskURL(pg.URL), pg.How)
	if srv != nil {
		fmt.Fprintf(env.Stdout, "  Temporal   : %s（内嵌，%s）\n", srv.HostPort(), temporalWhere)
		if uiURL != "" {
			fmt.Fprintf(env.Stdout, "  Temporal UI: %s（管理员的任务页链接到任务的工作流）\n", uiURL)
		}
	} else {
		fmt.Fprintf(env.Stdout, "  Temporal   : %s\n", cfg.Temporal.Address)
	}
	fmt.Fprintf(env.Stdout, "  Web 界面   : %s\n", cfg.PublicURL)
	if admin != nil {
		fmt.Fprintf(env.Stdout, "  运维端点   : http://%s/metrics（/healthz、/readyz）\n", admin.Addr())
	}
	if cfg.Notify.SMTP.Addr != "" {
		fmt.Fprintf(env.Stdout, "  邮件       : SMTP %s，演示账号邮箱为 用户名@%s\n", cfg.Notify.SMTP.Addr, demoMailDomain)
	}
	now := clock.Virtual(time.Now()).In(duban.Shanghai)
	if fresh {
		fmt.Fprintf(env.Stdout, "  演示时钟   : 计划时间从 %s 开始，%.0f 倍速（每 %s 现实时间 = 1 天）\n", now.Format("2006-01-02"), clock.Scale, (24 * time.Hour / time.Duration(clock.Scale)).Round(time.Millisecond))
	} else {
		fmt.Fprintf(env.Stdout, "  演示时钟   : 接续上次运行，当前计划时间 %s（%.0f 倍速；停止期间时钟照走，--reset 重新开始）\n", now.Format("2006-01-02 15:04"), clock.Scale)
	}
	fmt.Fprintf(env.Stdout, "\n演示账号（密码均为 %s）:\n", DemoPassword)
	tw := tabwriter.NewWriter(env.Stdout, 2, 2, 2, ' ', 0)
	for _, u := range demoUsers {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%v\n", u.Username, u.DisplayName, u.UnitCode, u.Roles)
	}
	tw.Flush()
	fmt.Fprintln(env.Stdout)

	// 6. Launch the plan onto the year: idempotent, so a restart starts nothing twice.
	if err := cli.LaunchAndReport(ctx, env, db, eng, p.ID, *year, engine.LaunchOptions{Clock: clock}); err != nil {
		if errors.Is(err, context.Canceled) {
			return nil
		}
		return err
	}
	fmt.Fprintln(env.Stdout, "\n运行中，按 Ctrl-C 停止；再次运行 duban-dev dev 从停止处继续。")
	<-ctx.Done()
	fmt.Fprintln(env.Stdout, "\n正在停止……")
	return nil
}

// startWebUI serves Temporal's Web UI for the embedded server on addr, or
// on another free port of the same host when addr is taken.
func startWebUI(addr string, srv *devtemporal.Server) (*webui.Server, error) {
	opts := webui.Options{Addr: addr, Temporal: srv.HostPort(), Namespace: srv.Namespace()}
	ui, err := webui.Start(opts)
	if err == nil {
		return ui, nil
	}
	host, _, splitErr := net.SplitHostPort(addr)
	if splitErr != nil {
		return nil, cli.UsageError{Msg: fmt.Sprintf("--temporal-ui %q: want host:port, such as 127.0.0.1:8233", addr)}
	}
	opts.Addr = net.JoinHostPort(host, "0")
	if ui, err2 := webui.Start(opts); err2 == nil {
		return ui, nil
	}
	return nil, err
}

func portFree(port int) bool {
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return false
	}
	l.Close()
	return true
}

func seedDemoUsers(ctx context.Context, db *store.DB) error {
	hash, err := password.Hash(DemoPassword)
	if err != nil {
		return err
	}
	for _, u := range demoUsers {
		u.PasswordHash = hash
		if _, err := db.UpsertUser(ctx, u); err != nil {
			return fmt.Errorf("demo user %s: %w", u.Username, err)
		}
	}
	return nil
}

// demoClock returns the stored demo clock, or starts one at the given
// month-day of the year. fresh reports a new clock.
func demoClock(ctx context.Context, db *store.DB, scale float64, year int, startDay string) (duban.Clock, bool, error) {
	var c duban.Clock
	found, err := db.Setting(ctx, cli.DemoClockKey, &c)
	if err != nil || found {
		return c, false, err
	}
	if scale <= 0 {
		return c, false, cli.UsageError{Msg: "--time-scale must be positive"}
	}
	start, err := time.ParseInLocation("2006-01-02", fmt.Sprintf("%d-%s", year, startDay), duban.Shanghai)
	if err != nil {
		return c, false, cli.UsageError{Msg: fmt.Sprintf("--start %q: want MM-DD", startDay)}
	}
	c = duban.Clock{Scale: scale, VirtualEpoch: start, RealEpoch: time.Now()}
	return c, true, db.SetSetting(ctx, cli.DemoClockKey, c)
}

// resetDemo empties everything a demo run wrote, keeping units and users.
func resetDemo(ctx context.Context, db *store.DB) error {
	if _, err := db.Pool.Exec(ctx, `TRUNCATE instances, events, rollups, inbox, launches, deliveries`); err != nil {
		return err
	}
	_, err := db.Pool.Exec(ctx, `DELETE FROM settings WHERE key = $1`, cli.DemoClockKey)
	return err
}

// devJWTKey returns a signing key kept in the data directory, made on first use.
func devJWTKey(dir string) (string, error) {
	path := filepath.Join(dir, "jwt.key")
	if b, err := os.ReadFile(path); err == nil && len(b) >= 32 {
		return string(b), nil
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	key := hex.EncodeToString(b)
	return key, os.WriteFile(path, []byte(key), 0o600)
}

// demoMailDomain is where `duban-dev dev` sends demo users' email when SMTP is
// configured (normally to `duban-dev mailcatcher`).
const demoMailDomain = "duban.test"

// seedDemoEmail gives the demo users addresses (username@duban.test), so
// that a dev stack with a mail catcher shows their reminders.
func seedDemoEmail(ctx context.Context, db *store.DB, usernames []string) error {
	for _, u := range usernames {
		if _, err := db.Pool.Exec(ctx, `UPDATE users SET email = $2 WHERE username = $1 AND email = ''`, u, u+"@"+demoMailDomain); err != nil {
			return fmt.Errorf("demo email for %s: %w", u, err)
		}
	}
	return nil
}

func demoUsernames() []string {
	out := make([]string, len(demoUsers))
	for i, u := range demoUsers {
		out[i] = u.Username
	}
	return out
}
