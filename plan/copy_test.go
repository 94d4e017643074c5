package plan_test

import (
	"strings"
	"testing"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/org"
	"github.com/duban-dev/duban/plan"
)

// The shipped 2021 plan copied to 2022: a valid plan of its own, every
// template kept, every dated template a year later, the title's year too.
func TestCopyToYear(t *testing.T) {
	old, src, err := plan.Shipped("hunan-2021")
	if err != nil {
		t.Fatal(err)
	}
	out, err := plan.CopyToYear(src, "hunan-2021", 2021, "hunan-2022", 2022)
	if err != nil {
		t.Fatal(err)
	}
	p, err := plan.Parse("hunan-2022.yaml", out, org.Hunan())
	if err != nil {
		t.Fatalf("the copy does not validate:\n%v", err)
	}
	if p.ID != "hunan-2022" || p.Year != 2022 || !strings.Contains(p.Title, "2022") || strings.Contains(p.Title, "2021") {
		t.Errorf("copy is %s %d %q", p.ID, p.Year, p.Title)
	}
	oldSpecs, err := plan.Expand(old, org.Hunan(), 2021)
	if err != nil {
		t.Fatal(err)
	}
	newSpecs, err := plan.Expand(p, org.Hunan(), 2022)
	if err != nil {
		t.Fatal(err)
	}
	if len(newSpecs) != len(oldSpecs) {
		t.Fatalf("%d instances in 2022, %d in 2021", len(newSpecs), len(oldSpecs))
	}
	due := map[string]string{}
	for _, s := range oldSpecs {
		due[strings.TrimPrefix(s.ID, "2021/")] = s.Due.Format("01-02")
	}
	for _, s := range newSpecs {
		if s.Kind == duban.KindRecurring {
			continue // festivals and quarters follow their own calendar
		}
		if was := due[strings.TrimPrefix(s.ID, "2022/")]; was != s.Due.Format("01-02") || s.Due.Year() < 2022 {
			t.Errorf("%s due %s, was %s in 2021", s.ID, s.Due.Format("2006-01-02"), was)
		}
	}
	if !strings.HasPrefix(string(out), "# 由计划 hunan-2021（2021 年）复制到 2022 年") {
		t.Errorf("the copy does not say where it came from: %.80s", out)
	}
}

func TestCopyToYearRefuses(t *testing.T) {
	for _, c := range []struct{ name, src, id string }{
		{"bad id", "plan: a\nyear: 2021\n", "Hunan 2022"},
		{"control character", "plan: a\nyear: 2021\n", "a\x00b"},
		{"no plan line", "year: 2021\n", "b"},
	} {
		if _, err := plan.CopyToYear([]byte(c.src), "a", 2021, c.id, 2022); err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
	out, err := plan.CopyToYear([]byte("plan: a\nyear: 2024\nx: {date: 2024-02-29}\n# 2024-02-29 stays\n"), "a", 2024, "b", 2025)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "{date: 2025-02-28}") || !strings.Contains(string(out), "# 2024-02-29 stays") {
		t.Errorf("leap day: %s", out)
	}
}
