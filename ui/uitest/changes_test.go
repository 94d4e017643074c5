package uitest_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/duban-dev/duban"
)

// TestPlanChangeInTheBrowser: the province's admin records a circular that
// postpones 3.2 for two counties named by name (a misspelt one first is
// refused next to its field, and nothing is stored), watches it reach
// their tasks, and finds the 文号 in the plan's versions and on the
// task's timeline.
func TestPlanChangeInTheBrowser(t *testing.T) {
	f := getFixture(t)
	srv := f.serve(t, "changes", duban.Clock{Scale: 1, VirtualEpoch: time.Date(2021, 6, 1, 9, 0, 0, 0, duban.Shanghai), RealEpoch: time.Now()}, "3.2")
	adm := f.signIn(t, srv, "hunan-admin")
	adm.goTo("#/plans")
	adm.click(`a[data-action=changes][href="#/plans/hunan-2021/changes"]`)
	adm.waitText("#page-title", "计划变更与版本")
	adm.waitText("#plan-versions", "导入计划")

	adm.waitJS("the templates", `document.querySelector('#plan-change select[name=template_id] option[value="3.2"]')`)
	adm.setValue(`#plan-change select[name=template_id]`, "3.2")
	adm.fill(`#plan-change input[name=doc_no]`, "湘计生协〔2021〕22号")
	adm.fill(`#plan-change textarea[name=reason]`, "两区承接省级试点，顺延一个月")
	adm.click(`#scope-some`)
	adm.fill(`#plan-change [data-field=units] textarea`, "芙蓉区、天心去")
	adm.click(`#chg-due`)
	adm.setValue(`#plan-change input[name=new_due]`, "2022-01-31")
	adm.click(`#chg-reminders`)
	adm.fill(`#plan-change input[name=reminders]`, "14、3")
	adm.click(`#plan-change button[type=submit]`)
	adm.waitText(`#plan-change [data-field=units] .field-error`, "天心去")
	var n int
	if err := f.stack.DB.Pool.QueryRow(context.Background(), `SELECT count(*) FROM plan_changes WHERE doc_no = '湘计生协〔2021〕22号'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("a refused change was stored (%d, %v)", n, err)
	}
	adm.fill(`#plan-change [data-field=units] textarea`, "芙蓉区、天心区")
	adm.click(`#plan-change button[type=submit]`)
	adm.waitText("#toasts", "已登记变更 湘计生协〔2021〕22号，正在送达 2 项任务")
	adm.waitJSFor("the change to reach its tasks", `document.querySelector('#change-list tr[data-status="done"]')`, 60*time.Second)
	adm.waitText("#change-list", "已完成：送达 2")
	adm.waitText("#change-list", "截止日期调整为 2022年1月31日；提醒调整为到期前 14天、3天")
	adm.waitText("#change-list", "芙蓉区、天心区")
	adm.waitText("#plan-versions", "湘计生协〔2021〕22号")
	adm.shot("15-plan-changes", "#change-list")

	adm.goTo("#/tasks/" + escape("2021/3.2/430102"))
	adm.waitText(".timeline", "计划变更")
	adm.waitText(".timeline", "依据 湘计生协〔2021〕22号")
	adm.waitText(".timeline", "两区承接省级试点")
	// Another county's task is as it was.
	row, err := f.stack.DB.Instance(context.Background(), "2021/3.2/430104")
	if err != nil {
		t.Fatal(err)
	}
	if row.Due.Year() != 2021 {
		t.Fatalf("岳麓区's 3.2 moved to %s", row.Due)
	}
}

// TestPlanCopyInTheBrowser: the province's admin copies the 2021 plan to
// 2022 from 计划管理; the page proposes the new id from the year, a second
// copy of the same id is refused next to the form, and the copy is listed.
func TestPlanCopyInTheBrowser(t *testing.T) {
	f := getFixture(t)
	srv := f.serve(t, "plancopy", duban.Clock{Scale: 1, VirtualEpoch: time.Date(2021, 6, 1, 9, 0, 0, 0, duban.Shanghai), RealEpoch: time.Now()}, "3.2")
	adm := f.signIn(t, srv, "hunan-admin")
	adm.goTo("#/plans")
	adm.waitText("#copy-h", "复制到新年度")
	adm.setValue(`#copy-from`, "hunan-2021")
	adm.setValue(`#copy-year`, "2027")
	adm.waitJS("the proposed id", `document.querySelector('#copy-id').value === 'hunan-2027'`)
	adm.click(`#plan-copy button[type=submit]`)
	adm.waitText("#toasts", "已复制为计划 hunan-2027（2027 年）")
	adm.waitText("table", "hunan-2027")
	src, err := f.stack.DB.PlanSource(context.Background(), "hunan-2027")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(src), "year: 2027") || !strings.Contains(string(src), "2027-12-31") {
		t.Errorf("the copy was not moved to 2027:\n%.400s", src)
	}
	adm.setValue(`#copy-from`, "hunan-2021")
	adm.setValue(`#copy-year`, "2027")
	adm.waitJS("the proposed id", `document.querySelector('#copy-id').value === 'hunan-2027'`)
	adm.click(`#plan-copy button[type=submit]`)
	adm.waitText(`#plan-copy`, "计划 hunan-2027 已存在")
}
