package mailcatcher

import (
	"encoding/json"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"
)

var shanghai = func() *time.Location {
	if l, err := time.LoadLocation("Asia/Shanghai"); err == nil {
		return l
	}
	return time.FixedZone("CST", 8*3600)
}()

var page = template.Must(template.New("page").Funcs(template.FuncMap{
	"when": func(t time.Time) string { return t.In(shanghai).Format("01-02 15:04:05") },
	"join": func(s []string) string { return strings.Join(s, ", ") },
}).Parse(`<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8">
{{if not .One}}<meta http-equiv="refresh" content="5">{{end}}
<title>督办 · 本地邮件</title>
<style>
body{font-family:'PingFang SC','Microsoft YaHei',sans-serif;margin:24px;color:#1f2329;background:#f4f5f7}
h1{font-size:20px} table{border-collapse:collapse;width:100%;background:#fff}
th,td{padding:8px 10px;border-bottom:1px solid #eceef1;text-align:left;font-size:14px;vertical-align:top}
th{background:#fafbfc;color:#4e5969} a{color:#b22222} .muted{color:#8a8f99;font-size:13px}
pre{white-space:pre-wrap;background:#fff;padding:12px;border:1px solid #eceef1}
iframe{width:100%;height:520px;border:1px solid #eceef1;background:#fff}
form{display:inline}
</style></head><body>
{{if .One}}{{with .One}}
<p><a href="/">← 全部邮件</a></p>
<h1>{{.Subject}}</h1>
<p class="muted">收件人 {{join .To}} · 发件人 {{.From}} · {{when .Received}}{{if .TLS}} · TLS{{end}} · {{.MessageID}}</p>
{{if .HTML}}<iframe sandbox src="/messages/{{.ID}}/html"></iframe>{{end}}
<h2>纯文本</h2><pre>{{.Text}}</pre>
<p><a href="/messages/{{.ID}}/raw">原始邮件</a></p>
{{end}}{{else}}
<h1>督办 · 本地邮件（{{len .All}} 封）</h1>
<p class="muted">SMTP {{.SMTP}} · 每 5 秒刷新 · <a href="/api/messages">JSON</a>
<form method="post" action="/clear"><button>清空</button></form></p>
<table><tr><th>时间</th><th>收件人</th><th>主题</th></tr>
{{range .All}}<tr><td class="muted">{{when .Received}}</td><td>{{join .To}}</td><td><a href="/messages/{{.ID}}">{{.Subject}}</a></td></tr>
{{else}}<tr><td colspan="3" class="muted">还没有邮件。把 DUBAN_SMTP_ADDR 设为 {{.SMTP}} 后运行 duban-dev dev。</td></tr>{{end}}
</table>{{end}}
</body></html>`))

// Handler is the web page listing the messages, newest first, and
// showing each (its HTML part in a sandboxed frame).
func (c *Catcher) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		msgs := c.Messages()
		for i, j := 0, len(msgs)-1; i < j; i, j = i+1, j-1 {
			msgs[i], msgs[j] = msgs[j], msgs[i]
		}
		render(w, map[string]any{"All": msgs, "SMTP": c.Addr()})
	})
	mux.HandleFunc("GET /messages/{id}", func(w http.ResponseWriter, r *http.Request) {
		if m, ok := c.byPath(w, r); ok {
			render(w, map[string]any{"One": m})
		}
	})
	mux.HandleFunc("GET /messages/{id}/html", func(w http.ResponseWriter, r *http.Request) {
		if m, ok := c.byPath(w, r); ok {
			// The message's HTML is shown as is, but may not run scripts
			// or reach this page.
			w.Header().Set("Content-Security-Policy", "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'")
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_, _ = w.Write([]byte(m.HTML))
		}
	})
	mux.HandleFunc("GET /messages/{id}/raw", func(w http.ResponseWriter, r *http.Request) {
		if m, ok := c.byPath(w, r); ok {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			_, _ = w.Write(m.Raw)
		}
	})
	mux.HandleFunc("GET /api/messages", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(c.Messages())
	})
	mux.HandleFunc("POST /clear", func(w http.ResponseWriter, r *http.Request) {
		c.Clear()
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
	return mux
}

func (c *Catcher) byPath(w http.ResponseWriter, r *http.Request) (Message, bool) {
	id, err := strconv.Atoi(r.PathValue("id"))
	if err == nil {
		if m, ok := c.Message(id); ok {
			return m, true
		}
	}
	http.NotFound(w, r)
	return Message{}, false
}

func render(w http.ResponseWriter, data map[string]any) {
	if _, ok := data["One"]; !ok {
		data["One"] = nil
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := page.Execute(w, data); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
}
