package api_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestUserAdministration(t *testing.T) {
	f := getFixture(t)
	admin := "yueyang-admin"
	newUser := map[string]any{"username": "yueyang-new", "display_name": "岳阳新同事", "unit_code": "430602", "roles": []string{"official"}, "password": "a long enough password"}
	res := f.as(t, admin, "POST", "/api/v1/users", jsonBody(newUser))
	require.Equal(t, 201, res.status, "%s", res.body)
	u := res.json(t)
	id := int64(u["id"].(float64))
	require.Equal(t, "岳阳楼区", u["unit"].(map[string]any)["name"])
	require.Equal(t, "承办人", u["roles"].([]any)[0].(map[string]any)["label"])
	require.NotContains(t, string(res.body), "argon2")

	f.as(t, admin, "POST", "/api/v1/users", jsonBody(newUser)).problem(t, 409, "conflict")
	bad := map[string]any{"username": "x", "display_name": "", "unit_code": "430602", "roles": []string{"king"}, "password": "short"}
	p := f.as(t, admin, "POST", "/api/v1/users", jsonBody(bad)).problem(t, 422, "invalid")
	var fields []string
	for _, e := range p["errors"].([]any) {
		fields = append(fields, e.(map[string]any)["field"].(string))
	}
	require.ElementsMatch(t, []string{"username", "display_name", "roles[0]", "password"}, fields)
	outside := map[string]any{"username": "changsha-new", "display_name": "x", "unit_code": "4301", "roles": []string{"official"}, "password": "a long enough password"}
	p = f.as(t, admin, "POST", "/api/v1/users", jsonBody(outside)).problem(t, 422, "invalid")
	require.Equal(t, "unit_code", p["errors"].([]any)[0].(map[string]any)["field"])

	// The new user signs in; disabling them ends their session at once.
	tok := login(t, f, "yueyang-new", "a long enough password").json(t)["access_token"].(string)
	require.Equal(t, 200, f.do(t, tok, "GET", "/api/v1/me", nil).status)
	res = f.as(t, admin, "PATCH", fmt.Sprintf("/api/v1/users/%d", id), rawJSON(`{"roles":["official","approver"],"display_name":"岳阳新审核人"}`))
	require.Equal(t, 200, res.status, "%s", res.body)
	require.Len(t, res.json(t)["roles"], 2)
	// The role change applies to the live token at once (roles are read per request).
	me := f.do(t, tok, "GET", "/api/v1/me", nil).json(t)
	require.Contains(t, me["permissions"], "approvals")
	require.Equal(t, 200, f.as(t, admin, "PATCH", fmt.Sprintf("/api/v1/users/%d", id), rawJSON(`{"disabled":true}`)).status)
	f.do(t, tok, "GET", "/api/v1/me", nil).problem(t, 401, "unauthorized")
	login(t, f, "yueyang-new", "a long enough password").problem(t, 401, "unauthorized")

	f.as(t, admin, "PATCH", fmt.Sprintf("/api/v1/users/%d", id), rawJSON(`{"unit_code":"4301"}`)).problem(t, 422, "invalid")
	f.as(t, admin, "PATCH", fmt.Sprintf("/api/v1/users/%d", f.user(admin).ID), rawJSON(`{"disabled":true}`)).problem(t, 409, "conflict")
	f.as(t, admin, "PATCH", fmt.Sprintf("/api/v1/users/%d", id), rawJSON(`{"password":"x"}`)).problem(t, 422, "invalid")

	got := f.as(t, admin, "GET", fmt.Sprintf("/api/v1/users/%d", id), nil).json(t)
	require.Equal(t, true, got["disabled"])
	require.Equal(t, "岳阳新审核人", got["display_name"])
	// Lists stay inside the admin's units.
	all := f.as(t, admin, "GET", "/api/v1/users?limit=200", nil).json(t)
	for _, it := range all["items"].([]any) {
		require.True(t, strings.HasPrefix(it.(map[string]any)["unit"].(map[string]any)["code"].(string), "4306"))
	}
	pg := f.as(t, admin, "GET", "/api/v1/users?limit=1", nil).json(t)
	require.NotNil(t, pg["next_cursor"])
	require.Len(t, f.as(t, admin, "GET", "/api/v1/users?q=yueyang-new", nil).json(t)["items"], 1)
	require.GreaterOrEqual(t, countRows(t, f.stack.DB, `SELECT count(*) FROM audit_log WHERE action IN ('user.create', 'user.update') AND actor_id = $1`, f.user(admin).ID), 3)
}
