package plan_test

import (
	"bytes"
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
	"github.com/duban-dev/duban/org"
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
	// Township-level work (会员之家, 宣传员, the member-day month) puts the
	// plan in the thousands: 6,951 as first shipped, and 3,152 more once the
	// notice was re-read sentence by sentence (2.14, 2.15, the province in
	// 3.1, 3.5, 3.6, 3.7 at three festivals, 6.4, 8.5, 8.6 at 2,008
	// townships). A change to the plan that moves this figure says so here.
	if len(specs) != 10103 {
		t.Errorf("%d instances, want 10103", len(specs))
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

// TestShippedFestivalVisits: 节假日慰问 is one task per festival per city
// and county, due on the last working day before it; launched onto another
// year the festivals fall on other days and the tasks follow them.
func TestShippedFestivalVisits(t *testing.T) {
	p := shipped(t)
	tm := findTemplate(t, p, "3.7")
	if tm.Kind != duban.KindRecurring || tm.Due.Every != plan.PeriodFestivals || tm.Due.Note == "" ||
		!slices.Equal(tm.Due.Festivals, []string{"春节", "端午节", "中秋节"}) {
		t.Fatalf("festival visits: %s %+v", tm.Kind, tm.Due)
	}
	for _, c := range []struct {
		year int
		want map[string]time.Time
	}{
		// The notice came out after the 2021 Spring Festival: its 春节 is 2022's.
		{2021, map[string]time.Time{"端午节": endOfDay(2021, time.June, 11), "中秋节": endOfDay(2021, time.September, 18), "春节": endOfDay(2022, time.January, 30)}},
		{2026, map[string]time.Time{"端午节": endOfDay(2026, time.June, 18), "中秋节": endOfDay(2026, time.September, 24), "春节": endOfDay(2027, time.February, 4)}},
	} {
		keys := map[string]string{"端午节": "duanwu", "中秋节": "zhongqiu", "春节": "chunjie"}
		specs := byTemplate(expand(t, p, c.year), "3.7")
		if len(specs) != 3*148 {
			t.Errorf("%d: %d festival visits, want 3 for each of 148 cities and counties", c.year, len(specs))
		}
		var order []string
		for _, s := range specs {
			if s.UnitCode != "430102" {
				continue
			}
			order = append(order, s.Period)
			if want := c.want[s.Period]; !s.Due.Equal(want) || s.ID != fmt.Sprintf("%d/3.7/430102/%s", c.year, keys[s.Period]) {
				t.Errorf("%s due %v, want %v", s.ID, s.Due, want)
			}
		}
		if strings.Join(order, ",") != "端午节,中秋节,春节" {
			t.Errorf("%d: 芙蓉区's visits in order %v, want by date", c.year, order)
		}
	}
}

// TestShippedMemberDayMonth: the member-day month is organised by the
// province and held at every level; all of it reports on 29 May, so 8.1
// keeps its units and its deadline.
func TestShippedMemberDayMonth(t *testing.T) {
	specs := expand(t, shipped(t), 0)
	province := byTemplate(specs, "8.5")
	if len(province) != 1 || province[0].UnitCode != "43" {
		t.Errorf("province's member-day month: %+v", province)
	}
	towns := byTemplate(specs, "8.6")
	if len(towns) != hunan.CountAtLevel(duban.LevelTownship) || len(towns) != 2008 {
		t.Errorf("townships' member-day activities: %d, want one per township", len(towns))
	}
	for _, s := range append(province, towns...) {
		if s.Kind != duban.KindEvent || !s.Due.Equal(endOfDay(2021, time.May, 29)) {
			t.Errorf("%s: %s due %v, want an event on 2021-05-29", s.ID, s.Kind, s.Due)
		}
	}
	// A township's activity is approved by the township and its county only.
	town := towns[0]
	if len(town.Approval) != 2 || town.Approval[0].Unit != town.UnitCode || town.Approval[1].Unit != town.ExtensionUnit {
		t.Errorf("approval of %s: %+v", town.ID, town.Approval)
	}
	sc := shipped(t).Scoring
	for _, id := range []string{"8.1", "8.5", "8.6"} {
		if !slices.Contains(sc.YesNo, id) {
			t.Errorf("%s is not scored done-or-not", id)
		}
	}
}

// TestShippedReadingsRestored: the obligations the re-reading restored, by
// whom they are carried.
func TestShippedReadingsRestored(t *testing.T) {
	p := shipped(t)
	specs := expand(t, p, 0)
	levels := func(id string) map[duban.Level]int {
		out := map[duban.Level]int{}
		for _, s := range byTemplate(specs, id) {
			out[s.UnitLevel]++
		}
		return out
	}
	cityCounty := map[duban.Level]int{duban.LevelCity: 14, duban.LevelCounty: 134}
	county := map[duban.Level]int{duban.LevelCounty: 134}
	for id, want := range map[string]map[duban.Level]int{
		"2.14": county,     // villages' associations, beside 2.8's townships
		"2.15": cityCounty, // schools, hospitals, enterprises, 两新组织
		"3.1":  {duban.LevelProvince: 1, duban.LevelCity: 14, duban.LevelCounty: 134},
		"3.5":  county,     // 加大暖心家园建设力度
		"3.6":  cityCounty, // 生育关怀行动
		"6.4":  county,     // 婴幼儿照护服务宣传教育、社会监督
	} {
		if got := levels(id); !reflect.DeepEqual(got, want) {
			t.Errorf("%s by level: %v, want %v", id, got, want)
		}
	}
	villages := findTemplate(t, p, "2.14")
	if villages.Kind != duban.KindRatio || *villages.Ratio != (plan.Ratio{Num: 1, Den: 1, Of: duban.LevelVillage}) {
		t.Errorf("2.14: %s %+v", villages.Kind, villages.Ratio)
	}
	if !slices.Contains(p.Scoring.Percent, "2.14") {
		t.Error("2.14 is not scored by its share")
	}
	if tm := findTemplate(t, p, "6.2"); !strings.Contains(tm.Quote, "探索总结农村儿童早期发展服务经验和模式") {
		t.Errorf("6.2 quotes %q", tm.Quote)
	}
}

// The shipped plan says the development and management zones take county
// tasks; a plan that excludes them gives them none, and their townships
// and a template naming a zone keep theirs.
func TestZonesTakeCountyTasksOnlyWhenThePlanSaysSo(t *testing.T) {
	p, src, err := plan.Shipped("hunan-2021")
	if err != nil {
		t.Fatal(err)
	}
	if p.Zones != plan.ZonesInclude {
		t.Fatalf("the shipped plan says zones: %q, want include", p.Zones)
	}
	zonesIn := func(p *plan.Plan, template string) (all, zones int) {
		t.Helper()
		specs, err := plan.Expand(p, org.Hunan(), 2021)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range specs {
			if s.TemplateID == template {
				all++
				if org.IsZone(s.UnitCode) {
					zones++
				}
			}
		}
		return all, zones
	}
	if all, zones := zonesIn(p, "9.1"); all != 134 || zones != 12 {
		t.Errorf("include: 9.1 has %d instances, %d of them zones; want 134 and 12", all, zones)
	}
	excluded, err := plan.Parse("exclude.yaml", bytes.Replace(src, []byte("\nzones: include\n"), []byte("\nzones: exclude\n"), 1), org.Hunan())
	if err != nil {
		t.Fatal(err)
	}
	if all, zones := zonesIn(excluded, "9.1"); all != 122 || zones != 0 {
		t.Errorf("exclude: 9.1 has %d instances, %d of them zones; want 122 and 0", all, zones)
	}
	// 2.4 names Yueyang (a city) by code: unaffected; township tasks under
	// a zone stay with their townships.
	if all, _ := zonesIn(excluded, "2.4"); all != 1 {
		t.Errorf("exclude: 2.4 (named unit) has %d instances, want 1", all)
	}
	incl, _ := zonesIn(p, "2.9")
	excl, _ := zonesIn(excluded, "2.9")
	if incl == 0 || incl != excl {
		t.Errorf("township template 2.9: %d instances with zones included, %d excluded; want the same", incl, excl)
	}
	var n int
	for _, u := range org.Hunan().AtLevel(duban.LevelCounty) {
		if org.IsZone(u.Code) {
			n++
		}
	}
	if n != 12 {
		t.Errorf("%d zones among the county-level units, want 12", n)
	}
}

// Every instance of every shipped plan, in its own year and launched onto
// another, has an id Temporal can carry as a workflow id: printable ASCII.
// (A festival's instance once carried 中秋节 in its id, and the client
// refused to start its workflow.)
func TestShippedInstanceIDsArePrintableASCII(t *testing.T) {
	for _, id := range plan.ShippedIDs() {
		p, _, err := plan.Shipped(id)
		if err != nil {
			t.Fatal(err)
		}
		for _, year := range []int{p.Year, p.Year + 5} {
			specs, err := plan.Expand(p, org.Hunan(), year)
			if err != nil {
				t.Fatalf("%s in %d: %v", id, year, err)
			}
			festivals := 0
			for _, s := range specs {
				if err := plan.CheckInstanceID(s.ID); err != nil {
					t.Errorf("%s in %d: %v", id, year, err)
				}
				if strings.HasSuffix(s.ID, "/zhongqiu") && s.Period == "中秋节" {
					festivals++
				}
			}
			if id == "hunan-2021" && festivals == 0 {
				t.Errorf("%s in %d: no 中秋节 instance with an id ending /zhongqiu", id, year)
			}
		}
	}
	for _, bad := range []string{"", "2021/3.7/4301/中秋节", "2021/2.1/4301 x", "2021/2.1/\x00"} {
		if plan.CheckInstanceID(bad) == nil {
			t.Errorf("CheckInstanceID(%q) = nil, want an error", bad)
		}
	}
}
