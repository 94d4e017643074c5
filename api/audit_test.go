package api_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestAuditTrailAndChain reads the audit log as a supervisor would, then
// verifies the chain, alters a row, and sees the verification name it.
func TestAuditTrailAndChain(t *testing.T) {
	f := getFixture(t)
	ctx := context.Background()
	// Make sure there are decisions to find, whatever ran before: progress
	// reports at Tianxin.
	for _, note := range []string{"活动筹备中", "宣传物料已印制", "志愿者已招募", "场地已落实", "嘉宾已邀请", "活动已开展"} {
		taskOf(t, f.as(t, "tianxin-official", "POST", taskPath("2021/8.1/430103", "progress"), jsonBody(map[string]any{"note": note})))
	}

	res := f.as(t, "changsha-supervisor", "GET", "/api/v1/audit?instance="+url.QueryEscape("2021/8.1/430103"), nil)
	require.Equal(t, 200, res.status, "%s", res.body)
	items := res.json(t)["items"].([]any)
	require.NotEmpty(t, items)
	row := items[0].(map[string]any)
	require.Equal(t, "task.progress", row["action"])
	require.Equal(t, "报告进展", row["action_label"])
	require.Equal(t, "tianxin-official", row["actor_name"])
	require.Len(t, row["hash"], 64)

	// A city supervisor sees rows about its subtree only.
	res = f.as(t, "changsha-supervisor", "GET", "/api/v1/audit?limit=200", nil)
	for _, it := range res.json(t)["items"].([]any) {
		require.True(t, strings.HasPrefix(it.(map[string]any)["unit_code"].(string), "4301"))
	}
	actor := f.user("tianxin-official").ID
	res = f.as(t, "hunan-supervisor", "GET", fmt.Sprintf("/api/v1/audit?actor=%d&from=2000-01-01&to=2100-12-31", actor), nil)
	for _, it := range res.json(t)["items"].([]any) {
		require.EqualValues(t, actor, it.(map[string]any)["actor_id"])
	}
	require.Empty(t, f.as(t, "hunan-supervisor", "GET", "/api/v1/audit?from=2100-01-01", nil).json(t)["items"])
	f.as(t, "changsha-supervisor", "GET", "/api/v1/audit?unit=4306", nil).problem(t, 404, "not_found")
	f.as(t, "changsha-supervisor", "GET", "/api/v1/audit?instance="+url.QueryEscape("2021/2.1/430602"), nil).problem(t, 404, "not_found")
	// The actor by username (what people know) as well as by id.
	res = f.as(t, "hunan-supervisor", "GET", "/api/v1/audit?actor=tianxin-official&limit=200", nil)
	require.Equal(t, 200, res.status, "%s", res.body)
	byName := res.json(t)["items"].([]any)
	require.NotEmpty(t, byName)
	for _, it := range byName {
		require.EqualValues(t, actor, it.(map[string]any)["actor_id"])
	}
	byID := f.as(t, "hunan-supervisor", "GET", fmt.Sprintf("/api/v1/audit?actor=%d&limit=200", actor), nil).json(t)["items"].([]any)
	require.Equal(t, len(byID), len(byName))
	// Someone unknown has done nothing (the same answer as a known user
	// with no rows here: the filter tells nothing about who exists).
	res = f.as(t, "hunan-supervisor", "GET", "/api/v1/audit?actor=nobody-by-this-name", nil)
	require.Equal(t, 200, res.status, "%s", res.body)
	require.Empty(t, res.json(t)["items"])
	require.Empty(t, f.as(t, "yueyang-supervisor", "GET", "/api/v1/audit?actor=tianxin-official", nil).json(t)["items"])
	for _, bad := range []string{"x", "a%20b", "0", "-1", "%E5%BC%A0%E4%B8%89"} {
		p := f.as(t, "hunan-supervisor", "GET", "/api/v1/audit?actor="+bad, nil).problem(t, 422, "invalid")
		require.Equal(t, "actor", p["errors"].([]any)[0].(map[string]any)["field"], "actor=%s", bad)
	}
	f.as(t, "furong-official", "GET", "/api/v1/audit", nil).problem(t, 403, "forbidden")

	check, err := f.stack.DB.VerifyAudit(ctx)
	require.NoError(t, err)
	require.True(t, check.OK(), check.Problem)
	require.Greater(t, check.Rows, int64(5))

	// Alter one row in the middle; the check names it. Then put it back.
	target := check.LastID / 2
	var detail string
	require.NoError(t, f.stack.DB.Pool.QueryRow(ctx, `SELECT detail FROM audit_log WHERE id = $1`, target).Scan(&detail))
	_, err = f.stack.DB.Pool.Exec(ctx, `UPDATE audit_log SET detail = '{"reason":"改过的理由"}' WHERE id = $1`, target)
	require.NoError(t, err)
	broken, err := f.stack.DB.VerifyAudit(ctx)
	require.NoError(t, err)
	_, rerr := f.stack.DB.Pool.Exec(ctx, `UPDATE audit_log SET detail = $2 WHERE id = $1`, target, detail)
	require.NoError(t, rerr)
	require.False(t, broken.OK())
	require.Equal(t, target, broken.BrokenID)
	require.Contains(t, broken.Problem, fmt.Sprintf("第 %d 条", target))
	check, err = f.stack.DB.VerifyAudit(ctx)
	require.NoError(t, err)
	require.True(t, check.OK(), check.Problem)
}
