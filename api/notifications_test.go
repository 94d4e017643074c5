package api_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestNotificationsInbox(t *testing.T) {
	f := getFixture(t)
	user := "tianxin-official"
	m := f.as(t, user, "GET", "/api/v1/notifications", nil).json(t)
	items := m["items"].([]any)
	// Assigned twice, then the member day's overdue notice and escalation.
	require.GreaterOrEqual(t, len(items), 4)
	unread := int(m["unread_count"].(float64))
	require.Equal(t, len(items), unread)
	first := items[0].(map[string]any)
	require.Equal(t, false, first["read"])
	require.NotEmpty(t, first["kind_label"])
	require.NotEmpty(t, first["title"])

	id := int64(first["id"].(float64))
	r := f.as(t, user, "POST", fmt.Sprintf("/api/v1/notifications/%d/read", id), nil)
	require.Equal(t, 200, r.status, "%s", r.body)
	require.EqualValues(t, unread-1, r.json(t)["unread_count"])
	// Someone else's notification is not found.
	f.as(t, "furong-official", "POST", fmt.Sprintf("/api/v1/notifications/%d/read", id), nil).problem(t, 404, "not_found")
	f.as(t, user, "POST", "/api/v1/notifications/abc/read", nil).problem(t, 404, "not_found")

	page := f.as(t, user, "GET", "/api/v1/notifications?unread=true&limit=1", nil).json(t)
	require.Len(t, page["items"], 1)
	require.NotNil(t, page["next_cursor"])

	f.as(t, user, "POST", "/api/v1/notifications/read", rawJSON(`{}`)).problem(t, 422, "invalid")
	r = f.as(t, user, "POST", "/api/v1/notifications/read", rawJSON(`{"all":true}`))
	require.Equal(t, 200, r.status)
	require.EqualValues(t, 0, r.json(t)["unread_count"])
	me := f.as(t, user, "GET", "/api/v1/me", nil).json(t)
	require.EqualValues(t, 0, me["unread_count"])
}

// sseEvent is one server-sent event.
type sseEvent struct {
	id, event, data string
}

// readEvents reads events from a stream until want of kind event arrive.
func readEvents(t *testing.T, r *bufio.Reader, event string, want int) []sseEvent {
	t.Helper()
	var out []sseEvent
	var cur sseEvent
	for len(out) < want {
		line, err := r.ReadString('\n')
		require.NoError(t, err)
		line = strings.TrimRight(line, "\n")
		switch {
		case line == "":
			if cur.event == event {
				out = append(out, cur)
			}
			cur = sseEvent{}
		case strings.HasPrefix(line, "id: "):
			cur.id = line[4:]
		case strings.HasPrefix(line, "event: "):
			cur.event = line[7:]
		case strings.HasPrefix(line, "data: "):
			cur.data = line[6:]
		}
	}
	return out
}

func openStream(t *testing.T, ctx context.Context, url string, headers ...string) *bufio.Reader {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	require.NoError(t, err)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { res.Body.Close() })
	require.Equal(t, 200, res.StatusCode)
	require.Equal(t, "text/event-stream; charset=utf-8", res.Header.Get("Content-Type"))
	return bufio.NewReader(res.Body)
}

// TestNotificationStream opens an event stream with a ticket (as a
// browser's EventSource would) and one with a header, inserts inbox rows,
// and sees them arrive; then resumes from a Last-Event-ID.
func TestNotificationStream(t *testing.T) {
	f := getFixture(t)
	base := f.listen(t)
	user := f.user("kaifu-official")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	tk := f.as(t, "kaifu-official", "POST", "/api/v1/notifications/stream-ticket", nil).json(t)
	ticket := tk["ticket"].(string)
	// The ticket is for the stream only.
	f.do(t, ticket, "GET", "/api/v1/me", nil).problem(t, 401, "unauthorized")
	f.do(t, "", "GET", "/api/v1/notifications/stream?ticket=nope", nil).problem(t, 401, "unauthorized")
	f.do(t, "", "GET", "/api/v1/notifications/stream", nil).problem(t, 401, "unauthorized")

	byTicket := openStream(t, ctx, base+"/api/v1/notifications/stream?ticket="+ticket)
	byHeader := openStream(t, ctx, base+"/api/v1/notifications/stream", "Authorization", "Bearer "+f.token(t, "kaifu-official"))

	insert := func(n int) {
		t.Helper()
		for i := 0; i < n; i++ {
			_, err := f.stack.DB.Pool.Exec(ctx, `INSERT INTO inbox (user_id, instance_id, seq, kind, title, body, dedup_key, at)
				VALUES ($1, '2021/2.1/430105', 0, 'reminder', '测试提醒', '正文', $2, now())`, user.ID, fmt.Sprintf("stream-test-%d-%d", time.Now().UnixNano(), i))
			require.NoError(t, err)
		}
	}
	start := time.Now()
	insert(2)
	for _, r := range []*bufio.Reader{byTicket, byHeader} {
		evs := readEvents(t, r, "notification", 2)
		var n map[string]any
		require.NoError(t, json.Unmarshal([]byte(evs[0].data), &n))
		require.Equal(t, "测试提醒", n["title"])
		require.Equal(t, "到期提醒", n["kind_label"])
		require.NotEmpty(t, evs[0].id)
	}
	t.Logf("two notifications reached two streams in %s", time.Since(start))

	// Resume: a stream opened with Last-Event-ID gets what came after it.
	rows := f.as(t, "kaifu-official", "GET", "/api/v1/notifications?limit=3", nil).json(t)["items"].([]any)
	third := int64(rows[2].(map[string]any)["id"].(float64))
	resumed := openStream(t, ctx, base+"/api/v1/notifications/stream", "Authorization", "Bearer "+f.token(t, "kaifu-official"),
		"Last-Event-ID", fmt.Sprint(third))
	evs := readEvents(t, resumed, "notification", 2)
	require.Equal(t, fmt.Sprint(rows[1].(map[string]any)["id"]), evs[0].id)
}
