package api_test

import (
	"bytes"
	"context"
	"fmt"
	"mime"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/internal/pdftext"
	"github.com/duban-dev/duban/password"
	"github.com/duban-dev/duban/plan"
	"github.com/duban-dev/duban/store"
)

// 长沙县 (430121) is the scores tests' own county: no other test touches
// its tasks.
const (
	scoredUnit = "430121"
	scoredTask = "2021/8.1/430121" // its member day: overdue since 30 May, scored done-or-not
)

var scoredOnce sync.Once

// scoreTheCounty gives 长沙县 a record (once): its member day submitted,
// returned once by the county, submitted again and approved up the chain;
// and the city's supervisor awards it a bonus item.
func scoreTheCounty(t *testing.T, f *fixture) {
	t.Helper()
	scoredOnce.Do(func() {
		ctx := context.Background()
		hash, err := password.Hash(pw)
		require.NoError(t, err)
		for name, role := range map[string]duban.Role{"changshaxian-official": duban.RoleOfficial, "changshaxian-approver": duban.RoleApprover} {
			_, err := f.stack.DB.CreateUser(ctx, store.User{Username: name, DisplayName: name, UnitCode: scoredUnit, Roles: []duban.Role{role}, PasswordHash: hash})
			require.NoError(t, err)
		}
		submit := func(note string) {
			res := f.as(t, "changshaxian-official", "POST", taskPath(scoredTask, "submit"),
				multipartBody(map[string][]string{"note": {note}}, map[string][]byte{"会员日活动.pdf": pdf("长沙县会员日")}))
			require.Equal(t, "submitted", taskOf(t, res)["status"])
		}
		decide := func(user string, step int, approve bool, reason string) {
			res := f.as(t, user, "POST", taskPath(scoredTask, "decision"), jsonBody(map[string]any{"step": step, "approve": approve, "reason": reason}))
			taskOf(t, res)
		}
		submit("会员日活动已开展")
		decide("changshaxian-approver", 1, false, "请补充新闻报道")
		submit("已补充新闻报道")
		decide("changshaxian-approver", 1, true, "同意")
		decide("changsha-approver", 2, true, "同意")
		decide("hunan-approver", 3, true, "同意")
		require.Equal(t, "completed", f.as(t, "changsha-supervisor", "GET", taskPath(scoredTask), nil).json(t)["status"])
		res := f.as(t, "changsha-supervisor", "POST", "/api/v1/scores/awards",
			jsonBody(map[string]any{"unit": scoredUnit, "bonus_id": "provincial-promotion", "points": "2", "reason": "会员日经验被省计生协推广"}))
		require.Equal(t, 201, res.status, "%s", res.body)
	})
}

func sumPoints(t *testing.T, lines []any) plan.Points {
	t.Helper()
	var sum plan.Points
	for _, l := range lines {
		p, err := plan.ParsePoints(l.(map[string]any)["points"].(string))
		require.NoError(t, err)
		sum += p
	}
	return sum
}

// A supervisor reads a county's score: every line with its rule, points,
// task and the events behind it, adding up to the score; the county's place
// among its peers; the same as of an earlier day.
func TestUnitScoreExplained(t *testing.T) {
	f := getFixture(t)
	scoreTheCounty(t, f)
	start := time.Now()
	res := f.as(t, "changsha-supervisor", "GET", "/api/v1/scores?unit="+scoredUnit+"&as_of=2021-06-30", nil)
	require.Equal(t, 200, res.status, "%s", res.body)
	t.Logf("a county's explained score with its place: %s", time.Since(start).Round(time.Millisecond))
	s := res.json(t)
	require.Equal(t, "hunan-2021", s["plan_id"])
	require.Equal(t, "2021-06-30", s["as_of"])
	require.Equal(t, "长沙县", s["unit"].(map[string]any)["name"])
	// 10 of 10 for the member day (done, however late), scaled to 100; −0.5
	// for the return; +2 awarded.
	require.Equal(t, "101.5", s["total"])
	lines := s["lines"].([]any)
	total, _ := plan.ParsePoints(s["total"].(string))
	require.Equal(t, total, sumPoints(t, lines), "the lines add up to the score")

	timeline := f.as(t, "changsha-supervisor", "GET", taskPath(scoredTask, "timeline"), nil).json(t)
	kinds := map[float64]string{}
	for _, e := range timeline["items"].([]any) {
		e := e.(map[string]any)
		kinds[e["seq"].(float64)] = e["kind"].(string)
	}
	byRule := map[string]map[string]any{}
	for _, l := range lines {
		l := l.(map[string]any)
		require.NotEmpty(t, l["rule_label"])
		require.NotEmpty(t, l["text"])
		if l["task"] == scoredTask || l["award"] != nil || l["rule"] == "scale" {
			byRule[l["rule"].(string)] = l
		}
		// Every event a line cites is on its task's timeline, as that kind.
		for _, e := range l["events"].([]any) {
			e := e.(map[string]any)
			if l["task"] == scoredTask {
				require.Equal(t, kinds[e["seq"].(float64)], e["kind"], "event %v of %s", e["seq"], l["task"])
				require.NotEmpty(t, e["kind_label"])
			}
		}
	}
	done := byRule["yes_no"]
	require.NotNil(t, done, "%v", lines)
	require.Equal(t, "10", done["points"])
	require.Equal(t, "8.1", done["template_id"])
	var doneKinds []string
	for _, e := range done["events"].([]any) {
		doneKinds = append(doneKinds, e.(map[string]any)["kind"].(string))
	}
	require.Equal(t, []string{"submitted", "completed"}, doneKinds, "the approved submission and the completion")
	returned := byRule["returned"]
	require.Equal(t, "-0.5", returned["points"])
	require.Equal(t, "rejected", returned["events"].([]any)[0].(map[string]any)["kind"])
	bonus := byRule["bonus"]
	require.Equal(t, "2", bonus["points"])
	require.Contains(t, bonus["text"], "会员日经验被省计生协推广")
	require.NotNil(t, byRule["scale"])

	place := s["place"].(map[string]any)
	require.Equal(t, "长沙市", place["parent"].(map[string]any)["name"])
	require.EqualValues(t, 1, place["rank"])
	require.Equal(t, "第 1 名", place["text"])
	rank := f.as(t, "changsha-supervisor", "GET", "/api/v1/scores/ranking?unit=4301&as_of=2021-06-30", nil).json(t)
	require.EqualValues(t, len(rank["rows"].([]any)), place["of"])

	// As of 31 May: the member day is overdue and not done, the award not
	// yet given.
	early := f.as(t, "changsha-supervisor", "GET", "/api/v1/scores?unit="+scoredUnit+"&as_of=2021-05-31", nil).json(t)
	require.Equal(t, "0", early["total"])
	for _, l := range early["lines"].([]any) {
		l := l.(map[string]any)
		require.NotEqual(t, "bonus", l["rule"])
		if l["task"] == scoredTask {
			require.Equal(t, "not_done", l["rule"])
		}
	}

	// The city's own supervisor sees no place for the city itself (the
	// province's ranking is not theirs to see); the province's does.
	own := f.as(t, "changsha-supervisor", "GET", "/api/v1/scores?unit=4301", nil).json(t)
	require.Nil(t, own["place"])
	prov := f.as(t, "hunan-supervisor", "GET", "/api/v1/scores?unit=4301", nil).json(t)
	require.NotNil(t, prov["place"], "%v", prov)
}

// The ranking under the city, its Excel workbook and its 考核通报, and a
// county's own report: files with Chinese names that say who they are about.
func TestRankingAndReports(t *testing.T) {
	f := getFixture(t)
	scoreTheCounty(t, f)
	start := time.Now()
	r := f.as(t, "changsha-supervisor", "GET", "/api/v1/scores/ranking?unit=4301&as_of=2021-06-30", nil)
	require.Equal(t, 200, r.status, "%s", r.body)
	t.Logf("ranking Changsha's 9 counties: %s", time.Since(start).Round(time.Millisecond))
	rank := r.json(t)
	require.Equal(t, "长沙市", rank["parent"].(map[string]any)["name"])
	require.NotEmpty(t, rank["tie_rule"])
	rows := rank["rows"].([]any)
	require.Len(t, rows, 9, "Changsha's nine districts and counties")
	first := rows[0].(map[string]any)
	require.Equal(t, "长沙县", first["unit"].(map[string]any)["name"])
	require.Equal(t, "101.5", first["total"])
	require.Equal(t, "1.5", first["adjustments"])
	require.Equal(t, "第 1 名", first["rank_text"])
	var last plan.Points = 1 << 40
	for _, row := range rows {
		p, err := plan.ParsePoints(row.(map[string]any)["total"].(string))
		require.NoError(t, err)
		require.LessOrEqual(t, p, last, "best first")
		last = p
	}

	disposition := func(res response) string {
		t.Helper()
		_, params, err := mime.ParseMediaType(res.header.Get("Content-Disposition"))
		require.NoError(t, err)
		require.Contains(t, res.header.Get("Content-Disposition"), "filename*=UTF-8''")
		return params["filename"] // Go reads filename* (RFC 5987) into it
	}
	xl := f.as(t, "changsha-supervisor", "GET", "/api/v1/scores/ranking/export?unit=4301&as_of=2021-06-30&format=xlsx", nil)
	require.Equal(t, 200, xl.status, "%s", xl.body)
	require.Equal(t, "考核排名-长沙市所属单位-hunan-2021-截至2021-06-30.xlsx", disposition(xl))
	book, err := excelize.OpenReader(bytes.NewReader(xl.body))
	require.NoError(t, err)
	sheet, err := book.GetRows("考核排名")
	require.NoError(t, err)
	require.Equal(t, "长沙县", sheet[2][3])
	require.Equal(t, "101.5", strings.TrimRight(strings.TrimRight(sheet[2][4], "0"), "."))

	start = time.Now()
	city := f.as(t, "changsha-supervisor", "GET", "/api/v1/scores/ranking/export?unit=4301&as_of=2021-06-30&format=pdf", nil)
	require.Equal(t, 200, city.status, "%s", city.body)
	t.Logf("the city's 考核通报: %s, %d KB", time.Since(start).Round(time.Millisecond), len(city.body)>>10)
	require.Equal(t, "application/pdf", city.header.Get("Content-Type"))
	require.Equal(t, "考核通报-长沙市所属单位-hunan-2021-截至2021-06-30.pdf", disposition(city))
	text := pdftext.Text(city.body)
	for _, name := range []string{"长沙市所属单位考核情况通报", "长沙县", "芙蓉区", "浏阳市", "101.50"} {
		require.Contains(t, text, name)
	}

	start = time.Now()
	unit := f.as(t, "changsha-supervisor", "GET", "/api/v1/scores/report?unit="+scoredUnit+"&as_of=2021-06-30", nil)
	require.Equal(t, 200, unit.status, "%s", unit.body)
	t.Logf("a county's report: %s, %d KB", time.Since(start).Round(time.Millisecond), len(unit.body)>>10)
	require.Equal(t, "考核得分通报-长沙县-hunan-2021-截至2021-06-30.pdf", disposition(unit))
	text = pdftext.Text(unit.body)
	for _, s := range []string{"长沙县考核得分通报", "在长沙市所属 9 个单位中第 1 名", scoredTask, "会员日经验被省计生协推广"} {
		require.Contains(t, text, s)
	}

	f.as(t, "changsha-supervisor", "GET", "/api/v1/scores/ranking/export?unit=4301&format=doc", nil).problem(t, 422, "invalid")
	p := f.as(t, "changsha-supervisor", "GET", "/api/v1/scores/ranking?unit=430121001", nil)
	require.Contains(t, []int{404, 422}, p.status, "a township has no units to rank (or does not exist)")
}

// Awards: listed with the plan's bonus items; given and revoked by a
// supervisor above the unit, each audited; the revoked one stops counting.
func TestAwardsGivenAndRevoked(t *testing.T) {
	f := getFixture(t)
	scoreTheCounty(t, f)
	list := f.as(t, "changsha-supervisor", "GET", "/api/v1/scores/awards?unit=4301", nil).json(t)
	require.Len(t, list["bonus"], 4)
	require.GreaterOrEqual(t, len(list["items"].([]any)), 1)

	audits := countRows(t, f.stack.DB, `SELECT count(*) FROM audit_log WHERE action IN ('score.award', 'score.revoke')`)
	res := f.as(t, "hunan-supervisor", "POST", "/api/v1/scores/awards",
		jsonBody(map[string]any{"unit": scoredUnit, "bonus_id": "provincial-criticism", "points": -2, "reason": "会员日材料迟报"}))
	require.Equal(t, 201, res.status, "%s", res.body)
	award := res.json(t)
	require.Equal(t, "-2", award["points"])
	require.Equal(t, "hunan-supervisor", award["awarded_by"])
	id := fmt.Sprint(award["id"])
	s := f.as(t, "changsha-supervisor", "GET", "/api/v1/scores?unit="+scoredUnit, nil).json(t)
	require.Equal(t, "99.5", s["total"])

	// The county's own city may revoke it (the unit is below it), with a reason.
	f.as(t, "changsha-supervisor", "POST", "/api/v1/scores/awards/"+id+"/revoke", rawJSON(`{"reason":""}`)).problem(t, 422, "invalid")
	res = f.as(t, "changsha-supervisor", "POST", "/api/v1/scores/awards/"+id+"/revoke", jsonBody(map[string]string{"reason": "经核实材料按时报送"}))
	require.Equal(t, 200, res.status, "%s", res.body)
	require.NotNil(t, res.json(t)["revoked_at"])
	f.as(t, "changsha-supervisor", "POST", "/api/v1/scores/awards/"+id+"/revoke", jsonBody(map[string]string{"reason": "再次"})).problem(t, 409, "conflict")
	s = f.as(t, "changsha-supervisor", "GET", "/api/v1/scores?unit="+scoredUnit, nil).json(t)
	require.Equal(t, "101.5", s["total"])
	require.Equal(t, audits+2, countRows(t, f.stack.DB, `SELECT count(*) FROM audit_log WHERE action IN ('score.award', 'score.revoke')`))
}

// What an attacker (or a slip) sends to the scores is refused with the
// field named, and nothing is stored; another unit's objects answer as if
// they did not exist.
func TestScoreBadInput(t *testing.T) {
	f := getFixture(t)
	scoreTheCounty(t, f)
	ctx := context.Background()
	yueyang, err := f.stack.DB.AwardBonus(ctx, store.AwardInput{PlanID: "hunan-2021", Year: 2021, UnitCode: "430602", BonusID: "provincial-commendation",
		Points: 100, Reason: "岳阳楼区获省级表彰", At: f.clock.Virtual(f.clock.RealEpoch)}, duban.Actor{Name: "岳阳市督查人", UnitCode: "4306"})
	require.NoError(t, err)
	awards := countRows(t, f.stack.DB, `SELECT count(*) FROM score_awards`)
	audits := countRows(t, f.stack.DB, `SELECT count(*) FROM audit_log`)

	sup := "changsha-supervisor"
	for q, field := range map[string]string{
		"as_of=9999-12-31": "as_of", "as_of=2021-02-30": "as_of", "as_of=2021%2F06%2F30": "as_of", "as_of=2021-06-30%00": "as_of",
		"year=99999": "year", "year=-1": "year",
	} {
		p := f.as(t, sup, "GET", "/api/v1/scores?unit=4301&"+q, nil).problem(t, 422, "invalid")
		require.Equal(t, []string{field}, fieldsOf(p), q)
	}
	// Another city's unit is as absent as one that does not exist.
	a := f.as(t, sup, "GET", "/api/v1/scores?unit=430602", nil).problem(t, 404, "not_found")
	b := f.as(t, sup, "GET", "/api/v1/scores?unit=439999", nil).problem(t, 404, "not_found")
	require.Equal(t, a["title"], b["title"])

	post := func(v map[string]any) response {
		body := map[string]any{"unit": scoredUnit, "bonus_id": "provincial-promotion", "points": "1", "reason": "推广"}
		for k, x := range v {
			body[k] = x
		}
		return f.as(t, sup, "POST", "/api/v1/scores/awards", jsonBody(body))
	}
	for name, c := range map[string]struct {
		change map[string]any
		field  string
		msg    string
	}{
		"NUL in the reason":      {map[string]any{"reason": "推广\x00经验"}, "reason", "NUL"},
		"a bell in the reason":   {map[string]any{"reason": "推广\a"}, "reason", "U+0007"},
		"no reason":              {map[string]any{"reason": " "}, "reason", "理由"},
		"a huge number":          {map[string]any{"points": 1e30}, "points", "无效"},
		"three decimals":         {map[string]any{"points": "1.005"}, "points", "两位小数"},
		"more than the item":     {map[string]any{"points": 5}, "points", "至多 2 分"},
		"the wrong sign":         {map[string]any{"points": -1}, "points", "正数"},
		"zero":                   {map[string]any{"points": 0}, "points", "不能为 0"},
		"no such item":           {map[string]any{"bonus_id": "bribe"}, "bonus_id", "不存在"},
		"a far year":             {map[string]any{"year": 99999}, "year", "2000 到 2100"},
		"a control char in unit": {map[string]any{"unit": "430121\x01"}, "unit", "控制字符"},
	} {
		p := post(c.change).problem(t, 422, "invalid")
		require.Equal(t, []string{c.field}, fieldsOf(p), name)
		require.Contains(t, p["errors"].([]any)[0].(map[string]any)["message"], c.msg, name)
	}
	// Another city's county, a unit that does not exist, the supervisor's
	// own city.
	x := post(map[string]any{"unit": "430602"}).problem(t, 404, "not_found")
	y := post(map[string]any{"unit": "439999"}).problem(t, 404, "not_found")
	require.Equal(t, x["title"], y["title"])
	post(map[string]any{"unit": "4301"}).problem(t, 403, "forbidden")
	// Revoking another city's award, or one that does not exist.
	r1 := f.as(t, sup, "POST", fmt.Sprintf("/api/v1/scores/awards/%d/revoke", yueyang.ID), jsonBody(map[string]string{"reason": "撤销"})).problem(t, 404, "not_found")
	r2 := f.as(t, sup, "POST", "/api/v1/scores/awards/99999999/revoke", jsonBody(map[string]string{"reason": "撤销"})).problem(t, 404, "not_found")
	require.Equal(t, r1["detail"], r2["detail"])
	f.as(t, sup, "POST", "/api/v1/scores/awards/"+url.PathEscape("1 OR 1=1")+"/revoke", jsonBody(map[string]string{"reason": "撤销"})).problem(t, 404, "not_found")
	f.as(t, sup, "POST", "/api/v1/scores/awards/99999999999999999999999/revoke", jsonBody(map[string]string{"reason": "撤销"})).problem(t, 404, "not_found")

	require.Equal(t, awards, countRows(t, f.stack.DB, `SELECT count(*) FROM score_awards`), "no award stored")
	require.Equal(t, audits, countRows(t, f.stack.DB, `SELECT count(*) FROM audit_log`), "nothing audited")
	require.Zero(t, countRows(t, f.stack.DB, `SELECT count(*) FROM score_awards WHERE id = $1 AND revoked_at IS NOT NULL`, yueyang.ID))
}

// The trend: a unit's daily snapshots over the year, and the year before.
func TestTrend(t *testing.T) {
	f := getFixture(t)
	scoreTheCounty(t, f)
	ctx := context.Background()
	for _, d := range []plan.Date{{Year: 2021, Month: 5, Day: 31}, {Year: 2021, Month: 6, Day: 1}} {
		_, err := f.stack.DB.TakeSnapshot(ctx, d)
		require.NoError(t, err)
	}
	_, err := f.stack.DB.Pool.Exec(ctx, `INSERT INTO rollup_snapshots (unit_code, year, plan_id, day, total, completed, cancelled, submitted, overdue)
		VALUES ($1, 2020, 'hunan-2020', '2020-06-01', 4, 1, 0, 0, 2) ON CONFLICT DO NOTHING`, scoredUnit)
	require.NoError(t, err)
	res := f.as(t, "changsha-supervisor", "GET", "/api/v1/trends?unit="+scoredUnit, nil)
	require.Equal(t, 200, res.status, "%s", res.body)
	tr := res.json(t)
	days := tr["days"].([]any)
	require.GreaterOrEqual(t, len(days), 2)
	last := days[len(days)-1].(map[string]any)
	require.Equal(t, "2021-06-01", last["day"])
	require.EqualValues(t, 2, last["total"])
	require.EqualValues(t, 1, last["completed"])
	require.EqualValues(t, 0.5, last["completion_rate"])
	prev := tr["previous"].(map[string]any)
	require.EqualValues(t, 2020, prev["year"])
	pd := prev["days"].([]any)[0].(map[string]any)
	require.EqualValues(t, 0.25, pd["completion_rate"])
	require.EqualValues(t, 2, pd["overdue"])

	f.as(t, "changsha-supervisor", "GET", "/api/v1/trends?unit=430602", nil).problem(t, 404, "not_found")
	f.as(t, "furong-official", "GET", "/api/v1/trends?unit=430102", nil).problem(t, 403, "forbidden")
}
