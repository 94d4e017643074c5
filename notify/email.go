package notify

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"os"
	"strings"
	"time"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/message"
)

// SMTP TLS modes.
const (
	TLSAuto     = "auto"     // STARTTLS when the server offers it (the default)
	TLSStartTLS = "starttls" // STARTTLS required: refuse to send in clear text
	TLSImplicit = "tls"      // TLS from the first byte (port 465)
	TLSNone     = "none"     // never (a local mail catcher)
)

// SMTPConfig says how to reach the mail server.
type SMTPConfig struct {
	Addr     string // host:port
	Username string // AUTH when set: PLAIN, or LOGIN if that is all the server offers
	Password string
	From     string // e.g. 督办系统 <duban@example.org>
	TLS      string // TLSAuto, TLSStartTLS, TLSImplicit or TLSNone
	// TLSConfig overrides the TLS client settings (a private CA's roots).
	TLSConfig *tls.Config
	HeloName  string
	Timeout   time.Duration // for the whole conversation; default 30s
}

// Email sends notices over SMTP as multipart/alternative mail with a
// Chinese HTML body and its plain-text twin.
type Email struct {
	cfg  SMTPConfig
	from *mail.Address
	host string
}

// NewEmail checks the configuration and returns the channel.
func NewEmail(cfg SMTPConfig) (*Email, error) {
	if cfg.Addr == "" {
		return nil, errors.New("smtp: no server address")
	}
	host, _, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("smtp address %q: want host:port", cfg.Addr)
	}
	from, err := mail.ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("smtp from %q: %w", cfg.From, err)
	}
	switch cfg.TLS {
	case "":
		cfg.TLS = TLSAuto
	case TLSAuto, TLSStartTLS, TLSImplicit, TLSNone:
	default:
		return nil, fmt.Errorf("smtp tls %q: want auto, starttls, tls or none", cfg.TLS)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.HeloName == "" {
		cfg.HeloName, _ = os.Hostname()
		if cfg.HeloName == "" {
			cfg.HeloName = "localhost"
		}
	}
	return &Email{cfg: cfg, from: from, host: host}, nil
}

// LoadCA reads PEM certificates to trust for the SMTP server.
func LoadCA(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("smtp CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("smtp CA: no certificate in %s", path)
	}
	return pool, nil
}

func (e *Email) tlsConfig() *tls.Config {
	if e.cfg.TLSConfig != nil {
		c := e.cfg.TLSConfig.Clone()
		if c.ServerName == "" {
			c.ServerName = e.host
		}
		return c
	}
	return &tls.Config{ServerName: e.host, MinVersion: tls.VersionTLS12}
}

// Send delivers one message. It returns nil as soon as the server has
// accepted the message (250 after DATA): what fails afterwards, such as
// QUIT, does not make it unsent.
func (e *Email) Send(ctx context.Context, m Message) error {
	if m.To.Email == "" {
		return Permanent("没有邮件地址")
	}
	to, err := mail.ParseAddress(m.To.Email)
	if err != nil {
		return Permanent("邮件地址 %q 无效", m.To.Email)
	}
	raw, err := e.Compose(m, to, time.Now())
	if err != nil {
		return Permanent("生成邮件失败：%v", err)
	}
	return e.deliver(ctx, to.Address, raw)
}

func (e *Email) deliver(ctx context.Context, to string, raw []byte) error {
	deadline := time.Now().Add(e.cfg.Timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	dialer := &net.Dialer{Deadline: deadline}
	var (
		conn net.Conn
		err  error
	)
	if e.cfg.TLS == TLSImplicit {
		conn, err = (&tls.Dialer{NetDialer: dialer, Config: e.tlsConfig()}).DialContext(ctx, "tcp", e.cfg.Addr)
	} else {
		conn, err = dialer.DialContext(ctx, "tcp", e.cfg.Addr)
	}
	if err != nil {
		return classifySMTP("连接邮件服务器", err)
	}
	_ = conn.SetDeadline(deadline)
	// Cancelling the activity interrupts a conversation blocked on the network.
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	c, err := smtp.NewClient(conn, e.host)
	if err != nil {
		conn.Close()
		return classifySMTP("邮件服务器问候", err)
	}
	defer c.Close()
	if err := c.Hello(e.cfg.HeloName); err != nil {
		return classifySMTP("HELO", err)
	}
	if e.cfg.TLS == TLSAuto || e.cfg.TLS == TLSStartTLS {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(e.tlsConfig()); err != nil {
				return classifySMTP("STARTTLS", err)
			}
		} else if e.cfg.TLS == TLSStartTLS {
			return Permanent("邮件服务器未提供 STARTTLS，而配置要求加密传输（smtp.tls=starttls）")
		}
	}
	if e.cfg.Username != "" {
		ok, mechs := c.Extension("AUTH")
		if !ok {
			return Permanent("邮件服务器不支持身份验证（AUTH），无法使用配置的用户名登录")
		}
		var auth smtp.Auth
		switch {
		case hasWord(mechs, "PLAIN"):
			auth = smtp.PlainAuth("", e.cfg.Username, e.cfg.Password, e.host)
		case hasWord(mechs, "LOGIN"):
			auth = &loginAuth{user: e.cfg.Username, pass: e.cfg.Password, host: e.host}
		default:
			return Permanent("邮件服务器的身份验证方式 %q 均不受支持（需要 PLAIN 或 LOGIN）", mechs)
		}
		if err := c.Auth(auth); err != nil {
			return classifySMTP("身份验证", err)
		}
	}
	if err := c.Mail(e.from.Address); err != nil {
		return classifySMTP("MAIL FROM", err)
	}
	if err := c.Rcpt(to); err != nil {
		return classifySMTP("RCPT TO", err)
	}
	w, err := c.Data()
	if err != nil {
		return classifySMTP("DATA", err)
	}
	if _, err := w.Write(raw); err != nil {
		return classifySMTP("发送邮件内容", err)
	}
	if err := w.Close(); err != nil {
		return classifySMTP("邮件服务器接收", err)
	}
	// Accepted. Whatever happens from here on, the message is on its way.
	_ = c.Quit()
	return nil
}

func hasWord(list, word string) bool {
	for _, w := range strings.Fields(list) {
		if strings.EqualFold(w, word) {
			return true
		}
	}
	return false
}

// classifySMTP turns an SMTP conversation error into a SendError: a 5xx
// reply is permanent and a 4xx reply temporary (RFC 5321 4.2.1), a
// certificate the client cannot verify is a configuration error, and
// network trouble is temporary.
func classifySMTP(step string, err error) error {
	var tp *textproto.Error
	if errors.As(err, &tp) {
		if tp.Code >= 500 {
			return Permanent("%s：SMTP %d %s", step, tp.Code, tp.Msg)
		}
		return Temporary("%s：SMTP %d %s", step, tp.Code, tp.Msg)
	}
	var unknownCA x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	if errors.As(err, &unknownCA) || errors.As(err, &hostname) || errors.As(err, &invalid) {
		return Permanent("%s：服务器证书无法验证：%v", step, err)
	}
	if strings.Contains(err.Error(), "unencrypted connection") {
		return Permanent("%s：连接未加密，拒绝发送密码（请启用 STARTTLS 或 TLS）", step)
	}
	return Temporary("%s：%v", step, err)
}

// loginAuth is the LOGIN mechanism, which net/smtp lacks and some servers
// (Exchange, a few domestic providers) still offer alone. Like PlainAuth it
// refuses to send the password in clear text except to localhost.
type loginAuth struct{ user, pass, host string }

func (a *loginAuth) Start(server *smtp.ServerInfo) (string, []byte, error) {
	if !server.TLS && !isLocalhost(server.Name) {
		return "", nil, errors.New("unencrypted connection")
	}
	if server.Name != a.host {
		return "", nil, errors.New("wrong host name")
	}
	return "LOGIN", nil, nil
}

func (a *loginAuth) Next(fromServer []byte, more bool) ([]byte, error) {
	if !more {
		return nil, nil
	}
	switch strings.ToLower(strings.TrimSpace(string(fromServer))) {
	case "username:", "user name", "username":
		return []byte(a.user), nil
	case "password:", "password":
		return []byte(a.pass), nil
	}
	return nil, fmt.Errorf("unexpected LOGIN challenge %q", fromServer)
}

func isLocalhost(name string) bool {
	return name == "localhost" || name == "127.0.0.1" || name == "::1"
}

// MessageID is the Message-ID of the email for a dedup key: the same key
// always gives the same id, so a copy sent twice in the window between the
// server's acceptance and the row being marked can be recognised.
func MessageID(key, domain string) string {
	sum := sha256.Sum256([]byte(key))
	return "<" + hex.EncodeToString(sum[:16]) + ".duban@" + domain + ">"
}

// Compose builds the RFC 5322 message: headers with RFC 2047 encoded
// Chinese, and a multipart/alternative body (text, then HTML), base64.
func (e *Email) Compose(m Message, to *mail.Address, date time.Time) ([]byte, error) {
	mm := mailOf(m)
	text, html, err := message.RenderEmail(mm)
	if err != nil {
		return nil, err
	}
	if to.Name == "" {
		to = &mail.Address{Name: m.To.Name, Address: to.Address}
	}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	domain := e.from.Address[strings.LastIndex(e.from.Address, "@")+1:]
	subject := m.Title
	if m.Urgent {
		subject = "【紧急】" + subject
	}
	h := []struct{ k, v string }{
		{"From", e.from.String()},
		{"To", to.String()},
		{"Subject", mime.BEncoding.Encode("UTF-8", subject)},
		{"Date", date.In(duban.Shanghai).Format(time.RFC1123Z)},
		{"Message-ID", MessageID(m.Key, domain)},
		{"MIME-Version", "1.0"},
		{"Content-Type", `multipart/alternative; boundary="` + mw.Boundary() + `"`},
		{"Auto-Submitted", "auto-generated"}, // RFC 3834: no vacation replies
		{"X-Duban-Delivery", oneLine(m.Key)},
	}
	if m.Urgent {
		h = append(h, struct{ k, v string }{"Importance", "high"}, struct{ k, v string }{"X-Priority", "1"})
	}
	var head bytes.Buffer
	for _, kv := range h {
		head.WriteString(kv.k + ": " + kv.v + "\r\n")
	}
	head.WriteString("\r\n")
	for _, part := range []struct{ typ, body string }{{"text/plain", text}, {"text/html", html}} {
		pw, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {part.typ + "; charset=UTF-8"},
			"Content-Transfer-Encoding": {"base64"},
		})
		if err != nil {
			return nil, err
		}
		writeBase64Lines(pw, []byte(crlf(part.body)))
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	return append(head.Bytes(), buf.Bytes()...), nil
}

func mailOf(m Message) message.Mail {
	mm := message.Mail{Name: m.To.Name, Title: m.Title, Body: m.Body, Link: m.Link, Urgent: m.Urgent, KindLabel: m.Kind.Label()}
	if m.Kind == KindDigest {
		mm.KindLabel = "每日汇总"
	}
	for _, it := range m.Items {
		mm.Items = append(mm.Items, message.MailItem{Title: it.Title, Body: it.Body, Link: it.Link, Urgent: it.Urgent})
	}
	return mm
}

func oneLine(s string) string { return strings.NewReplacer("\r", "", "\n", "").Replace(s) }

func crlf(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\n", "\r\n")
}

func writeBase64Lines(w io.Writer, b []byte) {
	enc := base64.StdEncoding.EncodeToString(b)
	for len(enc) > 76 {
		_, _ = w.Write([]byte(enc[:76] + "\r\n"))
		enc = enc[76:]
	}
	_, _ = w.Write([]byte(enc + "\r\n"))
}
