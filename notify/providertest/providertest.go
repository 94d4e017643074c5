// Package providertest has local servers that speak the protocols of the
// personal channels, for tests and for a development stack: DingTalk's
// server API (gettoken, 工作通知 asyncsend_v2, getsendresult), WeCom's
// (gettoken, 应用消息 message/send), Aliyun's SMS API (SendSms with the RPC
// HMAC-SHA1 signature) and Tencent Cloud's (SendSms with TC3-HMAC-SHA256).
//
// Each fake checks a request as the real service does: the access token it
// issued (and its expiry), the signature recomputed here from the
// documented algorithm (independently of package notify), the timestamp
// window, nonces, the shape of the JSON or form, the agent, the signature
// name and the template and its variables. It answers in the service's
// documented shapes, errors included, and keeps what it accepted. Tests
// queue failures (FailNext) to see how a sender classifies them.
//
// Each fake is an http.Handler that matches the end of the request path,
// so it can be served alone (httptest.NewServer(fake)) or under a prefix
// with the others (Suite).
package providertest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"html/template"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// Message is one message a fake accepted.
type Message struct {
	Provider string `json:"provider"` // dingtalk, wecom, aliyun or tencent
	To       string `json:"to"`       // userid, UserID or phone number
	AgentID  int    `json:"agent_id,omitempty"`
	MsgType  string `json:"msgtype,omitempty"`
	Title    string `json:"title,omitempty"`
	// Text is the markdown content, or the SMS as the phone shows it:
	// 【signature】 and the template with its variables filled in.
	Text     string            `json:"text"`
	SignName string            `json:"sign_name,omitempty"`
	Template string            `json:"template,omitempty"`
	Vars     map[string]string `json:"vars,omitempty"`   // Aliyun TemplateParam
	Params   []string          `json:"params,omitempty"` // Tencent TemplateParamSet
	Ref      string            `json:"ref,omitempty"`    // Aliyun OutId, Tencent SessionContext
	Body     json.RawMessage   `json:"body,omitempty"`   // the request as sent (JSON APIs)
	At       time.Time         `json:"at"`
}

// log is what every fake keeps: its clock, what it accepted, the requests
// it saw, and the failures queued for the next requests.
type log[F any] struct {
	// Now is the fake's clock (time.Now when nil); tests move it to expire
	// tokens and timestamps.
	Now func() time.Time

	mu       sync.Mutex
	messages []Message
	requests int
	faults   []F
}

func (l *log[F]) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

// Messages returns what the fake accepted, oldest first.
func (l *log[F]) Messages() []Message {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.messages)
}

// Requests counts the send requests the fake answered (accepted or not).
func (l *log[F]) Requests() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.requests
}

func (l *log[F]) queue(f F) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.faults = append(l.faults, f)
}

// nextFault pops the next queued failure; call with mu held.
func (l *log[F]) nextFault() (F, bool) {
	var zero F
	if len(l.faults) == 0 {
		return zero, false
	}
	f := l.faults[0]
	l.faults = l.faults[1:]
	return f, true
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// Suite serves the four fakes under one address for a development stack:
// {base}/dingtalk, {base}/wecom, {base}/aliyun/ and {base}/tencent/ are
// their endpoints, and {base}/ lists every message they accepted (as JSON
// at {base}/messages).
type Suite struct {
	DingTalk *DingTalk
	WeCom    *WeCom
	Aliyun   *Aliyun
	Tencent  *Tencent
}

// Handler routes to the fakes.
func (s *Suite) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/dingtalk/", s.DingTalk)
	mux.Handle("/wecom/", s.WeCom)
	mux.Handle("/aliyun/", s.Aliyun)
	mux.Handle("/tencent/", s.Tencent)
	mux.HandleFunc("GET /messages", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, s.Messages()) })
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = page.Execute(w, s.Messages())
	})
	return mux
}

// Messages are the messages of all four fakes, newest first.
func (s *Suite) Messages() []Message {
	var all []Message
	all = append(all, s.DingTalk.Messages()...)
	all = append(all, s.WeCom.Messages()...)
	all = append(all, s.Aliyun.Messages()...)
	all = append(all, s.Tencent.Messages()...)
	slices.SortStableFunc(all, func(a, b Message) int { return b.At.Compare(a.At) })
	return all
}

var page = template.Must(template.New("page").Funcs(template.FuncMap{
	"label": func(p string) string {
		return map[string]string{"dingtalk": "钉钉工作通知", "wecom": "企业微信应用消息", "aliyun": "阿里云短信", "tencent": "腾讯云短信"}[p]
	},
	"lines": func(s string) []string { return strings.Split(s, "\n") },
}).Parse(`<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta http-equiv="refresh" content="5">
<title>个人渠道测试服务器</title>
<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.4em;vertical-align:top;text-align:left}</style>
</head><body>
<h1>个人渠道测试服务器：已收到 {{len .}} 条消息</h1>
<table><tr><th>时间</th><th>渠道</th><th>收件人</th><th>内容</th></tr>
{{range .}}<tr><td>{{.At.Format "01-02 15:04:05"}}</td><td>{{label .Provider}}</td><td>{{.To}}</td>
<td>{{if .Title}}<b>{{.Title}}</b><br>{{end}}{{range lines .Text}}{{.}}<br>{{end}}</td></tr>
{{end}}</table></body></html>`))
