package draft_test

import (
	"context"
	"testing"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/internal/testenv"
	"github.com/duban-dev/duban/plan"
)

// The drafted plan file imports into a real database like a hand-written
// one, and reads back with every template.
func TestDraftedPlanImports(t *testing.T) {
	ctx := context.Background()
	db := testenv.OpenDB(t)
	d := draft2021(t)
	src, err := d.YAML()
	if err != nil {
		t.Fatal(err)
	}
	p, err := plan.Parse("draft-2021.yaml", src, hunan)
	if err != nil {
		t.Fatal(err)
	}
	admin := duban.Actor{Name: "起草测试", UnitCode: "43", Roles: []duban.Role{duban.RoleAdmin}}
	s, err := db.ImportPlanAs(ctx, p, src, admin, "43")
	if err != nil {
		t.Fatal(err)
	}
	if s.TemplateCount != len(d.Proposals()) {
		t.Errorf("imported %d templates, drafted %d", s.TemplateCount, len(d.Proposals()))
	}
	back, err := db.Plan(ctx, d.PlanID)
	if err != nil {
		t.Fatal(err)
	}
	if len(back.Templates()) != len(d.Proposals()) || back.Source != p.Source {
		t.Errorf("read back %d templates, source %q", len(back.Templates()), back.Source)
	}
}
