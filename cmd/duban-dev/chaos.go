package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/duban-dev/duban/internal/chaos"
	"github.com/duban-dev/duban/internal/cli"
)

// runChaos is `duban-dev chaos`, the fault suite (docs/faults.md).
func runChaos(ctx context.Context, env *cli.Env, args []string) error {
	fs := cli.NewFlags(env, "chaos")
	var o chaos.Options
	fs.IntVar(&o.Chains, "chains", 24, "approval chains to drive (submit and three approval steps each)")
	fs.IntVar(&o.Concurrency, "concurrency", 4, "chains driven at once")
	fs.DurationVar(&o.Duration, "duration", time.Minute, "spread the chains over this long (0: as fast as the stack answers)")
	fs.DurationVar(&o.FaultEvery, "fault-every", 3*time.Second, "pause between the recovery from one fault and the next")
	fs.DurationVar(&o.Down, "down", time.Second, "how long a killed process stays down")
	faults := fs.String("faults", "worker,api,temporal,postgres", "faults to inject in turn: worker, api, temporal (SIGKILL and start again), postgres (restart in immediate mode); empty for none")
	fs.StringVar(&o.Postgres, "postgres", "auto", "the database: private (a cluster of the drill's own, which it restarts), shared (a throwaway database on 127.0.0.1:5432 or DUBAN_TEST_DATABASE_URL), auto (private when initdb is found)")
	fs.BoolVar(&o.RestartSharedPostgres, "restart-shared-postgres", false, "with --postgres shared: restart the shared server (pg_ctlcluster … restart -m immediate), cutting its other users")
	fs.StringVar(&o.Bin, "bin", "", "directory with built duban and duban-dev binaries (default: go build them)")
	fs.StringVar(&o.Dir, "dir", "", "keep the logs and the Temporal file here (default: a temporary directory, removed after a clean run)")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	for _, f := range strings.Split(*faults, ",") {
		if f = strings.TrimSpace(f); f != "" {
			o.Faults = append(o.Faults, f)
		}
	}
	if o.Chains < 1 || o.Chains > 20000 {
		return cli.UsageError{Msg: fmt.Sprintf("--chains %d: want 1–20000", o.Chains)}
	}
	o.Progress = env.Stdout
	res, err := chaos.Run(ctx, o)
	if err != nil {
		if res.Dir != "" {
			fmt.Fprintf(env.Stdout, "日志：%s\n", res.Dir)
		}
		return err
	}
	res.Print(env.Stdout)
	if !res.OK() {
		return fmt.Errorf("%d problems found", len(res.Problems))
	}
	return nil
}
