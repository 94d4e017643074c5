package api_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestANewAccountChangesItsPasswordFirst: an account an admin adds gets a
// generated password, shown once; signing in with it, the user can read
// who they are and change the password, and nothing else, until they do.
// An admin's reset starts it over and ends the user's sessions.
func TestANewAccountChangesItsPasswordFirst(t *testing.T) {
	f := getFixture(t)
	admin := "yueyang-admin"
	res := f.as(t, admin, "POST", "/api/v1/users", jsonBody(map[string]any{"username": "first-time", "display_name": "初次登录",
		"unit_code": "430602", "roles": []string{"official"}, "mobile": "13800138000"}))
	require.Equal(t, 201, res.status, "%s", res.body)
	created := res.json(t)
	initial := created["initial_password"].(string)
	require.Len(t, initial, 12)
	require.Equal(t, true, created["must_change_password"])
	require.Equal(t, "13800138000", created["mobile"])
	id := int64(created["id"].(float64))

	signedIn := login(t, f, "first-time", initial).json(t)
	require.Equal(t, true, signedIn["user"].(map[string]any)["must_change_password"])
	tok := signedIn["access_token"].(string)
	require.Equal(t, true, f.do(t, tok, "GET", "/api/v1/me", nil).json(t)["must_change_password"])
	for _, path := range []string{"/api/v1/tasks", "/api/v1/notifications", "/api/v1/units"} {
		p := f.do(t, tok, "GET", path, nil).problem(t, 403, "password_change_required")
		require.Contains(t, p["detail"], "请先修改密码")
	}
	f.do(t, tok, "POST", "/api/v1/notifications/stream-ticket", nil).problem(t, 403, "password_change_required")
	f.do(t, tok, "GET", "/api/v1/notifications/stream", nil).problem(t, 403, "password_change_required")

	// The same password again is refused, naming the field.
	p := f.do(t, tok, "POST", "/api/v1/me/password", jsonBody(map[string]string{"current_password": initial, "new_password": initial})).problem(t, 422, "invalid")
	require.Equal(t, "new_password", p["errors"].([]any)[0].(map[string]any)["field"])
	require.Equal(t, 204, f.do(t, tok, "POST", "/api/v1/me/password", jsonBody(map[string]string{"current_password": initial, "new_password": "my own secret 1"})).status)
	f.do(t, tok, "GET", "/api/v1/me", nil).problem(t, 401, "unauthorized")
	tok = login(t, f, "first-time", "my own secret 1").json(t)["access_token"].(string)
	require.Equal(t, false, f.do(t, tok, "GET", "/api/v1/me", nil).json(t)["must_change_password"])
	require.Equal(t, 200, f.do(t, tok, "GET", "/api/v1/tasks", nil).status)

	// An admin's reset: a new password shown once, the old sessions end,
	// the change is required again; the audit row holds no password.
	res = f.as(t, admin, "POST", fmt.Sprintf("/api/v1/users/%d/reset-password", id), nil)
	require.Equal(t, 200, res.status, "%s", res.body)
	reset := res.json(t)["initial_password"].(string)
	require.NotEqual(t, initial, reset)
	f.do(t, tok, "GET", "/api/v1/me", nil).problem(t, 401, "unauthorized")
	login(t, f, "first-time", "my own secret 1").problem(t, 401, "unauthorized")
	tok = login(t, f, "first-time", reset).json(t)["access_token"].(string)
	f.do(t, tok, "GET", "/api/v1/tasks", nil).problem(t, 403, "password_change_required")
	require.Equal(t, 204, f.do(t, tok, "POST", "/api/v1/auth/logout", nil).status)
	require.Equal(t, 1, countRows(t, f.stack.DB, `SELECT count(*) FROM audit_log WHERE action = 'user.reset_password' AND detail::jsonb->>'user_id' = $1`, fmt.Sprint(id)))
	require.Equal(t, 0, countRows(t, f.stack.DB, `SELECT count(*) FROM audit_log WHERE detail::text LIKE '%' || $1 || '%'`, reset))
	require.Equal(t, 1, countRows(t, f.stack.DB, `SELECT count(*) FROM audit_log WHERE action = 'user.password' AND actor_id = $1`, id))

	// A password an admin types in the form is also changed on first use.
	require.Equal(t, 200, f.as(t, admin, "PATCH", fmt.Sprintf("/api/v1/users/%d", id), jsonBody(map[string]string{"password": "typed by the admin"})).status)
	require.Equal(t, true, login(t, f, "first-time", "typed by the admin").json(t)["user"].(map[string]any)["must_change_password"])

	// Another city's admin sees no such user.
	f.as(t, "changsha-admin", "POST", fmt.Sprintf("/api/v1/users/%d/reset-password", id), nil).problem(t, 404, "not_found")
	f.as(t, admin, "POST", fmt.Sprintf("/api/v1/users/%d/reset-password", f.user(admin).ID), nil).problem(t, 409, "conflict")
}

// TestUsersListFiltersAndUnlock: the users page's filters (name, unit with
// the units below, role, status) and an unlock after a lockout.
func TestUsersListFiltersAndUnlock(t *testing.T) {
	f := getFixture(t)
	admin := "yueyang-admin"
	res := f.as(t, admin, "POST", "/api/v1/users", jsonBody(map[string]any{"username": "Locked-Out", "display_name": "锁定的人",
		"unit_code": "430602", "roles": []string{"approver"}}))
	require.Equal(t, 201, res.status, "%s", res.body)
	id := int64(res.json(t)["id"].(float64))
	for range 5 {
		login(t, f, "locked-out", "wrong password")
	}
	login(t, f, "LOCKED-OUT", "wrong password").problem(t, 429, "account_locked")

	names := func(query string) []string {
		var out []string
		for _, it := range f.as(t, admin, "GET", "/api/v1/users?limit=200&"+query, nil).json(t)["items"].([]any) {
			out = append(out, it.(map[string]any)["username"].(string))
		}
		return out
	}
	require.Equal(t, []string{"Locked-Out"}, names("status=locked"))
	require.NotContains(t, names("status=active"), "Locked-Out")
	require.Contains(t, names("role=approver&unit=4306&subtree=1"), "Locked-Out")
	require.NotContains(t, names("role=official&unit=4306&subtree=1"), "Locked-Out")
	require.NotContains(t, names("unit=4306"), "Locked-Out") // exactly the city
	require.Contains(t, names("q=锁定"), "Locked-Out")
	u := f.as(t, admin, "GET", fmt.Sprintf("/api/v1/users/%d", id), nil).json(t)
	require.Equal(t, "locked", u["status"])
	require.Equal(t, "锁定", u["status_label"])

	for _, bad := range []string{"status=gone", "role=king", "q=%00"} {
		f.as(t, admin, "GET", "/api/v1/users?"+bad, nil).problem(t, 422, "invalid")
	}
	f.as(t, admin, "GET", "/api/v1/users?unit=4301&subtree=1", nil).problem(t, 404, "not_found")

	res = f.as(t, admin, "POST", fmt.Sprintf("/api/v1/users/%d/unlock", id), nil)
	require.Equal(t, 200, res.status, "%s", res.body)
	require.Equal(t, "active", res.json(t)["status"])
	require.Empty(t, names("status=locked"))
	require.Equal(t, 1, countRows(t, f.stack.DB, `SELECT count(*) FROM audit_log WHERE action = 'user.unlock' AND detail::jsonb->>'user_id' = $1`, fmt.Sprint(id)))

	// Bad fields are named, in Chinese.
	p := f.as(t, admin, "POST", "/api/v1/users", jsonBody(map[string]any{"username": "ok-name", "display_name": "好\u0007人",
		"unit_code": "430602", "roles": []string{"official"}})).problem(t, 422, "invalid")
	require.Equal(t, []string{"display_name"}, fieldsOf(p))
	require.Contains(t, fmt.Sprint(p["errors"]), "控制字符")
	p = f.as(t, admin, "POST", "/api/v1/users", jsonBody(map[string]any{"username": "ok-name", "display_name": "好人",
		"unit_code": "430602", "roles": []string{"official"}, "email": "not-an-email", "mobile": "12345"})).problem(t, 422, "invalid")
	var fields []string
	for _, e := range p["errors"].([]any) {
		fields = append(fields, e.(map[string]any)["field"].(string))
		require.NotRegexp(t, "^[a-zA-Z ]+$", e.(map[string]any)["message"])
	}
	require.ElementsMatch(t, []string{"email", "mobile"}, fields)
	require.True(t, strings.Contains(fmt.Sprint(p["errors"]), "手机号"))
}

// TestAccountScopeAndBadIDs: 长沙市's admin finds no 岳阳市 unit or user,
// and the account endpoints answer 404 to ids of every odd shape.
func TestAccountScopeAndBadIDs(t *testing.T) {
	f := getFixture(t)
	admin := "changsha-admin"
	units := f.as(t, admin, "GET", "/api/v1/units?q=岳阳", nil).json(t)
	require.Empty(t, units["matches"])
	found := f.as(t, admin, "GET", "/api/v1/units?q=天心", nil).json(t)["matches"].([]any)
	require.NotEmpty(t, found)
	require.Equal(t, "湖南省 长沙市 天心区", found[0].(map[string]any)["path_name"])
	require.Len(t, f.as(t, admin, "GET", "/api/v1/units?q=4301&limit=200", nil).json(t)["matches"], 50)
	f.as(t, admin, "GET", "/api/v1/units?q=%07", nil).problem(t, 422, "invalid")
	f.as(t, admin, "GET", "/api/v1/units?parent=4306&q=岳阳", nil).problem(t, 404, "not_found")
	f.as(t, admin, "GET", "/api/v1/users?unit=4306&subtree=1", nil).problem(t, 404, "not_found")
	for _, it := range f.as(t, admin, "GET", "/api/v1/users?limit=200", nil).json(t)["items"].([]any) {
		require.True(t, strings.HasPrefix(it.(map[string]any)["unit"].(map[string]any)["code"].(string), "4301"))
	}
	yy := fmt.Sprint(f.user("yueyanglou-official").ID)
	for _, id := range []string{yy, "0", "-1", "99999999999999999999999", "1e3"} {
		for _, action := range []string{"reset-password", "unlock"} {
			f.as(t, admin, "POST", "/api/v1/users/"+id+"/"+action, nil).problem(t, 404, "not_found")
		}
	}
	f.as(t, admin, "POST", "/api/v1/users/%00/reset-password", nil).problem(t, 422, "invalid") // the path is refused first
}
