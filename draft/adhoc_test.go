package draft_test

import (
	"os"
	"testing"

	"github.com/duban-dev/duban/draft"
)

func TestAdhoc(t *testing.T) {
	name := os.Getenv("ADHOC")
	data, err := os.ReadFile(name)
	if err != nil {
		t.Skip()
	}
	d, err := draft.FromFile(name, data, draft.Options{Hierarchy: hunan})
	if err != nil {
		t.Fatal(err)
	}
	d.WriteReview(os.Stdout)
	mustImport(t, d)
}
