package cli

import (
	"bufio"
	"context"
	"fmt"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/password"
	"github.com/duban-dev/duban/store"
)

// migrate: opening the store migrates it.
func migrate(ctx context.Context, env *Env, db *store.DB) error {
	fmt.Fprintln(env.Stdout, "数据库已是最新结构")
	return nil
}

func runWorker(ctx context.Context, env *Env, args []string) error {
	r, err := env.start(ctx, "worker", args, nil)
	if err != nil {
		return err
	}
	defer r.close()
	cfg := r.cfg
	reg := prometheus.NewRegistry()
	w, err := StartWorker(ctx, env, cfg, r.db, r.c, reg)
	if err != nil {
		return err
	}
	defer w.Stop()
	admin, err := StartAdmin(env, cfg.AdminAddr, reg, Readiness(r.db, NewEngine(cfg, r.c)))
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
