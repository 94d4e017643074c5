package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	sdklog "go.temporal.io/sdk/log"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/engine"
	"github.com/duban-dev/duban/org"
	"github.com/duban-dev/duban/plan"
	"github.com/duban-dev/duban/store"
)

func planValidate(ctx context.Context, env *Env, args []string) error {
	fs := NewFlags(env, "plan validate")
	if err := Parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return UsageError{"usage: duban plan validate FILE..."}
	}
	failed := 0
	for _, path := range fs.Args() {
		p, _, err := plan.LoadFile(path, org.Hunan())
		if err != nil {
			failed++
			var verrs plan.ValidationErrors
			if errors.As(err, &verrs) {
				for _, e := range verrs {
					fmt.Fprintln(env.Stdout, e.Error())
				}
				fmt.Fprintf(env.Stdout, "%s: %d 处错误\n", path, len(verrs))
				continue
			}
			fmt.Fprintf(env.Stdout, "%s: %v\n", path, err)
			continue
		}
		specs, err := plan.Expand(p, org.Hunan(), p.Year)
		if err != nil {
			failed++
			fmt.Fprintf(env.Stdout, "%s: %v\n", path, err)
			continue
		}
		fmt.Fprintf(env.Stdout, "%s: 有效 — 计划 %s（%d 年），%d 个任务模板，%d 个任务实例\n", path, p.ID, p.Year, len(p.Templates()), len(specs))
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d plan files are invalid", failed, fs.NArg())
	}
	return nil
}

// loadPlanArg reads a plan file, or a shipped plan when the argument is a
// shipped id such as hunan-2021.
func loadPlanArg(arg string, h *org.Hierarchy) (*plan.Plan, []byte, error) {
	for _, id := range plan.ShippedIDs() {
		if id == arg {
			return plan.Shipped(id)
		}
	}
	return plan.LoadFile(arg, h)
}

func planImport(ctx context.Context, env *Env, args []string) error {
	fs := NewFlags(env, "plan import")
	cfgPath := ConfigFlag(fs)
	if err := Parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return UsageError{"usage: duban plan import FILE|" + strings.Join(plan.ShippedIDs(), "|")}
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
	p, src, err := loadPlanArg(fs.Arg(0), h)
	if err != nil {
		return err
	}
	// Audited as an admin action, by the command line at the root unit.
	s, err := db.ImportPlanAs(ctx, p, src, duban.Actor{Name: "命令行 duban plan import", UnitCode: h.Root().Code, Roles: []duban.Role{duban.RoleAdmin}}, h.Root().Code)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "已导入计划 %s（%d 年，%d 个任务模板，校验和 %s）\n", s.ID, s.Year, s.TemplateCount, s.Checksum[:12])
	return nil
}

func planLaunch(ctx context.Context, env *Env, args []string) error {
	fs := NewFlags(env, "plan launch")
	cfgPath := ConfigFlag(fs)
	year := fs.Int("year", 0, "year to launch onto (default: the plan's own year); dates keep month and day")
	only := fs.String("templates", "", "comma-separated template ids to launch (default: all)")
	concurrency := fs.Int("concurrency", 0, "parallel workflow starters (default: temporal.launch_concurrency)")
	if err := Parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return UsageError{"usage: duban plan launch [--year YEAR] PLAN_ID"}
	}
	cfg, db, err := env.openStore(ctx, *cfgPath)
	if err != nil {
		return err
	}
	defer db.Close()
	p, err := db.Plan(ctx, fs.Arg(0))
	if err != nil {
		return err
	}
	if *year == 0 {
		*year = p.Year
	}
	c, err := DialTemporal(cfg, sdklog.NewStructuredLogger(env.Log))
	if err != nil {
		return err
	}
	defer c.Close()
	opts := engine.LaunchOptions{Concurrency: *concurrency}
	if *only != "" {
		opts.Templates = strings.Split(*only, ",")
	}
	return LaunchAndReport(ctx, env, db, NewEngine(cfg, c), p.ID, *year, opts)
}

// LaunchAndReport starts a launch and prints its progress until it ends.
func LaunchAndReport(ctx context.Context, env *Env, db *store.DB, eng *engine.Engine, planID string, year int, opts engine.LaunchOptions) error {
	id, err := eng.Launch(ctx, planID, year, opts)
	if err != nil {
		return err
	}
	start := time.Now()
	done := make(chan error, 1)
	go func() {
		_, err := eng.WaitLaunch(ctx, id)
		done <- err
	}()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	last, lastAt := -1, time.Time{}
	for {
		select {
		case err := <-done:
			p, perr := db.Launch(ctx, id)
			if perr == nil {
				elapsed := time.Since(start)
				fmt.Fprintf(env.Stdout, "下达完成：计划 %s %d 年，共 %d 个任务实例，新启动 %d，已存在 %d，用时 %s（%.0f 个/秒）\n",
					planID, year, p.Total, p.Started, p.Existing, elapsed.Round(time.Millisecond), float64(p.Started+p.Existing)/elapsed.Seconds())
			}
			return err
		case <-tick.C:
			// A line every five seconds at most.
			if p, err := db.Launch(ctx, id); err == nil && p.Total > 0 && p.Started+p.Existing != last && time.Since(lastAt) >= 5*time.Second {
				last, lastAt = p.Started+p.Existing, time.Now()
				fmt.Fprintf(env.Stdout, "下达中：%d/%d\n", last, p.Total)
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func planList(ctx context.Context, env *Env, db *store.DB) error {
	plans, err := db.Plans(ctx)
	if err != nil {
		return err
	}
	for _, p := range plans {
		fmt.Fprintf(env.Stdout, "%s\t%d\t%d 个模板\t%s\n", p.ID, p.Year, p.TemplateCount, p.Title)
	}
	return nil
}
