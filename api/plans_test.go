package api_test

import (
	"net/url"
	"os"
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
