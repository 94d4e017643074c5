package api_test

import (
	"strings"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/stretchr/testify/require"
)

// TestMalformedInputGetsClearProblems covers what a client can get wrong
// in a JSON body; each answer names the problem, in Chinese, and the field.
func TestMalformedInputGetsClearProblems(t *testing.T) {
	f := getFixture(t)
	path := taskPath("2021/2.1/430102", "decision")
	post := func(b *body) response { return f.as(t, "furong-approver", "POST", path, b) }

	p := post(rawJSON(`{"step": 1, "approve": tru`)).problem(t, 400, "malformed_json")
	require.Contains(t, p["detail"], "JSON")
	post(rawJSON(`{"step": 1,, }`)).problem(t, 400, "malformed_json")
	post(rawJSON(``)).problem(t, 400, "malformed_json")
	post(rawJSON(`{"step":1,"approve":true} {"again":1}`)).problem(t, 400, "malformed_json")

	p = post(rawJSON(`{"step": 1, "approve": true, "approved_by": "me", "extra": 2}`)).problem(t, 422, "invalid")
	require.Equal(t, []any{
		map[string]any{"field": "approved_by", "message": "未知字段"},
		map[string]any{"field": "extra", "message": "未知字段"},
	}, p["errors"])

	p = post(rawJSON(`{"step": "one", "approve": true}`)).problem(t, 422, "invalid")
	require.Equal(t, "step", p["errors"].([]any)[0].(map[string]any)["field"])
	require.Equal(t, "应为整数", p["errors"].([]any)[0].(map[string]any)["message"])
	p = post(rawJSON(`{"step": 1, "approve": "yes"}`)).problem(t, 422, "invalid")
	require.Contains(t, p["errors"].([]any)[0].(map[string]any)["message"], "布尔值")
	post(rawJSON(`[1, 2]`)).problem(t, 422, "invalid")

	p = post(rawJSON(`{}`)).problem(t, 422, "invalid")
	var fields []string
	for _, e := range p["errors"].([]any) {
		fields = append(fields, e.(map[string]any)["field"].(string))
	}
	require.ElementsMatch(t, []string{"step", "approve"}, fields)

	post(&body{"text/plain", []byte(`{"step":1,"approve":true}`)}).problem(t, 415, "unsupported_media_type")
	big := `{"reason":"` + strings.Repeat("长", 400_000) + `","step":1,"approve":false}`
	post(rawJSON(big)).problem(t, 413, "payload_too_large")
	// Nested unknown fields are named with their path.
	p = f.as(t, "changsha-approver", "POST", "/api/v1/approvals/bulk", rawJSON(`{"items":[{"instance_id":"x","step":1,"stepp":2}]}`)).problem(t, 422, "invalid")
	require.Equal(t, "items[0].stepp", p["errors"].([]any)[0].(map[string]any)["field"])
	// A bad Idempotency-Key.
	f.as(t, "furong-approver", "POST", path, rawJSON(`{"step":1,"approve":true}`), "Idempotency-Key", strings.Repeat("k", 101)).problem(t, 422, "invalid")
}

func TestHeadersRequestIDsAndUnknownRoutes(t *testing.T) {
	f := getFixture(t)
	res := f.as(t, "furong-official", "GET", "/api/v1/me", nil)
	require.Equal(t, 200, res.status)
	h := res.header
	require.Equal(t, "nosniff", h.Get("X-Content-Type-Options"))
	require.Equal(t, "DENY", h.Get("X-Frame-Options"))
	require.Equal(t, "no-referrer", h.Get("Referrer-Policy"))
	require.Contains(t, h.Get("Content-Security-Policy"), "frame-ancestors 'none'")
	require.Equal(t, "no-store", h.Get("Cache-Control"))
	require.NotEmpty(t, h.Get("X-Request-ID"))

	// A sane incoming request id is kept; a hostile one replaced.
	res = f.do(t, "", "GET", "/api/v1/clock", nil, "X-Request-ID", "proxy-abc-123")
	require.Equal(t, "proxy-abc-123", res.header.Get("X-Request-ID"))
	res = f.do(t, "", "GET", "/api/v1/clock", nil, "X-Request-ID", "evil\"id with spaces")
	require.NotEqual(t, "evil\"id with spaces", res.header.Get("X-Request-ID"))

	// An unknown path is 404 for a signed-in caller (401 for anyone else:
	// the API's surface is not shown to strangers).
	p := f.as(t, "furong-official", "GET", "/api/v1/nothing-here", nil, "X-Request-ID", "req-404").problem(t, 404, "not_found")
	require.Equal(t, "req-404", p["request_id"])
	require.Equal(t, "/api/v1/nothing-here", p["instance"])
	f.do(t, "", "GET", "/api/v1/nothing-here", nil).problem(t, 401, "unauthorized")
	f.do(t, "", "GET", "/nothing-here", nil).problem(t, 404, "not_found")
}

func TestHealthReadinessMetricsAndClock(t *testing.T) {
	f := getFixture(t)
	require.Equal(t, "ok", f.do(t, "", "GET", "/healthz", nil).json(t)["status"])
	ready := f.do(t, "", "GET", "/readyz", nil)
	require.Equal(t, 200, ready.status, "%s", ready.body)
	require.Equal(t, map[string]any{"database": "ok", "temporal": "ok"}, ready.json(t)["checks"])

	f.as(t, "furong-official", "GET", "/api/v1/me", nil)
	// Metrics are collected in the registry the process serves on its admin
	// address; the public router has no /metrics.
	f.do(t, "", "GET", "/metrics", nil).problem(t, 404, "not_found")
	var text strings.Builder
	mfs, err := f.metrics.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		_, err := expfmt.MetricFamilyToText(&text, mf)
		require.NoError(t, err)
	}
	require.Contains(t, text.String(), `duban_http_requests_total{method="GET",route="/api/v1/me",status="200"}`)
	require.Contains(t, text.String(), "duban_http_request_duration_seconds_bucket")
	require.Contains(t, text.String(), `duban_logins_total{result="ok"}`)
	// Ids never become label values.
	require.NotContains(t, text.String(), "430102")

	c := f.do(t, "", "GET", "/api/v1/clock", nil).json(t)
	require.Equal(t, true, c["demo"])
	require.True(t, strings.HasPrefix(c["now"].(string), "2021-06-01T09:"), c["now"])
}
