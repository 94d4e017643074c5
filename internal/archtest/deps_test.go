// Package archtest holds the test that keeps Duban's package graph as it is
// designed: dependencies point down only. It reads `go list` of the whole
// module and fails on any import of a Duban package outside the graph
// declared here, on a declared import that is no longer used (so that the
// declaration stays the real graph, not a permission to grow into), and on
// the outside libraries a package must not reach (the Temporal SDK outside
// the Temporal layer, pgx outside the store, "testing" outside the test
// environment). docs/architecture.md shows the graph this test renders.
package archtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/duban-dev/duban/internal/gendoc"
)

const module = "github.com/duban-dev/duban"

// graph is every Duban package that has production code and the Duban
// packages it imports (test files are free). "duban" is the domain, the
// module's root package. Read from the bottom: the domain imports nothing;
// pure packages (plan, org, calendar, message, draft, score) only the
// domain and each other; the adapters (store, notify) and the activities only what is
// below them; workflows only their inputs, the activities' signatures and
// the calendar; the engine (how the API talks to workflows) and the worker
// sit on the workflows; the API reaches Temporal only through the engine;
// internal/cli wires the production binary; the dev kit (cmd/duban-dev,
// bench, internal/devtemporal, internal/devpg, notify/mailcatcher) and the
// test environment sit beside it, and nothing imports a command.
var graph = map[string][]string{
	// The domain and the leaves.
	"duban":                      {},
	"blob":                       {},
	"config":                     {}, // plain data: read by the wiring only
	"password":                   {},
	"ui":                         {},
	"internal/devpg":             {},
	"internal/devtemporal":       {},
	"internal/devtemporal/webui": {},
	"notify/mailcatcher":         {},
	"notify/providertest":        {},
	"deploy/httpcheck":           {},
	"internal/gendoc":            {},
	"internal/pdftext":           {}, // reads the text back out of generated PDFs, for tests
	"api/input":                  {"duban"},
	"calendar":                   {"duban"},
	"org":                        {"duban"},
	"message":                    {"duban"},
	"plan":                       {"duban", "calendar", "org"},
	"draft":                      {"duban", "org", "plan"},
	"score":                      {"duban", "plan"},
	"score/report":               {"duban", "plan", "score"},

	// Adapters and the activities, which talk to them through interfaces.
	"notify":     {"duban", "message"},
	"store":      {"duban", "message", "org", "plan", "score"},
	"activities": {"duban", "org", "plan"},

	// Temporal.
	"workflows": {"duban", "activities", "calendar"},
	"engine":    {"duban", "workflows"},
	"worker":    {"duban", "activities", "org", "workflows"},
	// Reconciliation compares the store with the workflows, through the engine.
	"reconcile": {"duban", "engine", "store"},

	// HTTP.
	"api": {"duban", "api/input", "blob", "draft", "engine", "org", "password", "plan", "score", "score/report", "store"},

	// Wiring: the production binary, then the dev kit and the tests' stack.
	"internal/cli": {"duban", "activities", "api", "blob", "config", "draft", "engine", "message", "notify", "org",
		"password", "plan", "reconcile", "score/report", "store", "ui", "worker"},
	"cmd/duban":        {"internal/cli"},
	"internal/testenv": {"activities", "engine", "internal/devpg", "internal/devtemporal", "org", "store", "worker"},
	"bench": {"duban", "activities", "config", "engine", "internal/devpg", "internal/devtemporal", "org", "password",
		"plan", "store", "worker", "workflows"},
	// The fault suite runs the production binary's processes and checks
	// the store against the workflows as `duban verify` does.
	"internal/chaos": {"duban", "config", "engine", "internal/cli", "internal/devpg", "org", "password", "plan", "reconcile", "store"},
	"cmd/duban-dev": {"duban", "bench", "config", "engine", "internal/chaos", "internal/cli", "internal/devpg",
		"internal/devtemporal", "internal/devtemporal/webui", "notify/mailcatcher", "password", "plan", "store", "worker"},
}

// outside are libraries only some packages may import (an import path, or
// a prefix ending in "/"), with the packages that may.
var outside = []struct {
	what, why string
	prefixes  []string
	only      []string
}{
	{"Temporal server", "the embedded server is the dev kit's", []string{"go.temporal.io/server/"},
		[]string{"internal/devtemporal"}},
	{"Temporal Web UI", "the dev stack serves Temporal's UI; production runs the one its operators deploy", []string{"github.com/temporalio/ui-server/", "github.com/labstack/echo/"},
		[]string{"internal/devtemporal/webui"}},
	{"Temporal SDK", "the domain, the adapters and the API know no Temporal types", []string{"go.temporal.io/"},
		[]string{"activities", "workflows", "engine", "worker", "internal/cli", "internal/devtemporal", "internal/testenv", "bench", "internal/chaos", "cmd/duban-dev"}},
	{"Temporal client and activity API", "workflow code is deterministic: no client, no activity API", []string{"go.temporal.io/sdk/client", "go.temporal.io/sdk/activity"},
		[]string{"activities", "engine", "worker", "internal/cli", "internal/devtemporal", "internal/testenv", "bench", "cmd/duban-dev"}},
	{"pgx", "only the store speaks to PostgreSQL", []string{"github.com/jackc/"},
		[]string{"store", "internal/devpg"}},
	{"Fiber", "only the HTTP layer", []string{"github.com/gofiber/"},
		[]string{"api", "api/input", "ui"}},
	{"testing", "production code does not link the test framework", []string{"testing", "testing/"},
		[]string{"internal/testenv", "internal/gendoc"}},
	{"test helpers", "production code does not link the tests' stack or doc checks", []string{module + "/internal/testenv", module + "/internal/gendoc"},
		[]string{}},
}

type pkg struct {
	ImportPath string
	GoFiles    []string
	Imports    []string
	Error      *struct{ Err string }
}

// name is a package's name in the graph: "duban" for the module's root,
// the path below the module otherwise, "" for a package outside it.
func name(path string) string {
	switch {
	case path == module:
		return "duban"
	case strings.HasPrefix(path, module+"/"):
		return strings.TrimPrefix(path, module+"/")
	}
	return ""
}

func listModule(t *testing.T) []pkg {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	cmd := exec.Command(goTool, "list", "-json", "./...")
	cmd.Dir = "../.."
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	var pkgs []pkg
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			t.Fatalf("go list output: %v", err)
		}
		if p.Error != nil {
			t.Fatalf("go list %s: %s", p.ImportPath, p.Error.Err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

func matches(path string, prefixes []string) bool {
	for _, p := range prefixes {
		if path == p || (strings.HasSuffix(p, "/") && strings.HasPrefix(path, p)) {
			return true
		}
	}
	return false
}

// TestDependenciesPointDown checks every production import of every Duban
// package against the declared graph and the rules for outside libraries.
func TestDependenciesPointDown(t *testing.T) {
	used := map[string]map[string]bool{}
	for _, p := range listModule(t) {
		from := name(p.ImportPath)
		if len(p.GoFiles) == 0 {
			continue // test files only: they may import what they need
		}
		allowed, declared := graph[from]
		if !declared {
			t.Errorf("%s is not in the package graph: add it to graph in internal/archtest/deps_test.go, below everything that will import it", from)
			continue
		}
		used[from] = map[string]bool{}
		for _, imp := range p.Imports {
			if to := name(imp); to != "" {
				used[from][to] = true
				if !slices.Contains(allowed, to) {
					t.Errorf("%s imports %s, which the package graph does not allow (%s may import: %s)", from, to, from, list(allowed))
				}
			}
			for _, rule := range outside {
				if matches(imp, rule.prefixes) && !slices.Contains(rule.only, from) {
					t.Errorf("%s imports %s: %s is for %s only (%s)", from, imp, rule.what, list(rule.only), rule.why)
				}
			}
		}
	}
	for _, from := range sortedKeys(graph) {
		if used[from] == nil {
			t.Errorf("%s is in the package graph but has no production code: remove it from graph", from)
			continue
		}
		for _, to := range graph[from] {
			if !used[from][to] {
				t.Errorf("the package graph lets %s import %s, but it does not any more: remove the edge, so the graph stays the real one", from, to)
			}
		}
	}
	if cycle := findCycle(); cycle != nil {
		t.Errorf("the declared graph has a cycle: %s", strings.Join(cycle, " → "))
	}
}

// TestArchitectureDocShowsTheGraph compares the block in
// docs/architecture.md with the graph rendered from the declaration above.
// After changing the graph, rewrite the block with
//
//	DUBAN_UPDATE_DOCS=1 go test ./internal/archtest/
func TestArchitectureDocShowsTheGraph(t *testing.T) {
	block := gendoc.Block{File: "../../docs/architecture.md", Name: "package-graph", By: "internal/archtest",
		Regenerate: "go test ./internal/archtest/"}
	block.Check(t, "```\n"+render()+"```\n")
}

// render draws the graph top down: each package with the Duban packages it
// imports, the commands first and the domain last, then the rules for
// outside libraries.
func render() string {
	depth := map[string]int{}
	var depthOf func(string) int
	depthOf = func(p string) int {
		if d, ok := depth[p]; ok {
			return d
		}
		depth[p] = 0
		d := 0
		for _, q := range graph[p] {
			d = max(d, depthOf(q)+1)
		}
		depth[p] = d
		return d
	}
	names := sortedKeys(graph)
	for _, p := range names {
		depthOf(p)
	}
	sort.SliceStable(names, func(a, b int) bool { return depth[names[a]] > depth[names[b]] })
	width := 0
	for _, p := range names {
		width = max(width, len(p))
	}
	var b strings.Builder
	for _, p := range names {
		imports := list(graph[p])
		if len(graph[p]) == 0 {
			imports = "(no Duban package)"
		}
		fmt.Fprintf(&b, "%-*s ─► %s\n", width, p, imports)
	}
	b.WriteString("\nOutside libraries, and the only packages that may import them:\n")
	for _, rule := range outside {
		who := list(rule.only)
		if len(rule.only) == 0 {
			who = "none"
		}
		fmt.Fprintf(&b, "  %s (%s): %s\n", rule.what, strings.Join(rule.prefixes, ", "), who)
	}
	return b.String()
}

// findCycle returns a cycle of the declared graph, or nil.
func findCycle() []string {
	const (
		unseen = iota
		open
		done
	)
	state := map[string]int{}
	var stack []string
	var visit func(string) []string
	visit = func(p string) []string {
		state[p] = open
		stack = append(stack, p)
		for _, q := range graph[p] {
			switch state[q] {
			case open:
				at := slices.Index(stack, q)
				return append(slices.Clone(stack[at:]), q)
			case unseen:
				if c := visit(q); c != nil {
					return c
				}
			}
		}
		stack = stack[:len(stack)-1]
		state[p] = done
		return nil
	}
	for _, p := range sortedKeys(graph) {
		if state[p] == unseen {
			if c := visit(p); c != nil {
				return c
			}
		}
	}
	return nil
}

func list(names []string) string {
	if len(names) == 0 {
		return "nothing"
	}
	return strings.Join(names, ", ")
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
