package bench

import (
	"fmt"
	"os"
	"strings"
	"time"
)

const (
	beginMark = "<!-- bench:begin -->"
	endMark   = "<!-- bench:end -->"
)

// Markdown renders the report's generated section.
func (r *Report) Markdown() string {
	var b strings.Builder
	fmt.Fprintln(&b, beginMark)
	fmt.Fprintf(&b, "Measured %s, run took %s.\n\n", r.Started.Format("2006-01-02 15:04 MST"), r.Duration.Round(time.Second))
	fmt.Fprintln(&b, "Machine:")
	for _, m := range r.Machine {
		fmt.Fprintf(&b, "- %s\n", m)
	}
	o := r.Options
	if len(o.Shards) > 0 {
		fmt.Fprintf(&b, "\nSizes: launch %d instances, %d starters, on a fresh server with %s history shards.\n\n", o.Instances, o.Starters, joinInts(o.Shards))
	} else {
		fmt.Fprintf(&b, "\nSizes: launch %d instances; %d pending timers with %d firing; projection rows %s; approvers %s, %d decisions each.",
			o.Instances, o.Timers, o.Fire, joinInts(o.Rows), joinInts(o.Approvers), o.Decisions)
		if len(o.Skip) > 0 {
			fmt.Fprintf(&b, " Sections left out: %s.", strings.Join(o.Skip, ", "))
		}
		fmt.Fprint(&b, "\n\n")
	}
	fmt.Fprintln(&b, "| section | figure | Duban | baseline (same run) | ratio | target | met |")
	fmt.Fprintln(&b, "| --- | --- | --- | --- | --- | --- | --- |")
	for _, f := range r.Figures {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s |\n", f.Section, f.Name, f.Value, dash(f.Baseline), dash(f.Ratio), dash(f.Target), dash(f.Met))
	}
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "\n%s\n", n)
	}
	fmt.Fprintln(&b, endMark)
	return b.String()
}

func dash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// WriteInto replaces the generated section of a markdown file (or appends
// one), keeping the hand-written analysis around it.
func (r *Report) WriteInto(path string) error {
	old, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	text := string(old)
	gen := r.Markdown()
	i, j := strings.Index(text, beginMark), strings.Index(text, endMark)
	if i >= 0 && j > i {
		text = text[:i] + gen + text[j+len(endMark)+1:]
	} else {
		if text != "" && !strings.HasSuffix(text, "\n") {
			text += "\n"
		}
		text += gen
	}
	return os.WriteFile(path, []byte(text), 0o644)
}
