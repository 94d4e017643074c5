package main

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

const module = "github.com/duban-dev/duban"

// devKit are the packages that belong in duban-dev only: the embedded
// Temporal server and its Web UI, the benchmark, the fault suite, the mail
// catcher, the dev PostgreSQL helper and the test environment.
// (A prefix covers the packages below it: internal/devtemporal/webui too.)
var devKit = []string{
	"go.temporal.io/server",
	"github.com/temporalio/ui-server",
	module + "/internal/devtemporal",
	module + "/internal/devpg",
	module + "/internal/testenv",
	module + "/bench",
	module + "/internal/chaos",
	module + "/notify/mailcatcher",
}

// TestProductionBinaryLeavesOutTheDevKit reads `go list -deps` of this
// command: no package of the dev kit may be linked into the production
// binary, and no package of Duban's may import "testing" (third-party
// libraries such as the Temporal SDK do, and are not ours to change).
func TestProductionBinaryLeavesOutTheDevKit(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	out, err := exec.Command(goTool, "list", "-deps", "-f", `{{.ImportPath}} {{join .Imports ","}}`, ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		path, imports, _ := strings.Cut(line, " ")
		seen[path] = true
		for _, dev := range devKit {
			if path == dev || strings.HasPrefix(path, dev+"/") {
				t.Errorf("the production binary links %s (dev kit: %s); move what needs it to cmd/duban-dev", path, dev)
			}
		}
		if path == module || strings.HasPrefix(path, module+"/") {
			for _, imp := range strings.Split(imports, ",") {
				if imp == "testing" {
					t.Errorf("%s imports testing and is linked into the production binary", path)
				}
			}
		}
	}
	// The listing is the real one: the binary's own framework and the
	// Temporal client are in it.
	for _, want := range []string{module + "/internal/cli", module + "/api", "go.temporal.io/sdk/client"} {
		if !seen[want] {
			t.Errorf("go list -deps names no %s; is the listing empty? (%d packages)", want, len(seen))
		}
	}
}
