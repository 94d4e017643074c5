package cli

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/internal/testenv"
	"github.com/duban-dev/duban/org"
	"github.com/duban-dev/duban/plan"
	"github.com/duban-dev/duban/store"
)

// TestAuditVerify runs `duban audit verify` on a database where people
// created users and decided a task, then alters one row and runs it again:
// the second run fails and names that row.
func TestAuditVerify(t *testing.T) {
	ctx := context.Background()
	db := auditedDB(t)

	verify := func() (string, error) {
		var out bytes.Buffer
		env := &Env{Stdout: &out, Stderr: &out, Stdin: strings.NewReader(""), Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
		err := Run(ctx, env, Production(), []string{"audit", "verify"})
		return out.String(), err
	}
	out, err := verify()
	if err != nil {
		t.Fatalf("verify on an untouched log: %v\n%s", err, out)
	}
	// user.create, plan.import, task.progress, task.submitted (the reminder is the system's).
	if !strings.Contains(out, "共 4 条记录") {
		t.Fatalf("output %q", out)
	}

	if _, err := db.Pool.Exec(ctx, `UPDATE audit_log SET actor_name = '别人' WHERE id = 3`); err != nil {
		t.Fatal(err)
	}
	out, err = verify()
	if err == nil || !strings.Contains(err.Error(), "row 3") || !strings.Contains(out, "第 3 条") {
		t.Fatalf("after altering row 3: err %v, output %q", err, out)
	}

	// Deleting the last row is caught by the chain's head.
	if _, err := db.Pool.Exec(ctx, `UPDATE audit_log SET actor_name = '芙蓉区承办人' WHERE id = 3; DELETE FROM audit_log WHERE id = 4`); err != nil {
		t.Fatal(err)
	}
	out, err = verify()
	if err == nil || !strings.Contains(out, "末尾记录被删除") {
		t.Fatalf("after deleting the last row: err %v, output %q", err, out)
	}
}

// auditedDB is a database where people created a user, imported a plan and
// decided a task: four audit rows. DATABASE_URL points at it.
func auditedDB(t *testing.T) *store.DB {
	t.Helper()
	ctx := context.Background()
	db := testenv.OpenDB(t)
	t.Setenv("DATABASE_URL", db.Pool.Config().ConnString())

	admin := duban.Actor{UserID: 1, Name: "省管理员", UnitCode: "43", Roles: []duban.Role{duban.RoleAdmin}}
	official, err := db.CreateUserAs(ctx, store.User{Username: "furong", DisplayName: "芙蓉区承办人", UnitCode: "430102",
		Roles: []duban.Role{duban.RoleOfficial}, PasswordHash: "x"}, admin)
	if err != nil {
		t.Fatal(err)
	}
	p, src, err := plan.Shipped("hunan-2021")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ImportPlanAs(ctx, p, src, admin, "43"); err != nil {
		t.Fatal(err)
	}
	specs, err := plan.Expand(p, org.Hunan(), 2021)
	if err != nil {
		t.Fatal(err)
	}
	var spec duban.TaskSpec
	for _, s := range specs {
		if s.ID == "2021/2.1/430102" {
			spec = s
		}
	}
	at := time.Date(2021, 3, 1, 9, 0, 0, 0, duban.Shanghai)
	if _, err := db.RecordAssigned(ctx, []duban.TaskSpec{spec}, at); err != nil {
		t.Fatal(err)
	}
	for i, tr := range []duban.Transition{
		{Kind: duban.EventProgress, Actor: official.Actor(), From: duban.StatusAssigned, To: duban.StatusInProgress, Note: "方案已起草"},
		{Kind: duban.EventSubmitted, Actor: official.Actor(), From: duban.StatusInProgress, To: duban.StatusSubmitted, Step: 1},
		{Kind: duban.EventReminder, Actor: duban.System, From: duban.StatusSubmitted, To: duban.StatusSubmitted},
	} {
		tr.InstanceID, tr.Seq, tr.At = spec.ID, int64(i+2), at.Add(time.Duration(i+1)*time.Hour)
		tr.Projection = duban.Projection{Status: tr.To, Due: spec.Due, StepCount: 3, Seq: tr.Seq}
		if _, err := db.ApplyTransition(ctx, tr); err != nil {
			t.Fatal(err)
		}
	}
	return db
}
