package api_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/api"
	"github.com/duban-dev/duban/workflows"
)

// fieldsOf lists the fields a problem document names.
func fieldsOf(p map[string]any) []string {
	var out []string
	errs, _ := p["errors"].([]any)
	for _, e := range errs {
		out = append(out, e.(map[string]any)["field"].(string))
	}
	return out
}

// timelineSeqs reads an instance's event sequence numbers from the store.
func timelineSeqs(t *testing.T, f *fixture, id string) []int64 {
	t.Helper()
	rows, err := f.stack.DB.Pool.Query(context.Background(), `SELECT seq FROM events WHERE instance_id = $1 ORDER BY seq`, id)
	require.NoError(t, err)
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var s int64
		require.NoError(t, rows.Scan(&s))
		out = append(out, s)
	}
	require.NoError(t, rows.Err())
	return out
}

// requireConsistent checks that an instance's timeline has no gap and that
// its row, its timeline and its workflow agree on the sequence number.
func requireConsistent(t *testing.T, f *fixture, id string) int64 {
	t.Helper()
	seqs := timelineSeqs(t, f, id)
	for i, s := range seqs {
		require.Equal(t, int64(i+1), s, "timeline of %s: %v", id, seqs)
	}
	row, err := f.stack.DB.Instance(context.Background(), id)
	require.NoError(t, err)
	require.Equal(t, int64(len(seqs)), row.Seq, "projection of %s", id)
	view, err := f.stack.Engine.State(context.Background(), id)
	require.NoError(t, err)
	require.Equal(t, row.Seq, view.State.Seq, "workflow of %s", id)
	require.Equal(t, row.Status, view.State.Status)
	return row.Seq
}

// TestControlCharactersAreRefusedAtTheEdge sends NUL and other control
// characters wherever a client can put them: every one is a 4xx naming
// what is wrong, nothing is stored, and the next valid request works.
func TestControlCharactersAreRefusedAtTheEdge(t *testing.T) {
	f := getFixture(t)
	id := "2021/8.1/430112"
	before := requireConsistent(t, f, id)

	// A NUL in a progress note, in JSON and in a form.
	p := f.as(t, "wangcheng-official", "POST", taskPath(id, "progress"), rawJSON(`{"note":"已起草\u0000方案"}`)).problem(t, 422, "invalid")
	require.Equal(t, []string{"note"}, fieldsOf(p))
	require.Contains(t, p["errors"].([]any)[0].(map[string]any)["message"], "NUL")
	p = f.as(t, "wangcheng-official", "POST", taskPath(id, "progress"), multipartBody(map[string][]string{"note": {"a\x00b"}}, nil)).problem(t, 422, "invalid")
	require.Equal(t, []string{"note"}, fieldsOf(p))
	// Other control characters too; line breaks and tabs in a note are fine.
	p = f.as(t, "wangcheng-official", "POST", taskPath(id, "progress"), rawJSON(`{"note":"bell\u0007"}`)).problem(t, 422, "invalid")
	require.Contains(t, p["errors"].([]any)[0].(map[string]any)["message"], "U+0007")
	require.Equal(t, before, requireConsistent(t, f, id), "nothing was recorded")

	// A NUL in the sign-in name, before anyone is authenticated.
	p = f.do(t, "", "POST", "/api/v1/auth/login", rawJSON(`{"username":"furong\u0000-official","password":"x"}`)).problem(t, 422, "invalid")
	require.Equal(t, []string{"username"}, fieldsOf(p))

	// %00 in a path: a task id, a plan id, a unit code.
	for _, path := range []string{"/api/v1/tasks/2021%2F2.1%2F430111%00", "/api/v1/tasks/%00/timeline", "/api/v1/plans/hunan-2021%00", "/api/v1/units/4301%00"} {
		p = f.as(t, "hunan-admin", "GET", path, nil).problem(t, 422, "invalid")
		require.Equal(t, []string{"path"}, fieldsOf(p), path)
	}
	// %00 in list filters.
	for _, q := range []string{"/api/v1/tasks?plan=hunan%00", "/api/v1/board/overdue?section=2%00", "/api/v1/audit?action=x%00y", "/api/v1/users?q=%00", "/api/v1/tasks?status=%01"} {
		p = f.as(t, "hunan-admin", "GET", q, nil).problem(t, 422, "invalid")
		u, _ := url.Parse(q)
		for k := range u.Query() {
			require.Equal(t, []string{k}, fieldsOf(p), q)
		}
	}

	// A NUL in user fields: refused, no user created.
	admin := "yueyang-admin"
	bad := map[string]any{"username": "nul-user", "display_name": "岳阳\x00同事", "unit_code": "430602", "roles": []string{"official"}, "password": "a long enough password"}
	p = f.as(t, admin, "POST", "/api/v1/users", jsonBody(bad)).problem(t, 422, "invalid")
	require.Equal(t, []string{"display_name"}, fieldsOf(p))
	require.Zero(t, countRows(t, f.stack.DB, `SELECT count(*) FROM users WHERE username = 'nul-user'`))
	bad["display_name"], bad["username"] = "岳阳同事", "nul\u0000user"
	p = f.as(t, admin, "POST", "/api/v1/users", jsonBody(bad)).problem(t, 422, "invalid")
	require.Equal(t, []string{"username"}, fieldsOf(p))
	p = f.as(t, admin, "PATCH", fmt.Sprintf("/api/v1/users/%d", f.user("yueyanglou-official").ID), rawJSON(`{"email":"a\u0000@b.cn"}`)).problem(t, 422, "invalid")
	require.Equal(t, []string{"email"}, fieldsOf(p))
	// A NUL in a nested field is named with its path.
	p = f.as(t, "changsha-approver", "POST", "/api/v1/approvals/bulk", rawJSON(`{"items":[{"instance_id":"2021/2.1/4301\u0000","step":1}]}`)).problem(t, 422, "invalid")
	require.Equal(t, []string{"items[0].instance_id"}, fieldsOf(p))

	// The next valid request is fine, and gets the next sequence number.
	task := taskOf(t, f.as(t, "wangcheng-official", "POST", taskPath(id, "progress"), jsonBody(map[string]any{"note": "已起草方案\n第二稿"})))
	require.EqualValues(t, before+1, task["seq"])
	require.Equal(t, before+1, requireConsistent(t, f, id))
}

// TestFarDatesAreRefused: an extension to 9999-12-31 (which once made the
// workflow fail on an alarm past year 9999), and dates in filters.
func TestFarDatesAreRefused(t *testing.T) {
	f := getFixture(t)
	id := "2021/8.1/430104" // due 29 May 2021
	before := requireConsistent(t, f, id)
	ext := func(day string) response {
		return f.as(t, "yuelu-official", "POST", taskPath(id, "extension"), jsonBody(map[string]any{"new_due": day, "reason": "等待审议"}))
	}
	p := ext("9999-12-31").problem(t, 422, "invalid")
	require.Equal(t, []string{"new_due"}, fieldsOf(p))
	require.Contains(t, p["errors"].([]any)[0].(map[string]any)["message"], "2100-12-31")
	ext("1900-01-01").problem(t, 422, "invalid")
	// Within the range, but more than a year past the deadline: the
	// workflow's own check refuses it.
	p = ext("2100-12-31").problem(t, 422, "invalid")
	require.Contains(t, p["detail"], "366")
	require.Equal(t, before, requireConsistent(t, f, id))
	require.Equal(t, 200, f.as(t, "yuelu-official", "GET", taskPath(id), nil).status)

	// Filters.
	p = f.as(t, "hunan-admin", "GET", "/api/v1/audit?from=9999-12-31", nil).problem(t, 422, "invalid")
	require.Equal(t, []string{"from"}, fieldsOf(p))
	f.as(t, "hunan-admin", "GET", "/api/v1/audit?to=0001-01-01T00:00:00Z", nil).problem(t, 422, "invalid")
	f.as(t, "hunan-supervisor", "GET", "/api/v1/board/rollup?year=99999999999999999999", nil).problem(t, 422, "invalid")
	f.as(t, "hunan-supervisor", "GET", "/api/v1/tasks?limit=1e9", nil).problem(t, 422, "invalid")
	// Huge numbers in JSON.
	p = f.as(t, "yuelu-official", "POST", taskPath(id, "progress"), rawJSON(`{"value": 99999999999999999999999}`)).problem(t, 422, "invalid")
	require.Equal(t, []string{"value"}, fieldsOf(p))
	p = f.as(t, "yuelu-official", "POST", taskPath(id, "progress"), rawJSON(`{"value": 4294967296}`)).problem(t, 422, "invalid")
	require.Equal(t, []string{"value"}, fieldsOf(p))

	// A sane extension still goes through.
	task := taskOf(t, ext("2022-01-31"))
	require.NotNil(t, task["extension"])
	require.Equal(t, before+1, requireConsistent(t, f, id))
}

// TestWorkflowRefusesWhatTheStoreCannotHold goes around the API, straight
// to the workflow: its validators refuse the same input, before anything
// is written.
func TestWorkflowRefusesWhatTheStoreCannotHold(t *testing.T) {
	f := getFixture(t)
	id := "2021/2.1/430103"
	before := requireConsistent(t, f, id)
	official := f.user("tianxin-official").Actor()
	ctx := context.Background()
	huge := 1 << 40
	for label, arg := range map[string]workflows.ProgressReport{
		"nul":        {Actor: official, Note: "a\x00b"},
		"control":    {Actor: official, Note: "\x1b[31m"},
		"bad-utf8":   {Actor: official, Note: "\xff\xfe"},
		"too-long":   {Actor: official, Note: strings.Repeat("长", duban.MaxNoteLength+1)},
		"huge-value": {Actor: official, Value: &huge},
		"bad-file":   {Actor: official, Evidence: []duban.Evidence{{SHA256: strings.Repeat("a", 64), Name: "a\x00.pdf"}}},
	} {
		_, err := f.stack.Engine.Send(ctx, id, "wf-refuses-"+label, arg)
		require.Error(t, err, label)
		require.Equal(t, duban.EINVALID, duban.ErrorCode(err), "%s: %v", label, err)
	}
	far := workflows.ExtensionRequest{Actor: official, NewDue: duban.EndOfDay(9999, 12, 31), Reason: "x"}
	_, err := f.stack.Engine.Send(ctx, id, "wf-refuses-far", far)
	require.Equal(t, duban.EINVALID, duban.ErrorCode(err), "%v", err)
	require.Equal(t, before, requireConsistent(t, f, id))
}

// TestARefusedWriteIsUndone makes the database refuse a transition the
// validators let through (a check constraint stands in for any such gap):
// the workflow undoes the change, the client gets a 4xx, the timeline has
// no gap, and the next transition takes the number that was not spent.
func TestARefusedWriteIsUndone(t *testing.T) {
	f := getFixture(t)
	ctx := context.Background()
	db := f.stack.DB.Pool
	_, err := db.Exec(ctx, `ALTER TABLE events ADD CONSTRAINT test_refuse_note CHECK (note <> '数据库拒收的说明')`)
	require.NoError(t, err)
	t.Cleanup(func() {
		_, _ = db.Exec(context.Background(), `ALTER TABLE events DROP CONSTRAINT IF EXISTS test_refuse_note`)
	})

	id := "2021/8.1/430602"
	before := requireConsistent(t, f, id)
	p := f.as(t, "yueyanglou-official", "POST", taskPath(id, "progress"), jsonBody(map[string]any{"note": "数据库拒收的说明", "value": 3})).problem(t, 422, "invalid")
	require.Contains(t, p["detail"], "未作任何更改")
	require.Equal(t, before, requireConsistent(t, f, id))
	view, err := f.stack.Engine.State(ctx, id)
	require.NoError(t, err)
	require.Zero(t, view.State.Progress, "the progress of the refused report was undone")

	task := taskOf(t, f.as(t, "yueyanglou-official", "POST", taskPath(id, "progress"), jsonBody(map[string]any{"note": "正常的说明"})))
	require.EqualValues(t, before+1, task["seq"])
	require.Equal(t, before+1, requireConsistent(t, f, id))
}

// TestConcurrentWrongPasswordsAreCheckedAtMostFiveTimes: the lockout test
// and the failure count are one step.
func TestConcurrentWrongPasswordsAreCheckedAtMostFiveTimes(t *testing.T) {
	f := getFixture(t)
	newUser(t, f, "burst-target", "430102", duban.RoleOfficial)
	deps := f.deps
	reg := prometheus.NewRegistry()
	deps.Registry = reg
	deps.Limits = api.Limits{LoginPerIPPerMinute: 10000, LoginPerAccountPerMinute: 10000}
	app := newApp(t, deps)

	const n = 12
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res := doApp(t, app, "", "POST", "/api/v1/auth/login", jsonBody(map[string]string{"username": "burst-target", "password": fmt.Sprintf("wrong %d", i)}))
			statuses[i] = res.status
		}()
	}
	wg.Wait()
	checks := hashChecks(t, reg)
	require.LessOrEqual(t, checks, 5, "passwords checked")
	var unauthorized, locked int
	for _, s := range statuses {
		switch s {
		case 401:
			unauthorized++
		case 429:
			locked++
		default:
			t.Fatalf("unexpected status %d", s)
		}
	}
	require.LessOrEqual(t, unauthorized, checks, "every 401 followed a password check")
	require.GreaterOrEqual(t, locked, n-5, "the rest were refused by the lock unchecked")
	// Locked now, even with the right password.
	doApp(t, app, "", "POST", "/api/v1/auth/login", jsonBody(map[string]string{"username": "burst-target", "password": pw})).problem(t, 429, "account_locked")
}

// TestConcurrentRightPasswordsNeverLockTheAccount: twelve sign-ins with
// the right password at once (a person on several devices, a client
// retrying) are signed in or asked to try again in a moment; none locks
// the account, and the next sign-in succeeds.
func TestConcurrentRightPasswordsNeverLockTheAccount(t *testing.T) {
	f := getFixture(t)
	newUser(t, f, "burst-right", "430102", duban.RoleOfficial)
	deps := f.deps
	deps.Registry = prometheus.NewRegistry()
	deps.Limits = api.Limits{LoginPerIPPerMinute: 10000, LoginPerAccountPerMinute: 10000}
	app := newApp(t, deps)
	const n = 12
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res := doApp(t, app, "", "POST", "/api/v1/auth/login", jsonBody(map[string]string{"username": "burst-right", "password": pw}))
			if res.status == 429 {
				p := res.problem(t, 429, "too_many_requests")
				require.Contains(t, p["detail"], "稍后再试")
			}
			statuses[i] = res.status
		}()
	}
	wg.Wait()
	for _, s := range statuses {
		require.Contains(t, []int{200, 429}, s)
	}
	require.Contains(t, statuses, 200)
	res := doApp(t, app, "", "POST", "/api/v1/auth/login", jsonBody(map[string]string{"username": "burst-right", "password": pw}))
	require.Equal(t, 200, res.status, "%s", res.body)
}

func hashChecks(t *testing.T, reg *prometheus.Registry) int {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() == "duban_password_hash_seconds" {
			return int(mf.GetMetric()[0].GetHistogram().GetSampleCount())
		}
	}
	return 0
}

// TestUsernamesDifferingOnlyByCaseAreOne: a second account cannot take a
// name that differs only by case, and sign-in finds the account whatever
// the case typed.
func TestUsernamesDifferingOnlyByCaseAreOne(t *testing.T) {
	f := getFixture(t)
	admin := "yueyang-admin"
	u := map[string]any{"username": "Case-User", "display_name": "大小写", "unit_code": "430602", "roles": []string{"official"}, "password": "a long enough password"}
	require.Equal(t, 201, f.as(t, admin, "POST", "/api/v1/users", jsonBody(u)).status)
	u["username"] = "case-user"
	p := f.as(t, admin, "POST", "/api/v1/users", jsonBody(u)).problem(t, 409, "conflict")
	require.Equal(t, []string{"username"}, fieldsOf(p))
	require.Contains(t, p["detail"], "不区分大小写")
	require.Equal(t, 1, countRows(t, f.stack.DB, `SELECT count(*) FROM users WHERE lower(username) = 'case-user'`))
	res := login(t, f, "CASE-USER", "a long enough password")
	require.Equal(t, 200, res.status, "%s", res.body)
	require.Equal(t, "Case-User", res.json(t)["user"].(map[string]any)["username"])
}
