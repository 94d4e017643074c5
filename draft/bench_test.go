package draft_test

import (
	"testing"

	"github.com/duban-dev/duban/draft"
	"github.com/duban-dev/duban/plan"
)

// BenchmarkDraft2021 drafts the 2021 notice (about 4,000 characters).
func BenchmarkDraft2021(b *testing.B) {
	src, err := plan.ShippedSource("hunan-2021")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := draft.FromFile("work-points-2021.md", src, draft.Options{Hierarchy: hunan}); err != nil {
			b.Fatal(err)
		}
	}
}
