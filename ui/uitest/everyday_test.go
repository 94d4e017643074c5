package uitest_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/engine"
	"github.com/duban-dev/duban/plan"
)

// The everyday 督办 actions in the browser, in 湘潭市 (4303).

// (a) The city's supervisor bulk-urges the overdue member-day tasks of
// the city's counties from the board; an official of one of them sees the
// urgent notice, and the row says it was urged.
func TestSupervisorBulkUrgesTheOverdueCounties(t *testing.T) {
	f := getFixture(t)
	srv, realDue := f.memberDayServer(t)
	sup := srv.token(t, "changsha-supervisor")
	// Wait (in plan time) for the deadline to pass and the tasks to turn red.
	if d := time.Until(realDue); d > 0 {
		time.Sleep(d)
	}
	deadline := time.Now().Add(90 * time.Second)
	for {
		pv := srv.call(t, sup, "GET", "/api/v1/board/urge?unit=4301&plan=hunan-2021&year=2021&section=8", nil)
		if pv["count"].(float64) >= 10 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Changsha's member-day tasks never turned overdue: %v", pv["count"])
		}
		time.Sleep(time.Second)
	}

	p := f.signIn(t, srv, "changsha-supervisor")
	p.goTo("#/board/4301")
	p.click("#bulk-urge")
	p.waitText("#urge-count", "将催办")
	p.waitText("#urge-preview", "芙蓉区")
	p.fill("dialog textarea[name=note]", "会员活动日已逾期，请三日内报送活动总结")
	p.shot("09-bulk-urge", "")
	p.click("#urge-confirm")
	p.waitText("#urge-result", "已催办")
	if got := p.text("#urge-result"); !strings.Contains(got, "0 项未催办") {
		t.Fatalf("bulk urge: %q", got)
	}

	off := f.signIn(t, srv, "furong-official")
	off.goTo("#/notifications")
	off.waitText(".notice-list", "催办：开展")
	off.waitText(".notice-list", "会员活动日已逾期")
	off.goTo("#/tasks")
	off.waitText(rowSel(memberDay)+" .urged-tag", "已催办 1 次")
	// Once a day per urging unit: the same unit urging again is told when.
	res := srv.callStatus(t, sup, "POST", "/api/v1/tasks/"+url.PathEscape(memberDay)+"/urge", map[string]any{})
	if res != 409 {
		t.Fatalf("a second urge the same day answered %d, want 409", res)
	}
}

// (b) The province returns a task from step 3 to step 1; the county and
// the city approve again, then the province.
func TestProvinceReturnsToStepOne(t *testing.T) {
	f := getFixture(t)
	srv := f.juneServer(t)
	id := "2021/2.1/430302"
	off := srv.token(t, "yuhu-official")
	srv.submitWithFile(t, off, id, "雨湖区改革方案已印发", "改革方案.pdf", pdf("雨湖区计生协改革方案"))
	for _, d := range []struct {
		who  string
		step int
	}{{"yuhu-approver", 1}, {"xiangtan-approver", 2}} {
		srv.call(t, srv.token(t, d.who), "POST", "/api/v1/tasks/"+url.PathEscape(id)+"/decision", map[string]any{"step": d.step, "approve": true})
	}

	prov := f.signIn(t, srv, "hunan-approver")
	prov.goTo("#/tasks/" + url.PathEscape(id))
	prov.waitText("#form-decide", "退回到")
	prov.fill("#form-decide textarea[name=reason]", "县级审核意见需补充论证材料")
	prov.setValue("#form-decide select[name=return_to]", "1")
	prov.click(`#form-decide button[value=no]`)
	prov.waitText(".chain", "退回到第 1 步")
	prov.waitText(`.chain li[data-step="1"]`, "待审批")
	prov.shot("10-returned-to-step", ".chain")

	county := f.signIn(t, srv, "yuhu-approver")
	county.goTo("#/tasks/" + url.PathEscape(id))
	county.click(`#form-decide button[value=yes]`)
	county.waitText(`.chain li[data-step="2"]`, "待审批")
	city := f.signIn(t, srv, "xiangtan-approver")
	city.goTo("#/tasks/" + url.PathEscape(id))
	city.click(`#form-decide button[value=yes]`)
	city.waitText(`.chain li[data-step="3"]`, "待审批")
	prov.goTo("#/tasks/" + url.PathEscape(id))
	prov.click(`#form-decide button[value=yes]`)
	prov.waitText("#task-status", "已办结")
}

// (c) A 会签 step signed by the county and the city together: the county
// signs, the city returns it, and the task goes back to the unit.
func TestJointStepOneUnitReturns(t *testing.T) {
	f := getFixture(t)
	srv := f.juneServer(t)
	id := launchJointPlan(t, f, srv)
	off := srv.token(t, "xiangtanxian-official")
	srv.call(t, off, "POST", "/api/v1/tasks/"+url.PathEscape(id)+"/submit", map[string]any{"note": "联动改革方案已拟定"})

	county := f.signIn(t, srv, "xiangtanxian-approver")
	county.goTo("#/tasks/" + url.PathEscape(id))
	county.waitText(`.chain li[data-step="1"]`, "会签")
	county.waitText(`.chain li[data-step="1"]`, "湘潭市")
	county.click(`#form-decide button[value=yes]`)
	county.waitText(`.chain li[data-step="1"]`, "已签：湘潭县审核人")
	county.waitText(".task-badges", "湘潭市")

	city := f.signIn(t, srv, "xiangtan-approver")
	city.goTo("#/approvals")
	city.waitText(trSel(id), "待签")
	city.goTo("#/tasks/" + url.PathEscape(id))
	city.fill("#form-decide textarea[name=reason]", "市县联动事项须补充市级配套措施")
	city.click(`#form-decide button[value=no]`)
	city.waitText("#task-status", "办理中")
	city.shot("11-joint-returned", ".chain")

	o := f.signIn(t, srv, "xiangtanxian-official")
	o.goTo("#/tasks/" + url.PathEscape(id))
	o.waitText(".returned", "市县联动事项须补充市级配套措施")
}

// (d) An approver away hands the step to a colleague, who approves it;
// then the city's approver delegates to the province's for a few days, and
// the province's approver decides the city's step on its behalf.
func TestHandOverAndDelegate(t *testing.T) {
	f := getFixture(t)
	srv := f.juneServer(t)
	id := "2021/2.1/430381"
	srv.submitWithFile(t, srv.token(t, "xiangxiang-official"), id, "湘乡市改革方案已印发", "改革方案.pdf", pdf("湘乡市计生协改革方案"))

	a1 := f.signIn(t, srv, "xiangxiang-approver")
	a1.goTo("#/tasks/" + url.PathEscape(id))
	a1.waitText("#form-hand-over", "湘乡市副会长")
	a1.fill("#form-hand-over textarea[name=reason]", "本人下乡调研一周")
	a1.click("#form-hand-over button[type=submit]")
	a1.waitText("#task-handed", "已转交给湘乡市副会长")
	a1.goTo("#/approvals")
	a1.waitNoText(".list-box", "市、县两级出台计生协改革方案")

	a2 := f.signIn(t, srv, "xiangxiang-approver2")
	a2.goTo("#/approvals")
	a2.waitText(trSel(id), "已转交给湘乡市副会长")
	a2.click(trSel(id) + ` button[data-action=approve]`)
	a2.waitNoText(".list-box", "湘乡市")

	city := f.signIn(t, srv, "xiangtan-approver")
	city.goTo("#/approvals")
	today := srv.clock.Virtual(time.Now()).In(duban.Shanghai)
	city.setValue("#form-delegation select[name=delegate_id]", fmt.Sprint(userID(t, f, "hunan-approver")))
	city.setValue("#form-delegation input[name=starts_on]", today.Format("2006-01-02"))
	city.setValue("#form-delegation input[name=ends_on]", today.AddDate(0, 0, 5).Format("2006-01-02"))
	city.fill("#form-delegation input[name=reason]", "参加全省培训")
	city.click("#form-delegation button[type=submit]")
	city.waitText(".delegation-list", "湘潭市审核人 委托 省计生协审核人")

	prov := f.signIn(t, srv, "hunan-approver")
	prov.goTo("#/approvals")
	prov.waitText(trSel(id), "湘乡市")
	prov.click(trSel(id) + ` button[data-action=approve]`)
	// Wait for the answer before leaving the page.
	prov.waitText("#toasts", "已审批通过")
	prov.goTo("#/tasks/" + url.PathEscape(id))
	prov.waitText(".timeline", "省计生协审核人（代湘潭市审核人）")
	prov.waitText(`.chain li[data-step="3"]`, "待审批")
}

// launchJointPlan imports a small plan for 2022 whose first step 湘潭县
// and 湘潭市 sign together (会签), and launches it for 湘潭县.
func launchJointPlan(t *testing.T, f *fixture, srv *server) string {
	t.Helper()
	const src = `plan: joint-2022
year: 2022
title: 会签测试
source: 测试
defaults:
  reminders: [7d]
  escalation: ladder
  approval: {county: joint}
chains:
  joint:
    - {approver: self, with: [parent], sign: all, sla: 5wd}
    - {approver: province, sla: 10wd}
ladders:
  ladder:
    - after: 0d
      notify:
        - {unit: self, roles: [official]}
sections:
  - id: "1"
    title: 市县联动改革
    templates:
      - id: "1.1"
        title: 统筹推进市、县联动改革
        quote: 统筹推进市、县联动改革
        responsible: {units: ["430321"]}
        kind: deadline
        due: {date: 2022-12-31, basis: year_end}
`
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	h, err := f.stack.DB.Hierarchy(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p, err := plan.Parse("joint-2022.yaml", []byte(src), h)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.stack.DB.ImportPlan(ctx, p, []byte(src), "test"); err != nil {
		t.Fatal(err)
	}
	lid, err := f.stack.Engine.Launch(ctx, "joint-2022", 2022, engine.LaunchOptions{Clock: srv.clock})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.stack.Engine.WaitLaunch(ctx, lid); err != nil {
		t.Fatal(err)
	}
	return "2022/1.1/430321"
}

func userID(t *testing.T, f *fixture, name string) int64 {
	t.Helper()
	u, err := f.stack.DB.UserByUsername(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}
