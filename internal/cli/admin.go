package cli

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

func migrate(ctx context.Context, env *Env, args []string) error {
	fs := NewFlags(env, "migrate")
	cfgPath := ConfigFlag(fs)
	if err := Parse(fs, args); err != nil {
		return err
	}
	_, db, err := env.openStore(ctx, *cfgPath)
	if err != nil {
		return err
	}
	defer db.Close()
	fmt.Fprintln(env.Stdout, "数据库已是最新结构")
	return nil
}

func runWorker(ctx context.Context, env *Env, args []string) error {
	fs := NewFlags(env, "worker")
	cfgPath := ConfigFlag(fs)
	if err := Parse(fs, args); err != nil {
		return err
	}
	cfg, err := env.LoadConfig(*cfgPath)
	if err != nil {
		return err
	}
	for _, l := range cfg.Masked() {
		env.Log.Debug("config", "line", l)
	}
	db, err := OpenStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	c, err := DialTemporal(cfg, sdklog.NewStructuredLogger(env.Log))
	if err != nil {
		return err
	}
	defer c.Close()
	reg := prometheus.NewRegistry()
	acts := NewActivities(cfg, db, c)
	if acts.Refused, err = activities.RefusedRecorder(env.Log, reg); err != nil {
		return err
	}
	w, err := worker.New(c, acts, worker.Options{TaskQueue: cfg.Temporal.TaskQueue})
	if err != nil {
		return err
	}
	if err := w.Start(); err != nil {
		return err
	}
	defer w.Stop()
	if err := StartNotify(ctx, env, cfg, c); err != nil {
		return err
	}
	admin, err := StartAdmin(env, cfg.AdminAddr, reg, Readiness(db, NewEngine(cfg, c)))
	if err != nil {
		return err
	}
	defer admin.Stop()
	env.Log.Info("worker started", "temporal", cfg.Temporal.Address, "namespace", cfg.Temporal.Namespace, "task_queue", cfg.Temporal.TaskQueue)
	<-ctx.Done()
	return nil
}

func userAdd(ctx context.Context, env *Env, args []string) error {
	fs := NewFlags(env, "user add")
	cfgPath := ConfigFlag(fs)
	username := fs.String("username", "", "sign-in name")
	name := fs.String("name", "", "display name")
	unit := fs.String("unit", "", "unit division code, e.g. 43 or 4301")
	roles := fs.String("roles", "", "comma-separated: official, approver, supervisor, admin")
	email := fs.String("email", "", "email address")
	pwStdin := fs.Bool("password-stdin", false, "read the password from standard input")
	if err := Parse(fs, args); err != nil {
		return err
	}
	var missing []string
	for flagName, v := range map[string]string{"username": *username, "name": *name, "unit": *unit, "roles": *roles} {
		if v == "" {
			missing = append(missing, "--"+flagName)
		}
	}
	if len(missing) > 0 {
		return UsageError{"missing " + strings.Join(missing, ", ")}
	}
	var rs []duban.Role
	for _, r := range strings.Split(*roles, ",") {
		role := duban.Role(strings.TrimSpace(r))
		if !role.Valid() {
			return UsageError{fmt.Sprintf("unknown role %q (official, approver, supervisor, admin)", r)}
		}
		rs = append(rs, role)
	}
	if !*pwStdin {
		return UsageError{"give the password on standard input with --password-stdin"}
	}
	line, err := bufio.NewReader(env.Stdin).ReadString('\n')
	if err != nil && line == "" {
		return fmt.Errorf("read password: %w", err)
	}
	pw := strings.TrimRight(line, "\r\n")
	if len([]rune(pw)) < password.MinLength {
		return fmt.Errorf("password must be at least %d characters", password.MinLength)
	}
	_, db, err := env.openStore(ctx, *cfgPath)
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
	fmt.Fprintf(env.Stdout, "已添加用户 %s（%s，%s，角色 %s）id=%d\n", created.Username, created.DisplayName, u.Name, *roles, created.ID)
	return nil
}
