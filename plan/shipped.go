package plan

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/duban-dev/duban/org"
)

// plans holds the shipped plan files, one per id (plans/<id>.yaml), and the
// documents they encode (plans/<id>.source.md).
//
//go:embed plans/*.yaml plans/*.source.md
var plans embed.FS

// Shipped parses the shipped plan with the given id against the Hunan
// hierarchy, and returns it with the file's bytes.
func Shipped(id string) (*Plan, []byte, error) {
	name := "plans/" + id + ".yaml"
	data, err := plans.ReadFile(name)
	if err != nil {
		return nil, nil, fmt.Errorf("shipped plan %q: %w", id, fs.ErrNotExist)
	}
	p, err := Parse(name, data, org.Hunan())
	if err != nil {
		return nil, data, fmt.Errorf("shipped plan %q: %w", id, err)
	}
	return p, data, nil
}

// ShippedSource returns the document a shipped plan encodes, as Markdown.
func ShippedSource(id string) ([]byte, error) {
	data, err := plans.ReadFile("plans/" + id + ".source.md")
	if err != nil {
		return nil, fmt.Errorf("source of shipped plan %q: %w", id, fs.ErrNotExist)
	}
	return data, nil
}

// ShippedIDs lists the ids of the shipped plans, sorted.
func ShippedIDs() []string {
	entries, _ := fs.Glob(plans, "plans/*.yaml")
	ids := make([]string, 0, len(entries))
	for _, e := range entries {
		ids = append(ids, strings.TrimSuffix(path.Base(e), ".yaml"))
	}
	sort.Strings(ids)
	return ids
}
