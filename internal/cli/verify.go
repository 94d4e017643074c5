package cli

import (
	"context"
	"encoding/json"
	"fmt"

	sdklog "go.temporal.io/sdk/log"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/reconcile"
)

// verify compares the store with the workflows (every open task's row with
// its workflow, the rollup counters with a recount, the inbox with the
// timeline) and, with --repair, repairs what it can, audited. It exits 1
// when it found drift it did not repair.
func verify(ctx context.Context, env *Env, args []string) error {
	fs := NewFlags(env, "verify")
	cfgPath := ConfigFlag(fs)
	repair := fs.Bool("repair", false, "repair the drift found (audited); without it, only report")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if err := Parse(fs, args); err != nil {
		return err
	}
	cfg, err := env.LoadConfig(*cfgPath)
	if err != nil {
		return err
	}
	db, err := OpenStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	c, err := DialTemporal(cfg, sdklog.NewStructuredLogger(env.Log.With("component", "temporal-client")))
	if err != nil {
		return err
	}
	defer c.Close()
	r, err := reconcile.Run(ctx, db, NewEngine(cfg, c), reconcile.Options{Repair: *repair, Actor: duban.Actor{Name: "对账（duban verify）"}})
	if err != nil {
		return err
	}
	found, repaired := r.Count()
	if *asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(r); err != nil {
			return err
		}
	} else {
		for _, d := range r.Drift {
			state := "未修复"
			if d.Repaired {
				state = "已修复"
			}
			fmt.Fprintf(env.Stdout, "[%s] %s %s%s\n", state, d.Kind, d.InstanceID, d.Unit)
			for _, line := range d.Detail {
				fmt.Fprintf(env.Stdout, "    %s\n", line)
			}
		}
		fmt.Fprintf(env.Stdout, "对账完成：核对未办结任务 %d 项，发现不一致 %d 处，修复 %d 处（用时 %s）\n",
			r.Checked, found, repaired, r.Finished.Sub(r.Started).Round(1e6))
	}
	if found > repaired {
		return fmt.Errorf("%d disagreements not repaired", found-repaired)
	}
	return nil
}
