package main

import (
	"context"
	"fmt"

	"github.com/duban-dev/duban/internal/cli"
	"github.com/duban-dev/duban/internal/devtemporal"
)

// temporalServer runs the embedded Temporal server as a process of its own,
// on fixed ports and a SQLite file, so that it can be killed and started
// again on the same state (the fault suite does).
func temporalServer(ctx context.Context, env *cli.Env, args []string) error {
	fs := cli.NewFlags(env, "temporal")
	file := fs.String("db", "", "SQLite file the server keeps its state in (required)")
	port := fs.Int("port", 7233, "frontend gRPC port on 127.0.0.1; the other services take the seven ports after it")
	namespace := fs.String("namespace", "default", "namespace to register")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if *file == "" {
		return cli.UsageError{Msg: "--db is required"}
	}
	if *port <= 0 || *port > 65535-7 {
		return cli.UsageError{Msg: fmt.Sprintf("--port %d: want 1–65528", *port)}
	}
	srv, err := devtemporal.Start(ctx, devtemporal.Options{DatabaseFile: *file, Namespace: *namespace, Port: *port, FixedPorts: true})
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "temporal ready on %s (fresh=%v)\n", srv.HostPort(), srv.Fresh())
	<-ctx.Done()
	return srv.Stop()
}
