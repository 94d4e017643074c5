// Command duban is Duban's production binary: the API server, the worker,
// migrations, plan and user administration, audits and notifications. The
// development kit (an embedded Temporal server, the benchmark, the mail
// catcher) is in cmd/duban-dev, so none of it ships in this binary.
package main

import "github.com/duban-dev/duban/internal/cli"

func main() {
	cli.Main("duban", cli.Production())
}
