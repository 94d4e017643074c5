package api_test

import (
	"bytes"
	"encoding/csv"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/org"
	"github.com/duban-dev/duban/workflows"
)

// complete takes a county's reform-plan task through its whole chain.
func complete(t *testing.T, f *fixture, county string) {
	t.Helper()
	id := submitted(t, f, county, true)
	h := org.Hunan()
	city, _ := h.Parent(county)
	drive(t, f, id, workflows.DecisionRequest{Actor: actor(city.Code, duban.RoleApprover), Step: 2, Approve: true})
	drive(t, f, id, workflows.DecisionRequest{Actor: actor("43", duban.RoleApprover), Step: 3, Approve: true})
}

// TestSupervisorBoard uses Zhuzhou (4302), which no other test touches:
// one county completes its reform plan, another's member day is
// cancelled, every other member day is overdue.
func TestSupervisorBoard(t *testing.T) {
	f := getFixture(t)
	counties := org.Hunan().Children("4302")
	n := len(counties)
	complete(t, f, "430202")
	drive(t, f, "2021/8.1/430203", workflows.Cancellation{Actor: actor("43", duban.RoleAdmin), Reason: "合并开展"})

	res := f.as(t, "hunan-supervisor", "GET", "/api/v1/board/rollup?unit=4302", nil)
	require.Equal(t, 200, res.status, "%s", res.body)
	m := res.json(t)
	require.Equal(t, "hunan-2021", m["plan_id"])
	require.EqualValues(t, 2021, m["year"])
	self := m["unit"].(map[string]any)
	require.EqualValues(t, 2*(n+1), self["total"])
	require.EqualValues(t, 1, self["completed"])
	require.EqualValues(t, 1, self["cancelled"])
	require.EqualValues(t, n, self["overdue"]) // the city's own and n-1 counties' member days
	require.Equal(t, "red", self["light"])
	children := m["children"].([]any)
	require.Len(t, children, n)
	byCode := map[string]map[string]any{}
	for _, c := range children {
		c := c.(map[string]any)
		byCode[c["unit"].(map[string]any)["code"].(string)] = c
	}
	require.Equal(t, "荷塘区", byCode["430202"]["unit"].(map[string]any)["name"])
	require.EqualValues(t, 0.5, byCode["430202"]["completion_rate"])
	require.Equal(t, "red", byCode["430202"]["light"]) // one of two overdue
	require.Equal(t, "green", byCode["430203"]["light"])
	require.Equal(t, "按进度", byCode["430203"]["light_label"])
	require.NotEmpty(t, m["rules"].(map[string]any)["description"])
	path := m["path"].([]any)
	require.Equal(t, "湖南省", path[0].(map[string]any)["name"])

	rk := f.as(t, "hunan-supervisor", "GET", "/api/v1/board/ranking?unit=4302&plan=hunan-2021&year=2021", nil).json(t)
	items := rk["items"].([]any)
	first, second := items[0].(map[string]any), items[1].(map[string]any)
	require.Equal(t, "430202", first["unit"].(map[string]any)["code"])
	require.EqualValues(t, 1, first["rank"])
	require.Equal(t, "430203", second["unit"].(map[string]any)["code"]) // no completion, but nothing overdue
	require.EqualValues(t, 2, second["rank"])

	// Province level: every city, each listed.
	prov := f.as(t, "hunan-supervisor", "GET", "/api/v1/board/rollup", nil).json(t)
	require.Len(t, prov["children"], 14)

	// The overdue list under Zhuzhou, filtered and paged.
	get := func(q string) map[string]any {
		res := f.as(t, "hunan-supervisor", "GET", "/api/v1/board/overdue?unit=4302&"+q, nil)
		require.Equal(t, 200, res.status, "%s: %s", q, res.body)
		return res.json(t)
	}
	require.Len(t, get("limit=200")["items"], n)
	require.Len(t, get("level=county&limit=200")["items"], n-1)
	require.Len(t, get("section=8&min_days_late=2&limit=200")["items"], n)
	require.Empty(t, get("min_days_late=3")["items"])
	require.Empty(t, get("section=2")["items"])
	require.Empty(t, get("max_days_late=1")["items"])
	var seen []string
	q := "limit=4"
	for {
		pg := get(q)
		for _, it := range pg["items"].([]any) {
			it := it.(map[string]any)
			require.Equal(t, "red", it["light"])
			require.EqualValues(t, 2, it["days_late"])
			seen = append(seen, it["id"].(string))
		}
		next, ok := pg["next_cursor"].(string)
		if !ok {
			break
		}
		q = "limit=4&cursor=" + url.QueryEscape(next)
	}
	require.Len(t, seen, n)
	for _, bad := range []string{"level=x", "min_days_late=-1", "cursor=abc", "year=3000"} {
		f.as(t, "hunan-supervisor", "GET", "/api/v1/board/overdue?"+bad, nil).problem(t, 422, "invalid")
	}
	// A city supervisor sees its own city, not another's.
	f.as(t, "changsha-supervisor", "GET", "/api/v1/board/rollup?unit=4302", nil).problem(t, 404, "not_found")
	f.as(t, "furong-official", "GET", "/api/v1/board/rollup", nil).problem(t, 403, "forbidden")
}

func TestBoardExport(t *testing.T) {
	f := getFixture(t)
	n := len(org.Hunan().Children("4303"))

	res := f.as(t, "hunan-supervisor", "GET", "/api/v1/board/export?unit=4303&report=rollup&format=csv", nil)
	require.Equal(t, 200, res.status, "%s", res.body)
	require.Equal(t, "text/csv; charset=utf-8", res.header.Get("Content-Type"))
	require.Contains(t, res.header.Get("Content-Disposition"), "attachment;")
	require.True(t, bytes.HasPrefix(res.body, []byte("\uFEFF")), "a BOM for Excel")
	rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(res.body, []byte("\uFEFF")))).ReadAll()
	require.NoError(t, err)
	require.Equal(t, "排名", rows[0][0])
	require.Len(t, rows, n+1)
	require.Equal(t, "逾期较多", rows[1][12])

	res = f.as(t, "hunan-supervisor", "GET", "/api/v1/board/export?unit=4303&report=overdue&format=xlsx", nil)
	require.Equal(t, 200, res.status, "%s", res.body)
	require.Equal(t, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", res.header.Get("Content-Type"))
	x, err := excelize.OpenReader(bytes.NewReader(res.body))
	require.NoError(t, err)
	defer x.Close()
	sheet := x.GetSheetName(0)
	require.Equal(t, "逾期任务", sheet)
	xrows, err := x.GetRows(sheet)
	require.NoError(t, err)
	require.Equal(t, "任务编号", xrows[0][0])
	require.Len(t, xrows, n+2) // header, the city, its counties
	require.True(t, strings.HasPrefix(xrows[1][0], "2021/8.1/4303"))

	res = f.as(t, "hunan-supervisor", "GET", "/api/v1/board/export?unit=4303&report=ranking&format=xlsx", nil)
	require.Equal(t, 200, res.status)
	f.as(t, "hunan-supervisor", "GET", "/api/v1/board/export?format=pdf", nil).problem(t, 422, "invalid")
	f.as(t, "hunan-supervisor", "GET", "/api/v1/board/export?report=everything", nil).problem(t, 422, "invalid")
}
