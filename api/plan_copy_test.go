package api_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/duban-dev/duban"
)

// TestPlanCopiedToANewYear: the province copies its 2021 plan to 2022,
// the copy is a plan of its own with its dates a year later, and it
// launches there. A second copy of the same id, at once or later, is 409;
// bad input names the field; nobody but the root's admins may copy.
func TestPlanCopiedToANewYear(t *testing.T) {
	f := isolatedFixture(t)
	copyPlan := func(user, from, body string) response {
		return f.as(t, user, "POST", "/api/v1/plans/"+from+"/copy", rawJSON(body))
	}
	audits := countRows(t, f.stack.DB, `SELECT count(*) FROM audit_log WHERE action = 'plan.copy'`)

	// Two copies at once: one stored, the other told it exists.
	var wg sync.WaitGroup
	codes := make([]int, 2)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i] = copyPlan("hunan-admin", "hunan-2021", `{"id":"hunan-2022","year":2022}`).status
		}()
	}
	wg.Wait()
	require.ElementsMatch(t, []int{201, 409}, codes)
	copyPlan("hunan-admin", "hunan-2021", `{"id":"hunan-2022","year":2023}`).problem(t, 409, "conflict")
	require.Equal(t, audits+1, countRows(t, f.stack.DB, `SELECT count(*) FROM audit_log WHERE action = 'plan.copy'`))

	got := f.as(t, "hunan-admin", "GET", "/api/v1/plans/hunan-2022", nil)
	require.Equal(t, 200, got.status, "%s", got.body)
	m := got.json(t)["plan"].(map[string]any)
	require.EqualValues(t, 2022, m["year"])
	require.Contains(t, m["title"], "2022")
	src, err := f.stack.DB.PlanSource(context.Background(), "hunan-2022")
	require.NoError(t, err)
	require.Contains(t, string(src), "# 由计划 hunan-2021（2021 年）复制到 2022 年")

	// Launched onto 2022 as the admin would: the reform plans are due at
	// the end of 2022.
	res := f.as(t, "hunan-admin", "POST", "/api/v1/plans/hunan-2022/launch", rawJSON(`{"year":2022,"templates":["2.1"]}`))
	require.Equal(t, 202, res.status, "%s", res.body)
	launchURL := res.json(t)["url"].(string)
	require.Eventually(t, func() bool {
		r := f.as(t, "hunan-admin", "GET", launchURL, nil)
		return r.status == 200 && r.json(t)["status"] == "done"
	}, 2*time.Minute, 200*time.Millisecond)
	row, err := f.stack.DB.Instance(context.Background(), "2022/2.1/430102")
	require.NoError(t, err)
	require.Equal(t, "2022-12-31", row.Due.In(duban.Shanghai).Format("2006-01-02"))
	require.Equal(t, "hunan-2022", row.PlanID)

	// Bad input, another unit's admin, a plan that does not exist.
	for body, field := range map[string]string{
		`{"id":"Hunan 2022","year":2022}`:      "id",
		`{"id":"hunan\u00002023","year":2023}`: "id",
		`{"id":"","year":2023}`:                "id",
		`{"id":"hunan-2030","year":3000}`:      "year",
		`{"id":"hunan-2030","year":-1}`:        "year",
		`{"id":"hunan-2030"}`:                  "year",
	} {
		p := copyPlan("hunan-admin", "hunan-2021", body).problem(t, 422, "invalid")
		require.Equal(t, field, p["errors"].([]any)[0].(map[string]any)["field"], body)
	}
	copyPlan("hunan-admin", "hunan-2021", `{"id":"hunan-2030","year":99999999999999999999}`).problem(t, 422, "invalid")
	copyPlan("hunan-admin", "hunan-2021", `{"id":"hunan-2030","year":2030,"extra":1}`).problem(t, 422, "invalid")
	copyPlan("yueyang-admin", "hunan-2021", `{"id":"hunan-2031","year":2031}`).problem(t, 403, "forbidden")
	copyPlan("furong-official", "hunan-2021", `{"id":"hunan-2031","year":2031}`).problem(t, 403, "forbidden")
	copyPlan("hunan-admin", "nope-2021", `{"id":"hunan-2031","year":2031}`).problem(t, 404, "not_found")
	for _, id := range []string{"hunan-2030", "hunan-2031"} {
		require.Zero(t, countRows(t, f.stack.DB, `SELECT count(*) FROM plans WHERE id = $1`, id), id)
	}
}
