// Command duban-dev is Duban's development kit: every command of the
// production binary, plus dev (the whole system on embedded defaults),
// bench (the benchmark), chaos (the fault suite), temporal (the embedded
// Temporal server alone) and mailcatcher (a local SMTP server with a web
// page). `make dev` runs `go run ./cmd/duban-dev dev`.
package main

import "github.com/duban-dev/duban/internal/cli"

// commands is the production command set and the development kit.
func commands() []cli.Command {
	return append(cli.Production(),
		cli.Command{Name: "dev", Summary: "start everything on embedded defaults: Temporal, PostgreSQL, worker, API and UI, demo users, the 2021 plan", Run: dev},
		cli.Command{Name: "bench", Summary: "measure launch, decisions, supervisor queries, reminders and memory on the real stack; write docs/benchmarks.md", Run: runBench},
		cli.Command{Name: "bench retention", Summary: "measure duban prune on a scratch database of a million inbox rows and deliveries: rows/s, the longest statement", Run: benchRetention},
		cli.Command{Name: "temporal", Summary: "run the embedded Temporal server alone, on fixed ports and a SQLite file (--db FILE --port 7233)", Run: temporalServer},
		cli.Command{Name: "chaos", Summary: "the fault suite: the stack as separate processes, approval chains through the API while processes are killed; checks nothing is lost or doubled", Run: runChaos},
		cli.Command{Name: "mailcatcher", Summary: "a local SMTP server that shows the mail it receives on a web page (for duban-dev dev)", Run: mailCatcher},
	)
}

func main() {
	cli.Main("duban-dev", commands())
}
