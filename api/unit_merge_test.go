package api_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/engine"
	"github.com/duban-dev/duban/plan"
)

// mergePlan has two township tasks: 文艺路街道 and 朝阳街街道 both keep a
// ledger (9.1); only 文艺路街道 writes a summary (9.2).
const mergePlan = `plan: merge-2021
year: 2021
title: 合并测试
source: 测试
defaults:
  reminders: [7d]
  escalation: ladder
  approval:
    township: township-two
chains:
  township-two:
    - {approver: self, sla: 5wd}
    - {approver: parent, sla: 5wd}
ladders:
  ladder:
    - after: 0d
      notify:
        - {unit: self, roles: [official]}
sections:
  - id: "9"
    title: 合并测试
    templates:
      - id: "9.1"
        title: 街道工作台账
        quote: 建立工作台账。
        responsible: {units: ["430102001", "430102002"]}
        kind: deadline
        due: {date: 2021-12-31, basis: stated}
      - id: "9.2"
        title: 街道活动总结
        quote: 报送活动总结。
        responsible: {units: ["430102001"]}
        kind: deadline
        due: {date: 2021-12-31, basis: stated}
`

// TestUnitMergeAndRename: 文艺路街道 merges into 朝阳街街道. Its summary
// (9.2) moves there and 朝阳街街道's official reports on it; its ledger (9.1)
// is cancelled, 朝阳街街道 having its own; its people move; it leaves the
// hierarchy; the counters agree with a recount. A rename reaches the rows.
func TestUnitMergeAndRename(t *testing.T) {
	f := isolatedFixture(t)
	ctx := context.Background()
	h, err := f.stack.DB.Hierarchy(ctx)
	require.NoError(t, err)
	p, err := plan.Parse("merge.yaml", []byte(mergePlan), h)
	require.NoError(t, err)
	_, err = f.stack.DB.ImportPlan(ctx, p, []byte(mergePlan), "test")
	require.NoError(t, err)
	id, err := f.stack.Engine.Launch(ctx, "merge-2021", 2021, engine.LaunchOptions{Clock: f.clock})
	require.NoError(t, err)
	_, err = f.stack.Engine.WaitLaunch(ctx, id)
	require.NoError(t, err)
	wenyi := newUser(t, f, "wenyilu-official", "430102001", duban.RoleOfficial)
	newUser(t, f, "chaoyang-official", "430102002", duban.RoleOfficial)

	// Bad requests first: each names its field, nothing changes.
	merge := func(user, code string, body map[string]any) response {
		return f.as(t, user, "POST", "/api/v1/units/"+code+"/merge", jsonBody(body))
	}
	require.Contains(t, merge("hunan-admin", "430102001", map[string]any{"into": "430103002", "reason": "合并"}).problem(t, 422, "invalid")["errors"], map[string]any{"field": "into", "message": "只能并入同一上级单位下的单位"})
	merge("hunan-admin", "430102001", map[string]any{"into": "430102001", "reason": "合并"}).problem(t, 422, "invalid")
	merge("hunan-admin", "430102001", map[string]any{"into": "430102002", "reason": "\x00"}).problem(t, 422, "invalid")
	merge("hunan-admin", "430102001", map[string]any{"into": "430102002"}).problem(t, 422, "invalid")
	p422 := merge("hunan-admin", "430102", map[string]any{"into": "430103", "reason": "撤区"}).problem(t, 422, "invalid")
	require.Contains(t, fmt.Sprint(p422), "下级单位")
	merge("yueyang-admin", "430102001", map[string]any{"into": "430102002", "reason": "合并"}).problem(t, 404, "not_found")
	merge("furong-official", "430102001", map[string]any{"into": "430102002", "reason": "合并"}).problem(t, 403, "forbidden")
	_, err = f.stack.DB.MergedInto(ctx, "430102001")
	require.NoError(t, err)

	res := merge("hunan-admin", "430102001", map[string]any{"into": "430102002", "reason": "芙蓉区街道区划调整（芙政发〔2021〕5号）"})
	require.Equal(t, 202, res.status, "%s", res.body)
	require.EqualValues(t, 2, res.json(t)["open_tasks"])
	waitCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	out, err := f.stack.Engine.WaitUnitMerge(waitCtx, "430102001")
	require.NoError(t, err)
	require.Equal(t, 1, out.Moved)
	require.Equal(t, 1, out.Cancelled)

	moved, err := f.stack.DB.Instance(ctx, "2021/9.2/430102001")
	require.NoError(t, err)
	require.Equal(t, "430102002", moved.UnitCode)
	require.Equal(t, "朝阳街街道", moved.UnitName)
	require.Equal(t, "430102002", moved.Spec.Approval[0].Unit, "its own step moved too")
	ledger, err := f.stack.DB.Instance(ctx, "2021/9.1/430102001")
	require.NoError(t, err)
	require.Equal(t, duban.StatusCancelled, ledger.Status)
	// 朝阳街街道's official works on the moved task; the merged unit's
	// official moved with it.
	require.Equal(t, "in_progress", taskOf(t, f.as(t, "chaoyang-official", "POST", taskPath("2021/9.2/430102001", "progress"), jsonBody(map[string]any{"note": "已接手"})))["status"])
	u, err := f.stack.DB.UserByID(ctx, wenyi.ID)
	require.NoError(t, err)
	require.Equal(t, "430102002", u.UnitCode)
	tl := f.as(t, "chaoyang-official", "GET", taskPath("2021/9.2/430102001", "timeline"), nil).json(t)["items"].([]any)
	kinds := []string{}
	for _, e := range tl {
		kinds = append(kinds, e.(map[string]any)["kind"].(string))
	}
	require.Contains(t, kinds, "unit_moved")
	// It left the hierarchy, and the counters agree with a recount.
	f.as(t, "hunan-admin", "GET", "/api/v1/units/430102001", nil).problem(t, 404, "not_found")
	st := f.as(t, "hunan-admin", "GET", "/api/v1/units/430102001/merge", nil).json(t)
	require.Equal(t, "430102002", st["into"])
	require.EqualValues(t, 0, st["open_tasks"])
	drift, err := f.stack.DB.RollupDrift(ctx, false, duban.System)
	require.NoError(t, err)
	require.Empty(t, drift)
	// Merging again changes nothing more.
	require.Equal(t, 202, merge("hunan-admin", "430102001", map[string]any{"into": "430102002", "reason": "芙蓉区街道区划调整（芙政发〔2021〕5号）"}).status)
	again, err := f.stack.Engine.WaitUnitMerge(waitCtx, "430102001")
	require.NoError(t, err)
	require.Zero(t, again.Moved+again.Cancelled)

	// A rename reaches the task rows and the chain.
	r := f.as(t, "hunan-admin", "PATCH", "/api/v1/units/430102002", jsonBody(map[string]any{"name": "朝阳街道"}))
	require.Equal(t, 200, r.status, "%s", r.body)
	task := f.as(t, "chaoyang-official", "GET", taskPath("2021/9.2/430102001"), nil).json(t)
	require.Equal(t, "朝阳街道", task["unit"].(map[string]any)["name"])
	require.Equal(t, "朝阳街道", task["chain"].([]any)[0].(map[string]any)["unit"].(map[string]any)["name"])
}
