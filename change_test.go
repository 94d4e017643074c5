package duban_test

import (
	"strings"
	"testing"
	"time"

	"github.com/duban-dev/duban"
)

func spec(id, tpl, unit string) duban.TaskSpec {
	return duban.TaskSpec{ID: id, PlanID: "p", Year: 2021, TemplateID: tpl, UnitCode: unit, Due: duban.EndOfDay(2021, 12, 31),
		Reminders: []duban.Offset{{Days: 30}}, EvidenceNote: "方案"}
}

func TestApplyChanges(t *testing.T) {
	due := time.Date(2022, 1, 31, 10, 0, 0, 0, duban.Shanghai)
	none := []duban.Offset{}
	note := "方案及纪要"
	changes := []duban.PlanChange{
		{ID: 1, PlanID: "p", Year: 2021, TemplateID: "2.1", NewDue: &due},
		{ID: 2, PlanID: "p", Year: 2021, TemplateID: "2.1", Units: []string{"430102"}, Reminders: &none, EvidenceNote: &note},
		{ID: 3, PlanID: "p", Year: 2021, TemplateID: "3.4", Units: []string{"4302"}, Withdraw: true},
		{ID: 4, PlanID: "p", Year: 2022, TemplateID: "2.1", Withdraw: true}, // another year
	}
	specs := []duban.TaskSpec{spec("a", "2.1", "430102"), spec("b", "2.1", "430103"), spec("c", "3.4", "4302"), spec("d", "3.4", "4301")}
	specs[1].Changes = []int64{1} // launched with change 1 already
	withdrawn := duban.ApplyChanges(specs, changes)

	if len(specs) != 4 {
		t.Fatalf("the list changed length: %d", len(specs))
	}
	if !specs[0].Due.Equal(duban.EndOfDay(2022, 1, 31)) || len(specs[0].Reminders) != 0 || specs[0].EvidenceNote != note {
		t.Errorf("a: %+v", specs[0])
	}
	if got := specs[0].Changes; len(got) != 2 || got[0] != 1 || got[1] != 2 {
		t.Errorf("a carries %v, want [1 2]", got)
	}
	if !specs[1].Due.Equal(duban.EndOfDay(2021, 12, 31)) || len(specs[1].Changes) != 1 {
		t.Errorf("b had change 1 already and is not in change 2's units: %+v", specs[1])
	}
	if !withdrawn["c"] || withdrawn["d"] || len(withdrawn) != 1 {
		t.Errorf("withdrawn %v, want only c", withdrawn)
	}
}

func TestPlanChangeCheck(t *testing.T) {
	due := time.Date(2022, 1, 31, 0, 0, 0, 0, duban.Shanghai)
	far := time.Date(3000, 1, 1, 0, 0, 0, 0, duban.Shanghai)
	bad := []duban.Offset{{Days: 0}}
	ok := duban.PlanChange{TemplateID: "2.1", DocNo: "湘计生协〔2021〕18号", Reason: "推迟", NewDue: &due}
	if errs := ok.Check(); len(errs) != 0 {
		t.Fatalf("a good change refused: %v", errs)
	}
	for name, c := range map[string]struct {
		mod   func(*duban.PlanChange)
		field string
	}{
		"no doc no":     {func(c *duban.PlanChange) { c.DocNo = " " }, "doc_no"},
		"NUL":           {func(c *duban.PlanChange) { c.Reason = "a\x00" }, "reason"},
		"nothing":       {func(c *duban.PlanChange) { c.NewDue = nil }, "new_due"},
		"far":           {func(c *duban.PlanChange) { c.NewDue = &far }, "new_due"},
		"both":          {func(c *duban.PlanChange) { c.Withdraw = true }, "withdraw"},
		"reminder zero": {func(c *duban.PlanChange) { c.Reminders = &bad }, "reminders[0].days"},
		"empty unit":    {func(c *duban.PlanChange) { c.Units = []string{""} }, "units[0]"},
		"long doc no":   {func(c *duban.PlanChange) { c.DocNo = strings.Repeat("号", 101) }, "doc_no"},
	} {
		x := ok
		c.mod(&x)
		errs := x.Check()
		found := false
		for _, e := range errs {
			found = found || e.Field == c.field
		}
		if !found {
			t.Errorf("%s: want an error on %s, got %v", name, c.field, errs)
		}
	}
	if s := ok.Summary(); s != "截止日期调整为 2022年1月31日" {
		t.Errorf("summary %q", s)
	}
	again := ok
	again.Units = []string{}
	if !ok.Same(again) {
		t.Error("no units and an empty list are the same change")
	}
	later := time.Date(2022, 2, 1, 0, 0, 0, 0, duban.Shanghai)
	again.NewDue = &later
	if ok.Same(again) {
		t.Error("another date is another change")
	}
}
