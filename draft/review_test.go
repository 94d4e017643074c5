package draft_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/duban-dev/duban/draft"
	"github.com/duban-dev/duban/plan"
)

// reviewOf turns a draft into a review that accepts every proposal.
func reviewOf(d *draft.Draft) draft.Review {
	r := draft.Review{PlanID: "hunan-2022", Year: d.Year, Title: d.Title, Source: d.Source, Notice: d.Notice, Reviewer: "审核人", Sections: d.Sections}
	for _, p := range d.Proposals() {
		r.Items = append(r.Items, draft.ReviewItem{Decision: draft.Accept, Section: p.Section, Template: p.Template,
			Notes: append([]string{"依据：" + p.Why.Obligation}, p.Assumptions...)})
	}
	for _, s := range d.Unread() {
		r.Unread = append(r.Unread, s.Text)
	}
	return r
}

// A review with one proposal edited and one dropped renders a plan file
// that validates like a hand-written one, holds the edit, lacks the dropped
// template, and says what the reviewer did.
func TestReviewRendersTheReviewedPlan(t *testing.T) {
	d := draft2021(t)
	base, _, err := plan.Shipped("hunan-2021")
	if err != nil {
		t.Fatal(err)
	}
	r := reviewOf(d)
	edited, dropped := &r.Items[0], &r.Items[1]
	edited.Decision = draft.Edit
	edited.Template.Title = "审核后的标题"
	edited.Template.Due = plan.Due{Date: plan.Date{Year: d.Year, Month: time.October, Day: 31}, Basis: plan.BasisStated, Note: "审核时确定"}
	dropped.Decision = draft.Drop
	out, err := r.Render(base)
	if err != nil {
		t.Fatal(err)
	}
	p, err := plan.Parse("reviewed.yaml", out.YAML, hunan)
	if err != nil {
		t.Fatalf("reviewed plan does not validate: %v\n%s", err, out.YAML)
	}
	if got, want := len(p.Templates()), len(d.Proposals())-1; got != want {
		t.Fatalf("%d templates, want %d", got, want)
	}
	var found bool
	for _, st := range p.Templates() {
		if st.Template.ID == dropped.Template.ID {
			t.Fatalf("dropped template %s is in the plan", dropped.Template.ID)
		}
		if st.Template.ID == edited.Template.ID {
			found = true
			if st.Template.Title != "审核后的标题" || st.Template.Due.Date.String() != "2021-10-31" {
				t.Fatalf("edit lost: %+v", st.Template)
			}
		}
	}
	if !found {
		t.Fatal("edited template missing")
	}
	y := string(out.YAML)
	for _, want := range []string{"采纳 " + strconv.Itoa(len(r.Items)-2) + " 个、修改后采纳 1 个、删除 1 个", "已删除 " + dropped.Template.ID, "# 审核：修改后采纳", "经 审核人 审核", "沿用基础计划 hunan-2021"} {
		if !strings.Contains(y, want) {
			t.Errorf("the file does not say %q", want)
		}
	}
	if p.ID != "hunan-2022" || p.Chains == nil || p.Ladders == nil {
		t.Errorf("head: id %q, chains %v", p.ID, p.Chains != nil)
	}
}

// Errors in a reviewed plan point back at the proposal they come from, even
// after a section was left empty by drops.
func TestReviewErrorsPointAtTheirProposal(t *testing.T) {
	d := draft2021(t)
	r := reviewOf(d)
	// Drop every proposal of the first section that has any, so the plan's
	// section indexes no longer match the review's.
	first := r.Items[0].Section
	for i := range r.Items {
		if r.Items[i].Section == first {
			r.Items[i].Decision = draft.Drop
		}
	}
	var bad int
	for i, it := range r.Items {
		if it.Decision != draft.Drop {
			bad = i + 2
			break
		}
	}
	r.Items[bad].Decision = draft.Edit
	r.Items[bad].Template.Due.Date = plan.Date{Year: d.Year + 2, Month: time.January, Day: 15}
	out, err := r.Render(nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = plan.Parse("reviewed.yaml", out.YAML, hunan)
	var verrs plan.ValidationErrors
	if !errors.As(err, &verrs) {
		t.Fatalf("want validation errors, got %v", err)
	}
	var located bool
	for _, e := range verrs {
		_, item, rest := out.Origin(e.Field)
		if item == bad && strings.HasPrefix(rest, ".due") {
			located = true
			if e.Line == 0 {
				t.Errorf("error without a line: %+v", e)
			}
		}
	}
	if !located {
		t.Fatalf("no error located at item %d: %v", bad, verrs)
	}
	if sec, item, rest := out.Origin("year"); sec != -1 || item != -1 || rest != "year" {
		t.Errorf("Origin(year) = %d %d %q", sec, item, rest)
	}
	if len(r.Orphans()) != 0 {
		t.Errorf("orphans %v", r.Orphans())
	}
	r.Items[bad].Section = "99"
	if o := r.Orphans(); len(o) != 1 || o[0] != bad {
		t.Errorf("orphans %v, want [%d]", o, bad)
	}
}
