package plan_test

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/plan"
)

func shipped(t *testing.T) *plan.Plan {
	t.Helper()
	p, data, err := plan.Shipped("hunan-2021")
	if err != nil {
		t.Fatalf("shipped plan does not parse:\n%v", err)
	}
	if len(data) == 0 {
		t.Fatal("shipped plan returned no bytes")
	}
	return p
}

func expand(t *testing.T, p *plan.Plan, year int) []duban.TaskSpec {
	t.Helper()
	specs, err := plan.Expand(p, hunan, year)
	if err != nil {
		t.Fatal(err)
	}
	return specs
}

func byTemplate(specs []duban.TaskSpec, id string) []duban.TaskSpec {
	var out []duban.TaskSpec
	for _, s := range specs {
		if s.TemplateID == id {
			out = append(out, s)
		}
	}
	return out
}

func endOfDay(y int, m time.Month, d int) time.Time {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		loc = duban.Shanghai
	}
	return time.Date(y, m, d, 23, 59, 59, 0, loc)
}

func TestShippedIDs(t *testing.T) {
	ids := plan.ShippedIDs()
	if !slices.Contains(ids, "hunan-2021") {
		t.Errorf("ShippedIDs() = %v, want hunan-2021 among them", ids)
	}
	for _, id := range ids {
		p, _, err := plan.Shipped(id)
		if err != nil {
			t.Errorf("shipped plan %s:\n%v", id, err)
			continue
		}
		if p.ID != id {
			t.Errorf("file %s.yaml holds plan %q", id, p.ID)
		}
		if _, err := plan.ShippedSource(id); err != nil {
			t.Errorf("shipped plan %s has no source document: %v", id, err)
		}
	}
	if _, _, err := plan.Shipped("nope-1999"); err == nil {
		t.Error("Shipped of an unknown id succeeded")
	}
}

// The plan covers the whole document: ten sections, each with templates.
func TestShippedCoversEverySection(t *testing.T) {
	p := shipped(t)
	if p.ID != "hunan-2021" || p.Year != 2021 {
		t.Errorf("plan %q year %d", p.ID, p.Year)
	}
	if len(p.Sections) != 10 {
		t.Fatalf("%d sections, want the document's 10", len(p.Sections))
	}
	for i, s := range p.Sections {
		if s.ID != fmt.Sprint(i+1) {
			t.Errorf("section %d has id %q", i+1, s.ID)
		}
		if len(s.Templates) == 0 {
			t.Errorf("section %s (%s) has no template", s.ID, s.Title)
		}
	}
	if n := len(p.Templates()); n < 25 {
		t.Errorf("%d templates, want at least 25", n)
	}
}

func stripSpace(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
}

// Every quote is the document's own words.
func TestShippedQuotesAreVerbatim(t *testing.T) {
	p := shipped(t)
	src, err := plan.ShippedSource("hunan-2021")
	if err != nil {
		t.Fatal(err)
	}
	onDisk, err := os.ReadFile("../../shared/seed/work-points-2021.md")
	if err == nil && string(onDisk) != string(src) {
		t.Error("plans/hunan-2021.source.md differs from the seed document")
	}
	doc := stripSpace(string(src))
	for _, st := range p.Templates() {
		tm := st.Template
		if !strings.Contains(doc, stripSpace(tm.Quote)) {
			t.Errorf("%s %s: quote is not in the document: %q", tm.ID, tm.Title, tm.Quote)
		}
	}
}

// Where the document names no date the plan says so.
func TestShippedYearEndNotes(t *testing.T) {
	for _, st := range shipped(t).Templates() {
		tm := st.Template
		if tm.Due.Basis == plan.BasisYearEnd && !strings.HasPrefix(tm.Due.Note, "文件未规定具体日期，按年底") {
			t.Errorf("%s: year_end due without the note, got %q", tm.ID, tm.Due.Note)
		}
		if !tm.Evidence.Required || tm.Evidence.Note == "" {
			t.Errorf("%s: evidence not required or not described", tm.ID)
		}
	}
}

func TestShippedReformPlans(t *testing.T) {
	p := shipped(t)
	specs := byTemplate(expand(t, p, 0), "2.1")
	if len(specs) != 148 {
		t.Fatalf("reform plan: %d instances, want 148 (14 cities + 134 counties)", len(specs))
	}
	levels := map[duban.Level]int{}
	for _, s := range specs {
		levels[s.UnitLevel]++
		if !s.Due.Equal(endOfDay(2021, time.December, 31)) {
			t.Errorf("%s due %v", s.ID, s.Due)
		}
		if s.Due.Format(time.DateTime) != "2021-12-31 23:59:59" || s.Due.Location() != duban.Shanghai {
			t.Errorf("%s due %v, want 2021-12-31 23:59:59 Asia/Shanghai", s.ID, s.Due)
		}
		if s.Kind != duban.KindDeadline || !s.EvidenceRequired {
			t.Errorf("%s: kind %s, evidence %v", s.ID, s.Kind, s.EvidenceRequired)
		}
	}
	if levels[duban.LevelCity] != 14 || levels[duban.LevelCounty] != 134 {
		t.Errorf("by level: %v", levels)
	}
	tm := findTemplate(t, p, "2.1")
	if tm.Due.Basis != plan.BasisStated {
		t.Errorf("reform plan due basis %s, want stated (今年底前)", tm.Due.Basis)
	}
	// A county's plan is approved by the county, its city, then the province.
	furong := findSpec(t, specs, "2021/2.1/430102")
	var approvers []string
	for _, a := range furong.Approval {
		approvers = append(approvers, a.Unit)
	}
	if strings.Join(approvers, ",") != "430102,4301,43" {
		t.Errorf("approval chain of 芙蓉区 = %v, want county, city, province", approvers)
	}
	if furong.ExtensionUnit != "4301" {
		t.Errorf("extension decided by %s, want the city 4301", furong.ExtensionUnit)
	}
	if len(furong.Escalation) != 3 || furong.Escalation[2].Notify[0].Unit != "43" {
		t.Errorf("deadline ladder of 芙蓉区 = %+v", furong.Escalation)
	}
}

func TestShippedCityTraining(t *testing.T) {
	specs := byTemplate(expand(t, shipped(t), 0), "2.11")
	if len(specs) != 14 {
		t.Fatalf("city training: %d instances, want 14", len(specs))
	}
	for _, s := range specs {
		if s.Kind != duban.KindCount || s.Target != 1 || s.UnitLevel != duban.LevelCity {
			t.Errorf("%s: kind %s target %d level %s", s.ID, s.Kind, s.Target, s.UnitLevel)
		}
		if !s.Due.Equal(endOfDay(2021, time.December, 31)) {
			t.Errorf("%s due %v", s.ID, s.Due)
		}
	}
	county := byTemplate(expand(t, shipped(t), 0), "2.12")
	if len(county) != 134 || county[0].Kind != duban.KindCount || county[0].Target != 1 {
		t.Errorf("county training of township staff: %d instances, first %+v", len(county), county[0])
	}
}

func TestShippedVillageRatio(t *testing.T) {
	p := shipped(t)
	tm := findTemplate(t, p, "2.13")
	if tm.Kind != duban.KindRatio || tm.Ratio == nil || *tm.Ratio != (plan.Ratio{Num: 1, Den: 3, Of: duban.LevelVillage}) {
		t.Fatalf("village training: kind %s ratio %+v, want 1/3 of village", tm.Kind, tm.Ratio)
	}
	specs := byTemplate(expand(t, p, 0), "2.13")
	if len(specs) != 134 {
		t.Errorf("%d instances, want one per county", len(specs))
	}
	for _, s := range specs {
		// Villages are not in the hierarchy: the official reports the base.
		if s.Ratio == nil || s.Ratio.Base != 0 || s.UnitLevel != duban.LevelCounty {
			t.Errorf("%s: ratio %+v level %s", s.ID, s.Ratio, s.UnitLevel)
		}
	}
	// Consolidating associations in every township: the base comes from the hierarchy.
	for _, s := range byTemplate(expand(t, p, 0), "2.8") {
		want := hunan.CountBelow(s.UnitCode, duban.LevelTownship)
		if s.Ratio == nil || s.Ratio.Num != 1 || s.Ratio.Den != 1 || s.Ratio.Base != want || want == 0 {
			t.Errorf("%s: ratio %+v, want 1/1 of %d townships", s.ID, s.Ratio, want)
		}
	}
}

func TestShippedYouthBaseAndYueyang(t *testing.T) {
	specs := expand(t, shipped(t), 0)
	youth := byTemplate(specs, "4.1")
	if len(youth) != 14 || youth[0].Kind != duban.KindCount || youth[0].Target != 1 {
		t.Errorf("youth-health base: %d instances, first %+v", len(youth), youth[0])
	}
	yueyang := byTemplate(specs, "2.4")
	if len(yueyang) != 1 || yueyang[0].UnitCode != "4306" || yueyang[0].UnitName != "岳阳市" {
		t.Errorf("Yueyang pilot: %+v", yueyang)
	}
}

func TestShippedBulletinEachQuarter(t *testing.T) {
	p := shipped(t)
	specs := byTemplate(expand(t, p, 0), "2.5")
	want := []struct {
		id  string
		due time.Time
	}{
		{"2021/2.5/43/Q1", endOfDay(2021, time.April, 10)},
		{"2021/2.5/43/Q2", endOfDay(2021, time.July, 10)},
		{"2021/2.5/43/Q3", endOfDay(2021, time.October, 10)},
		{"2021/2.5/43/Q4", endOfDay(2022, time.January, 10)},
	}
	if len(specs) != len(want) {
		t.Fatalf("bulletin: %d instances, want 4", len(specs))
	}
	for i, w := range want {
		s := specs[i]
		if s.ID != w.id || !s.Due.Equal(w.due) || s.Kind != duban.KindRecurring || s.UnitCode != "43" {
			t.Errorf("got %s due %v (%s, %s), want %s due %v", s.ID, s.Due, s.Kind, s.UnitCode, w.id, w.due)
		}
	}
	if tm := findTemplate(t, p, "2.5"); tm.Due.Every != plan.PeriodQuarter || tm.Due.Grace != (plan.Offset{Days: 10}) || tm.Due.Note == "" {
		t.Errorf("bulletin due rule %+v", tm.Due)
	}
}

func TestShippedMemberDay(t *testing.T) {
	specs := byTemplate(expand(t, shipped(t), 0), "8.1")
	if len(specs) != 148 {
		t.Errorf("5.29 member day: %d instances, want 148 (cities and counties)", len(specs))
	}
	for _, s := range specs {
		if s.Kind != duban.KindEvent || !s.Due.Equal(endOfDay(2021, time.May, 29)) {
			t.Errorf("%s: %s due %v, want an event on 2021-05-29", s.ID, s.Kind, s.Due)
		}
	}
}

// The same plan run in another year keeps month and day.
func TestShippedInAnotherYear(t *testing.T) {
	specs := expand(t, shipped(t), 2026)
	checks := map[string]time.Time{
		"2026/2.1/430102": endOfDay(2026, time.December, 31),
		"2026/8.1/4306":   endOfDay(2026, time.May, 29),
		"2026/2.5/43/Q4":  endOfDay(2027, time.January, 10),
	}
	for _, s := range specs {
		if s.Year != 2026 || !strings.HasPrefix(s.ID, "2026/") {
			t.Fatalf("%s has year %d", s.ID, s.Year)
		}
		if want, ok := checks[s.ID]; ok {
			if !s.Due.Equal(want) {
				t.Errorf("%s due %v, want %v", s.ID, s.Due, want)
			}
			delete(checks, s.ID)
		}
	}
	for id := range checks {
		t.Errorf("no instance %s", id)
	}
}

func TestShippedInstances(t *testing.T) {
	specs := expand(t, shipped(t), 0)
	seen := map[string]bool{}
	for _, s := range specs {
		if seen[s.ID] {
			t.Errorf("instance id %s appears twice", s.ID)
		}
		seen[s.ID] = true
		if len(s.Approval) == 0 || s.Title == "" || s.Quote == "" || s.Due.IsZero() {
			t.Errorf("%s is incomplete: %+v", s.ID, s)
		}
		if len(s.Reminders) == 0 {
			t.Errorf("%s has no reminders", s.ID)
		}
	}
	t.Logf("hunan-2021 expands to %d instances for 2021", len(specs))
	// Township-level work (会员之家, 宣传员) puts the plan in the thousands.
	if len(specs) < 2000 || len(specs) >= 10000 {
		t.Errorf("%d instances, want a few thousand", len(specs))
	}
	if n := len(byTemplate(specs, "2.9")); n != hunan.CountAtLevel(duban.LevelTownship) {
		t.Errorf("会员之家: %d instances, want one per township (%d)", n, hunan.CountAtLevel(duban.LevelTownship))
	}
}

func findTemplate(t *testing.T, p *plan.Plan, id string) plan.Template {
	t.Helper()
	for _, st := range p.Templates() {
		if st.Template.ID == id {
			return st.Template
		}
	}
	t.Fatalf("no template %s", id)
	return plan.Template{}
}

func findSpec(t *testing.T, specs []duban.TaskSpec, id string) duban.TaskSpec {
	t.Helper()
	for _, s := range specs {
		if s.ID == id {
			return s
		}
	}
	t.Fatalf("no instance %s", id)
	return duban.TaskSpec{}
}

// A parsed plan survives a JSON round trip unchanged (the store keeps plans as JSON).
func TestShippedJSONRoundTrip(t *testing.T) {
	p := shipped(t)
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var back plan.Plan
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p, &back) {
		t.Error("plan changed in a JSON round trip")
	}
}
