package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/duban-dev/duban/bench"
	"github.com/duban-dev/duban/internal/cli"
)

func runBench(ctx context.Context, env *cli.Env, args []string) error {
	d := bench.Defaults()
	fs := cli.NewFlags(env, "bench")
	fs.IntVar(&d.Instances, "instances", d.Instances, "instances in the plan launch (the 2021 plan fanned out to townships)")
	fs.IntVar(&d.Timers, "timers", d.Timers, "workflows with a pending reminder during the accuracy measurement")
	fs.IntVar(&d.Fire, "fire", d.Fire, "of those, how many fire inside the one-minute window")
	rows := fs.String("rows", joinInts(d.Rows), "projection sizes for the supervisor queries, comma-separated (e.g. 100000,1000000)")
	approvers := fs.String("approvers", joinInts(d.Approvers), "concurrent approvers for the decision round trip, comma-separated")
	fs.IntVar(&d.Starters, "starters", d.Starters, "workflow starts in flight at once during the launch, for the baseline and Duban alike")
	fs.IntVar(&d.Decisions, "decisions", d.Decisions, "decisions per concurrency level")
	skip := fs.String("skip", "", "sections to skip, comma-separated: launch, decisions, queries, timers, memory")
	fs.StringVar(&d.TemporalStore, "temporal-store", "memory", "where the embedded Temporal server keeps its state: memory (SQLite in memory, as the tests), sqlite (a SQLite file, as duban-dev dev), postgres (databases of the run's own on the benchmark's PostgreSQL)")
	temporalFile := fs.Bool("temporal-file", false, "the same as --temporal-store sqlite")
	fs.IntVar(&d.HistoryShards, "history-shards", 1, "history shards of the embedded Temporal server")
	shards := fs.String("shards", "", "instead of the sections: the plan launch on a fresh server with each of these history shard counts, comma-separated (e.g. 1,2,4)")
	out := fs.String("out", "docs/benchmarks.md", "markdown file whose generated section is replaced; empty to only print")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	var err error
	if d.Rows, err = splitInts(*rows); err != nil {
		return cli.UsageError{Msg: "--rows: " + err.Error()}
	}
	if d.Approvers, err = splitInts(*approvers); err != nil {
		return cli.UsageError{Msg: "--approvers: " + err.Error()}
	}
	if *temporalFile {
		d.TemporalStore = "sqlite"
	}
	switch d.TemporalStore {
	case "memory", "sqlite", "postgres":
	default:
		return cli.UsageError{Msg: fmt.Sprintf("--temporal-store %q: want memory, sqlite or postgres", d.TemporalStore)}
	}
	if d.HistoryShards < 1 || d.HistoryShards > 1024 {
		return cli.UsageError{Msg: fmt.Sprintf("--history-shards %d: want 1 to 1024", d.HistoryShards)}
	}
	if *shards != "" {
		if d.Shards, err = splitInts(*shards); err != nil {
			return cli.UsageError{Msg: "--shards: " + err.Error()}
		}
	}
	if *skip != "" {
		d.Skip = strings.Split(*skip, ",")
	}
	d.Binary, err = os.Executable()
	if err != nil {
		return err
	}
	d.Log = env.Stdout
	rep, err := bench.Run(ctx, d)
	if rep != nil {
		fmt.Fprintln(env.Stdout)
		fmt.Fprint(env.Stdout, rep.Markdown())
		if *out != "" && err == nil {
			if werr := rep.WriteInto(*out); werr != nil {
				return werr
			}
			fmt.Fprintf(env.Stdout, "\nwritten to %s\n", *out)
		}
	}
	return err
}

func splitInts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("%q is not a positive whole number", f)
		}
		out = append(out, n)
	}
	return out, nil
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ",")
}
