package api_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/engine"
)

// launchTemplates launches templates of the shipped plan for 2021 on the
// fixture's clock and waits for the launch.
func launchTemplates(t *testing.T, f *fixture, templates ...string) {
	t.Helper()
	ctx := context.Background()
	id, err := f.stack.Engine.Launch(ctx, "hunan-2021", 2021, engine.LaunchOptions{Clock: f.clock, Templates: templates, BatchSize: 100, Concurrency: 16})
	require.NoError(t, err)
	_, err = f.stack.Engine.WaitLaunch(ctx, id)
	require.NoError(t, err)
}

// waitChange polls a plan change until it is done and returns it.
func waitChange(t *testing.T, f *fixture, id float64) map[string]any {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		res := f.as(t, "hunan-supervisor", "GET", fmt.Sprintf("/api/v1/plans/hunan-2021/changes/%d", int64(id)), nil)
		require.Equal(t, 200, res.status, "%s", res.body)
		out := res.json(t)
		if out["change"].(map[string]any)["status"] == "done" {
			return out
		}
		require.True(t, time.Now().Before(deadline), "change %v not done: %s", id, res.body)
		time.Sleep(200 * time.Millisecond)
	}
}

// TestPlanChangeMovesADeadline: the province postpones 2.2 (every county)
// by a circular. Every open instance's workflow, row and timeline agree on
// the new deadline and show the 文号; the same change recorded again (one
// after the other, or twice at once) changes nothing more.
func TestPlanChangeMovesADeadline(t *testing.T) {
	f := isolatedFixture(t)
	ctx := context.Background()
	launchTemplates(t, f, "2.2")
	open := countRows(t, f.stack.DB, `SELECT count(*) FROM instances WHERE template_id = '2.2' AND status IN ('assigned', 'in_progress', 'submitted')`)
	require.Greater(t, open, 100)

	req := map[string]any{"year": 2021, "template_id": "2.2", "doc_no": "湘计生协〔2021〕18号", "reason": "省委改革办统一部署，推迟一个月",
		"new_due": "2022-01-31", "reminders": []map[string]any{{"days": 3}, {"days": 14}}, "evidence_note": "实施方案及审议纪要"}
	res := f.as(t, "hunan-admin", "POST", "/api/v1/plans/hunan-2021/changes", jsonBody(req))
	require.Equal(t, 202, res.status, "%s", res.body)
	ch := res.json(t)
	require.EqualValues(t, open, ch["total"])
	require.Contains(t, ch["summary"], "截止日期调整为 2022年1月31日")
	require.Contains(t, ch["summary"], "提醒调整为到期前 14天、3天")
	done := waitChange(t, f, ch["id"].(float64))["change"].(map[string]any)
	require.EqualValues(t, open, done["applied"])
	require.EqualValues(t, 0, done["failed"])
	require.EqualValues(t, 0, done["pending"])

	due := duban.EndOfDay(2022, 1, 31)
	changeID := int64(ch["id"].(float64))
	rows, err := f.stack.DB.Pool.Query(ctx, `SELECT id, due_at, spec ->> 'evidence_note' FROM instances WHERE template_id = '2.2' ORDER BY id`)
	require.NoError(t, err)
	var ids []string
	for rows.Next() {
		var id, note string
		var at time.Time
		require.NoError(t, rows.Scan(&id, &at, &note))
		require.True(t, due.Equal(at), "%s row due %s", id, at)
		require.Equal(t, "实施方案及审议纪要", note, id)
		ids = append(ids, id)
	}
	require.NoError(t, rows.Err())
	require.Len(t, ids, open)
	for _, id := range ids {
		v, err := f.stack.Engine.State(ctx, id)
		require.NoError(t, err, id)
		require.True(t, due.Equal(v.State.Due), "%s workflow due %s", id, v.State.Due)
		require.Equal(t, []int64{changeID}, v.State.Spec.Changes, id)
		require.Equal(t, []duban.Offset{{Days: 14}, {Days: 3}}, v.State.Spec.Reminders, id)
	}
	// The timeline shows it with the 文号, on the task page too.
	tl := f.as(t, "furong-official", "GET", taskPath("2021/2.2/430102", "timeline"), nil).json(t)["items"].([]any)
	last := tl[len(tl)-1].(map[string]any)
	require.Equal(t, "amended", last["kind"])
	require.Equal(t, "计划变更", last["kind_label"])
	require.Equal(t, "湘计生协〔2021〕18号", last["change"].(map[string]any)["doc_no"])
	require.Equal(t, "省委改革办统一部署，推迟一个月", last["reason"])
	task := f.as(t, "furong-official", "GET", taskPath("2021/2.2/430102"), nil).json(t)
	require.Equal(t, "实施方案及审议纪要", task["evidence_note"])
	// The officials heard of it.
	require.Contains(t, inboxKinds(t, f, f.user("furong-official").ID, "2021/2.2/430102"), "amended")

	// Recorded again: the same change (200), nothing more changes.
	events := countRows(t, f.stack.DB, `SELECT count(*) FROM events WHERE kind = 'amended' AND instance_id LIKE '2021/2.2/%'`)
	require.Equal(t, open, events)
	res = f.as(t, "hunan-admin", "POST", "/api/v1/plans/hunan-2021/changes", jsonBody(req))
	require.Equal(t, 200, res.status, "%s", res.body)
	require.Equal(t, ch["id"], res.json(t)["id"])
	again := waitChange(t, f, ch["id"].(float64))["change"].(map[string]any)
	require.Equal(t, done["applied"], again["applied"])
	// Sent to a workflow directly, twice more: still one event each.
	c, err := f.stack.DB.Change(ctx, changeID)
	require.NoError(t, err)
	require.NoError(t, f.stack.Engine.Amend(ctx, "2021/2.2/430102", c))
	require.NoError(t, f.stack.Engine.Amend(ctx, "2021/2.2/430102", c))
	require.Equal(t, events, countRows(t, f.stack.DB, `SELECT count(*) FROM events WHERE kind = 'amended' AND instance_id LIKE '2021/2.2/%'`))
	require.Equal(t, 1, countRows(t, f.stack.DB, `SELECT count(*) FROM plan_changes WHERE doc_no = '湘计生协〔2021〕18号'`))
	require.Equal(t, 1, countRows(t, f.stack.DB, `SELECT count(*) FROM audit_log WHERE action = 'plan.change' AND detail::jsonb ->> 'doc_no' = '湘计生协〔2021〕18号'`))

	// The same 文号 with another content is refused, naming the 文号.
	other := map[string]any{"year": 2021, "template_id": "2.2", "doc_no": "湘计生协〔2021〕18号", "reason": "另一项", "new_due": "2022-02-28"}
	p := f.as(t, "hunan-admin", "POST", "/api/v1/plans/hunan-2021/changes", jsonBody(other)).problem(t, 422, "invalid")
	require.Contains(t, fmt.Sprint(p), "doc_no")

	// Twice at the same moment: one change.
	twin := map[string]any{"year": 2021, "template_id": "2.2", "doc_no": "湘计生协〔2021〕19号", "reason": "调整提醒", "reminders": []map[string]any{{"days": 7}}}
	var wg sync.WaitGroup
	statuses := make([]int, 2)
	ids2 := make([]any, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := f.as(t, "hunan-admin", "POST", "/api/v1/plans/hunan-2021/changes", jsonBody(twin))
			statuses[i], ids2[i] = r.status, r.json(t)["id"]
		}()
	}
	wg.Wait()
	require.ElementsMatch(t, []int{200, 202}, statuses)
	require.Equal(t, ids2[0], ids2[1])
	waitChange(t, f, ids2[0].(float64))

	// The plan's versions list both changes after its import.
	vs := f.as(t, "furong-official", "GET", "/api/v1/plans/hunan-2021/versions", nil).json(t)["items"].([]any)
	var summaries []string
	for _, v := range vs {
		summaries = append(summaries, v.(map[string]any)["summary"].(string))
	}
	require.Contains(t, strings.Join(summaries, "\n"), "湘计生协〔2021〕18号")
	require.Contains(t, strings.Join(summaries, "\n"), "湘计生协〔2021〕19号")
	require.Equal(t, "import", vs[len(vs)-1].(map[string]any)["kind"])
	file := f.as(t, "furong-official", "GET", fmt.Sprintf("/api/v1/plans/hunan-2021/versions/%v/file", vs[len(vs)-1].(map[string]any)["version"]), nil)
	require.Equal(t, 200, file.status)
	require.Contains(t, string(file.body), "hunan-2021")
}

// TestPlanChangeWithdrawsForSomeUnits: a template withdrawn for two cities
// cancels their open instances with the reason and the 文号; the others
// go on.
func TestPlanChangeWithdrawsForSomeUnits(t *testing.T) {
	f := isolatedFixture(t)
	launchTemplates(t, f, "3.4")
	req := map[string]any{"year": 2021, "template_id": "3.4", "doc_no": "湘计生协〔2021〕21号", "reason": "两市已纳入国家试点，不再单独建设",
		"units": []string{"4302", "4303"}, "withdraw": true}
	res := f.as(t, "hunan-admin", "POST", "/api/v1/plans/hunan-2021/changes", jsonBody(req))
	require.Equal(t, 202, res.status, "%s", res.body)
	ch := res.json(t)
	require.EqualValues(t, 2, ch["total"])
	waitChange(t, f, ch["id"].(float64))
	for _, id := range []string{"2021/3.4/4302", "2021/3.4/4303"} {
		row, err := f.stack.DB.Instance(context.Background(), id)
		require.NoError(t, err)
		require.Equal(t, duban.StatusCancelled, row.Status, id)
	}
	row, err := f.stack.DB.Instance(context.Background(), "2021/3.4/4301")
	require.NoError(t, err)
	require.NotEqual(t, duban.StatusCancelled, row.Status)
	tl := f.as(t, "hunan-supervisor", "GET", taskPath("2021/3.4/4302", "timeline"), nil).json(t)["items"].([]any)
	last := tl[len(tl)-1].(map[string]any)
	require.Equal(t, "cancelled", last["kind"])
	require.Equal(t, "湘计生协〔2021〕21号", last["change"].(map[string]any)["doc_no"])
	// Listed with its progress.
	list := f.as(t, "hunan-admin", "GET", "/api/v1/plans/hunan-2021/changes?year=2021", nil).json(t)["items"].([]any)
	require.NotEmpty(t, list)
	require.Equal(t, "湘计生协〔2021〕21号", list[0].(map[string]any)["doc_no"])
}

// TestPlanChangeRefusesBadInput: each bad request names what is wrong and
// stores nothing.
func TestPlanChangeRefusesBadInput(t *testing.T) {
	f := isolatedFixture(t)
	before := countRows(t, f.stack.DB, `SELECT count(*) FROM plan_changes`)
	base := func(mod map[string]any) map[string]any {
		m := map[string]any{"year": 2021, "template_id": "2.1", "doc_no": "湘计生协〔2021〕99号", "reason": "测试", "new_due": "2022-03-31"}
		for k, v := range mod {
			if v == nil {
				delete(m, k)
			} else {
				m[k] = v
			}
		}
		return m
	}
	cases := []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"no 文号", base(map[string]any{"doc_no": nil}), "doc_no"},
		{"control character", base(map[string]any{"doc_no": "湘计生协\x00"}), "doc_no"},
		{"line break in 文号", base(map[string]any{"doc_no": "湘计生协\n18号"}), "doc_no"},
		{"no reason", base(map[string]any{"reason": "  "}), "reason"},
		{"nothing to change", base(map[string]any{"new_due": nil}), "new_due"},
		{"far date", base(map[string]any{"new_due": "9999-12-31"}), "new_due"},
		{"past date", base(map[string]any{"new_due": "2021-05-01"}), "new_due"},
		{"impossible date", base(map[string]any{"new_due": "2022-02-30"}), "new_due"},
		{"withdraw and move", base(map[string]any{"withdraw": true}), "withdraw"},
		{"reminder out of range", base(map[string]any{"reminders": []map[string]any{{"days": 100000}}}), "reminders[0].days"},
		{"too many reminders", base(map[string]any{"reminders": []map[string]any{{"days": 1}, {"days": 2}, {"days": 3}, {"days": 4}, {"days": 5}, {"days": 6}, {"days": 7}, {"days": 8}, {"days": 9}, {"days": 10}, {"days": 11}}}), "reminders"},
		{"unknown template", base(map[string]any{"template_id": "9.99"}), "template_id"},
		{"unit without the task", base(map[string]any{"units": []string{"430102", "430000"}}), "units[1]"},
		{"huge year", base(map[string]any{"year": 1e12}), "year"},
		{"unknown field", base(map[string]any{"due": "2022-01-01"}), "due"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := f.as(t, "hunan-admin", "POST", "/api/v1/plans/hunan-2021/changes", jsonBody(c.body)).problem(t, 422, "invalid")
			require.Contains(t, fmt.Sprint(p["errors"]), "field:"+c.field, "%v", p)
		})
	}
	// Only the root's admins change the plan.
	f.as(t, "yueyang-admin", "POST", "/api/v1/plans/hunan-2021/changes", jsonBody(base(nil))).problem(t, 403, "forbidden")
	f.as(t, "furong-official", "POST", "/api/v1/plans/hunan-2021/changes", jsonBody(base(nil))).problem(t, 403, "forbidden")
	f.as(t, "hunan-admin", "POST", "/api/v1/plans/nope/changes", jsonBody(base(nil))).problem(t, 404, "not_found")
	f.as(t, "hunan-admin", "GET", "/api/v1/plans/hunan-2021/changes/999999", nil).problem(t, 404, "not_found")
	f.as(t, "hunan-admin", "GET", "/api/v1/plans/hunan-2021/changes/x", nil).problem(t, 404, "not_found")
	require.Equal(t, before, countRows(t, f.stack.DB, `SELECT count(*) FROM plan_changes`), "nothing stored")
}
