package uitest_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/duban-dev/duban"
)

// TestAdminManagesAccountsAndANewUserChangesThePassword: 长沙市's admin
// adds an account for 天心区 on 用户管理 (a bad mobile is refused next to
// its field), reads the initial password once, finds the account by
// status and name, disables and enables it; the new user signs in with
// the initial password, can do nothing before choosing their own, and
// then lands on their tasks. A reset sends them back to 修改密码.
func TestAdminManagesAccountsAndANewUserChangesThePassword(t *testing.T) {
	f := getFixture(t)
	srv, adm := f.accountsAdmin(t)
	adm.click(`nav a[href="#/users"]`)
	adm.waitText("#page-title", "用户管理")
	adm.waitText("#user-list", "长沙市审核人")
	adm.eval(`(() => { document.querySelector('#user-create-box').open = true; window.confirm = () => true; return true; })()`, nil)
	adm.fill(`#user-create input[name=username]`, "Tianxin-Li")
	adm.fill(`#user-create input[name=display_name]`, "天心区李干事")
	adm.fill(`#new-user-unit`, "天心区（430103）")
	adm.fill(`#user-create input[name=mobile]`, "1380013800")
	adm.click(`#user-create button[type=submit]`)
	adm.waitText(`#user-create [data-field=mobile] .field-error`, "手机号应为 11 位数字")
	adm.fill(`#user-create input[name=mobile]`, "13800138000")
	adm.click(`#user-create button[type=submit]`)
	adm.waitText("#user-secret", "已新增账号：天心区李干事")
	initial := adm.str(`document.querySelector('#user-secret code.initial-password').textContent`)
	if len(initial) != 12 {
		t.Fatalf("initial password %q", initial)
	}
	adm.waitText(`#user-list tr[data-username="Tianxin-Li"]`, "待修改初始密码")
	adm.shot("30-users", "#user-list")

	// Filters: by name, by status.
	adm.fill(`#user-filters input[name=q]`, "李干事")
	adm.click(`#user-filters button[type=submit]`)
	adm.waitJS("one row", `document.querySelectorAll('#user-list tbody tr').length === 1 && !!document.querySelector('#user-list tr[data-username="Tianxin-Li"]')`)
	adm.click(`#user-list tr[data-username="Tianxin-Li"] button[data-action=disable]`)
	adm.waitText("#toasts", "已停用 天心区李干事")
	adm.goTo("#/users?status=disabled")
	adm.waitText(`#user-list tr[data-username="Tianxin-Li"]`, "停用")
	adm.click(`#user-list tr[data-username="Tianxin-Li"] button[data-action=enable]`)
	adm.waitText("#toasts", "已启用 天心区李干事")

	// The new user: the initial password opens only 修改密码.
	u := f.open(t, srv)
	u.login("tianxin-li", initial)
	u.waitText("#page-title", "修改密码")
	u.waitText("#must-change", "管理员设置的初始密码")
	u.eval(`(() => { location.hash = '#/tasks'; return true; })()`, nil)
	u.waitJS("back to 修改密码", `location.hash === '#/password' && document.querySelector('#page-title').textContent === '修改密码'`)
	u.fill(`#password-form input[name=current_password]`, initial)
	u.fill(`#password-form input[name=new_password]`, initial)
	u.fill(`#password-form input[name=new_password_again]`, initial)
	u.click(`#password-form button[type=submit]`)
	u.waitText(`#password-form [data-field=new_password] .field-error`, "不能与当前密码相同")
	u.fill(`#password-form input[name=new_password]`, "天心区李干事的新密码")
	u.fill(`#password-form input[name=new_password_again]`, "天心区李干事的新密码")
	u.click(`#password-form button[type=submit]`)
	u.waitText("#page-title", "我的待办")
	u.waitText("#toasts", "密码已修改")
	var must bool
	if err := f.stack.DB.Pool.QueryRow(context.Background(), `SELECT must_change_password FROM users WHERE username = 'Tianxin-Li'`).Scan(&must); err != nil || must {
		t.Fatalf("must_change_password %v (%v)", must, err)
	}

	// A reset: a new password shown once; the user's session ends.
	adm.goTo("#/users?q=Tianxin")
	adm.click(`#user-list tr[data-username="Tianxin-Li"] button[data-action=reset]`)
	adm.waitText("#user-secret", "已重置 天心区李干事 的密码")
	reset := adm.str(`document.querySelector('#user-secret code.initial-password').textContent`)
	if reset == initial || len(reset) != 12 {
		t.Fatalf("reset password %q", reset)
	}
	u.eval(`(() => { location.hash = '#/notifications'; return true; })()`, nil)
	u.waitJS("the sign-in form", `!!document.querySelector('form.login-form')`)
	u.login("tianxin-li", reset)
	u.waitText("#page-title", "修改密码")
	// Every user reaches 修改密码 from the header.
	adm.click(`#change-password`)
	adm.waitText("#page-title", "修改密码")
	adm.waitNoText("main", "管理员设置的初始密码")
}

// TestAdminManagesUnits: 长沙市's admin finds 天心区 by name, adds two
// townships below it (a code of the wrong length is refused next to its
// field), renames one, and merges the other into it, following the merge
// to its end; the users page's unit picker then knows the renamed one.
func TestAdminManagesUnits(t *testing.T) {
	f := getFixture(t)
	_, adm := f.accountsAdmin(t)
	// The townships added here leave with the test: other tests launch
	// plans down to every township and count them.
	t.Cleanup(func() {
		for _, code := range []string{"430103902", "430103901"} {
			if _, err := f.stack.DB.Pool.Exec(context.Background(), `DELETE FROM units WHERE code = $1`, code); err != nil {
				t.Errorf("remove unit %s: %v", code, err)
			}
		}
	})
	adm.click(`nav a[href="#/users"]`)
	adm.click(`.page-actions a[href="#/units"]`)
	adm.waitText("#page-title", "单位管理")
	adm.waitText("#unit-tree", "芙蓉区")
	adm.eval(`(() => { window.confirm = () => true; return true; })()`, nil)
	adm.fill(`#unit-search input[name=q]`, "天心")
	adm.click(`#unit-search button[type=submit]`)
	adm.waitText("#unit-results", "湖南省 长沙市 天心区")
	adm.click(`#unit-results button[data-action=add][data-code="430103"]`)
	adm.fill(`#unit-add input[name=code]`, "43010390")
	adm.fill(`#unit-add input[name=name]`, "试点街道")
	adm.click(`#unit-add button[type=submit]`)
	adm.waitText(`#unit-add [data-field=code] .field-error`, "区划代码应为")
	adm.fill(`#unit-add input[name=code]`, "430103901")
	adm.click(`#unit-add button[type=submit]`)
	adm.waitText("#toasts", "试点街道（430103901）")
	adm.click(`#unit-results button[data-action=add][data-code="430103"]`)
	adm.fill(`#unit-add input[name=code]`, "430103902")
	adm.fill(`#unit-add input[name=name]`, "试点二街道")
	adm.click(`#unit-add button[type=submit]`)
	adm.waitText("#toasts", "试点二街道（430103902）")

	adm.fill(`#unit-search input[name=q]`, "试点")
	adm.click(`#unit-search button[type=submit]`)
	adm.waitJS("both new townships", `document.querySelectorAll('#unit-results li').length === 2`)
	adm.click(`#unit-results button[data-action=rename][data-code="430103901"]`)
	adm.fill(`#unit-rename input[name=name]`, "试点合并街道")
	adm.click(`#unit-rename button[type=submit]`)
	adm.waitText("#toasts", "已更名为 试点合并街道")
	adm.waitText("#unit-results", "试点合并街道")
	adm.click(`#unit-results button[data-action=merge][data-code="430103902"]`)
	adm.setValue(`#unit-merge select[name=into]`, "430103901")
	adm.click(`#unit-merge button[type=submit]`)
	adm.waitText(`#unit-merge [data-field=reason] .field-error`, "合并依据")
	adm.fill(`#unit-merge textarea[name=reason]`, "长政函〔2021〕9号：两街道合并")
	adm.click(`#unit-merge button[type=submit]`)
	adm.waitJSFor("the merge to end", `!!document.querySelector('#merge-progress [data-done]')`, 60*time.Second)
	adm.waitText("#merge-progress", "试点二街道 已并入 试点合并街道")
	adm.shot("31-units", "#unit-panel")
	var merged string
	if err := f.stack.DB.Pool.QueryRow(context.Background(), `SELECT name FROM units WHERE code = '430103901'`).Scan(&merged); err != nil || merged != "试点合并街道" {
		t.Fatalf("unit 430103901 is %q (%v)", merged, err)
	}
}

// accountSheet is an .xlsx with the sheet 账号: the template's header, then rows.
func accountSheet(t *testing.T, rows ...[]string) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", "账号"); err != nil {
		t.Fatal(err)
	}
	for i, r := range append([][]string{{"单位编码或名称", "姓名", "用户名", "角色", "邮箱", "手机"}}, rows...) {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		row := make([]any, len(r))
		for j, v := range r {
			row[j] = v
		}
		if err := f.SetSheetRow("账号", cell, &row); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestImportAccountsInTheBrowser: 长沙市's admin downloads the template,
// uploads a sheet with a bad row (sees its row number and reason; nothing
// is stored), fixes it, imports it and downloads the initial passwords;
// a new user signs in with theirs, must change it before anything else,
// and then lands on their tasks.
func TestImportAccountsInTheBrowser(t *testing.T) {
	f := getFixture(t)
	ctx := context.Background()
	srv, adm := f.accountsAdmin(t)
	adm.goTo("#/users")
	adm.click(`a[data-action=import]`)
	adm.waitText("#page-title", "批量导入账号")
	adm.click("#import-template")
	adm.waitJS("the template downloaded", `!document.querySelector('#import-template').disabled`)

	rows := [][]string{
		{"天心区", "天心区周干事", "tx-zhou", "承办人", "zhou@example.cn", "13800138011"},
		{"430103", "天心区吴干事", "tx-wu", "承办人、局长", "", ""},
		{"430102", "芙蓉区郑主任", "fr-zheng", "审核人", "", "13800138013"},
	}
	adm.upload(`#import-form input[name=file]`, map[string][]byte{"账号.xlsx": accountSheet(t, rows...)})
	adm.click(`#import-form button[type=submit]`)
	adm.waitText(`#import-errors tr[data-line="3"]`, "未知角色“局长”")
	adm.waitText("#import-errors", "未导入任何账号")
	adm.waitText(`#import-errors tr[data-line="3"]`, "角色")
	if n := adm.str(`document.querySelectorAll('#import-errors tbody tr').length`); n != "1" {
		t.Fatalf("%s bad rows shown, want 1", n)
	}
	adm.shot("32-import-errors", "#import-errors")
	var n int
	if err := f.stack.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM users WHERE username IN ('tx-zhou', 'tx-wu', 'fr-zheng')`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("a refused sheet stored %d accounts (%v)", n, err)
	}

	rows[1][3] = "承办人"
	adm.upload(`#import-form input[name=file]`, map[string][]byte{"账号.xlsx": accountSheet(t, rows...)})
	adm.click(`#import-form button[type=submit]`)
	adm.waitText("#import-checked", "校验通过：共 3 行，将新增 3 个、更新 0 个账号")
	adm.waitText(`#import-checked tr[data-line="4"]`, "芙蓉区郑主任")
	// The page hands the password sheet to the browser as a blob; keep it
	// to read what the browser would save.
	adm.eval(`(() => { const orig = URL.createObjectURL; URL.createObjectURL = (b) => { window.__blob = b; return orig.call(URL, b); }; return true; })()`, nil)
	adm.click("#import-confirm")
	adm.waitText("#import-done", "已导入：新增 3 个账号，更新 0 个账号")
	adm.shot("33-import-done", "#import-done")
	// The password sheet, as the browser would save it.
	adm.eval(`(() => { window.__blob.arrayBuffer().then((b) => {
		window.__sheet = btoa(String.fromCharCode(...new Uint8Array(b))); }); return true; })()`, nil)
	adm.waitJS("the password sheet", `!!window.__sheet`)
	if name := adm.str(`document.querySelector('#password-sheet').getAttribute('download')`); !strings.HasPrefix(name, "初始密码-长沙市") {
		t.Fatalf("password sheet named %q", name)
	}
	data, err := base64.StdEncoding.DecodeString(adm.str(`window.__sheet`))
	if err != nil {
		t.Fatal(err)
	}
	x, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	sheet, err := x.GetRows(x.GetSheetName(0))
	if err != nil || len(sheet) != 4 {
		t.Fatalf("password sheet %v (%v)", sheet, err)
	}
	initial := ""
	for _, r := range sheet[1:] {
		if r[3] == "tx-wu" {
			initial = r[4]
		}
	}
	if len(initial) != 12 {
		t.Fatalf("no initial password for tx-wu in %v", sheet)
	}

	u := f.open(t, srv)
	u.login("tx-wu", initial)
	u.waitText("#page-title", "修改密码")
	u.waitText("#must-change", "初始密码")
	if items := u.str(`document.querySelectorAll('#topbar nav a').length`); items != "0" {
		t.Fatalf("%s menus before the password is changed", items)
	}
	u.fill(`#password-form input[name=current_password]`, initial)
	u.fill(`#password-form input[name=new_password]`, "吴干事自己的密码")
	u.fill(`#password-form input[name=new_password_again]`, "吴干事自己的密码")
	u.click(`#password-form button[type=submit]`)
	u.waitText("#page-title", "我的待办")
	u.waitText(".who", "天心区吴干事")
}

// accountsAdmin is the account tests' server (no plan launched: accounts
// need none) and 长沙市's admin signed in to it.
func (f *fixture) accountsAdmin(t *testing.T) (*server, *page) {
	t.Helper()
	srv := f.serve(t, "accounts", duban.Clock{Scale: 1, VirtualEpoch: time.Date(2021, 6, 1, 9, 0, 0, 0, duban.Shanghai), RealEpoch: time.Now()})
	return srv, f.signIn(t, srv, "changsha-admin")
}
