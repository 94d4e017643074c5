package api_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/duban-dev/duban"
)

// The everyday 督办 actions through the HTTP API, on the real stack. Each
// test uses Changsha's counties that no other test touches: 长沙县 430321,
// 浏阳市 430381, 宁乡市 430382.

// xiangtan makes (once) the city's supervisor and approver.
func xiangtan(t *testing.T, f *fixture) {
	t.Helper()
	for _, u := range []struct {
		name string
		role duban.Role
	}{{"xiangtan-supervisor", duban.RoleSupervisor}, {"xiangtan-approver", duban.RoleApprover}} {
		if _, err := f.stack.DB.UserByUsername(context.Background(), u.name); err != nil {
			newUser(t, f, u.name, "4303", u.role)
		}
	}
}

func inboxKinds(t *testing.T, f *fixture, userID int64, instanceID string) []string {
	t.Helper()
	rows, err := f.stack.DB.Pool.Query(context.Background(), `SELECT kind || CASE WHEN urgent THEN '!' ELSE '' END FROM inbox WHERE user_id = $1 AND instance_id = $2 ORDER BY id`, userID, instanceID)
	require.NoError(t, err)
	defer rows.Close()
	var out []string
	for rows.Next() {
		var k string
		require.NoError(t, rows.Scan(&k))
		out = append(out, k)
	}
	return out
}

func TestUrgeOneAndMany(t *testing.T) {
	f := getFixture(t)
	xiangtan(t, f)
	off := newUser(t, f, "xiangtanxian-official", "430321", duban.RoleOfficial)
	id := "2021/8.1/430321"

	res := f.as(t, "xiangtan-supervisor", "POST", taskPath(id, "urge"), jsonBody(map[string]any{"note": "请本周内报送活动总结"}))
	task := taskOf(t, res)
	require.EqualValues(t, 1, task["urge_count"])
	require.NotEmpty(t, task["last_urged_at"])
	require.Contains(t, inboxKinds(t, f, off.ID, id), "urged!", "an urgent notice")
	p := f.as(t, "xiangtan-supervisor", "POST", taskPath(id, "urge"), jsonBody(map[string]any{"note": "再催"})).problem(t, 409, "conflict")
	require.Contains(t, p["detail"], "起可再次催办")
	// Another unit may urge the same day; an official may not urge at all.
	require.EqualValues(t, 2, taskOf(t, f.as(t, "hunan-supervisor", "POST", taskPath(id, "urge"), nil))["urge_count"])
	f.as(t, "xiangtanxian-official", "POST", taskPath(id, "urge"), nil).problem(t, 403, "forbidden")
	// The timeline and the audit log have it.
	tl := f.as(t, "xiangtan-supervisor", "GET", taskPath(id, "timeline"), nil).json(t)["items"].([]any)
	var urges int
	for _, e := range tl {
		if e.(map[string]any)["kind"] == "urged" {
			urges++
		}
	}
	require.Equal(t, 2, urges)
	require.Equal(t, 2, countRows(t, f.stack.DB, `SELECT count(*) FROM audit_log WHERE action = 'task.urged' AND instance_id = $1`, id))

	// From the board: the preview says how many and which.
	pv := f.as(t, "xiangtan-supervisor", "GET", "/api/v1/board/urge?unit=4303&plan=hunan-2021&year=2021&section=8", nil).json(t)
	var ids []string
	for _, it := range pv["items"].([]any) {
		ids = append(ids, it.(map[string]any)["id"].(string))
	}
	require.EqualValues(t, len(ids), pv["count"])
	require.Contains(t, ids, "2021/8.1/430381")
	require.Contains(t, ids, id)
	require.GreaterOrEqual(t, pv["urged_today"].(float64), 1.0)

	body := jsonBody(map[string]any{"instance_ids": []string{"2021/8.1/430381", "2021/8.1/430382", id}, "note": "全市逾期任务统一催办", "with_approvers": true})
	r := f.as(t, "xiangtan-supervisor", "POST", "/api/v1/board/urge", body, "Idempotency-Key", "bulk-urge-1").json(t)
	require.EqualValues(t, 2, r["urged"])
	require.EqualValues(t, 1, r["failed"])
	statuses := map[string]float64{}
	for _, it := range r["results"].([]any) {
		m := it.(map[string]any)
		statuses[m["instance_id"].(string)] = m["status"].(float64)
	}
	require.Equal(t, map[string]float64{"2021/8.1/430381": 200, "2021/8.1/430382": 200, id: 409}, statuses)
	// The same request again urges nothing twice.
	again := f.as(t, "xiangtan-supervisor", "POST", "/api/v1/board/urge", body, "Idempotency-Key", "bulk-urge-1").json(t)
	require.EqualValues(t, 2, again["urged"])
	row, err := f.stack.DB.Instance(context.Background(), "2021/8.1/430381")
	require.NoError(t, err)
	require.Equal(t, 1, row.UrgeCount)
	// Another city's tasks are not found, item by item.
	out := f.as(t, "yueyang-supervisor", "POST", "/api/v1/board/urge", jsonBody(map[string]any{"instance_ids": []string{"2021/8.1/430381"}})).json(t)
	require.EqualValues(t, 404, out["results"].([]any)[0].(map[string]any)["status"])
}

// submitWithEvidence uploads a file and submits, as the unit's official.
func userID(t *testing.T, f *fixture, name string) int64 {
	t.Helper()
	u, err := f.stack.DB.UserByUsername(context.Background(), name)
	require.NoError(t, err)
	return u.ID
}

func submitWithEvidence(t *testing.T, f *fixture, official, id string) map[string]any {
	t.Helper()
	doc := pdf("改革方案 " + id)
	sum := sha256.Sum256(doc)
	up := f.as(t, official, "POST", taskPath(id, "evidence"), multipartBody(nil, map[string][]byte{"改革方案.pdf": doc}))
	require.Equal(t, 201, up.status, "%s", up.body)
	return taskOf(t, f.as(t, official, "POST", taskPath(id, "submit"), jsonBody(map[string]any{"evidence": []string{hex.EncodeToString(sum[:])}})))
}

func decideAs(t *testing.T, f *fixture, user, id string, body map[string]any) map[string]any {
	t.Helper()
	return taskOf(t, f.as(t, user, "POST", taskPath(id, "decision"), jsonBody(body)))
}

func approvalIDs(t *testing.T, f *fixture, user string) []string {
	t.Helper()
	var out []string
	for _, it := range f.as(t, user, "GET", "/api/v1/approvals?limit=200", nil).json(t)["items"].([]any) {
		out = append(out, it.(map[string]any)["id"].(string))
	}
	return out
}

func TestWithdrawAndReturnToAStep(t *testing.T) {
	f := getFixture(t)
	xiangtan(t, f)
	newUser(t, f, "xiangxiang-official", "430381", duban.RoleOfficial)
	newUser(t, f, "xiangxiang-approver", "430381", duban.RoleApprover)
	id := "2021/2.1/430381"

	submitWithEvidence(t, f, "xiangxiang-official", id)
	require.Contains(t, approvalIDs(t, f, "xiangxiang-approver"), id)
	task := taskOf(t, f.as(t, "xiangxiang-official", "POST", taskPath(id, "withdraw"), jsonBody(map[string]any{"reason": "附件传错了"})))
	require.Equal(t, "in_progress", task["status"])
	require.NotContains(t, approvalIDs(t, f, "xiangxiang-approver"), id, "gone from 待我审批")
	f.as(t, "xiangxiang-official", "POST", taskPath(id, "withdraw"), nil).problem(t, 409, "conflict")

	taskOf(t, f.as(t, "xiangxiang-official", "POST", taskPath(id, "submit"), nil))
	decideAs(t, f, "xiangxiang-approver", id, map[string]any{"step": 1, "approve": true})
	decideAs(t, f, "xiangtan-approver", id, map[string]any{"step": 2, "approve": true})
	// Returning to a step not before the current one, or approving with a
	// step to return to, is refused naming the field.
	p := f.as(t, "hunan-approver", "POST", taskPath(id, "decision"), jsonBody(map[string]any{"step": 3, "approve": false, "reason": "x", "return_to": 3})).problem(t, 422, "invalid")
	require.Equal(t, "return_to", p["errors"].([]any)[0].(map[string]any)["field"])
	f.as(t, "hunan-approver", "POST", taskPath(id, "decision"), jsonBody(map[string]any{"step": 3, "approve": true, "return_to": 1})).problem(t, 422, "invalid")

	task = decideAs(t, f, "hunan-approver", id, map[string]any{"step": 3, "approve": false, "reason": "县级意见需补充论证", "return_to": 1})
	require.Equal(t, "submitted", task["status"])
	require.EqualValues(t, 1, task["current_step"])
	d := f.as(t, "xiangxiang-official", "GET", taskPath(id), nil).json(t)
	chain := d["chain"].([]any)
	require.Equal(t, "waiting", chain[0].(map[string]any)["state"])
	require.Equal(t, "pending", chain[1].(map[string]any)["state"], "step 2 is decided again")
	require.EqualValues(t, 1, chain[2].(map[string]any)["returned_to"])
	var returned bool
	for _, dv := range d["decisions"].([]any) {
		if dv.(map[string]any)["returned_to"] == 1.0 {
			returned = true
		}
	}
	require.True(t, returned)
	decideAs(t, f, "xiangxiang-approver", id, map[string]any{"step": 1, "approve": true})
	decideAs(t, f, "xiangtan-approver", id, map[string]any{"step": 2, "approve": true})
	require.Equal(t, "completed", decideAs(t, f, "hunan-approver", id, map[string]any{"step": 3, "approve": true})["status"])
}

func TestHandOverDelegateAndAddSigner(t *testing.T) {
	f := getFixture(t)
	xiangtan(t, f)
	newUser(t, f, "shaoshan-official", "430382", duban.RoleOfficial)
	a1 := newUser(t, f, "shaoshan-approver", "430382", duban.RoleApprover)
	a2 := newUser(t, f, "shaoshan-approver2", "430382", duban.RoleApprover)
	newUser(t, f, "zhuzhou-approver", "4302", duban.RoleApprover)
	id := "2021/2.1/430382"
	submitWithEvidence(t, f, "shaoshan-official", id)

	// Hand the step to a colleague: only they see it in 待我审批.
	p := f.as(t, "shaoshan-approver", "POST", taskPath(id, "hand-over"), jsonBody(map[string]any{"step": 1, "to_user_id": f.user("furong-approver").ID})).problem(t, 422, "invalid")
	require.Equal(t, "to_user_id", p["errors"].([]any)[0].(map[string]any)["field"])
	task := taskOf(t, f.as(t, "shaoshan-approver", "POST", taskPath(id, "hand-over"), jsonBody(map[string]any{"step": 1, "to_user_id": a2.ID, "reason": "本人出差"})))
	require.Equal(t, "shaoshan-approver2", task["waiting_for"].(map[string]any)["name"])
	require.NotContains(t, approvalIDs(t, f, "shaoshan-approver"), id)
	require.Contains(t, approvalIDs(t, f, "shaoshan-approver2"), id)
	f.as(t, "shaoshan-approver", "POST", taskPath(id, "decision"), jsonBody(map[string]any{"step": 1, "approve": true})).problem(t, 403, "forbidden")
	require.Contains(t, inboxKinds(t, f, a2.ID, id), "handed_over")
	require.NotContains(t, inboxKinds(t, f, a1.ID, id), "handed_over")

	// The colleague goes away too and delegates to the city's approver.
	today := time.Date(2021, 6, 1, 0, 0, 0, 0, duban.Shanghai)
	bad := f.as(t, "shaoshan-approver2", "POST", "/api/v1/me/delegations", jsonBody(map[string]any{"delegate_id": f.user("yueyang-supervisor").ID,
		"starts_on": today.Format("2006-01-02"), "ends_on": today.AddDate(0, 0, 3).Format("2006-01-02")})).problem(t, 422, "invalid")
	require.Equal(t, "delegate_id", bad["errors"].([]any)[0].(map[string]any)["field"])
	res := f.as(t, "shaoshan-approver2", "POST", "/api/v1/me/delegations", jsonBody(map[string]any{"delegate_id": userID(t, f, "xiangtan-approver"),
		"starts_on": today.Format("2006-01-02"), "ends_on": today.AddDate(0, 0, 3).Format("2006-01-02"), "reason": "参加培训"}))
	require.Equal(t, 201, res.status, "%s", res.body)
	dl := res.json(t)
	// Both see it; the delegate's 待我审批 has the step.
	require.Len(t, f.as(t, "xiangtan-approver", "GET", "/api/v1/me/delegations", nil).json(t)["items"], 1)
	require.Contains(t, approvalIDs(t, f, "xiangtan-approver"), id)
	task = decideAs(t, f, "xiangtan-approver", id, map[string]any{"step": 1, "approve": true, "reason": "代为审核"})
	require.EqualValues(t, 2, task["current_step"])
	d := f.as(t, "shaoshan-official", "GET", taskPath(id), nil).json(t)
	require.Contains(t, d["decisions"].([]any)[0].(map[string]any)["actor"], "代shaoshan-approver2")
	require.Equal(t, 1, countRows(t, f.stack.DB, `SELECT count(*) FROM audit_log WHERE action = 'delegation.create' AND actor_id = $1`, a2.ID))
	require.Equal(t, 204, f.as(t, "shaoshan-approver2", "DELETE", fmt.Sprintf("/api/v1/me/delegations/%v", dl["id"]), nil).status)

	// 加签: the city asks 株洲市 to sign before its own step.
	p = f.as(t, "xiangtan-approver", "POST", taskPath(id, "signers"), jsonBody(map[string]any{"step": 2, "unit_code": "430602", "reason": "x"})).problem(t, 422, "invalid")
	require.Equal(t, "unit", p["errors"].([]any)[0].(map[string]any)["field"])
	task = taskOf(t, f.as(t, "xiangtan-approver", "POST", taskPath(id, "signers"), jsonBody(map[string]any{"step": 2, "unit_code": "4302", "before": true, "reason": "涉及株洲协作事项"})))
	require.EqualValues(t, 4, task["step_count"])
	require.Equal(t, "株洲市", task["approver_unit"].(map[string]any)["name"])
	require.Contains(t, approvalIDs(t, f, "zhuzhou-approver"), id)
	chain := f.as(t, "zhuzhou-approver", "GET", taskPath(id), nil).json(t)["chain"].([]any)
	require.Equal(t, "涉及株洲协作事项", chain[1].(map[string]any)["added_reason"])
	require.EqualValues(t, 3, decideAs(t, f, "zhuzhou-approver", id, map[string]any{"step": 2, "approve": true})["current_step"])
	require.Equal(t, "湘潭市", f.as(t, "xiangtan-approver", "GET", taskPath(id), nil).json(t)["approver_unit"].(map[string]any)["name"])
}

func TestDiscussionAndAssignee(t *testing.T) {
	f := getFixture(t)
	xiangtan(t, f)
	author := newUser(t, f, "xiangtanxian-official2", "430321", duban.RoleOfficial)
	colleague := newUser(t, f, "xiangtanxian-official3", "430321", duban.RoleOfficial)
	id := "2021/2.1/430321"
	super, err := f.stack.DB.UserByUsername(context.Background(), "xiangtan-supervisor")
	require.NoError(t, err)

	p := f.as(t, "xiangtanxian-official2", "POST", taskPath(id, "comments"), jsonBody(map[string]any{"body": "请看一下", "mentions": []int64{f.user("yueyang-admin").ID}})).problem(t, 422, "invalid")
	require.Equal(t, "mentions[0]", p["errors"].([]any)[0].(map[string]any)["field"])
	f.as(t, "xiangtanxian-official2", "POST", taskPath(id, "comments"), jsonBody(map[string]any{"body": "a\u0000b"})).problem(t, 422, "invalid")
	res := f.as(t, "xiangtanxian-official2", "POST", taskPath(id, "comments"), jsonBody(map[string]any{"body": "方案初稿已上传，请市里提意见", "mentions": []int64{super.ID}}))
	require.Equal(t, 201, res.status, "%s", res.body)
	c1 := res.json(t)
	require.Contains(t, inboxKinds(t, f, super.ID, id), "commented")
	res = f.as(t, "xiangtan-supervisor", "POST", taskPath(id, "comments"), jsonBody(map[string]any{"body": "收到，明天反馈"}))
	require.Equal(t, 201, res.status)
	items := f.as(t, "xiangtan-approver", "GET", taskPath(id, "comments"), nil).json(t)["items"].([]any)
	require.Len(t, items, 2)
	require.Equal(t, "方案初稿已上传，请市里提意见", items[0].(map[string]any)["body"])
	require.Equal(t, "xiangtan-supervisor", items[1].(map[string]any)["author_name"])
	// Out of scope: not found.
	f.as(t, "yueyang-supervisor", "GET", taskPath(id, "comments"), nil).problem(t, 404, "not_found")

	cid := fmt.Sprint(c1["id"])
	f.as(t, "xiangtan-supervisor", "DELETE", taskPath(id, "comments", cid), nil).problem(t, 403, "forbidden")
	require.Equal(t, 204, f.as(t, "xiangtanxian-official2", "DELETE", taskPath(id, "comments", cid), nil).status)
	items = f.as(t, "xiangtan-approver", "GET", taskPath(id, "comments"), nil).json(t)["items"].([]any)
	require.Equal(t, true, items[0].(map[string]any)["deleted"])
	require.Empty(t, items[0].(map[string]any)["body"])
	// Past five minutes, the author may not delete.
	_, err = f.stack.DB.Pool.Exec(context.Background(), `UPDATE comments SET created_at = now() - interval '6 minutes' WHERE author_id = $1`, super.ID)
	require.NoError(t, err)
	f.as(t, "xiangtan-supervisor", "DELETE", taskPath(id, "comments", fmt.Sprint(items[1].(map[string]any)["id"])), nil).problem(t, 409, "conflict")
	require.Equal(t, 2, countRows(t, f.stack.DB, `SELECT count(*) FROM audit_log WHERE action = 'comment.add' AND instance_id = $1`, id))

	// 承办人: a colleague of the unit; lists show them.
	f.as(t, "xiangtanxian-official2", "PUT", taskPath(id, "assignee"), jsonBody(map[string]any{"user_id": f.user("furong-official").ID})).problem(t, 422, "invalid")
	task := taskOf(t, f.as(t, "xiangtanxian-official2", "PUT", taskPath(id, "assignee"), jsonBody(map[string]any{"user_id": colleague.ID})))
	require.Equal(t, "xiangtanxian-official3", task["assignee"].(map[string]any)["name"])
	list := f.as(t, "xiangtan-supervisor", "GET", "/api/v1/tasks?unit=430321&limit=200", nil).json(t)["items"].([]any)
	found := false
	for _, it := range list {
		m := it.(map[string]any)
		if m["id"] == id {
			found = m["assignee"] != nil
		}
	}
	require.True(t, found)
	require.Contains(t, inboxKinds(t, f, colleague.ID, id), "assignee_named")
	require.NotContains(t, inboxKinds(t, f, author.ID, id), "assignee_named")
	people := f.as(t, "xiangtanxian-official2", "GET", taskPath(id, "people"), nil).json(t)["items"].([]any)
	require.NotEmpty(t, people)

}
