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

	sdklog "go.temporal.io/sdk/log"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/activities"
	"github.com/duban-dev/duban/config"
	"github.com/duban-dev/duban/engine"
	"github.com/duban-dev/duban/internal/devpg"
	"github.com/duban-dev/duban/internal/devtemporal"
	"github.com/duban-dev/duban/password"
	"github.com/duban-dev/duban/plan"
	"github.com/duban-dev/duban/store"
	"github.com/duban-dev/duban/worker"
)

func init() {
	register("dev", "start everything on embedded defaults: Temporal, PostgreSQL, worker, API and UI, demo users, the 2021 plan", dev)
}

// DemoPassword is the password of every demo user `duban dev` creates.
const DemoPassword = "duban-demo"

// demoUsers are created by `duban dev`, one or more per role at a few units.
var demoUsers = []store.User{
	{Username: "admin", DisplayName: "省计生协管理员", UnitCode: "43", Roles: []duban.Role{duban.RoleAdmin, duban.RoleSupervisor}},
	{Username: "hunan-official", DisplayName: "省计生协承办人", UnitCode: "43", Roles: []duban.Role{duban.RoleOfficial}},
	{Username: "hunan-approver", DisplayName: "省计生协审核人", UnitCode: "43", Roles: []duban.Role{duban.RoleApprover}},
	{Username: "hunan-supervisor", DisplayName: "省计生协督查人", UnitCode: "43", Roles: []duban.Role{duban.RoleSupervisor}},
	{Username: "changsha-official", DisplayName: "长沙市承办人", UnitCode: "4301", Roles: []duban.Role{duban.RoleOfficial}},
	{Username: "changsha-approver", DisplayName: "长沙市审核人", UnitCode: "4301", Roles: []duban.Role{duban.RoleApprover}},
	{Username: "changsha-supervisor", DisplayName: "长沙市督查人", UnitCode: "4301", Roles: []duban.Role{duban.RoleSupervisor}},
	{Username: "furong-official", DisplayName: "芙蓉区承办人", UnitCode: "430102", Roles: []duban.Role{duban.RoleOfficial}},
	{Username: "furong-approver", DisplayName: "芙蓉区审核人", UnitCode: "430102", Roles: []duban.Role{duban.RoleApprover, duban.RoleSupervisor}},
	{Username: "yueyang-official", DisplayName: "岳阳市承办人", UnitCode: "4306", Roles: []duban.Role{duban.RoleOfficial}},
	{Username: "yueyang-approver", DisplayName: "岳阳市审核人", UnitCode: "4306", Roles: []duban.Role{duban.RoleApprover, duban.RoleSupervisor}},
}

// devClock is the demo clock `duban dev` keeps in the settings table.
const devClockKey = "dev_clock"

// apiStarter starts the HTTP API and web UI for `duban dev` and `duban
// serve`; serve.go sets it. It returns a function that stops the server.
var apiStarter func(ctx context.Context, env *cli, cfg config.Config, deps apiDeps) (stop func(), err error)

// apiDeps is what the API needs from the running stack.
type apiDeps struct {
	DB     *store.DB
	Engine *engine.Engine
	Clock  duban.Clock
}

func dev(ctx context.Context, env *cli, args []string) error {
	fs := newFlags(env, "dev")
	cfgPath := configFlag(fs)
	scale := fs.Float64("time-scale", 8640, "plan time per real time for the demo: 8640 runs a plan day every 10 seconds; 1 is real time")
	startDay := fs.String("start", "03-25", "plan date (MM-DD of the current year) the demo clock starts from on first run")
	year := fs.Int("year", time.Now().In(duban.Shanghai).Year(), "year to launch the 2021 plan onto")
	reset := fs.Bool("reset", false, "forget the demo clock and the embedded Temporal data, and start over")
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := env.loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	if _, set := os.LookupEnv("DUBAN_LOG_LEVEL"); !set && *cfgPath == "" && os.Getenv("DUBAN_CONFIG") == "" {
		// The console is for the banner and the launch; request logs and the
		// like only when asked for (DUBAN_LOG_LEVEL=info).
		env.level.Set(slog.LevelWarn)
	}
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return fmt.Errorf("data directory %s: %w", cfg.DataDir, err)
	}
	temporalDB := filepath.Join(cfg.DataDir, "temporal.db")
	if *reset {
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
	db, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	if *reset {
		if err := resetDemo(ctx, db); err != nil {
			return err
		}
	}

	// 2. Temporal: embedded unless an address is configured.
	var srv *devtemporal.Server
	if cfg.Temporal.Address == "" {
		port := 7233
		if !portFree(port) {
			port = 0
		}
		srv, err = devtemporal.Start(ctx, devtemporal.Options{DatabaseFile: temporalDB, Namespace: cfg.Temporal.Namespace, Port: port})
		if err != nil {
			return err
		}
		defer func() {
			if err := srv.Stop(); err != nil {
				env.log.Warn("stop temporal", "err", err)
			}
		}()
		cfg.Temporal.Address = srv.HostPort()
		// A new Temporal database with an old demo in Postgres (another data
		// directory, or its Temporal file deleted): the rows would describe
		// workflows that no longer exist, so the demo starts over.
		var old duban.Clock
		if found, err := db.Setting(ctx, devClockKey, &old); err != nil {
			return err
		} else if found && srv.Fresh() && !*reset {
			fmt.Fprintln(env.stdout, "内嵌 Temporal 的数据是新建的，而数据库里有上次的演示数据：清空后重新开始。")
			if err := resetDemo(ctx, db); err != nil {
				return err
			}
		}
	}
	c, err := dialTemporal(cfg, sdklog.NewStructuredLogger(env.log.With("component", "temporal-client")))
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
	acts := newActivities(cfg, db, c)
	acts.Refused = activities.RefusedRecorder(env.log, nil)
	w := worker.New(c, acts, worker.Options{TaskQueue: cfg.Temporal.TaskQueue})
	if err := w.Start(); err != nil {
		return err
	}
	defer w.Stop()
	if err := startNotify(ctx, env, cfg, c); err != nil {
		return err
	}

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
	if _, err := db.ImportPlan(ctx, p, src, "duban dev"); err != nil {
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
	eng := newEngine(cfg, c)
	if apiStarter != nil {
		stop, err := apiStarter(ctx, env, cfg, apiDeps{DB: db, Engine: eng, Clock: clock})
		if err != nil {
			return err
		}
		defer stop()
	}

	fmt.Fprintln(env.stdout, "\n督办 Duban 开发环境")
	fmt.Fprintf(env.stdout, "  PostgreSQL : %s  %s\n", config.MaskURL(pg.URL), pg.How)
	if srv != nil {
		fmt.Fprintf(env.stdout, "  Temporal   : %s（内嵌，数据文件 %s）\n", srv.HostPort(), temporalDB)
	} else {
		fmt.Fprintf(env.stdout, "  Temporal   : %s\n", cfg.Temporal.Address)
	}
	if apiStarter != nil {
		fmt.Fprintf(env.stdout, "  Web 界面   : %s\n", cfg.PublicURL)
	}
	if cfg.Notify.SMTP.Addr != "" {
		fmt.Fprintf(env.stdout, "  邮件       : SMTP %s，演示账号邮箱为 用户名@%s\n", cfg.Notify.SMTP.Addr, demoMailDomain)
	}
	now := clock.Virtual(time.Now()).In(duban.Shanghai)
	if fresh {
		fmt.Fprintf(env.stdout, "  演示时钟   : 计划时间从 %s 开始，%.0f 倍速（每 %s 现实时间 = 1 天）\n", now.Format("2006-01-02"), clock.Scale, (24 * time.Hour / time.Duration(clock.Scale)).Round(time.Millisecond))
	} else {
		fmt.Fprintf(env.stdout, "  演示时钟   : 接续上次运行，当前计划时间 %s（%.0f 倍速；停止期间时钟照走，--reset 重新开始）\n", now.Format("2006-01-02 15:04"), clock.Scale)
	}
	fmt.Fprintf(env.stdout, "\n演示账号（密码均为 %s）:\n", DemoPassword)
	tw := tabwriter.NewWriter(env.stdout, 2, 2, 2, ' ', 0)
	for _, u := range demoUsers {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%v\n", u.Username, u.DisplayName, u.UnitCode, u.Roles)
	}
	tw.Flush()
	fmt.Fprintln(env.stdout)

	// 6. Launch the plan onto the year: idempotent, so a restart starts nothing twice.
	if err := launchAndReport(ctx, env, db, eng, p.ID, *year, engine.LaunchOptions{Clock: clock, Concurrency: 16}); err != nil {
		if errors.Is(err, context.Canceled) {
			return nil
		}
		return err
	}
	fmt.Fprintln(env.stdout, "\n运行中，按 Ctrl-C 停止；再次运行 duban dev 从停止处继续。")
	<-ctx.Done()
	fmt.Fprintln(env.stdout, "\n正在停止……")
	return nil
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
	found, err := db.Setting(ctx, devClockKey, &c)
	if err != nil || found {
		return c, false, err
	}
	if scale <= 0 {
		return c, false, usageError{"--time-scale must be positive"}
	}
	start, err := time.ParseInLocation("2006-01-02", fmt.Sprintf("%d-%s", year, startDay), duban.Shanghai)
	if err != nil {
		return c, false, usageError{fmt.Sprintf("--start %q: want MM-DD", startDay)}
	}
	c = duban.Clock{Scale: scale, VirtualEpoch: start, RealEpoch: time.Now()}
	return c, true, db.SetSetting(ctx, devClockKey, c)
}

// resetDemo empties everything a demo run wrote, keeping units and users.
func resetDemo(ctx context.Context, db *store.DB) error {
	if _, err := db.Pool.Exec(ctx, `TRUNCATE instances, events, rollups, inbox, launches, deliveries`); err != nil {
		return err
	}
	_, err := db.Pool.Exec(ctx, `DELETE FROM settings WHERE key = $1`, devClockKey)
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
