package api_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/duban-dev/duban/plan"
)

func yamlBody(b []byte) *body { return &body{"application/yaml", b} }

func TestPlanValidateImportAndLaunch(t *testing.T) {
	f := getFixture(t)
	_, src, err := plan.Shipped("hunan-2021")
	require.NoError(t, err)

	res := f.as(t, "hunan-admin", "POST", "/api/v1/plans/validate", yamlBody(src))
	require.Equal(t, 200, res.status, "%s", res.body)
	v := res.json(t)
	require.Equal(t, true, v["valid"])
	require.Equal(t, "hunan-2021", v["id"])
	require.Greater(t, v["instances"].(float64), 1000.0)

	// A broken file: every error with its line, column and field.
	broken, err := os.ReadFile("../plan/testdata/broken/several-errors.yaml")
	require.NoError(t, err)
	p := f.as(t, "hunan-admin", "POST", "/api/v1/plans/validate?filename=several-errors.yaml", yamlBody(broken)).problem(t, 422, "invalid")
	errs := p["errors"].([]any)
	require.Greater(t, len(errs), 2)
	for _, e := range errs {
		e := e.(map[string]any)
		require.Greater(t, e["line"].(float64), 0.0, "%v", e)
		require.NotEmpty(t, e["message"])
	}
	// The same as a multipart upload.
	p = f.as(t, "hunan-admin", "POST", "/api/v1/plans/validate", multipartBody(nil, map[string][]byte{"bad.yaml": broken})).problem(t, 422, "invalid")
	require.Len(t, p["errors"], len(errs))
	syntax, err := os.ReadFile("../plan/testdata/broken/syntax.yaml")
	require.NoError(t, err)
	f.as(t, "hunan-admin", "POST", "/api/v1/plans/validate", yamlBody(syntax)).problem(t, 422, "invalid")
	f.as(t, "hunan-admin", "POST", "/api/v1/plans/validate", rawJSON(`{}`)).problem(t, 415, "unsupported_media_type")
	f.as(t, "hunan-admin", "POST", "/api/v1/plans/validate", yamlBody(nil)).problem(t, 422, "invalid")

	// Import (audited), then list and read it.
	res = f.as(t, "hunan-admin", "POST", "/api/v1/plans", yamlBody(src))
	require.Equal(t, 201, res.status, "%s", res.body)
	require.Equal(t, "hunan-admin", res.json(t)["imported_by"])
	require.GreaterOrEqual(t, countRows(t, f.stack.DB, `SELECT count(*) FROM audit_log WHERE action = 'plan.import'`), 1)
	list := f.as(t, "furong-official", "GET", "/api/v1/plans", nil).json(t)
	require.Len(t, list["items"], 1)
	require.Len(t, list["launched"], 1)
	pl := f.as(t, "furong-official", "GET", "/api/v1/plans/hunan-2021", nil).json(t)
	require.Equal(t, "推动市、县两级于今年底前全部出台改革方案。", findTemplate(pl["templates"].([]any), "2.1")["quote"])
	f.as(t, "furong-official", "GET", "/api/v1/plans/nope", nil).problem(t, 404, "not_found")

	// Launch one template (Yueyang's reform pilot: one unit) and poll it.
	f.as(t, "hunan-admin", "POST", "/api/v1/plans/hunan-2021/launch", rawJSON(`{"templates":["9.99"]}`)).problem(t, 422, "invalid")
	f.as(t, "hunan-admin", "POST", "/api/v1/plans/nope/launch", rawJSON(`{}`)).problem(t, 404, "not_found")
	res = f.as(t, "hunan-admin", "POST", "/api/v1/plans/hunan-2021/launch", rawJSON(`{"year":2021,"templates":["2.4"]}`))
	require.Equal(t, 202, res.status, "%s", res.body)
	launch := res.json(t)
	lid := launch["launch_id"].(string)
	require.Equal(t, "/api/v1/launches/"+url.PathEscape(lid), launch["url"])
	// Pollable at once: the row exists before the workflow writes progress.
	first := f.as(t, "hunan-admin", "GET", launch["url"].(string), nil)
	require.Equal(t, 200, first.status, "%s", first.body)
	require.Contains(t, []any{"pending", "running", "done"}, first.json(t)["status"])
	require.Eventually(t, func() bool {
		r := f.as(t, "hunan-admin", "GET", launch["url"].(string), nil)
		return r.status == 200 && r.json(t)["status"] == "done"
	}, 30*time.Second, 100*time.Millisecond)
	done := f.as(t, "hunan-admin", "GET", launch["url"].(string), nil).json(t)
	require.EqualValues(t, 1, done["total"])
	require.Equal(t, 1, countRows(t, f.stack.DB, `SELECT count(*) FROM instances WHERE id = '2021/2.4/4306'`))
	require.Equal(t, 1, countRows(t, f.stack.DB, `SELECT count(*) FROM audit_log WHERE action = 'plan.launch' AND detail::jsonb->>'launch_id' = $1`, lid))
	// Launching it again: a new run, pollable at once too, which finds the
	// task already there.
	res = f.as(t, "hunan-admin", "POST", "/api/v1/plans/hunan-2021/launch", rawJSON(`{"year":2021,"templates":["2.4"]}`))
	require.Equal(t, 202, res.status, "%s", res.body)
	again := f.as(t, "hunan-admin", "GET", launch["url"].(string), nil)
	require.Equal(t, 200, again.status, "%s", again.body)
	require.Eventually(t, func() bool {
		r := f.as(t, "hunan-admin", "GET", launch["url"].(string), nil).json(t)
		return r["status"] == "done" && r["existing"] == 1.0
	}, 30*time.Second, 100*time.Millisecond)
	f.as(t, "hunan-admin", "GET", "/api/v1/launches/"+url.PathEscape("launch/nope/2021"), nil).problem(t, 404, "not_found")

	// A city admin manages users and units, not the province's plans.
	f.as(t, "yueyang-admin", "POST", "/api/v1/plans", yamlBody(src)).problem(t, 403, "forbidden")
	f.as(t, "yueyang-admin", "POST", "/api/v1/plans/hunan-2021/launch", rawJSON(`{}`)).problem(t, 403, "forbidden")
	f.as(t, "yueyang-admin", "GET", launch["url"].(string), nil).problem(t, 403, "forbidden")
}

func findTemplate(tpls []any, id string) map[string]any {
	for _, t := range tpls {
		if t.(map[string]any)["id"] == id {
			return t.(map[string]any)
		}
	}
	return nil
}

func TestUserAdministration(t *testing.T) {
	f := getFixture(t)
	admin := "yueyang-admin"
	newUser := map[string]any{"username": "yueyang-new", "display_name": "岳阳新同事", "unit_code": "430602", "roles": []string{"official"}, "password": "a long enough password"}
	res := f.as(t, admin, "POST", "/api/v1/users", jsonBody(newUser))
	require.Equal(t, 201, res.status, "%s", res.body)
	u := res.json(t)
	id := int64(u["id"].(float64))
	require.Equal(t, "岳阳楼区", u["unit"].(map[string]any)["name"])
	require.Equal(t, "承办人", u["roles"].([]any)[0].(map[string]any)["label"])
	require.NotContains(t, string(res.body), "argon2")

	f.as(t, admin, "POST", "/api/v1/users", jsonBody(newUser)).problem(t, 409, "conflict")
	bad := map[string]any{"username": "x", "display_name": "", "unit_code": "430602", "roles": []string{"king"}, "password": "short"}
	p := f.as(t, admin, "POST", "/api/v1/users", jsonBody(bad)).problem(t, 422, "invalid")
	var fields []string
	for _, e := range p["errors"].([]any) {
		fields = append(fields, e.(map[string]any)["field"].(string))
	}
	require.ElementsMatch(t, []string{"username", "display_name", "roles[0]", "password"}, fields)
	outside := map[string]any{"username": "changsha-new", "display_name": "x", "unit_code": "4301", "roles": []string{"official"}, "password": "a long enough password"}
	p = f.as(t, admin, "POST", "/api/v1/users", jsonBody(outside)).problem(t, 422, "invalid")
	require.Equal(t, "unit_code", p["errors"].([]any)[0].(map[string]any)["field"])

	// The new user signs in; disabling them ends their session at once.
	tok := login(t, f, "yueyang-new", "a long enough password").json(t)["access_token"].(string)
	require.Equal(t, 200, f.do(t, tok, "GET", "/api/v1/me", nil).status)
	res = f.as(t, admin, "PATCH", fmt.Sprintf("/api/v1/users/%d", id), rawJSON(`{"roles":["official","approver"],"display_name":"岳阳新审核人"}`))
	require.Equal(t, 200, res.status, "%s", res.body)
	require.Len(t, res.json(t)["roles"], 2)
	// The role change applies to the live token at once (roles are read per request).
	me := f.do(t, tok, "GET", "/api/v1/me", nil).json(t)
	require.Contains(t, me["permissions"], "approvals")
	require.Equal(t, 200, f.as(t, admin, "PATCH", fmt.Sprintf("/api/v1/users/%d", id), rawJSON(`{"disabled":true}`)).status)
	f.do(t, tok, "GET", "/api/v1/me", nil).problem(t, 401, "unauthorized")
	login(t, f, "yueyang-new", "a long enough password").problem(t, 401, "unauthorized")

	f.as(t, admin, "PATCH", fmt.Sprintf("/api/v1/users/%d", id), rawJSON(`{"unit_code":"4301"}`)).problem(t, 422, "invalid")
	f.as(t, admin, "PATCH", fmt.Sprintf("/api/v1/users/%d", f.user(admin).ID), rawJSON(`{"disabled":true}`)).problem(t, 409, "conflict")
	f.as(t, admin, "PATCH", fmt.Sprintf("/api/v1/users/%d", id), rawJSON(`{"password":"x"}`)).problem(t, 422, "invalid")

	got := f.as(t, admin, "GET", fmt.Sprintf("/api/v1/users/%d", id), nil).json(t)
	require.Equal(t, true, got["disabled"])
	require.Equal(t, "岳阳新审核人", got["display_name"])
	// Lists stay inside the admin's units.
	all := f.as(t, admin, "GET", "/api/v1/users?limit=200", nil).json(t)
	for _, it := range all["items"].([]any) {
		require.True(t, strings.HasPrefix(it.(map[string]any)["unit"].(map[string]any)["code"].(string), "4306"))
	}
	pg := f.as(t, admin, "GET", "/api/v1/users?limit=1", nil).json(t)
	require.NotNil(t, pg["next_cursor"])
	require.Len(t, f.as(t, admin, "GET", "/api/v1/users?q=yueyang-new", nil).json(t)["items"], 1)
	require.GreaterOrEqual(t, countRows(t, f.stack.DB, `SELECT count(*) FROM audit_log WHERE action IN ('user.create', 'user.update') AND actor_id = $1`, f.user(admin).ID), 3)
}

func TestUnitAdministration(t *testing.T) {
	f := getFixture(t)
	admin := "yueyang-admin"
	res := f.as(t, admin, "POST", "/api/v1/units", rawJSON(`{"code":"430602901","name":"测试街道","parent_code":"430602"}`))
	require.Equal(t, 201, res.status, "%s", res.body)
	u := res.json(t)
	require.Equal(t, "township", u["level"])
	require.Equal(t, "岳阳楼区", u["path"].([]any)[2].(map[string]any)["name"])
	f.as(t, admin, "POST", "/api/v1/units", rawJSON(`{"code":"430602901","name":"测试街道","parent_code":"430602"}`)).problem(t, 409, "conflict")
	f.as(t, admin, "POST", "/api/v1/units", rawJSON(`{"code":"430699","name":"x","parent_code":"430602"}`)).problem(t, 422, "invalid")
	f.as(t, admin, "POST", "/api/v1/units", rawJSON(`{"code":"430699999","name":"x","parent_code":"4306"}`)).problem(t, 422, "invalid")
	f.as(t, admin, "POST", "/api/v1/units", rawJSON(`{"code":"430102901","name":"x","parent_code":"430102"}`)).problem(t, 404, "not_found")

	res = f.as(t, admin, "PATCH", "/api/v1/units/430602901", rawJSON(`{"name":"测试街道（更名）"}`))
	require.Equal(t, 200, res.status, "%s", res.body)
	require.Equal(t, "测试街道（更名）", res.json(t)["name"])
	kids := f.as(t, admin, "GET", "/api/v1/units?parent=430602", nil).json(t)
	var names []string
	for _, c := range kids["children"].([]any) {
		names = append(names, c.(map[string]any)["name"].(string))
	}
	require.Contains(t, names, "测试街道（更名）")
	// Ancestors are visible (their names show in chains), siblings not.
	require.Equal(t, 200, f.as(t, "furong-official", "GET", "/api/v1/units/43", nil).status)
	f.as(t, "furong-official", "GET", "/api/v1/units/430103", nil).problem(t, 404, "not_found")
	require.Equal(t, 2, countRows(t, f.stack.DB, `SELECT count(*) FROM audit_log WHERE action IN ('unit.create', 'unit.rename') AND unit_code = '430602901'`))
}

// TestAuditTrailAndChain reads the audit log as a supervisor would, then
// verifies the chain, alters a row, and sees the verification name it.
func TestAuditTrailAndChain(t *testing.T) {
	f := getFixture(t)
	ctx := context.Background()
	// Make sure there is a decision to find: a progress report at Tianxin.
	taskOf(t, f.as(t, "tianxin-official", "POST", taskPath("2021/8.1/430103", "progress"), rawJSON(`{"note":"活动已开展"}`)))

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
