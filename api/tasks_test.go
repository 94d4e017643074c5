package api_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/workflows"
)

// drive sends an Update straight to the engine, to set a task up.
func drive(t *testing.T, f *fixture, id string, m workflows.Message) workflows.View {
	t.Helper()
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	v, err := f.stack.Engine.Send(context.Background(), id, "setup-"+hex.EncodeToString(b), m)
	require.NoError(t, err, "%s %s", m.Action(), id)
	return v
}

// actor is someone acting at a unit, without a user row (setup only).
func actor(unit string, roles ...duban.Role) duban.Actor {
	return duban.Actor{UserID: 900000, Name: "setup " + unit, UnitCode: unit, Roles: roles}
}

var someEvidence = duban.Evidence{SHA256: "3f786850e387550fdab836ed7e6dc881de23001b3f786850e387550fdab836ed", Name: "方案.pdf", Size: 10, ContentType: "application/pdf"}

// submitted takes a county task through progress and submission and,
// given approve, signs off its first step: it then waits on the city.
func submitted(t *testing.T, f *fixture, county string, approveFirst bool) string {
	t.Helper()
	id := "2021/2.1/" + county
	drive(t, f, id, workflows.Submission{Actor: actor(county, duban.RoleOfficial), Evidence: []duban.Evidence{someEvidence}})
	if approveFirst {
		drive(t, f, id, workflows.DecisionRequest{Actor: actor(county, duban.RoleApprover), Step: 1, Approve: true})
	}
	return id
}

func ids(items []any) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.(map[string]any)["id"].(string))
	}
	return out
}

func TestMyTasksFiltersSortAndPages(t *testing.T) {
	f := getFixture(t)
	res := f.as(t, "furong-official", "GET", "/api/v1/tasks", nil)
	require.Equal(t, 200, res.status, "%s", res.body)
	items := res.json(t)["items"].([]any)
	// Most urgent first: the member day (29 May, overdue) before the reform plan (31 December).
	require.Equal(t, []string{"2021/8.1/430102", "2021/2.1/430102"}, ids(items))
	member := items[0].(map[string]any)
	require.Equal(t, true, member["overdue"])
	require.Equal(t, "red", member["light"])
	require.Equal(t, "已逾期", member["light_label"])
	require.EqualValues(t, 2, member["days_late"])
	require.Less(t, member["seconds_left"].(float64), 0.0)
	require.Equal(t, "芙蓉区", member["unit"].(map[string]any)["name"])
	reform := items[1].(map[string]any)
	require.Equal(t, "green", reform["light"])
	require.Equal(t, "已下达", reform["status_label"])
	require.Equal(t, "限期完成", reform["kind_label"])
	require.EqualValues(t, 213, reform["days_left"]) // 1 June 09:00 → 31 December

	get := func(q string) []string {
		res := f.as(t, "furong-official", "GET", "/api/v1/tasks?"+q, nil)
		require.Equal(t, 200, res.status, "%s: %s", q, res.body)
		return ids(res.json(t)["items"].([]any))
	}
	require.Equal(t, []string{"2021/8.1/430102"}, get("overdue=true"))
	require.Equal(t, []string{"2021/2.1/430102"}, get("overdue=false"))
	require.Equal(t, []string{"2021/8.1/430102"}, get("due_before=2021-05-29"))
	require.Empty(t, get("due_before=2021-05-28"))
	require.Equal(t, []string{"2021/2.1/430102"}, get("section=2&plan=hunan-2021&year=2021"))
	require.Len(t, get("status=open"), 2)
	require.Empty(t, get("status=completed"))

	// Keyset pages: one item each, the cursor leads to the next.
	page1 := f.as(t, "furong-official", "GET", "/api/v1/tasks?limit=1", nil).json(t)
	require.Equal(t, []string{"2021/8.1/430102"}, ids(page1["items"].([]any)))
	cur := page1["next_cursor"].(string)
	page2 := f.as(t, "furong-official", "GET", "/api/v1/tasks?limit=1&cursor="+url.QueryEscape(cur), nil).json(t)
	require.Equal(t, []string{"2021/2.1/430102"}, ids(page2["items"].([]any)))
	require.Nil(t, page2["next_cursor"])

	for _, q := range []string{"status=done", "overdue=maybe", "due_before=31/12/2021", "limit=0", "limit=1000", "cursor=%%%", "level=galaxy", "year=1"} {
		f.as(t, "furong-official", "GET", "/api/v1/tasks?"+q, nil).problem(t, 422, "invalid")
	}
	// An official sees their own unit only.
	f.as(t, "furong-official", "GET", "/api/v1/tasks?subtree=true", nil).problem(t, 403, "forbidden")
	f.as(t, "furong-official", "GET", "/api/v1/tasks?unit=430103", nil).problem(t, 404, "not_found")
}

func TestSupervisorPagesThroughTheSubtree(t *testing.T) {
	f := getFixture(t)
	var all []string
	cursor := ""
	for pages := 0; ; pages++ {
		require.Less(t, pages, 10)
		q := "/api/v1/tasks?subtree=true&section=2&limit=3"
		if cursor != "" {
			q += "&cursor=" + url.QueryEscape(cursor)
		}
		m := f.as(t, "changsha-supervisor", "GET", q, nil).json(t)
		all = append(all, ids(m["items"].([]any))...)
		next, ok := m["next_cursor"].(string)
		if !ok {
			break
		}
		cursor = next
	}
	// Changsha and its nine counties, each once, in (due, id) order.
	require.Len(t, all, 10)
	require.True(t, sort.StringsAreSorted(all))
	require.Equal(t, "2021/2.1/4301", all[0])

	counties := f.as(t, "changsha-supervisor", "GET", "/api/v1/tasks?subtree=true&level=county&section=8&limit=200", nil).json(t)
	require.Len(t, counties["items"], 9)
	province := f.as(t, "hunan-supervisor", "GET", "/api/v1/tasks?subtree=true&section=8&limit=200", nil).json(t)
	require.Len(t, province["items"], 148)
}

func TestTaskDetailAndTimeline(t *testing.T) {
	f := getFixture(t)
	res := f.as(t, "furong-official", "GET", taskPath("2021/2.1/430102"), nil)
	require.Equal(t, 200, res.status, "%s", res.body)
	d := res.json(t)
	require.Equal(t, "推动市、县两级于今年底前全部出台改革方案。", d["quote"])
	require.Equal(t, true, d["evidence_required"])
	require.Equal(t, "改革方案正式印发文件", d["evidence_note"])
	chain := d["chain"].([]any)
	require.Len(t, chain, 3)
	for i, want := range []string{"芙蓉区", "长沙市", "湖南省"} {
		step := chain[i].(map[string]any)
		require.Equal(t, want, step["unit"].(map[string]any)["name"])
		require.Equal(t, "未开始", step["state_label"])
	}
	require.Equal(t, "长沙市", d["extension_unit"].(map[string]any)["name"])
	require.ElementsMatch(t, []any{"report_progress", "submit", "request_extension", "name_assignee"}, d["actions"])
	tl := d["timeline"].([]any)
	require.Equal(t, "任务下达", tl[0].(map[string]any)["kind_label"])

	res = f.as(t, "changsha-supervisor", "GET", taskPath("2021/8.1/430102", "timeline"), nil)
	require.Equal(t, 200, res.status)
	var kinds []string
	for _, e := range res.json(t)["items"].([]any) {
		kinds = append(kinds, e.(map[string]any)["kind"].(string))
	}
	require.Equal(t, []string{"assigned", "overdue", "escalated"}, kinds)
	// A supervisor sees, and may only urge.
	d = f.as(t, "changsha-supervisor", "GET", taskPath("2021/2.1/430102"), nil).json(t)
	require.Equal(t, []any{"urge"}, d["actions"])

	// The id must be percent-encoded; a raw path is no route.
	f.as(t, "furong-official", "GET", "/api/v1/tasks/2021/2.1/430102", nil).problem(t, 404, "not_found")
}

// TestReportSubmitAndApproveThroughTheChain is one task's life through the
// API: evidence uploaded, progress reported, submitted, three approvers,
// each response showing the new state and an immediate read agreeing.
func TestReportSubmitAndApproveThroughTheChain(t *testing.T) {
	f := getFixture(t)
	id := "2021/2.1/430104"
	official := "yuelu-official"

	// Submitting without evidence is refused by the workflow (evidence required).
	p := f.as(t, official, "POST", taskPath(id, "submit"), rawJSON(`{"note":"方案已印发"}`)).problem(t, 422, "invalid")
	require.Contains(t, p["detail"], "佐证材料")

	// Upload evidence on its own, then report progress referring to it.
	doc := pdf("岳麓区计生协改革方案")
	sum := sha256.Sum256(doc)
	hash := hex.EncodeToString(sum[:])
	up := f.as(t, official, "POST", taskPath(id, "evidence"), multipartBody(nil, map[string][]byte{"岳麓区改革方案.pdf": doc}))
	require.Equal(t, 201, up.status, "%s", up.body)
	item := up.json(t)["items"].([]any)[0].(map[string]any)
	require.Equal(t, hash, item["sha256"])
	require.Equal(t, "application/pdf", item["content_type"])

	start := time.Now()
	res := f.as(t, official, "POST", taskPath(id, "progress"), jsonBody(map[string]any{"note": "方案已起草", "evidence": []string{hash}}), "Idempotency-Key", "yuelu-p1")
	task := taskOf(t, res)
	t.Logf("progress round trip %s", time.Since(start))
	require.Equal(t, "in_progress", task["status"])
	require.Equal(t, "yuelu-p1", res.header.Get("Idempotency-Key"))

	// Submit with a second file attached in the same multipart request.
	sheet := append([]byte("PK\x03\x04"), make([]byte, 100)...)
	res = f.as(t, official, "POST", taskPath(id, "submit"), multipartBody(map[string][]string{"note": {"方案已印发"}}, map[string][]byte{"印发通知.docx": sheet}))
	task = taskOf(t, res)
	require.Equal(t, "submitted", task["status"])
	require.EqualValues(t, 1, task["current_step"])
	require.Equal(t, "岳麓区", task["approver_unit"].(map[string]any)["name"])
	require.NotNil(t, task["step_due"])

	// Both files are listed and downloadable by the supervisor above.
	d := f.as(t, "changsha-supervisor", "GET", taskPath(id), nil).json(t)
	require.Len(t, d["evidence"], 2)
	dl := f.as(t, "changsha-supervisor", "GET", taskPath(id, "evidence", hash), nil)
	require.Equal(t, 200, dl.status)
	require.Equal(t, doc, dl.body)
	require.Equal(t, "application/pdf", dl.header.Get("Content-Type"))
	require.Contains(t, dl.header.Get("Content-Disposition"), "filename*=UTF-8''%E5%B2%B3")
	require.Equal(t, "nosniff", dl.header.Get("X-Content-Type-Options"))

	decide := func(user string, step int, key string) map[string]any {
		t.Helper()
		start := time.Now()
		res := f.as(t, user, "POST", taskPath(id, "decision"), jsonBody(map[string]any{"step": step, "approve": true, "reason": "同意"}), "Idempotency-Key", key)
		t.Logf("decision step %d round trip %s", step, time.Since(start))
		task := taskOf(t, res)
		// An immediate read shows the same state.
		again := f.as(t, user, "GET", taskPath(id), nil).json(t)
		require.Equal(t, task["status"], again["status"])
		require.Equal(t, task["seq"], again["seq"])
		return task
	}
	// The wrong approver (the city before the county) is refused by the workflow.
	p = f.as(t, "changsha-approver", "POST", taskPath(id, "decision"), jsonBody(map[string]any{"step": 1, "approve": true})).problem(t, 403, "forbidden")
	require.Contains(t, p["detail"], "岳麓区")

	task = decide("yuelu-approver", 1, "yuelu-d1")
	require.EqualValues(t, 2, task["current_step"])
	// The same Idempotency-Key again: the first result, no second decision.
	again := taskOf(t, f.as(t, "yuelu-approver", "POST", taskPath(id, "decision"), jsonBody(map[string]any{"step": 1, "approve": true, "reason": "同意"}), "Idempotency-Key", "yuelu-d1"))
	require.EqualValues(t, 2, again["current_step"])
	require.Equal(t, 1, countRows(t, f.stack.DB, `SELECT count(*) FROM events WHERE instance_id = $1 AND kind = 'approved' AND step = 1`, id))

	// Approvals waiting on the city now include it, with the step's SLA.
	w := f.as(t, "changsha-approver", "GET", "/api/v1/approvals", nil).json(t)
	require.Contains(t, ids(w["items"].([]any)), id)

	decide("changsha-approver", 2, "yuelu-d2")
	task = decide("hunan-approver", 3, "yuelu-d3")
	require.Equal(t, "completed", task["status"])
	require.Equal(t, "grey", task["light"])

	d = f.as(t, official, "GET", taskPath(id), nil).json(t)
	var states []string
	for _, s := range d["chain"].([]any) {
		step := s.(map[string]any)
		states = append(states, step["state"].(string))
		require.NotEmpty(t, step["decided_by"])
	}
	require.Equal(t, []string{"approved", "approved", "approved"}, states)
	require.Len(t, d["decisions"], 3)
	require.Empty(t, d["actions"])

	// Finished: a decision and an upload are conflicts.
	f.as(t, "hunan-approver", "POST", taskPath(id, "decision"), jsonBody(map[string]any{"step": 3, "approve": true})).problem(t, 409, "conflict")
	f.as(t, official, "POST", taskPath(id, "evidence"), multipartBody(nil, map[string][]byte{"late.pdf": pdf("late")})).problem(t, 409, "conflict")

	// Every human step is in the audit log, with the timeline event.
	require.Equal(t, 5, countRows(t, f.stack.DB, `SELECT count(*) FROM audit_log WHERE instance_id = $1`, id))
}

func TestEvidenceChecks(t *testing.T) {
	f := getFixture(t)
	id := "2021/2.1/430102"
	up := func(name string, content []byte) response {
		return f.as(t, "furong-official", "POST", taskPath(id, "evidence"), multipartBody(nil, map[string][]byte{name: content}))
	}
	p := up("方案.exe", []byte("MZ....")).problem(t, 415, "unsupported_media_type")
	require.Contains(t, p["errors"].([]any)[0].(map[string]any)["message"], "只接受")
	p = up("照片.jpg", pdf("a pdf pretending to be a photo")).problem(t, 415, "unsupported_media_type")
	require.Contains(t, p["errors"].([]any)[0].(map[string]any)["message"], "内容不是 jpg")
	up("空.pdf", nil).problem(t, 422, "invalid")
	up("压缩包.zip", []byte("PK\x03\x04....")).problem(t, 415, "unsupported_media_type")
	png := append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 64)...)
	require.Equal(t, 201, up("现场照片.PNG", png).status)
	ole := append([]byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}, make([]byte, 64)...)
	require.Equal(t, 201, up("名册.xls", ole).status)

	// Too large: a limit of 1 KiB on a second app over the same stack.
	deps := f.deps
	deps.Limits.MaxUploadBytes = 1024
	deps.Limits.LoginPerIPPerMinute, deps.Limits.LoginPerAccountPerMinute = 10000, 10000
	small := newApp(t, deps)
	res := doApp(t, small, f.token(t, "furong-official"), "POST", taskPath(id, "evidence"), multipartBody(nil, map[string][]byte{"大文件.pdf": pdf(string(make([]byte, 2048)))}))
	res.problem(t, 413, "payload_too_large")

	// Not multipart, no file, a referenced hash never uploaded here.
	f.as(t, "furong-official", "POST", taskPath(id, "evidence"), rawJSON(`{}`)).problem(t, 415, "unsupported_media_type")
	f.as(t, "furong-official", "POST", taskPath(id, "evidence"), multipartBody(map[string][]string{"note": {"x"}}, nil)).problem(t, 422, "invalid")
	other := sha256.Sum256([]byte("someone else's file"))
	p = f.as(t, "furong-official", "POST", taskPath(id, "progress"), jsonBody(map[string]any{"evidence": []string{hex.EncodeToString(other[:])}})).problem(t, 422, "invalid")
	require.Equal(t, "evidence[0]", p["errors"].([]any)[0].(map[string]any)["field"])
	// A file uploaded to another task is not downloadable through this one.
	tianxin := f.as(t, "tianxin-official", "POST", taskPath("2021/2.1/430103", "evidence"), multipartBody(nil, map[string][]byte{"天心.pdf": pdf("天心区")}))
	require.Equal(t, 201, tianxin.status)
	h := tianxin.json(t)["items"].([]any)[0].(map[string]any)["sha256"].(string)
	f.as(t, "changsha-supervisor", "GET", taskPath(id, "evidence", h), nil).problem(t, 404, "not_found")
	require.Equal(t, 200, f.as(t, "changsha-supervisor", "GET", taskPath("2021/2.1/430103", "evidence", h), nil).status)
	f.as(t, "changsha-supervisor", "GET", taskPath(id, "evidence", "../../etc/passwd"), nil).problem(t, 404, "not_found")
}

// TestApproveAndRejectRace sends an approval and a rejection of the same
// step at once: exactly one wins, the other gets a clear 409.
func TestApproveAndRejectRace(t *testing.T) {
	f := getFixture(t)
	id := submitted(t, f, "430105", false)
	type result struct {
		approve bool
		res     response
	}
	results := make(chan result, 2)
	var start sync.WaitGroup
	start.Add(1)
	for _, approve := range []bool{true, false} {
		go func() {
			start.Wait()
			body := map[string]any{"step": 1, "approve": approve, "reason": "材料不全"}
			results <- result{approve, f.as(t, "kaifu-approver", "POST", taskPath(id, "decision"), jsonBody(body), "Idempotency-Key", fmt.Sprintf("race-%v", approve))}
		}()
	}
	start.Done()
	a, b := <-results, <-results
	var winner, loser result
	switch {
	case a.res.status == 200 && b.res.status == 409:
		winner, loser = a, b
	case b.res.status == 200 && a.res.status == 409:
		winner, loser = b, a
	default:
		t.Fatalf("want one 200 and one 409, got %d (%s) and %d (%s)", a.res.status, a.res.body, b.res.status, b.res.body)
	}
	p := loser.res.problem(t, 409, "conflict")
	require.NotEmpty(t, p["detail"])
	t.Logf("winner approve=%v; loser: %s", winner.approve, p["detail"])
	decided := countRows(t, f.stack.DB, `SELECT count(*) FROM events WHERE instance_id = $1 AND kind IN ('approved', 'rejected') AND step = 1`, id)
	require.Equal(t, 1, decided)
	want := "in_progress"
	if winner.approve {
		want = "submitted"
	}
	require.Equal(t, want, taskOf(t, winner.res)["status"])
}

func TestRejectionReturnsTheTask(t *testing.T) {
	f := getFixture(t)
	id := submitted(t, f, "430111", false)
	p := f.as(t, "yuhua-approver", "POST", taskPath(id, "decision"), jsonBody(map[string]any{"step": 1, "approve": false})).problem(t, 422, "invalid")
	require.Equal(t, "reason", p["errors"].([]any)[0].(map[string]any)["field"])
	f.as(t, "yuhua-approver", "POST", taskPath(id, "decision"), jsonBody(map[string]any{"step": 2, "approve": true})).problem(t, 409, "conflict")
	task := taskOf(t, f.as(t, "yuhua-approver", "POST", taskPath(id, "decision"), jsonBody(map[string]any{"step": 1, "approve": false, "reason": "缺少正式印发文件"})))
	require.Equal(t, "in_progress", task["status"])
	require.Equal(t, true, task["returned"])
	require.Equal(t, "缺少正式印发文件", task["last_reason"])
	d := f.as(t, "yuhua-official", "GET", taskPath(id), nil).json(t)
	require.Equal(t, true, d["returned"])
	require.Equal(t, "缺少正式印发文件", d["last_reason"])
	require.Equal(t, "rejected", d["chain"].([]any)[0].(map[string]any)["state"])
	// The official heard about it.
	n := f.as(t, "yuhua-official", "GET", "/api/v1/notifications?unread=true", nil).json(t)
	var kinds []string
	for _, it := range n["items"].([]any) {
		kinds = append(kinds, it.(map[string]any)["kind"].(string))
	}
	require.Contains(t, kinds, "rejected")

	// The lists say so too, without opening the task: the official's own
	// and the supervisor's above.
	row := func(user, path string) map[string]any {
		t.Helper()
		res := f.as(t, user, "GET", path, nil)
		require.Equal(t, 200, res.status, "%s", res.body)
		for _, it := range res.json(t)["items"].([]any) {
			if it.(map[string]any)["id"] == id {
				return it.(map[string]any)
			}
		}
		t.Fatalf("%s not in %s", id, path)
		return nil
	}
	mine := row("yuhua-official", "/api/v1/tasks?status=open")
	require.Equal(t, true, mine["returned"])
	require.Equal(t, "缺少正式印发文件", mine["last_reason"])
	above := row("changsha-supervisor", "/api/v1/tasks?subtree=true&section=2&limit=200")
	require.Equal(t, true, above["returned"])
	require.Equal(t, "缺少正式印发文件", above["last_reason"])
	// Still returned while the unit works on it.
	task = taskOf(t, f.as(t, "yuhua-official", "POST", taskPath(id, "progress"), rawJSON(`{"note":"正在补充印发文件"}`)))
	require.Equal(t, true, task["returned"])
	// Submitted again: no longer returned, in the answer and in the lists.
	task = taskOf(t, f.as(t, "yuhua-official", "POST", taskPath(id, "submit"), rawJSON(`{"note":"已补充印发文件"}`)))
	require.Equal(t, "submitted", task["status"])
	require.Equal(t, false, task["returned"])
	require.NotContains(t, task, "last_reason")
	mine = row("yuhua-official", "/api/v1/tasks?status=open")
	require.Equal(t, false, mine["returned"])
	require.NotContains(t, mine, "last_reason")
	d = f.as(t, "yuhua-official", "GET", taskPath(id), nil).json(t)
	require.Equal(t, false, d["returned"])
	require.NotContains(t, d, "last_reason")
	require.Len(t, d["decisions"], 1, "the decision itself stays in the history")
}

func TestExtensionRequestAndDecision(t *testing.T) {
	f := getFixture(t)
	id := "2021/8.1/430111" // overdue since 29 May
	f.as(t, "yuhua-official", "POST", taskPath(id, "extension"), rawJSON(`{"new_due":"2021-06-30"}`)).problem(t, 422, "invalid")
	p := f.as(t, "yuhua-official", "POST", taskPath(id, "extension"), rawJSON(`{"new_due":"30/06/2021","reason":"x"}`)).problem(t, 422, "invalid")
	require.Equal(t, "new_due", p["errors"].([]any)[0].(map[string]any)["field"])
	task := taskOf(t, f.as(t, "yuhua-official", "POST", taskPath(id, "extension"), rawJSON(`{"new_due":"2021-06-30","reason":"会员日活动顺延至六月"}`)))
	require.Equal(t, true, task["extension_pending"])
	f.as(t, "yuhua-official", "POST", taskPath(id, "extension"), rawJSON(`{"new_due":"2021-07-30","reason":"再延"}`)).problem(t, 409, "conflict")

	d := f.as(t, "changsha-approver", "GET", taskPath(id), nil).json(t)
	ext := d["extension"].(map[string]any)
	require.Equal(t, "会员日活动顺延至六月", ext["reason"])
	require.Equal(t, "长沙市", ext["decider"].(map[string]any)["name"])
	require.Contains(t, d["actions"], "decide_extension")
	w := f.as(t, "changsha-approver", "GET", "/api/v1/approvals?kind=extension", nil).json(t)
	require.Contains(t, ids(w["items"].([]any)), id)
	// Each row carries the request: the date asked for (the end of that
	// day), why, who asked and when.
	var req map[string]any
	for _, it := range w["items"].([]any) {
		if it.(map[string]any)["id"] == id {
			req = it.(map[string]any)["extension"].(map[string]any)
		}
	}
	require.NotNil(t, req)
	asked, err := time.Parse(time.RFC3339, req["new_due"].(string))
	require.NoError(t, err)
	require.True(t, asked.Equal(duban.EndOfDay(2021, 6, 30)), "asked for %v", asked)
	require.Equal(t, "会员日活动顺延至六月", req["reason"])
	require.Equal(t, "yuhua-official", req["requested_by"])
	at, err := time.Parse(time.RFC3339, req["requested_at"].(string))
	require.NoError(t, err)
	require.WithinDuration(t, f.clock.Virtual(time.Now()), at, time.Minute, "requested in plan time")
	require.NotContains(t, req, "decider", "the list is the deciding unit's own")
	require.Equal(t, ext["new_due"], req["new_due"])
	require.Equal(t, ext["requested_by"], req["requested_by"])

	// Only the parent unit's approver decides; the county's own is refused.
	f.as(t, "yuhua-approver", "POST", taskPath(id, "extension", "decision"), rawJSON(`{"approve":true}`)).problem(t, 403, "forbidden")
	task = taskOf(t, f.as(t, "changsha-approver", "POST", taskPath(id, "extension", "decision"), rawJSON(`{"approve":true,"reason":"同意"}`)))
	require.Equal(t, false, task["extension_pending"])
	require.NotContains(t, task, "extension")
	w = f.as(t, "changsha-approver", "GET", "/api/v1/approvals?kind=extension", nil).json(t)
	require.NotContains(t, ids(w["items"].([]any)), id)
	require.Equal(t, false, task["overdue"])
	require.Equal(t, "green", task["light"]) // due 30 June: weeks away
	due, err := time.Parse(time.RFC3339, task["due"].(string))
	require.NoError(t, err)
	require.True(t, due.Equal(duban.EndOfDay(2021, 6, 30)))
}

func TestCancelByAdmin(t *testing.T) {
	f := getFixture(t)
	id := "2021/2.1/430112"
	f.as(t, "hunan-admin", "POST", taskPath(id, "cancel"), rawJSON(`{}`)).problem(t, 422, "invalid")
	// A city admin elsewhere cannot see it at all.
	f.as(t, "yueyang-admin", "POST", taskPath(id, "cancel"), rawJSON(`{"reason":"x"}`)).problem(t, 404, "not_found")
	task := taskOf(t, f.as(t, "hunan-admin", "POST", taskPath(id, "cancel"), rawJSON(`{"reason":"该区已并入其他单位统筹"}`)))
	require.Equal(t, "cancelled", task["status"])
	require.Equal(t, "已撤销", task["status_label"])
	f.as(t, "wangcheng-official", "POST", taskPath(id, "progress"), rawJSON(`{"note":"x"}`)).problem(t, 409, "conflict")
	require.Equal(t, 1, countRows(t, f.stack.DB, `SELECT count(*) FROM audit_log WHERE instance_id = $1 AND action = 'task.cancelled'`, id))
}

func TestBulkApprove(t *testing.T) {
	f := getFixture(t)
	a := submitted(t, f, "430121", true)
	b := submitted(t, f, "430181", true)
	c := submitted(t, f, "430182", false) // still on its own unit's step 1
	out := "2021/2.1/430602"
	body := jsonBody(map[string]any{"reason": "同意", "items": []map[string]any{
		{"instance_id": a, "step": 2}, {"instance_id": b, "step": 2}, {"instance_id": c, "step": 1}, {"instance_id": out, "step": 1},
		{"instance_id": "2021/9.9/430102", "step": 1},
	}})
	res := f.as(t, "changsha-approver", "POST", "/api/v1/approvals/bulk", body, "Idempotency-Key", "bulk-1")
	require.Equal(t, 200, res.status, "%s", res.body)
	m := res.json(t)
	require.EqualValues(t, 2, m["approved"])
	require.EqualValues(t, 3, m["failed"])
	status := map[string]float64{}
	for _, r := range m["results"].([]any) {
		r := r.(map[string]any)
		status[r["instance_id"].(string)] = r["status"].(float64)
		if r["status"].(float64) == 200 {
			require.EqualValues(t, 3, r["task"].(map[string]any)["current_step"])
		}
	}
	require.Equal(t, map[string]float64{a: 200, b: 200, c: 403, out: 404, "2021/9.9/430102": 404}, status)

	// The same request again decides nothing new.
	res = f.as(t, "changsha-approver", "POST", "/api/v1/approvals/bulk", body, "Idempotency-Key", "bulk-1")
	require.EqualValues(t, 2, res.json(t)["approved"])
	require.Equal(t, 1, countRows(t, f.stack.DB, `SELECT count(*) FROM events WHERE instance_id = $1 AND kind = 'approved' AND step = 2`, a))

	f.as(t, "changsha-approver", "POST", "/api/v1/approvals/bulk", rawJSON(`{"items":[]}`)).problem(t, 422, "invalid")
	f.as(t, "changsha-approver", "POST", "/api/v1/approvals/bulk", rawJSON(`{"items":[{"instance_id":"x"},{"instance_id":"x","step":1}]}`)).problem(t, 422, "invalid")
	f.as(t, "changsha-approver", "GET", "/api/v1/approvals?kind=other", nil).problem(t, 422, "invalid")
}
