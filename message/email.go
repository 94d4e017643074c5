package message

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"
	"time"
	"unicode/utf8"

	"github.com/duban-dev/duban"
)

//go:embed templates/*.tmpl
var templateFS embed.FS

var funcs = map[string]any{"inc": func(i int) int { return i + 1 }}

var (
	textTemplates = texttemplate.Must(texttemplate.New("").Funcs(funcs).ParseFS(templateFS, "templates/*.txt.tmpl"))
	htmlTemplates = htmltemplate.Must(htmltemplate.New("").Funcs(funcs).ParseFS(templateFS, "templates/*.html.tmpl"))
)

// Mail is what an email or a chat message says: one notice, or a digest of
// several (Items).
type Mail struct {
	Name      string // the recipient, for the greeting
	Title     string
	Body      string
	Link      string
	Urgent    bool
	KindLabel string
	Items     []MailItem
}

// MailItem is one entry of a digest.
type MailItem struct {
	Title  string
	Body   string
	Link   string
	Urgent bool
}

// RenderEmail renders the plain-text and HTML bodies of an email.
func RenderEmail(m Mail) (text, html string, err error) {
	name := "notice"
	if len(m.Items) > 0 {
		name = "digest"
	}
	if m.Name == "" {
		m.Name = "同志"
	}
	var tb, hb bytes.Buffer
	if err := textTemplates.ExecuteTemplate(&tb, name+".txt.tmpl", m); err != nil {
		return "", "", fmt.Errorf("render %s text: %w", name, err)
	}
	if err := htmlTemplates.ExecuteTemplate(&hb, name+".html.tmpl", m); err != nil {
		return "", "", fmt.Errorf("render %s html: %w", name, err)
	}
	return tb.String(), hb.String(), nil
}

// RenderChat renders a message as the Markdown that DingTalk and WeCom
// group robots show, at most limit bytes (both cap a message at about 4 KB):
// a digest too long is cut, saying how many items were left out.
func RenderChat(m Mail, mention string, limit int) string {
	var b strings.Builder
	b.WriteString("#### ")
	if m.Urgent {
		b.WriteString("【紧急】")
	}
	b.WriteString(mdEscape(m.Title))
	b.WriteString("\n\n")
	if mention != "" {
		b.WriteString("@" + mention + " ")
	}
	b.WriteString(mdEscape(m.Body))
	b.WriteString("\n\n")
	if len(m.Items) == 0 {
		if m.Link != "" {
			b.WriteString("[查看任务](" + m.Link + ")\n")
		}
		return truncateBytes(b.String(), limit)
	}
	for i, it := range m.Items {
		var line strings.Builder
		fmt.Fprintf(&line, "%d. ", i+1)
		if it.Urgent {
			line.WriteString("【紧急】")
		}
		if it.Link != "" {
			fmt.Fprintf(&line, "[%s](%s)", mdEscape(it.Title), it.Link)
		} else {
			line.WriteString(mdEscape(it.Title))
		}
		line.WriteString("：" + mdEscape(it.Body) + "\n")
		rest := fmt.Sprintf("\n……另有 %d 项，请登录督办系统查看。\n", len(m.Items)-i)
		if limit > 0 && b.Len()+line.Len()+len(rest) > limit {
			b.WriteString(rest)
			return b.String()
		}
		b.WriteString(line.String())
	}
	return b.String()
}

// mdEscape keeps user-written text (titles, reasons) from turning into
// links or headings in a chat message.
func mdEscape(s string) string {
	r := strings.NewReplacer("[", "［", "]", "］", "#", "＃", "\n", " ")
	return r.Replace(s)
}

func truncateBytes(s string, limit int) string {
	if limit <= 0 || len(s) <= limit {
		return s
	}
	cut := limit - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// DigestTitle is the subject of a digest of n items for the day of slot.
func DigestTitle(n int, slot time.Time) string {
	return fmt.Sprintf("督办每日汇总：%d 条待办提醒（%s）", n, day(slot))
}

// DigestIntro is the line above a digest's list.
func DigestIntro(n int) string {
	return fmt.Sprintf("以下是自上次汇总以来与您有关的 %d 条督办提醒，请及时处理。", n)
}

// Undelivered is the inbox note telling a person that a message could not
// reach them on a channel: it is kept in the inbox instead.
func Undelivered(channel, target, title, reason string) Message {
	name := channelLabel(channel)
	return Message{
		Title: name + "未能送达：" + title,
		Body: fmt.Sprintf("「%s」未能通过%s（%s）送达，原因：%s。该消息已保存在站内消息中；如多次出现，请检查通知设置或联系管理员。",
			title, name, target, reason),
	}
}

// TestNotice is what `duban notify test` sends.
func TestNotice(name string, at time.Time) Message {
	return Message{
		Title: "测试消息：督办系统通知设置",
		Body:  fmt.Sprintf("%s，这是一条测试消息，发送于 %s。收到即说明此通知渠道可用。", name, at.In(duban.Shanghai).Format("2006年1月2日 15:04")),
	}
}

func channelLabel(channel string) string {
	switch channel {
	case "email":
		return "邮件"
	case "webhook":
		return "工作群消息"
	case "inbox":
		return "站内消息"
	case "dingtalk":
		return "钉钉工作通知"
	case "wecom":
		return "企业微信应用消息"
	case "sms":
		return "短信"
	}
	return channel
}
