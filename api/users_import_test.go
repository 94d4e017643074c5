package api_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"
)

var importHeader = []string{"单位编码或名称", "姓名", "用户名", "角色", "邮箱", "手机"}

// accountSheet is an .xlsx with the sheet 账号: the header, then rows.
func accountSheet(t testing.TB, rows ...[]string) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	require.NoError(t, f.SetSheetName("Sheet1", "账号"))
	for i, r := range append([][]string{importHeader}, rows...) {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		row := make([]any, len(r))
		for j, v := range r {
			row[j] = v
		}
		require.NoError(t, f.SetSheetRow("账号", cell, &row))
	}
	var buf bytes.Buffer
	require.NoError(t, f.Write(&buf))
	return buf.Bytes()
}

func importBody(sheet []byte) *body {
	return multipartBody(nil, map[string][]byte{"账号.xlsx": sheet})
}

// badRows reads a refused import's errors as "line 列: message".
func badRows(t *testing.T, p map[string]any) map[int][]string {
	t.Helper()
	out := map[int][]string{}
	for _, e := range p["errors"].([]any) {
		m := e.(map[string]any)
		line := int(m["line"].(float64))
		out[line] = append(out[line], m["field"].(string)+": "+m["message"].(string))
	}
	return out
}

// readSheet reads an .xlsx's first sheet.
func readSheet(t *testing.T, data []byte) [][]string {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(data))
	require.NoError(t, err)
	defer f.Close()
	rows, err := f.GetRows(f.GetSheetName(0))
	require.NoError(t, err)
	return rows
}

func TestImportTemplate(t *testing.T) {
	f := getFixture(t)
	res := f.as(t, "changsha-admin", "GET", "/api/v1/users/import/template", nil)
	require.Equal(t, 200, res.status, "%s", res.body)
	require.Contains(t, res.header.Get("Content-Disposition"), ".xlsx")
	x, err := excelize.OpenReader(bytes.NewReader(res.body))
	require.NoError(t, err)
	defer x.Close()
	require.Equal(t, []string{"账号", "填写说明", "单位编码"}, x.GetSheetList())
	head, err := x.GetRows("账号")
	require.NoError(t, err)
	require.Equal(t, importHeader, head[0])
	help, err := x.GetRows("填写说明")
	require.NoError(t, err)
	text := fmt.Sprint(help)
	for _, role := range []string{"承办人", "审核人", "督查人", "管理员"} {
		require.Contains(t, text, role)
	}
	units, err := x.GetRows("单位编码")
	require.NoError(t, err)
	require.Greater(t, len(units), 100) // 长沙市, its counties and townships
	for _, r := range units[1:] {
		require.True(t, strings.HasPrefix(r[0], "4301"), "%v is not 长沙市's", r)
	}
}

// TestImportRefusesEveryBadRowAndStoresNothing: one sheet with a fault in
// every row: each bad row is named with its number, column and reason,
// and nothing is stored, in the dry run or the import.
func TestImportRefusesEveryBadRowAndStoresNothing(t *testing.T) {
	f := getFixture(t)
	ctx := context.Background()
	var ambiguous string
	_ = f.stack.DB.Pool.QueryRow(ctx, `SELECT name FROM units WHERE code LIKE '4301%' GROUP BY name HAVING count(*) > 1 ORDER BY name LIMIT 1`).Scan(&ambiguous)
	rows := [][]string{
		{"430103", "好的一行", "import-good", "承办人", "", ""},                              // 2: fine
		{"岳阳楼区", "外市单位", "import-bad-1", "承办人", "", ""},                               // 3: 岳阳市's unit, by name
		{"430602", "外市编码", "import-bad-2", "承办人", "", ""},                             // 4: 岳阳市's unit, by code
		{"430103", "坏用户名", "x", "承办人", "", ""},                                        // 5
		{"430103", "重复", "IMPORT-GOOD", "承办人", "", ""},                                // 6: row 2's, in another case
		{"430103", "未知角色", "import-bad-3", "承办人、局长", "", ""},                          // 7
		{"430103", "坏邮箱", "import-bad-4", "承办人", "not-an-email", ""},                  // 8
		{"430103", "坏手机", "import-bad-5", "承办人", "", "1380013800"},                    // 9
		{"430103", "控制\u0007字符", "import-bad-6", "承办人", "", ""},                       // 10
		{"", "", "import-bad-7", "", "", ""},                                          // 11: no unit, no name, no role
		{"430103", "外市用户", "yueyanglou-official", "承办人", "", ""},                      // 12: 岳阳市's account
		{"430103", strings.Repeat("长", 61), "import-bad-8", "approver,admin", "", ""}, // 13
	}
	if ambiguous != "" {
		rows = append(rows, []string{ambiguous, "重名单位", "import-bad-9", "承办人", "", ""}) // 14
	}
	sheet := accountSheet(t, rows...)
	for _, path := range []string{"/api/v1/users/import?dry_run=1", "/api/v1/users/import"} {
		p := f.as(t, "changsha-admin", "POST", path, importBody(sheet)).problem(t, 422, "invalid")
		bad := badRows(t, p)
		want := []int{3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13}
		if ambiguous != "" {
			want = append(want, 14)
			require.Contains(t, fmt.Sprint(bad[14]), "请改填单位编码")
		}
		var got []int
		for line := range bad {
			got = append(got, line)
		}
		require.ElementsMatch(t, want, got, "%v", bad)
		require.Contains(t, p["detail"], "行有误")
		require.Contains(t, p["detail"], "未导入任何账号")
		require.Contains(t, fmt.Sprint(bad[3]), "不在您的管理范围内")
		require.Contains(t, fmt.Sprint(bad[4]), "不在您的管理范围内")
		require.Contains(t, fmt.Sprint(bad[5]), "用户名: ")
		require.Contains(t, fmt.Sprint(bad[6]), "与第 2 行的用户名重复")
		require.Contains(t, fmt.Sprint(bad[7]), "未知角色“局长”")
		require.Contains(t, fmt.Sprint(bad[8]), "邮箱: 邮箱格式不正确")
		require.Contains(t, fmt.Sprint(bad[9]), "手机: ")
		require.Contains(t, fmt.Sprint(bad[10]), "姓名: 姓名包含") // a control character, or what Excel kept of it
		require.Len(t, bad[11], 3)                           // unit, name, roles
		require.Contains(t, fmt.Sprint(bad[12]), "管理范围以外")
		require.Contains(t, fmt.Sprint(bad[13]), "姓名: ")
	}
	require.Equal(t, 0, countRows(t, f.stack.DB, `SELECT count(*) FROM users WHERE username LIKE 'import-%'`))
	require.Equal(t, 0, countRows(t, f.stack.DB, `SELECT count(*) FROM audit_log WHERE action = 'user.import'`))

	// Not a spreadsheet, no header, no rows, no file.
	for name, b := range map[string]*body{
		"text":      multipartBody(nil, map[string][]byte{"账号.xlsx": []byte("单位,姓名\n430103,张三")}),
		"no header": importBody(func() []byte { s := accountSheet(t); return s }()),
		"no file":   multipartBody(map[string][]string{"x": {"y"}}, nil),
	} {
		p := f.as(t, "changsha-admin", "POST", "/api/v1/users/import?dry_run=1", b).problem(t, 422, "invalid")
		require.Equal(t, "file", p["errors"].([]any)[0].(map[string]any)["field"], name)
	}
	missing := excelize.NewFile()
	require.NoError(t, missing.SetSheetRow("Sheet1", "A1", &[]any{"姓名", "用户名"}))
	var buf bytes.Buffer
	require.NoError(t, missing.Write(&buf))
	p := f.as(t, "changsha-admin", "POST", "/api/v1/users/import?dry_run=1", importBody(buf.Bytes())).problem(t, 422, "invalid")
	require.Contains(t, fmt.Sprint(p["errors"]), "缺少列：单位编码或名称、角色")
	f.as(t, "changsha-admin", "POST", "/api/v1/users/import", jsonBody(map[string]any{})).problem(t, 415, "unsupported_media_type")
}

// TestImportCreatesAndReimportUpdates: a good sheet is checked (nothing
// stored), imported (new accounts with initial passwords, once, that must
// be changed; one audit row with the counts), and imported again with
// changes, usernames in another case: the accounts are updated, none
// added, passwords kept.
func TestImportCreatesAndReimportUpdates(t *testing.T) {
	f := getFixture(t)
	admin := "changsha-admin"
	sheet := accountSheet(t,
		[]string{"430103", "天心区张三", "Import-Zhang", "承办人", "zhang@example.cn", "13800138001"},
		[]string{"芙蓉区", "芙蓉区李四", "import-li", "审核人、督查人", "", ""},
		[]string{"", "", "", "", "", ""}, // an empty row is skipped
		[]string{"4301", "长沙市王五", "import-wang", "official, approver", "", "13800138003"},
	)
	res := f.as(t, admin, "POST", "/api/v1/users/import?dry_run=1", importBody(sheet))
	require.Equal(t, 200, res.status, "%s", res.body)
	dry := res.json(t)
	require.Equal(t, true, dry["dry_run"])
	require.EqualValues(t, 3, dry["rows"])
	require.EqualValues(t, 3, dry["created"])
	require.Empty(t, dry["passwords_xlsx"])
	require.Equal(t, 0, countRows(t, f.stack.DB, `SELECT count(*) FROM users WHERE lower(username) LIKE 'import-%'`))
	preview := dry["preview"].([]any)
	require.Len(t, preview, 3)
	require.Equal(t, "芙蓉区", preview[1].(map[string]any)["unit"].(map[string]any)["name"])
	require.EqualValues(t, 5, preview[2].(map[string]any)["line"])

	res = f.as(t, admin, "POST", "/api/v1/users/import", importBody(sheet))
	require.Equal(t, 200, res.status, "%s", res.body)
	done := res.json(t)
	require.EqualValues(t, 3, done["created"])
	require.EqualValues(t, 0, done["updated"])
	require.Contains(t, done["passwords_file"], "初始密码-长沙市")
	file, err := base64.StdEncoding.DecodeString(done["passwords_xlsx"].(string))
	require.NoError(t, err)
	rows := readSheet(t, file)
	require.Equal(t, []string{"单位", "单位编码", "姓名", "用户名", "初始密码"}, rows[0])
	require.Len(t, rows, 4)
	require.Equal(t, "湖南省 长沙市 天心区", rows[1][0])
	require.Equal(t, "Import-Zhang", rows[1][3])
	initial := map[string]string{}
	for _, r := range rows[1:] {
		require.Len(t, r[4], 12)
		initial[r[3]] = r[4]
	}
	signedIn := login(t, f, "import-zhang", initial["Import-Zhang"]).json(t)
	require.Equal(t, true, signedIn["user"].(map[string]any)["must_change_password"])
	f.do(t, signedIn["access_token"].(string), "GET", "/api/v1/tasks", nil).problem(t, 403, "password_change_required")
	li := f.as(t, admin, "GET", "/api/v1/users?q=import-li", nil).json(t)["items"].([]any)[0].(map[string]any)
	require.Len(t, li["roles"], 2)
	require.Equal(t, "430102", li["unit"].(map[string]any)["code"])

	require.Equal(t, 1, countRows(t, f.stack.DB, `SELECT count(*) FROM audit_log WHERE action = 'user.import' AND detail::jsonb->>'created' = '3'`))
	for _, pw := range initial {
		require.Equal(t, 0, countRows(t, f.stack.DB, `SELECT count(*) FROM audit_log WHERE detail LIKE '%' || $1 || '%'`, pw))
	}

	// Again, changed, another case: updates only; the passwords stay.
	again := accountSheet(t,
		[]string{"430104", "岳麓区张三", "IMPORT-ZHANG", "审核人", "", ""},
		[]string{"芙蓉区", "芙蓉区李四", "Import-Li", "审核人", "", ""},
		[]string{"430103", "天心区赵六", "import-zhao", "承办人", "", ""},
	)
	res = f.as(t, admin, "POST", "/api/v1/users/import", importBody(again))
	require.Equal(t, 200, res.status, "%s", res.body)
	done = res.json(t)
	require.EqualValues(t, 1, done["created"])
	require.EqualValues(t, 2, done["updated"])
	require.Len(t, readSheet(t, mustB64(t, done["passwords_xlsx"].(string))), 2) // only the new account
	zhang := f.as(t, admin, "GET", "/api/v1/users?q=import-zhang", nil).json(t)["items"].([]any)
	require.Len(t, zhang, 1)
	z := zhang[0].(map[string]any)
	require.Equal(t, "Import-Zhang", z["username"]) // the username keeps its case
	require.Equal(t, "岳麓区张三", z["display_name"])
	require.Equal(t, "430104", z["unit"].(map[string]any)["code"])
	require.Equal(t, "approver", z["roles"].([]any)[0].(map[string]any)["role"])
	require.Equal(t, 200, login(t, f, "import-zhang", initial["Import-Zhang"]).status)
	require.Equal(t, 4, countRows(t, f.stack.DB, `SELECT count(*) FROM users WHERE lower(username) LIKE 'import-%'`))

	// 岳阳市's admin sees none of them, and cannot take them over.
	require.Empty(t, f.as(t, "yueyang-admin", "GET", "/api/v1/users?q=import-", nil).json(t)["items"])
	p := f.as(t, "yueyang-admin", "POST", "/api/v1/users/import?dry_run=1",
		importBody(accountSheet(t, []string{"430602", "抢账号", "import-li", "承办人", "", ""}))).problem(t, 422, "invalid")
	require.Contains(t, fmt.Sprint(badRows(t, p)[2]), "管理范围以外")
	// And an admin keeps their own admin role.
	p = f.as(t, admin, "POST", "/api/v1/users/import?dry_run=1",
		importBody(accountSheet(t, []string{"4301", "长沙市管理员", admin, "承办人", "", ""}))).problem(t, 422, "invalid")
	require.Contains(t, fmt.Sprint(badRows(t, p)[2]), "不能取消自己的管理员角色")
}

func mustB64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	require.NoError(t, err)
	return b
}
