package main

import (
	"bufio"
	"context"
	"fmt"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	sdklog "go.temporal.io/sdk/log"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/activities"
	"github.com/duban-dev/duban/password"
	"github.com/duban-dev/duban/store"
	"github.com/duban-dev/duban/worker"
)

func init() {
	register("migrate", "apply database migrations and seed the units", migrate)
	register("worker", "run the Temporal worker", runWorker)
	register("user add", "add a user (admins, approvers, officials, supervisors)", userAdd)
}

func migrate(ctx context.Context, env *cli, args []string) error {
	fs := newFlags(env, "migrate")
	cfgPath := configFlag(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := env.loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	db, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	fmt.Fprintln(env.stdout, "数据库已是最新结构")
	return nil
}

func runWorker(ctx context.Context, env *cli, args []string) error {
	fs := newFlags(env, "worker")
	cfgPath := configFlag(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := env.loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	for _, l := range cfg.Masked() {
		env.log.Debug("config", "line", l)
	}
	db, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	c, err := dialTemporal(cfg, sdklog.NewStructuredLogger(env.log))
	if err != nil {
		return err
	}
	defer c.Close()
	reg := prometheus.NewRegistry()
	acts := newActivities(cfg, db, c)
	acts.Refused = activities.RefusedRecorder(env.log, reg)
	w := worker.New(c, acts, worker.Options{TaskQueue: cfg.Temporal.TaskQueue})
	if err := w.Start(); err != nil {
		return err
	}
	if err := startNotify(ctx, env, cfg, c); err != nil {
		return err
	}
	if cfg.WorkerHTTPAddr != "" {
		if err := serveWorkerHealth(ctx, env, cfg.WorkerHTTPAddr, reg, db, c); err != nil {
			return err
		}
	}
	env.log.Info("worker started", "temporal", cfg.Temporal.Address, "namespace", cfg.Temporal.Namespace, "task_queue", cfg.Temporal.TaskQueue)
	<-ctx.Done()
	w.Stop()
	return nil
}

func userAdd(ctx context.Context, env *cli, args []string) error {
	fs := newFlags(env, "user add")
	cfgPath := configFlag(fs)
	username := fs.String("username", "", "sign-in name")
	name := fs.String("name", "", "display name")
	unit := fs.String("unit", "", "unit division code, e.g. 43 or 4301")
	roles := fs.String("roles", "", "comma-separated: official, approver, supervisor, admin")
	email := fs.String("email", "", "email address")
	pwStdin := fs.Bool("password-stdin", false, "read the password from standard input")
	if err := parse(fs, args); err != nil {
		return err
	}
	var missing []string
	for flagName, v := range map[string]string{"username": *username, "name": *name, "unit": *unit, "roles": *roles} {
		if v == "" {
			missing = append(missing, "--"+flagName)
		}
	}
	if len(missing) > 0 {
		return usageError{"missing " + strings.Join(missing, ", ")}
	}
	var rs []duban.Role
	for _, r := range strings.Split(*roles, ",") {
		role := duban.Role(strings.TrimSpace(r))
		if !role.Valid() {
			return usageError{fmt.Sprintf("unknown role %q (official, approver, supervisor, admin)", r)}
		}
		rs = append(rs, role)
	}
	if !*pwStdin {
		return usageError{"give the password on standard input with --password-stdin"}
	}
	line, err := bufio.NewReader(env.stdin).ReadString('\n')
	if err != nil && line == "" {
		return fmt.Errorf("read password: %w", err)
	}
	pw := strings.TrimRight(line, "\r\n")
	if len([]rune(pw)) < password.MinLength {
		return fmt.Errorf("password must be at least %d characters", password.MinLength)
	}
	cfg, err := env.loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	db, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	h, err := db.Hierarchy(ctx)
	if err != nil {
		return err
	}
	u, ok := h.Get(*unit)
	if !ok {
		return fmt.Errorf("unit %s does not exist", *unit)
	}
	hash, err := password.Hash(pw)
	if err != nil {
		return err
	}
	created, err := db.CreateUser(ctx, store.User{Username: *username, DisplayName: *name, UnitCode: u.Code, Roles: rs, Email: *email, PasswordHash: hash})
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "已添加用户 %s（%s，%s，角色 %s）id=%d\n", created.Username, created.DisplayName, u.Name, *roles, created.ID)
	return nil
}
