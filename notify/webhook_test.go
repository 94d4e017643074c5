package notify_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/notify"
)

// hook is a local HTTP server that records requests and answers with the
// next queued status and body.
type hook struct {
	*httptest.Server
	mu       sync.Mutex
	requests []*recorded
	answers  []answer
}

type answer struct {
	status int
	body   string
}

type recorded struct {
	URL    *url.URL
	Header http.Header
	Body   []byte
}

func newHook(t *testing.T, answers ...answer) *hook {
	h := &hook{answers: answers}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		h.requests = append(h.requests, &recorded{URL: r.URL, Header: r.Header.Clone(), Body: body})
		a := answer{200, `{"errcode":0,"errmsg":"ok"}`}
		if len(h.answers) > 0 {
			a, h.answers = h.answers[0], h.answers[1:]
		}
		h.mu.Unlock()
		w.WriteHeader(a.status)
		_, _ = io.WriteString(w, a.body)
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *hook) got() []*recorded {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]*recorded(nil), h.requests...)
}

func webhook(t *testing.T, kind, rawURL, secret string, now time.Time) *notify.Webhook {
	t.Helper()
	w, err := notify.NewWebhook(notify.WebhookEndpoint{Name: "test-" + kind, Kind: kind, URL: rawURL, Secret: secret})
	require.NoError(t, err)
	w.Now = func() time.Time { return now }
	return w
}

var sentAt = time.Date(2021, 12, 24, 9, 30, 0, 0, duban.Shanghai)

func TestGenericWebhookIsSignedJSON(t *testing.T) {
	h := newHook(t, answer{204, ""})
	w := webhook(t, notify.WebhookGeneric, h.URL+"/duban/events", "whsec-0123456789", sentAt)
	m := notice()
	require.NoError(t, w.Send(context.Background(), m))
	reqs := h.got()
	require.Len(t, reqs, 1)
	r := reqs[0]
	require.Equal(t, "/duban/events", r.URL.Path)
	require.Equal(t, "application/json; charset=utf-8", r.Header.Get("Content-Type"))
	require.Equal(t, m.Key, r.Header.Get(notify.HeaderDelivery))
	ts := r.Header.Get(notify.HeaderTimestamp)
	require.Equal(t, strconv.FormatInt(sentAt.Unix(), 10), ts)
	// What a receiver does: HMAC-SHA256 over "timestamp.body" with the secret.
	mac := hmac.New(sha256.New, []byte("whsec-0123456789"))
	mac.Write([]byte(ts + "." + string(r.Body)))
	require.Equal(t, "sha256="+hex.EncodeToString(mac.Sum(nil)), r.Header.Get(notify.HeaderSignature))

	var p map[string]any
	require.NoError(t, json.Unmarshal(r.Body, &p))
	require.Equal(t, m.Key, p["id"])
	require.Equal(t, "reminder", p["kind"])
	require.Equal(t, "到期提醒", p["kind_label"])
	require.Equal(t, m.Title, p["title"])
	require.Equal(t, m.Body, p["text"])
	require.Equal(t, m.Link, p["link"])
	require.Equal(t, m.InstanceID, p["instance_id"])
	require.Equal(t, false, p["urgent"])
	require.Equal(t, map[string]any{"user_id": float64(7), "name": "王芳"}, p["recipient"])
	at, err := time.Parse(time.RFC3339, p["at"].(string))
	require.NoError(t, err)
	require.True(t, at.Equal(m.At))
}

func TestDingTalkRobotIsSignedMarkdown(t *testing.T) {
	h := newHook(t)
	const secret = "SEC0123456789abcdef"
	w := webhook(t, notify.WebhookDingTalk, h.URL+"/robot/send?access_token=tok-123", secret, sentAt)
	m := notice()
	m.To.Mobile = "13800000000"
	require.NoError(t, w.Send(context.Background(), m))
	r := h.got()[0]
	q := r.URL.Query()
	require.Equal(t, "tok-123", q.Get("access_token"))
	ts := q.Get("timestamp")
	require.Equal(t, strconv.FormatInt(sentAt.UnixMilli(), 10), ts)
	// DingTalk's documented check: base64(HMAC-SHA256(secret, timestamp+"\n"+secret)).
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts + "\n" + secret))
	require.Equal(t, base64.StdEncoding.EncodeToString(mac.Sum(nil)), q.Get("sign"))
	require.Contains(t, r.URL.RawQuery, "sign="+url.QueryEscape(q.Get("sign")), "sign is URL-encoded")

	var p struct {
		MsgType  string `json:"msgtype"`
		Markdown struct {
			Title string `json:"title"`
			Text  string `json:"text"`
		} `json:"markdown"`
		At struct {
			AtMobiles []string `json:"atMobiles"`
			IsAtAll   bool     `json:"isAtAll"`
		} `json:"at"`
	}
	require.NoError(t, json.Unmarshal(r.Body, &p))
	require.Equal(t, "markdown", p.MsgType)
	require.Equal(t, m.Title, p.Markdown.Title)
	require.Contains(t, p.Markdown.Text, "#### 到期提醒：出台改革方案")
	require.Contains(t, p.Markdown.Text, "@13800000000 ")
	require.Contains(t, p.Markdown.Text, "[查看任务]("+m.Link+")")
	require.Equal(t, []string{"13800000000"}, p.At.AtMobiles)
	require.False(t, p.At.IsAtAll)

	// Without a secret (keyword-only robots) there is nothing to sign.
	unsigned := webhook(t, notify.WebhookDingTalk, h.URL+"/robot/send?access_token=tok-123", "", sentAt)
	require.NoError(t, unsigned.Send(context.Background(), m))
	require.Empty(t, h.got()[1].URL.Query().Get("sign"))
}

func TestWeComRobotIsMarkdownToTheKeyURL(t *testing.T) {
	h := newHook(t)
	w := webhook(t, notify.WebhookWeCom, h.URL+"/cgi-bin/webhook/send?key=693a91f6-7xxx", "", sentAt)
	m := notice()
	require.NoError(t, w.Send(context.Background(), m))
	r := h.got()[0]
	require.Equal(t, "/cgi-bin/webhook/send", r.URL.Path)
	require.Equal(t, "693a91f6-7xxx", r.URL.Query().Get("key"))
	require.Len(t, r.URL.Query(), 1, "WeCom robots take no signature parameters")
	var p struct {
		MsgType  string `json:"msgtype"`
		Markdown struct {
			Content string `json:"content"`
		} `json:"markdown"`
	}
	require.NoError(t, json.Unmarshal(r.Body, &p))
	require.Equal(t, "markdown", p.MsgType)
	require.Contains(t, p.Markdown.Content, "到期提醒：出台改革方案")
	require.Contains(t, p.Markdown.Content, m.Body)
	require.Contains(t, p.Markdown.Content, "[查看任务]("+m.Link+")")
}

func TestWebhookRetriesOn5xxAndGivesUpOn4xx(t *testing.T) {
	cases := []struct {
		kind      string
		status    int
		body      string
		permanent bool
		reason    string
	}{
		{notify.WebhookGeneric, 503, "maintenance", false, "HTTP 503 maintenance"},
		{notify.WebhookGeneric, 500, "", false, "HTTP 500"},
		{notify.WebhookGeneric, 429, "slow down", false, "HTTP 429"},
		{notify.WebhookGeneric, 400, `{"error":"bad payload"}`, true, `HTTP 400 {"error":"bad payload"}`},
		{notify.WebhookGeneric, 404, "no such hook", true, "HTTP 404 no such hook"},
		{notify.WebhookGeneric, 302, "", true, "HTTP 302"},
		{notify.WebhookDingTalk, 200, `{"errcode":310000,"errmsg":"sign not match"}`, true, "errcode 310000 sign not match"},
		{notify.WebhookDingTalk, 200, `{"errcode":130101,"errmsg":"send too fast"}`, false, "130101"},
		{notify.WebhookWeCom, 200, `{"errcode":93000,"errmsg":"invalid webhook url"}`, true, "errcode 93000"},
		{notify.WebhookWeCom, 200, `{"errcode":45009,"errmsg":"api freq out of limit"}`, false, "45009"},
		{notify.WebhookWeCom, 502, "bad gateway", false, "HTTP 502"},
	}
	for _, c := range cases {
		h := newHook(t, answer{c.status, c.body})
		w := webhook(t, c.kind, h.URL+"/send?key=k", "s", sentAt)
		err := w.Send(context.Background(), notice())
		require.Error(t, err, "%s %d", c.kind, c.status)
		require.Equal(t, c.permanent, notify.IsPermanent(err), "%s %d: %v", c.kind, c.status, err)
		require.Contains(t, err.Error(), c.reason)
	}
}

func TestWebhookErrorsDoNotRevealTheURLCredential(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	l.Close()
	w := webhook(t, notify.WebhookWeCom, "http://"+addr+"/cgi-bin/webhook/send?key=TOPSECRETKEY", "", sentAt)
	err = w.Send(context.Background(), notice())
	require.Error(t, err)
	require.False(t, notify.IsPermanent(err), "an unreachable endpoint may come back")
	require.NotContains(t, err.Error(), "TOPSECRETKEY")
	require.Contains(t, err.Error(), "?***")
	require.Equal(t, "https://oapi.dingtalk.com/robot/send?***", notify.RedactURL("https://oapi.dingtalk.com/robot/send?access_token=abc"))
}

func TestDigestChatMessageStaysWithinTheRobotLimit(t *testing.T) {
	h := newHook(t)
	w := webhook(t, notify.WebhookWeCom, h.URL+"/send?key=k", "", sentAt)
	m := notice()
	m.Kind, m.Title = notify.KindDigest, "督办每日汇总：200 条待办提醒（2021年12月24日）"
	for i := range 200 {
		m.Items = append(m.Items, notify.Item{Title: "审批提醒：出台改革方案 " + strconv.Itoa(i), Body: strings.Repeat("第 1 步审批还剩2个工作日到期，请及时审批。", 2), Link: m.Link})
	}
	require.NoError(t, w.Send(context.Background(), m))
	var p struct {
		Markdown struct {
			Content string `json:"content"`
		} `json:"markdown"`
	}
	require.NoError(t, json.Unmarshal(h.got()[0].Body, &p))
	require.LessOrEqual(t, len(p.Markdown.Content), 4096)
	require.Contains(t, p.Markdown.Content, "另有")
	require.Contains(t, p.Markdown.Content, "1. [审批提醒：出台改革方案 0]")
}
