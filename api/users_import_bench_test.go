package api_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/org"
)

// benchImports numbers the imports of a run, so each one's usernames are new.
var benchImports int

// BenchmarkImportHunanAccounts imports three accounts for every unit of
// Hunan's real divisions (the province, 14 cities, the county-level units
// and the townships: about 6,500 rows) as the province's admin, through
// the API on the real database: the check (dry run) and the import (the
// transaction, the generated passwords and their sheet). It prints the
// figures docs/benchmarks.md quotes:
//
//	go test -run '^$' -bench ImportHunanAccounts -benchtime 1x ./api/
func BenchmarkImportHunanAccounts(b *testing.B) {
	f := getFixture(b)
	res := f.do(b, "", "POST", "/api/v1/auth/login", jsonBody(map[string]string{"username": "hunan-admin", "password": pw}))
	if res.status != 200 {
		b.Fatalf("login: %s", res.body)
	}
	var signedIn struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(res.body, &signedIn); err != nil {
		b.Fatal(err)
	}
	units := org.Hunan().All()
	roles := []string{duban.RoleOfficial.Label(), duban.RoleApprover.Label(), duban.RoleSupervisor.Label()}
	var check, imp time.Duration
	rows := 0
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		benchImports++
		sheet := excelize.NewFile()
		if err := sheet.SetSheetName("Sheet1", "账号"); err != nil {
			b.Fatal(err)
		}
		sw, err := sheet.NewStreamWriter("账号")
		if err != nil {
			b.Fatal(err)
		}
		if err := sw.SetRow("A1", []any{"单位编码或名称", "姓名", "用户名", "角色", "邮箱", "手机"}); err != nil {
			b.Fatal(err)
		}
		rows = 0
		for _, u := range units {
			for k, role := range roles {
				rows++
				cell, _ := excelize.CoordinatesToCellName(1, rows+1)
				if err := sw.SetRow(cell, []any{u.Code, fmt.Sprintf("%s%s%d", u.Name, role, k+1), fmt.Sprintf("b%d-%s-%d", benchImports, u.Code, k+1), role,
					"", fmt.Sprintf("138%08d", rows)}); err != nil {
					b.Fatal(err)
				}
			}
		}
		if err := sw.Flush(); err != nil {
			b.Fatal(err)
		}
		buf, err := sheet.WriteToBuffer()
		if err != nil {
			b.Fatal(err)
		}
		body := importBody(buf.Bytes())
		b.StartTimer()

		start := time.Now()
		res := f.do(b, signedIn.AccessToken, "POST", "/api/v1/users/import?dry_run=1", body)
		check += time.Since(start)
		if res.status != 200 {
			b.Fatalf("check: %d %.500s", res.status, res.body)
		}
		start = time.Now()
		res = f.do(b, signedIn.AccessToken, "POST", "/api/v1/users/import", body)
		imp += time.Since(start)
		if res.status != 200 {
			b.Fatalf("import: %d %.500s", res.status, res.body)
		}
		var done struct {
			Created int `json:"created"`
		}
		if err := json.Unmarshal(res.body, &done); err != nil || done.Created != rows {
			b.Fatalf("created %d of %d (%v)", done.Created, rows, err)
		}
	}
	n := float64(b.N)
	b.ReportMetric(float64(rows), "accounts")
	b.ReportMetric(check.Seconds()/n, "check-s")
	b.ReportMetric(imp.Seconds()/n, "import-s")
	b.Logf("imported %d accounts (%d units × 3) %d time(s): check %.2f s, import %.2f s (mean)", rows, len(units), b.N, check.Seconds()/n, imp.Seconds()/n)
}
