package api_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// invalidFields lists the fields a 422 names.
func invalidFields(t *testing.T, r response) []string {
	t.Helper()
	return fieldsOf(r.problem(t, 422, "invalid"))
}

func TestAPersonSetsTheirOwnNotificationSettingsAndTheChangeIsAudited(t *testing.T) {
	f := getFixture(t)
	const who = "kaifu-official"
	before := f.as(t, who, "GET", "/api/v1/me/settings", nil)
	require.Equal(t, 200, before.status, "%s", before.body)
	v := before.json(t)
	// The deployment's defaults apply; the channels it has not configured
	// are there, unavailable, with a note.
	require.Equal(t, map[string]any{"digest": false, "digest_hour": 8.0, "quiet_start": 22.0, "quiet_end": 7.0}, v["effective"])
	avail := map[string]bool{}
	for _, c := range v["channels"].([]any) {
		c := c.(map[string]any)
		avail[c["channel"].(string)] = c["available"].(bool)
		if !c["available"].(bool) {
			require.Contains(t, c["note"], "未配置")
		}
	}
	require.Equal(t, map[string]bool{"email": true, "webhook": true, "dingtalk": true, "wecom": false, "sms": false}, avail)
	require.Equal(t, []any{}, v["kinds"].(map[string]any)["reminder"], "no address yet: no channel reaches the person")

	put := map[string]any{
		"email": "kaifu@example.org", "mobile": "13800000001", "dingtalk_userid": "kaifu01", "wecom_userid": "", "webhook": "",
		"kinds":  map[string][]string{"reminder": {"email", "dingtalk"}, "overdue": {"dingtalk"}, "urged": {"email"}},
		"digest": true, "digest_hour": 18, "quiet_start": 21, "quiet_end": 8,
	}
	res := f.as(t, who, "PUT", "/api/v1/me/settings", jsonBody(put))
	require.Equal(t, 200, res.status, "%s", res.body)
	after := f.as(t, who, "GET", "/api/v1/me/settings", nil).json(t)
	require.Equal(t, "kaifu@example.org", after["email"])
	require.Equal(t, "13800000001", after["mobile"])
	require.Equal(t, "kaifu01", after["dingtalk_userid"])
	kinds := after["kinds"].(map[string]any)
	require.Equal(t, []any{"email", "dingtalk"}, kinds["reminder"])
	require.Equal(t, []any{"dingtalk"}, kinds["overdue"])
	require.Equal(t, []any{"email"}, kinds["urged"])
	require.Equal(t, []any{}, kinds["assigned"])
	require.Equal(t, map[string]any{"digest": true, "digest_hour": 18.0, "quiet_start": 21.0, "quiet_end": 8.0}, after["effective"])

	// Stored as the dispatcher reads it, and audited once with what changed.
	r, err := f.stack.DB.Recipient(context.Background(), who)
	require.NoError(t, err)
	require.Equal(t, "kaifu@example.org", r.EmailAddress())
	require.Equal(t, "kaifu01", r.Prefs.DingTalkUserID)
	require.Len(t, r.Prefs.EmailKinds, 2)
	require.Equal(t, 1, countRows(t, f.stack.DB, `SELECT count(*) FROM audit_log WHERE action = 'user.settings' AND actor_id = $1
		AND detail::jsonb -> 'changed' ->> 'email' = 'kaifu@example.org'`, f.user(who).ID))

	// Every kind chosen for a channel is stored as "every kind".
	all := map[string][]string{}
	for _, k := range after["kind_options"].([]any) {
		all[k.(map[string]any)["kind"].(string)] = []string{"email"}
	}
	put["kinds"] = all
	require.Equal(t, 200, f.as(t, who, "PUT", "/api/v1/me/settings", jsonBody(put)).status)
	r, err = f.stack.DB.Recipient(context.Background(), who)
	require.NoError(t, err)
	require.Nil(t, r.Prefs.EmailKinds)
	require.Equal(t, []any{"email"}, f.as(t, who, "GET", "/api/v1/me/settings", nil).json(t)["kinds"].(map[string]any)["assigned"])
}

func TestBadNotificationSettingsAreRefusedFieldByFieldAndNothingIsStored(t *testing.T) {
	f := getFixture(t)
	const who = "yuhua-official"
	good := func() map[string]any {
		return map[string]any{"email": "yuhua@example.org", "mobile": "", "dingtalk_userid": "", "wecom_userid": "", "webhook": "",
			"kinds": map[string][]string{"reminder": {"email"}}, "digest": nil, "digest_hour": nil, "quiet_start": nil, "quiet_end": nil}
	}
	require.Equal(t, 200, f.as(t, who, "PUT", "/api/v1/me/settings", jsonBody(good())).status)
	audits := countRows(t, f.stack.DB, `SELECT count(*) FROM audit_log WHERE action = 'user.settings' AND actor_id = $1`, f.user(who).ID)
	cases := []struct {
		name   string
		change func(m map[string]any)
		fields []string
	}{
		{"an email without a domain", func(m map[string]any) { m["email"] = "yuhua@" }, []string{"email"}},
		{"an email with a name", func(m map[string]any) { m["email"] = "雨花 <yuhua@example.org>" }, []string{"email"}},
		{"a short mobile", func(m map[string]any) { m["mobile"] = "1380000" }, []string{"mobile"}},
		{"hour 24", func(m map[string]any) { m["digest_hour"] = 24 }, []string{"digest_hour"}},
		{"a negative hour", func(m map[string]any) { m["quiet_end"] = -1; m["quiet_start"] = 22 }, []string{"quiet_end"}},
		{"quiet hours half given", func(m map[string]any) { m["quiet_start"] = 22 }, []string{"quiet_end"}},
		{"an unconfigured channel", func(m map[string]any) { m["kinds"] = map[string][]string{"overdue": {"email", "sms"}} }, []string{"kinds.overdue[1]"}},
		{"a channel that does not exist", func(m map[string]any) { m["kinds"] = map[string][]string{"overdue": {"fax"}} }, []string{"kinds.overdue[0]"}},
		{"a kind that does not exist", func(m map[string]any) { m["kinds"] = map[string][]string{"weather": {"email"}} }, []string{"kinds.weather"}},
		{"a channel twice", func(m map[string]any) { m["kinds"] = map[string][]string{"overdue": {"email", "email"}} }, []string{"kinds.overdue[1]"}},
		{"DingTalk chosen without an id", func(m map[string]any) { m["kinds"] = map[string][]string{"overdue": {"dingtalk"}} }, []string{"dingtalk_userid"}},
		{"email chosen without an address", func(m map[string]any) { m["email"] = "" }, []string{"email"}},
		{"a webhook not configured", func(m map[string]any) { m["webhook"] = "别的群" }, []string{"webhook"}},
		{"a DingTalk id naming two people", func(m map[string]any) { m["dingtalk_userid"] = "a,b" }, []string{"dingtalk_userid"}},
		{"several at once", func(m map[string]any) { m["email"] = "x"; m["mobile"] = "x"; m["digest_hour"] = 99 }, []string{"email", "mobile", "digest_hour"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := good()
			c.change(m)
			res := f.as(t, who, "PUT", "/api/v1/me/settings", jsonBody(m))
			require.Equal(t, c.fields, invalidFields(t, res), "%s", res.body)
			require.Regexp(t, `\p{Han}`, res.json(t)["errors"].([]any)[0].(map[string]any)["message"])
		})
	}
	for _, raw := range []string{
		`{"digest_hour": 1e20}`, `{"digest_hour": "8"}`, `{"email": "a\u0007@example.org"}`, `{"kinds": {"reminder": "email"}}`, `{"unknown": 1}`,
		`{"email": "` + strings.Repeat("a", 300) + `@example.org"}`,
	} {
		res := f.as(t, who, "PUT", "/api/v1/me/settings", rawJSON(raw))
		require.Contains(t, []int{400, 422}, res.status, "%s: %s", raw, res.body)
	}
	r, err := f.stack.DB.Recipient(context.Background(), who)
	require.NoError(t, err)
	require.Equal(t, "yuhua@example.org", r.EmailAddress(), "nothing half-written")
	require.Equal(t, audits, countRows(t, f.stack.DB, `SELECT count(*) FROM audit_log WHERE action = 'user.settings' AND actor_id = $1`, f.user(who).ID))
}

// deliveryTo writes a delivery row to a person, as a transition's outbox
// would, in the status given.
func deliveryTo(t *testing.T, f *fixture, username, instance, status string) string {
	t.Helper()
	var id int64
	require.NoError(t, f.stack.DB.Pool.QueryRow(context.Background(), `INSERT INTO deliveries (dedup_key, user_id, channel, target, instance_id, seq, kind,
			title, body, event_at, status, attempts, last_error)
		VALUES ($1, $2, 'email', $3, $4, 1, 'overdue', '任务已逾期', '请尽快办理', now(), $5, CASE WHEN $5 = 'failed' THEN 8 ELSE 1 END,
			CASE WHEN $5 = 'failed' THEN '550 mailbox unavailable' ELSE '' END) RETURNING id`,
		fmt.Sprintf("test#%s#%s#%s#%d", instance, username, status, len(t.Name())), f.user(username).ID, username+"@example.org", instance, status).Scan(&id))
	return fmt.Sprint(id)
}

func TestAnAdminReadsAndRetriesTheDeliveriesOfTheirUnitsOnly(t *testing.T) {
	f := getFixture(t)
	yueyangFailed := deliveryTo(t, f, "yueyanglou-official", "2021/2.1/430602", "failed")
	yueyangSent := deliveryTo(t, f, "yueyanglou-official", "2021/2.1/430602", "sent")
	yueyangHeld := deliveryTo(t, f, "yueyanglou-official", "2021/2.1/430602", "held")
	changshaFailed := deliveryTo(t, f, "furong-official", "2021/2.1/430102", "failed")

	ids := func(r response) []string {
		require.Equal(t, 200, r.status, "%s", r.body)
		var out []string
		for _, it := range r.json(t)["items"].([]any) {
			it := it.(map[string]any)
			require.True(t, strings.HasPrefix(it["unit_code"].(string), "4306"), "%v", it)
			out = append(out, fmt.Sprint(it["id"]))
		}
		return out
	}
	// Yueyang's admin sees Yueyang's people's deliveries, never Changsha's.
	all := ids(f.as(t, "yueyang-admin", "GET", "/api/v1/deliveries", nil))
	require.Subset(t, all, []string{yueyangFailed, yueyangSent, yueyangHeld})
	require.NotContains(t, all, changshaFailed)
	require.Equal(t, []string{yueyangFailed}, ids(f.as(t, "yueyang-admin", "GET", "/api/v1/deliveries?status=failed&task="+"2021%2F2.1%2F430602", nil)))
	require.Contains(t, ids(f.as(t, "yueyang-admin", "GET", "/api/v1/deliveries?status=waiting&channel=email&user=yueyanglou-official", nil)), yueyangHeld)
	first := f.as(t, "yueyang-admin", "GET", "/api/v1/deliveries?limit=1", nil).json(t)
	require.Len(t, first["items"], 1)
	require.NotNil(t, first["next_cursor"])
	// Another city's person or task is not found; bad filters are named.
	f.as(t, "yueyang-admin", "GET", "/api/v1/deliveries?user=furong-official", nil).problem(t, 404, "not_found")
	f.as(t, "yueyang-admin", "GET", "/api/v1/deliveries?task=2021%2F2.1%2F430102", nil).problem(t, 404, "not_found")
	require.Equal(t, []string{"status"}, invalidFields(t, f.as(t, "yueyang-admin", "GET", "/api/v1/deliveries?status=lost", nil)))
	require.Equal(t, []string{"channel"}, invalidFields(t, f.as(t, "yueyang-admin", "GET", "/api/v1/deliveries?channel=fax", nil)))
	require.Equal(t, []string{"limit"}, invalidFields(t, f.as(t, "yueyang-admin", "GET", "/api/v1/deliveries?limit=99999999999999999999", nil)))
	// The province's admin sees both cities.
	hunan := f.as(t, "hunan-admin", "GET", "/api/v1/deliveries?status=failed&limit=200", nil).json(t)
	var seen []string
	for _, it := range hunan["items"].([]any) {
		seen = append(seen, fmt.Sprint(it.(map[string]any)["id"]))
	}
	require.Subset(t, seen, []string{yueyangFailed, changshaFailed})

	// Retry: the failed row goes back to the queue, counted afresh, audited once.
	res := f.as(t, "yueyang-admin", "POST", "/api/v1/deliveries/"+yueyangFailed+"/retry", nil)
	require.Equal(t, 200, res.status, "%s", res.body)
	v := res.json(t)
	require.Equal(t, true, v["retried"])
	require.Equal(t, "retrying", v["status"])
	require.EqualValues(t, 0, v["attempts"])
	again := f.as(t, "yueyang-admin", "POST", "/api/v1/deliveries/"+yueyangFailed+"/retry", nil).json(t)
	require.Equal(t, false, again["retried"])
	require.Equal(t, 1, countRows(t, f.stack.DB, `SELECT count(*) FROM audit_log WHERE action = 'delivery.retry' AND (detail::jsonb ->> 'delivery_id')::bigint = $1::bigint`, yueyangFailed))
	// The digest workflow's next tick takes it at once (not after the stale interval).
	var due int
	require.NoError(t, f.stack.DB.Pool.QueryRow(context.Background(), `SELECT count(*) FROM deliveries WHERE id = $1 AND status = 'retrying' AND attempts = 0`, yueyangFailed).Scan(&due))
	require.Equal(t, 1, due)

	// A sent row is left as it is; a row that never failed is a conflict;
	// another city's row, or none, is not found.
	require.Equal(t, false, f.as(t, "yueyang-admin", "POST", "/api/v1/deliveries/"+yueyangSent+"/retry", nil).json(t)["retried"])
	f.as(t, "yueyang-admin", "POST", "/api/v1/deliveries/"+yueyangHeld+"/retry", nil).problem(t, 409, "conflict")
	out := f.as(t, "yueyang-admin", "POST", "/api/v1/deliveries/"+changshaFailed+"/retry", nil).problem(t, 404, "not_found")
	none := f.as(t, "yueyang-admin", "POST", "/api/v1/deliveries/999999999/retry", nil).problem(t, 404, "not_found")
	require.Equal(t, none["detail"], out["detail"])
	f.as(t, "yueyang-admin", "POST", "/api/v1/deliveries/-1/retry", nil).problem(t, 404, "not_found")
	f.as(t, "yueyang-admin", "POST", "/api/v1/deliveries/99999999999999999999999/retry", nil).problem(t, 404, "not_found")
	var status string
	require.NoError(t, f.stack.DB.Pool.QueryRow(context.Background(), `SELECT status FROM deliveries WHERE id = $1`, changshaFailed).Scan(&status))
	require.Equal(t, "failed", status)
}
