package api_test

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestUnitAdministration(t *testing.T) {
	f := getFixture(t)
	admin := "yueyang-admin"
	res := f.as(t, admin, "POST", "/api/v1/units", rawJSON(`{"code":"430602901","name":"测试街道","parent_code":"430602"}`))
	require.Equal(t, 201, res.status, "%s", res.body)
	u := res.json(t)
	require.Equal(t, "township", u["level"])
	require.Equal(t, "岳阳楼区", u["path"].([]any)[2].(map[string]any)["name"])
	f.as(t, admin, "POST", "/api/v1/units", rawJSON(`{"code":"430602901","name":"测试街道","parent_code":"430602"}`)).problem(t, 409, "conflict")
	f.as(t, admin, "POST", "/api/v1/units", rawJSON(`{"code":"430699","name":"x","parent_code":"430602"}`)).problem(t, 422, "invalid")
	f.as(t, admin, "POST", "/api/v1/units", rawJSON(`{"code":"430699999","name":"x","parent_code":"4306"}`)).problem(t, 422, "invalid")
	f.as(t, admin, "POST", "/api/v1/units", rawJSON(`{"code":"430102901","name":"x","parent_code":"430102"}`)).problem(t, 404, "not_found")

	res = f.as(t, admin, "PATCH", "/api/v1/units/430602901", rawJSON(`{"name":"测试街道（更名）"}`))
	require.Equal(t, 200, res.status, "%s", res.body)
	require.Equal(t, "测试街道（更名）", res.json(t)["name"])
	kids := f.as(t, admin, "GET", "/api/v1/units?parent=430602", nil).json(t)
	var names []string
	for _, c := range kids["children"].([]any) {
		names = append(names, c.(map[string]any)["name"].(string))
	}
	require.Contains(t, names, "测试街道（更名）")
	// Ancestors are visible (their names show in chains), siblings not.
	require.Equal(t, 200, f.as(t, "furong-official", "GET", "/api/v1/units/43", nil).status)
	f.as(t, "furong-official", "GET", "/api/v1/units/430103", nil).problem(t, 404, "not_found")
	require.Equal(t, 2, countRows(t, f.stack.DB, `SELECT count(*) FROM audit_log WHERE action IN ('unit.create', 'unit.rename') AND unit_code = '430602901'`))
}
