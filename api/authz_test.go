package api_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/store"
)

// The authorization matrix: every endpoint that takes an object, for every
// role, against an object in the caller's scope, one out of it, and one
// that does not exist. The expected status of each cell is written below.
// 403 means the role may not use the endpoint at all (the same answer for
// all three objects); 404 means out of scope or nonexistent, which must be
// indistinguishable. An in-scope cell with 409 or 422 passed
// authorization and was stopped by the state or the input (chosen so the
// matrix changes nothing).
//
// The callers:
//
//	official   furong-official       芙蓉区 430102
//	approver   changsha-approver     长沙市 4301
//	supervisor changsha-supervisor   长沙市 4301
//	admin      yueyang-admin         岳阳市 4306 (a city's admin: a province admin has nothing out of scope)
var matrixRoles = []string{"official", "approver", "supervisor", "admin"}

var matrixUser = map[string]string{
	"official": "furong-official", "approver": "changsha-approver", "supervisor": "changsha-supervisor", "admin": "yueyang-admin",
}

// objects is what one cell refers to.
type objects struct {
	task, unit, user, note, plan, launch, award, change string
}

const (
	in = iota
	out
	none
)

// cell lists the statuses for in scope, out of scope, nonexistent; -1
// where the object kind has no "out of scope" (plans are the province's).
type cell [3]int

// everyone gives every role the same cell.
func everyone(c cell) map[string]cell {
	return map[string]cell{"official": c, "approver": c, "supervisor": c, "admin": c}
}

// only gives the roles listed the cell and every other role 403.
func only(c cell, roles ...string) map[string]cell {
	m := everyone(cell{403, 403, 403})
	for _, r := range roles {
		m[r] = c
	}
	return m
}

var (
	ok404    = cell{200, 404, 404}
	planCell = cell{200, -1, 404}
)

type matrixEndpoint struct {
	name   string
	method string
	path   func(o objects) string
	body   func(o objects) *body
	want   map[string]cell
	// status reads the cell's outcome from the response (bulk answers per item).
	status func(t *testing.T, r response) int
}

func TestAuthorizationMatrix(t *testing.T) {
	f := getFixture(t)
	ctx := context.Background()
	doc := pdf("matrix evidence")
	// Evidence on each in-scope task, and a notification for each caller
	// and for a bystander.
	for _, up := range [][2]string{{"furong-official", "2021/2.1/430102"}, {"yueyanglou-official", "2021/2.1/430602"}} {
		r := f.as(t, up[0], "POST", taskPath(up[1], "evidence"), multipartBody(nil, map[string][]byte{"证明.pdf": doc}))
		require.Equal(t, 201, r.status, "%s", r.body)
	}
	sha := f.as(t, "furong-official", "GET", taskPath("2021/2.1/430102"), nil).json(t)["evidence"].([]any)[0].(map[string]any)["sha256"].(string)
	noteOf := map[string]string{}
	for _, name := range []string{"furong-official", "changsha-approver", "changsha-supervisor", "yueyang-admin", "wangcheng-official"} {
		var id int64
		require.NoError(t, f.stack.DB.Pool.QueryRow(ctx, `INSERT INTO inbox (user_id, instance_id, seq, kind, title, body, dedup_key, at)
			VALUES ($1, '2021/2.1/430102', 0, 'reminder', '矩阵', '矩阵', $2, now()) RETURNING id`, f.user(name).ID, "matrix-"+name).Scan(&id))
		noteOf[name] = fmt.Sprint(id)
	}
	launch := url.PathEscape("launch/hunan-2021/2021/2.1,8.1")
	objs := map[string][3]objects{
		"official": {
			{task: "2021/2.1/430102", unit: "430102", user: fmt.Sprint(f.user("yueyanglou-official").ID), note: noteOf["furong-official"]},
			{task: "2021/2.1/430103", unit: "430103", user: fmt.Sprint(f.user("furong-approver").ID), note: noteOf["wangcheng-official"]},
			{task: "2021/2.1/439999", unit: "4399", user: "99999999", note: "999999999"},
		},
		"approver": {
			{task: "2021/2.1/430102", unit: "4301", note: noteOf["changsha-approver"]},
			{task: "2021/2.1/430602", unit: "4306", note: noteOf["wangcheng-official"]},
			{task: "2021/2.1/439999", unit: "4399", note: "999999999"},
		},
		"supervisor": {
			{task: "2021/2.1/430102", unit: "4301", note: noteOf["changsha-supervisor"]},
			{task: "2021/2.1/430602", unit: "4306", note: noteOf["wangcheng-official"]},
			{task: "2021/2.1/439999", unit: "4399", note: "999999999"},
		},
		"admin": {
			{task: "2021/2.1/430602", unit: "4306", user: fmt.Sprint(f.user("yueyanglou-official").ID), note: noteOf["yueyang-admin"]},
			{task: "2021/2.1/430102", unit: "4301", user: fmt.Sprint(f.user("furong-official").ID), note: noteOf["wangcheng-official"]},
			{task: "2021/2.1/439999", unit: "4399", user: "99999999", note: "999999999"},
		},
	}
	// A bonus award in each scope, to revoke (the in-scope revoke is
	// refused for its empty reason: nothing changes).
	awardTo := func(unit string) string {
		a, err := f.stack.DB.AwardBonus(ctx, store.AwardInput{PlanID: "hunan-2021", Year: 2021, UnitCode: unit, BonusID: "provincial-commendation",
			Points: 100, Reason: "矩阵", At: f.clock.Virtual(f.clock.RealEpoch)}, duban.Actor{Name: "矩阵"})
		require.NoError(t, err)
		return fmt.Sprint(a.ID)
	}
	changshaAward, yueyangAward := awardTo("430102"), awardTo("430602")
	awards := map[string][3]string{"admin": {yueyangAward, changshaAward, "99999999"}}
	for _, role := range []string{"official", "approver", "supervisor"} {
		awards[role] = [3]string{changshaAward, yueyangAward, "99999999"}
	}
	// A plan change of a template nobody launched: nothing to carry out.
	matrixNote := "矩阵"
	pc, _, err := f.stack.DB.RecordPlanChange(ctx, duban.PlanChange{PlanID: "hunan-2021", Year: 2021, TemplateID: "5.3", DocNo: "矩阵〔2021〕1号",
		Reason: "矩阵", EvidenceNote: &matrixNote, By: f.user("hunan-admin").Actor()})
	require.NoError(t, err)
	for role, cells := range objs {
		for i := range cells {
			cells[i].change = fmt.Sprint(pc.ID)
			cells[i].award = awards[role][i]
			cells[i].plan, cells[i].launch = "hunan-2021", launch
			if i == none {
				cells[i].plan, cells[i].launch = "no-such-plan", url.PathEscape("launch/no-such-plan/2021")
			}
			if cells[i].user == "" {
				cells[i].user = objs["admin"][i].user
			}
		}
		objs[role] = cells
	}

	// A delivery to each in-scope and out-of-scope user of the admin (sent:
	// retrying it changes nothing).
	deliveryOf := map[string]string{}
	for _, name := range []string{"yueyanglou-official", "furong-official"} {
		deliveryOf[fmt.Sprint(f.user(name).ID)] = deliveryTo(t, f, name, "2021/2.1/430102", "sent")
	}
	delivery := func(o objects) string {
		if id, ok := deliveryOf[o.user]; ok {
			return id
		}
		return "99999999"
	}

	task := func(rest ...string) func(o objects) string {
		return func(o objects) string { return taskPath(o.task, rest...) }
	}
	q := func(path string) func(o objects) string {
		return func(o objects) string { return path + url.QueryEscape(o.unit) }
	}
	js := func(s string) func(objects) *body { return func(objects) *body { return rawJSON(s) } }
	endpoints := []matrixEndpoint{
		{name: "task detail", method: "GET", path: task(), want: everyone(ok404)},
		{name: "timeline", method: "GET", path: task("timeline"), want: everyone(ok404)},
		{name: "evidence download", method: "GET", path: func(o objects) string { return taskPath(o.task, "evidence", sha) }, want: everyone(ok404)},
		{name: "evidence upload", method: "POST", path: task("evidence"),
			body: func(objects) *body { return multipartBody(nil, map[string][]byte{"证明.pdf": doc}) },
			want: only(cell{201, 404, 404}, "official")},
		{name: "progress", method: "POST", path: task("progress"), body: js(`{"value":-1}`), want: only(cell{422, 404, 404}, "official")},
		{name: "submit", method: "POST", path: task("submit"), body: js(`{"evidence":["bad"]}`), want: only(cell{422, 404, 404}, "official")},
		{name: "extension request", method: "POST", path: task("extension"), body: js(`{}`), want: only(cell{422, 404, 404}, "official")},
		{name: "extension decision", method: "POST", path: task("extension", "decision"), body: js(`{"approve":true}`), want: only(cell{409, 404, 404}, "approver")},
		{name: "decision", method: "POST", path: task("decision"), body: js(`{"step":1,"approve":true}`), want: only(cell{409, 404, 404}, "approver")},
		{name: "cancel", method: "POST", path: task("cancel"), body: js(`{}`), want: only(cell{422, 404, 404}, "admin")},
		{name: "bulk approve (item status)", method: "POST", path: func(objects) string { return "/api/v1/approvals/bulk" },
			body: func(o objects) *body {
				return jsonBody(map[string]any{"items": []map[string]any{{"instance_id": o.task, "step": 1}}})
			},
			want: only(cell{409, 404, 404}, "approver"),
			status: func(t *testing.T, r response) int {
				if r.status != 200 {
					return r.status
				}
				return int(r.json(t)["results"].([]any)[0].(map[string]any)["status"].(float64))
			}},
		// The everyday actions; each in-scope body fails its request checks,
		// so the matrix changes nothing.
		{name: "urge", method: "POST", path: task("urge"), body: js(`{"note":"\u0007"}`), want: only(cell{422, 404, 404}, "supervisor", "approver")},
		{name: "withdraw", method: "POST", path: task("withdraw"), body: js(`{"reason":"\u0000"}`), want: only(cell{422, 404, 404}, "official")},
		{name: "hand over", method: "POST", path: task("hand-over"), body: js(`{"step":1}`), want: only(cell{422, 404, 404}, "approver")},
		{name: "add signer", method: "POST", path: task("signers"), body: js(`{"step":1,"reason":"x"}`), want: only(cell{422, 404, 404}, "approver")},
		{name: "name assignee", method: "PUT", path: task("assignee"), body: js(`{"user_id":99999999}`), want: only(cell{422, 404, 404}, "official")},
		{name: "comments", method: "GET", path: task("comments"), want: everyone(ok404)},
		{name: "comment", method: "POST", path: task("comments"), body: js(`{"body":""}`), want: everyone(cell{422, 404, 404})},
		{name: "comment delete (none such)", method: "DELETE", path: task("comments", "999999999"), want: everyone(cell{404, 404, 404})},
		{name: "people of a task", method: "GET", path: task("people"), want: everyone(ok404)},
		{name: "board urge preview", method: "GET", path: q("/api/v1/board/urge?unit="), want: only(ok404, "supervisor", "admin")},
		{name: "task list of a unit", method: "GET", path: q("/api/v1/tasks?unit="), want: everyone(ok404)},
		{name: "board overdue", method: "GET", path: q("/api/v1/board/overdue?unit="), want: only(ok404, "supervisor", "admin")},
		{name: "board rollup", method: "GET", path: q("/api/v1/board/rollup?unit="), want: only(ok404, "supervisor", "admin")},
		{name: "board ranking", method: "GET", path: q("/api/v1/board/ranking?unit="), want: only(ok404, "supervisor", "admin")},
		{name: "board export", method: "GET", path: q("/api/v1/board/export?format=csv&unit="), want: only(ok404, "supervisor", "admin")},
		{name: "audit by unit", method: "GET", path: q("/api/v1/audit?unit="), want: only(ok404, "supervisor", "admin")},
		{name: "audit by task", method: "GET", path: func(o objects) string { return "/api/v1/audit?instance=" + url.QueryEscape(o.task) },
			want: only(ok404, "supervisor", "admin")},
		{name: "unit", method: "GET", path: func(o objects) string { return "/api/v1/units/" + o.unit }, want: everyone(ok404)},
		{name: "unit children", method: "GET", path: q("/api/v1/units?parent="), want: everyone(ok404)},
		{name: "unit rename", method: "PATCH", path: func(o objects) string { return "/api/v1/units/" + o.unit }, body: js(`{"name":""}`),
			want: only(cell{422, 404, 404}, "admin")},
		{name: "unit create under", method: "POST", path: func(objects) string { return "/api/v1/units" },
			body: func(o objects) *body {
				// A township code directly under a city: the wrong level, refused after the scope check.
				return jsonBody(map[string]string{"parent_code": o.unit, "code": o.unit + strings.Repeat("9", 9-len(o.unit)), "name": "矩阵"})
			},
			want: only(cell{422, 404, 404}, "admin")},
		{name: "user", method: "GET", path: func(o objects) string { return "/api/v1/users/" + o.user }, want: only(ok404, "admin")},
		{name: "user change", method: "PATCH", path: func(o objects) string { return "/api/v1/users/" + o.user }, body: js(`{"display_name":""}`),
			want: only(cell{422, 404, 404}, "admin")},
		{name: "users of a unit", method: "GET", path: q("/api/v1/users?unit="), want: only(ok404, "admin")},
		// Accounts from the UI (issue 13). A reset in scope is tried on the
		// admin's own account (refused: 409), so the matrix changes no password.
		{name: "user password reset", method: "POST", path: func(o objects) string {
			if o.user == objs["admin"][in].user {
				return fmt.Sprintf("/api/v1/users/%d/reset-password", f.user("yueyang-admin").ID)
			}
			return "/api/v1/users/" + o.user + "/reset-password"
		}, want: only(cell{409, 404, 404}, "admin")},
		{name: "user unlock", method: "POST", path: func(o objects) string { return "/api/v1/users/" + o.user + "/unlock" }, want: only(ok404, "admin")},
		{name: "notification read", method: "POST", path: func(o objects) string { return "/api/v1/notifications/" + o.note + "/read" }, want: everyone(ok404)},
		// 考核 and trends: the unit (or the award's unit) in the caller's subtree.
		{name: "score of a unit", method: "GET", path: q("/api/v1/scores?unit="), want: only(ok404, "supervisor", "admin")},
		{name: "score report of a unit", method: "GET", path: q("/api/v1/scores/report?unit="), want: only(ok404, "supervisor", "admin")},
		{name: "score ranking under a unit", method: "GET", path: q("/api/v1/scores/ranking?unit="), want: only(ok404, "supervisor", "admin")},
		{name: "score ranking export of a unit", method: "GET", path: q("/api/v1/scores/ranking/export?format=pdf&unit="), want: only(ok404, "supervisor", "admin")},
		{name: "awards under a unit", method: "GET", path: q("/api/v1/scores/awards?unit="), want: only(ok404, "supervisor", "admin")},
		{name: "award to a unit", method: "POST", path: func(objects) string { return "/api/v1/scores/awards" },
			body: func(o objects) *body {
				// A county of the city; an item the plan does not have, refused after the scope check.
				return jsonBody(map[string]any{"unit": o.unit + "02", "bonus_id": "no-such-item", "points": "1", "reason": "矩阵"})
			},
			want: only(cell{422, 404, 404}, "supervisor", "admin")},
		{name: "award revoke", method: "POST", path: func(o objects) string { return "/api/v1/scores/awards/" + o.award + "/revoke" }, body: js(`{"reason":""}`),
			want: only(cell{422, 404, 404}, "supervisor", "admin")},
		{name: "trend of a unit", method: "GET", path: q("/api/v1/trends?unit="), want: only(ok404, "supervisor", "admin")},
		{name: "plan", method: "GET", path: func(o objects) string { return "/api/v1/plans/" + o.plan }, want: everyone(planCell)},
		// A city admin does not run the province's plans: 403 for every
		// role, admins included; "out of scope" does not apply to plans.
		{name: "launch progress", method: "GET", path: func(o objects) string { return "/api/v1/launches/" + o.launch }, want: everyone(cell{403, -1, 403})},
		{name: "plan launch", method: "POST", path: func(o objects) string { return "/api/v1/plans/" + o.plan + "/launch" }, body: js(`{}`),
			want: everyone(cell{403, -1, 403})},
		{name: "plan copy", method: "POST", path: func(o objects) string { return "/api/v1/plans/" + o.plan + "/copy" }, body: js(`{"id":"matrix-2022","year":2022}`),
			want: everyone(cell{403, -1, 403})},
		// A unit's merge: an admin merges a unit below their own (here a
		// county of the admin's city, which has townships: refused after
		// authorization); a unit never merged has no merge to show.
		{name: "unit merge", method: "POST", path: func(o objects) string { return "/api/v1/units/" + o.unit + "02/merge" },
			body: js(`{"into":"0","reason":"矩阵"}`), want: only(cell{422, 404, 404}, "admin")},
		{name: "unit merge state", method: "GET", path: func(o objects) string { return "/api/v1/units/" + o.unit + "02/merge" },
			want: only(cell{404, 404, 404}, "admin")},
		// Plan changes and versions: everyone reads them (the province's
		// circulars); only the root's admins record one.
		{name: "plan changes", method: "GET", path: func(o objects) string { return "/api/v1/plans/" + o.plan + "/changes" }, want: everyone(planCell)},
		{name: "plan change", method: "GET", path: func(o objects) string { return "/api/v1/plans/" + o.plan + "/changes/" + o.change },
			want: everyone(planCell)},
		{name: "plan change record", method: "POST", path: func(o objects) string { return "/api/v1/plans/" + o.plan + "/changes" },
			body: js(`{"template_id":"2.1","doc_no":"矩阵","reason":"矩阵","new_due":"2022-01-31"}`), want: everyone(cell{403, -1, 403})},
		{name: "plan versions", method: "GET", path: func(o objects) string { return "/api/v1/plans/" + o.plan + "/versions" }, want: everyone(planCell)},
		{name: "plan version file", method: "GET", path: func(o objects) string { return "/api/v1/plans/" + o.plan + "/versions/1/file" },
			want: everyone(planCell)},
		// Notification settings are one's own; the delivery log is the
		// admins', of the people of their units.
		{name: "deliveries of a person", method: "GET", path: func(o objects) string { return "/api/v1/deliveries?user=" + o.user },
			want: only(ok404, "admin")},
		{name: "deliveries of a task", method: "GET", path: func(o objects) string { return "/api/v1/deliveries?task=" + url.QueryEscape(o.task) },
			want: only(ok404, "admin")},
		{name: "delivery retry", method: "POST", path: func(o objects) string { return "/api/v1/deliveries/" + delivery(o) + "/retry" },
			want: only(ok404, "admin")},
	}
	cells := 0
	for _, e := range endpoints {
		for _, role := range matrixRoles {
			want := e.want[role]
			var bodies [3]map[string]any
			for c, label := range []string{"in scope", "out of scope", "nonexistent"} {
				if want[c] < 0 {
					continue
				}
				t.Run(fmt.Sprintf("%s/%s/%s", e.name, role, label), func(t *testing.T) {
					o := objs[role][c]
					var b *body
					if e.body != nil {
						b = e.body(o)
					}
					res := f.as(t, matrixUser[role], e.method, e.path(o), b)
					got := res.status
					if e.status != nil {
						got = e.status(t, res)
					}
					require.Equal(t, want[c], got, "%s %s as %s: %s", e.method, e.path(o), role, res.body)
					if res.status >= 400 {
						bodies[c] = res.json(t)
					}
				})
				cells++
			}
			// Out of scope and nonexistent must not be told apart.
			if want[out] == 404 && want[none] == 404 && bodies[out] != nil && bodies[none] != nil {
				require.Equal(t, bodies[none]["code"], bodies[out]["code"], "%s as %s", e.name, role)
				require.Equal(t, bodies[none]["title"], bodies[out]["title"], "%s as %s", e.name, role)
				if !strings.Contains(e.name, "unit") && !strings.HasPrefix(e.name, "board") && !strings.HasPrefix(e.name, "audit by unit") &&
					!strings.HasPrefix(e.name, "users of") && e.name != "task list of a unit" {
					require.Equal(t, bodies[none]["detail"], bodies[out]["detail"], "%s as %s", e.name, role)
				}
			}
		}
		// And nobody signed in gets 401.
		o := objs["admin"][in]
		var b *body
		if e.body != nil {
			b = e.body(o)
		}
		f.do(t, "", e.method, e.path(o), b).problem(t, 401, "unauthorized")
	}
	t.Logf("%d endpoints × %d roles: %d cells", len(endpoints), len(matrixRoles), cells)

	// Endpoints without an object: one status per role.
	noObject := []struct {
		method, path string
		body         *body
		want         map[string]int
	}{
		{"GET", "/api/v1/me", nil, map[string]int{"official": 200, "approver": 200, "supervisor": 200, "admin": 200}},
		{"GET", "/api/v1/tasks", nil, map[string]int{"official": 200, "approver": 200, "supervisor": 200, "admin": 200}},
		{"GET", "/api/v1/notifications", nil, map[string]int{"official": 200, "approver": 200, "supervisor": 200, "admin": 200}},
		{"POST", "/api/v1/notifications/stream-ticket", nil, map[string]int{"official": 200, "approver": 200, "supervisor": 200, "admin": 200}},
		{"GET", "/api/v1/plans", nil, map[string]int{"official": 200, "approver": 200, "supervisor": 200, "admin": 200}},
		{"GET", "/api/v1/approvals", nil, map[string]int{"official": 403, "approver": 200, "supervisor": 403, "admin": 403}},
		{"GET", "/api/v1/me/delegations", nil, map[string]int{"official": 403, "approver": 200, "supervisor": 403, "admin": 403}},
		{"GET", "/api/v1/me/delegates", nil, map[string]int{"official": 403, "approver": 200, "supervisor": 403, "admin": 403}},
		{"POST", "/api/v1/me/delegations", rawJSON(`{}`), map[string]int{"official": 403, "approver": 422, "supervisor": 403, "admin": 403}},
		{"DELETE", "/api/v1/me/delegations/999999999", nil, map[string]int{"official": 403, "approver": 404, "supervisor": 403, "admin": 403}},
		{"POST", "/api/v1/board/urge", rawJSON(`{"instance_ids":["2021/8.1/430102"],"note":"\u0000"}`), map[string]int{"official": 403, "approver": 403, "supervisor": 422, "admin": 422}},
		{"GET", "/api/v1/board/rollup", nil, map[string]int{"official": 403, "approver": 403, "supervisor": 200, "admin": 200}},
		{"GET", "/api/v1/audit", nil, map[string]int{"official": 403, "approver": 403, "supervisor": 200, "admin": 200}},
		{"GET", "/api/v1/users", nil, map[string]int{"official": 403, "approver": 403, "supervisor": 403, "admin": 200}},
		{"POST", "/api/v1/users", rawJSON(`{}`), map[string]int{"official": 403, "approver": 403, "supervisor": 403, "admin": 422}},
		// Accounts from a sheet: any admin, in their own units (the scope is
		// per row: TestImportCreatesAndReimportUpdates).
		{"GET", "/api/v1/users/import/template", nil, map[string]int{"official": 403, "approver": 403, "supervisor": 403, "admin": 200}},
		{"POST", "/api/v1/users/import?dry_run=1", multipartBody(nil, nil), map[string]int{"official": 403, "approver": 403, "supervisor": 403, "admin": 422}},
		{"POST", "/api/v1/users/import", multipartBody(nil, nil), map[string]int{"official": 403, "approver": 403, "supervisor": 403, "admin": 422}},
		{"POST", "/api/v1/plans/validate", yamlBody([]byte("plan: x")), map[string]int{"official": 403, "approver": 403, "supervisor": 403, "admin": 403}},
		{"POST", "/api/v1/plans", yamlBody([]byte("plan: x")), map[string]int{"official": 403, "approver": 403, "supervisor": 403, "admin": 403}},
		// Drafting is the province's admins' (a city's admin is refused too).
		{"POST", "/api/v1/drafts", textBody("一、工作要点\n市、县两级于年底前出台方案。"), map[string]int{"official": 403, "approver": 403, "supervisor": 403, "admin": 403}},
		{"POST", "/api/v1/drafts/plan", rawJSON(`{}`), map[string]int{"official": 403, "approver": 403, "supervisor": 403, "admin": 403}},
		{"POST", "/api/v1/drafts/import", rawJSON(`{}`), map[string]int{"official": 403, "approver": 403, "supervisor": 403, "admin": 403}},
		{"GET", "/api/v1/scores", nil, map[string]int{"official": 403, "approver": 403, "supervisor": 200, "admin": 200}},
		{"GET", "/api/v1/trends", nil, map[string]int{"official": 403, "approver": 403, "supervisor": 200, "admin": 200}},
		{"GET", "/api/v1/me/settings", nil, map[string]int{"official": 200, "approver": 200, "supervisor": 200, "admin": 200}},
		{"PUT", "/api/v1/me/settings", rawJSON(`{"digest_hour":99}`), map[string]int{"official": 422, "approver": 422, "supervisor": 422, "admin": 422}},
		{"GET", "/api/v1/deliveries", nil, map[string]int{"official": 403, "approver": 403, "supervisor": 403, "admin": 200}},
	}
	for _, e := range noObject {
		for _, role := range matrixRoles {
			res := f.as(t, matrixUser[role], e.method, e.path, e.body)
			require.Equal(t, e.want[role], res.status, "%s %s as %s: %s", e.method, e.path, role, res.body)
		}
	}
}
