package main

import (
	"testing"

	"github.com/duban-dev/duban/internal/cli"
)

// TestDevKitHasEveryProductionCommand: duban-dev is a superset of duban,
// so the benchmark can start its worker and API processes from its own
// executable, and nothing is registered twice.
func TestDevKitHasEveryProductionCommand(t *testing.T) {
	names := map[string]int{}
	for _, c := range commands() {
		names[c.Name]++
	}
	for _, c := range cli.Production() {
		if names[c.Name] != 1 {
			t.Errorf("duban-dev has %d commands %q; want the production one, once", names[c.Name], c.Name)
		}
	}
	for _, dev := range []string{"dev", "bench", "mailcatcher", "temporal", "chaos"} {
		if names[dev] != 1 {
			t.Errorf("duban-dev has %d commands %q, want 1", names[dev], dev)
		}
	}
	for _, c := range cli.Production() {
		if c.Name == "dev" || c.Name == "bench" || c.Name == "mailcatcher" || c.Name == "temporal" || c.Name == "chaos" {
			t.Errorf("the production binary has the dev command %q", c.Name)
		}
	}
}
