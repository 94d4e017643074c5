package main

import (
	"context"
	"fmt"

	"github.com/duban-dev/duban/bench"
	"github.com/duban-dev/duban/internal/cli"
)

// benchRetention measures `duban prune` on a scratch database of a million
// rows and prints the figures docs/benchmarks.md quotes.
func benchRetention(ctx context.Context, env *cli.Env, args []string) error {
	fs := cli.NewFlags(env, "bench retention")
	o := bench.RetentionOptions{Log: env.Stdout}
	fs.IntVar(&o.Rows, "rows", 1_000_000, "inbox rows and deliveries to write (each); nine in ten are old enough to go")
	fs.IntVar(&o.Batch, "batch", 10_000, "rows per DELETE statement")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	rep, err := bench.Retention(ctx, o)
	if err != nil {
		return err
	}
	fmt.Fprintln(env.Stdout)
	fmt.Fprint(env.Stdout, rep.Markdown(o.Batch))
	return nil
}
