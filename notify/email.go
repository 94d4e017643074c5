package notify

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/textproto"
	"os"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"

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

// Email sends notices over SMTP (through github.com/wneessen/go-mail) as
// multipart/alternative mail with a Chinese HTML body and its plain-text
// twin.
type Email struct {
	cfg  SMTPConfig
	from *mail.Address
	host string
	port int
}

// NewEmail checks the configuration and returns the channel.
func NewEmail(cfg SMTPConfig) (*Email, error) {
	if cfg.Addr == "" {
		return nil, errors.New("smtp: no server address")
	}
	host, portText, err := net.SplitHostPort(cfg.Addr)
	port, perr := strconv.Atoi(portText)
	if err != nil || perr != nil || host == "" || port <= 0 || port > 65535 {
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
	return &Email{cfg: cfg, from: from, host: host, port: port}, nil
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
	msg, err := e.compose(m, to, time.Now())
	if err != nil {
		return Permanent("生成邮件失败：%v", err)
	}
	return e.deliver(ctx, msg)
}

// deliver holds one SMTP conversation through go-mail: connect, EHLO and
// STARTTLS as the TLS mode says, AUTH with PLAIN or LOGIN, then the message.
// The whole conversation ends by the configured timeout or the context's
// deadline, whichever is first, and cancelling the context interrupts it.
func (e *Email) deliver(ctx context.Context, msg *gomail.Msg) error {
	deadline := time.Now().Add(e.cfg.Timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	opts := []gomail.Option{
		gomail.WithPort(e.port),
		gomail.WithHELO(e.cfg.HeloName),
		gomail.WithTimeout(time.Until(deadline)),
		gomail.WithTLSConfig(e.tlsConfig()),
		gomail.WithDialContextFunc(e.dialer(ctx, deadline)),
		gomail.WithoutNoop(),
	}
	switch e.cfg.TLS {
	case TLSImplicit:
		// The dialer does the handshake; WithSSL keeps go-mail from also
		// trying STARTTLS.
		opts = append(opts, gomail.WithSSL())
	case TLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	default:
		// STARTTLS when offered. For TLSStartTLS its absence is checked
		// below, before AUTH or anything of the message goes out.
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	}
	client, err := gomail.NewClient(e.host, opts...)
	if err != nil {
		return Permanent("邮件服务器设置有误：%v", err)
	}
	conn, err := client.DialToSMTPClientWithContext(ctx)
	if err != nil {
		var dialErr *dialError
		if errors.As(err, &dialErr) {
			return classifySMTP("连接邮件服务器", dialErr.err)
		}
		return classifySMTP("SMTP 握手（EHLO/STARTTLS）", err)
	}
	defer conn.Close()
	if e.cfg.TLS == TLSStartTLS {
		if _, err := conn.GetTLSConnectionState(); err != nil {
			return Permanent("邮件服务器未提供 STARTTLS，而配置要求加密传输（smtp.tls=starttls）")
		}
	}
	if e.cfg.Username != "" {
		if err := e.authenticate(conn); err != nil {
			return err
		}
	}
	if err := client.SendWithSMTPClient(conn, msg); err != nil {
		return classifySend(err)
	}
	// Accepted. Whatever happens from here on, the message is on its way.
	_ = client.CloseWithSMTPClient(conn)
	return nil
}

// authenticate logs in with PLAIN, or LOGIN if that is all the server
// offers (Exchange, a few domestic providers). Both refuse to send the
// password over a connection that is not encrypted, except to localhost.
func (e *Email) authenticate(conn *smtp.Client) error {
	ok, mechs := conn.Extension("AUTH")
	if !ok {
		return Permanent("邮件服务器不支持身份验证（AUTH），无法使用配置的用户名登录")
	}
	var auth smtp.Auth
	switch {
	case hasWord(mechs, "PLAIN"):
		auth = smtp.PlainAuth("", e.cfg.Username, e.cfg.Password, e.host, false)
	case hasWord(mechs, "LOGIN"):
		auth = smtp.LoginAuth(e.cfg.Username, e.cfg.Password, e.host, false)
	default:
		return Permanent("邮件服务器的身份验证方式 %q 均不受支持（需要 PLAIN 或 LOGIN）", mechs)
	}
	if err := conn.Auth(auth); err != nil {
		return classifySMTP("身份验证", err)
	}
	return nil
}

// dialError marks a failure to reach the server (TCP, or the handshake of
// implicit TLS), as opposed to one in the SMTP conversation.
type dialError struct{ err error }

func (e *dialError) Error() string { return e.err.Error() }
func (e *dialError) Unwrap() error { return e.err }

// dialer connects for go-mail. The connection it returns never waits past
// deadline, whatever deadlines go-mail sets for each command, and is
// interrupted when ctx is cancelled.
func (e *Email) dialer(ctx context.Context, deadline time.Time) gomail.DialContextFunc {
	return func(dialCtx context.Context, network, addr string) (net.Conn, error) {
		raw, err := (&net.Dialer{Deadline: deadline}).DialContext(dialCtx, network, addr)
		if err != nil {
			return nil, &dialError{err}
		}
		var conn net.Conn = newBoundConn(ctx, raw, deadline)
		if e.cfg.TLS == TLSImplicit {
			// A *tls.Conn, so that the SMTP client sees the connection is
			// encrypted and PLAIN and LOGIN may send the password.
			tc := tls.Client(conn, e.tlsConfig())
			if err := tc.HandshakeContext(dialCtx); err != nil {
				_ = conn.Close()
				return nil, &dialError{err}
			}
			conn = tc
		}
		return conn, nil
	}
}

// boundConn is a connection whose deadlines never pass its own, and which
// gives up at once when its context is cancelled.
type boundConn struct {
	net.Conn
	ctx      context.Context
	deadline time.Time
	stop     func() bool
}

func newBoundConn(ctx context.Context, conn net.Conn, deadline time.Time) *boundConn {
	c := &boundConn{Conn: conn, ctx: ctx, deadline: deadline}
	_ = conn.SetDeadline(deadline)
	c.stop = context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	return c
}

func (c *boundConn) bound(t time.Time) time.Time {
	if c.ctx.Err() != nil {
		return time.Unix(1, 0)
	}
	if t.IsZero() || t.After(c.deadline) {
		return c.deadline
	}
	return t
}

func (c *boundConn) SetDeadline(t time.Time) error      { return c.Conn.SetDeadline(c.bound(t)) }
func (c *boundConn) SetReadDeadline(t time.Time) error  { return c.Conn.SetReadDeadline(c.bound(t)) }
func (c *boundConn) SetWriteDeadline(t time.Time) error { return c.Conn.SetWriteDeadline(c.bound(t)) }

func (c *boundConn) Close() error {
	c.stop()
	return c.Conn.Close()
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
	if errors.Is(err, smtp.ErrUnencrypted) {
		return Permanent("%s：连接未加密，拒绝发送密码（请启用 STARTTLS 或 TLS）", step)
	}
	return Temporary("%s：%v", step, err)
}

// sendSteps name the step of the conversation a go-mail SendError reports.
var sendSteps = map[gomail.SendErrReason]string{
	gomail.ErrSMTPMailFrom:  "MAIL FROM",
	gomail.ErrSMTPRcptTo:    "RCPT TO",
	gomail.ErrSMTPData:      "DATA",
	gomail.ErrWriteContent:  "发送邮件内容",
	gomail.ErrSMTPDataClose: "邮件服务器接收",
	gomail.ErrConnCheck:     "连接检查",
}

// classifySend classifies a failed MAIL FROM … DATA as classifySMTP does:
// the server's reply code decides, and a failure without one (the network)
// is temporary.
func classifySend(err error) error {
	var se *gomail.SendError
	if !errors.As(err, &se) {
		return Temporary("发送邮件：%v", err)
	}
	step := sendSteps[se.Reason]
	if step == "" {
		step = "发送邮件"
	}
	switch code := se.ErrorCode(); {
	case code >= 500:
		return Permanent("%s：SMTP %d（%v）", step, code, se)
	case code >= 400:
		return Temporary("%s：SMTP %d（%v）", step, code, se)
	case se.Reason == gomail.ErrGetSender || se.Reason == gomail.ErrGetRcpts || se.Reason == gomail.ErrNoUnencoded:
		return Permanent("%s：%v", step, se)
	}
	return Temporary("%s：%v", step, se)
}

// MessageID is the Message-ID of the email for a dedup key: the same key
// always gives the same id, so a copy sent twice in the window between the
// server's acceptance and the row being marked can be recognised.
func MessageID(key, domain string) string {
	sum := sha256.Sum256([]byte(key))
	return "<" + hex.EncodeToString(sum[:16]) + ".duban@" + domain + ">"
}

// compose builds the message: headers with RFC 2047 encoded Chinese, and a
// multipart/alternative body (text, then HTML), both base64.
func (e *Email) compose(m Message, to *mail.Address, date time.Time) (*gomail.Msg, error) {
	text, html, err := message.RenderEmail(mailOf(m))
	if err != nil {
		return nil, err
	}
	if to.Name == "" {
		to = &mail.Address{Name: m.To.Name, Address: to.Address}
	}
	msg := gomail.NewMsg(gomail.WithCharset(gomail.CharsetUTF8), gomail.WithEncoding(gomail.EncodingB64), gomail.WithNoDefaultUserAgent())
	msg.FromMailAddress(e.from)
	msg.ToMailAddress(to)
	subject := m.Title
	if m.Urgent {
		subject = "【紧急】" + subject
		msg.SetImportance(gomail.ImportanceHigh)
	}
	msg.Subject(subject)
	msg.SetDateWithValue(date.In(duban.Shanghai))
	domain := e.from.Address[strings.LastIndex(e.from.Address, "@")+1:]
	msg.SetMessageIDWithValue(strings.Trim(MessageID(m.Key, domain), "<>"))
	msg.SetGenHeader("Auto-Submitted", "auto-generated") // RFC 3834: no vacation replies
	msg.SetGenHeader("X-Duban-Delivery", oneLine(m.Key))
	msg.SetBodyString(gomail.TypeTextPlain, crlf(text))
	msg.AddAlternativeString(gomail.TypeTextHTML, crlf(html))
	return msg, nil
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
