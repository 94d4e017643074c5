// Package mailcatcher is a small SMTP server that keeps every message it
// receives in memory and shows them on a web page: the dev stack's mail
// server (`duban-dev mailcatcher`), and the real SMTP server of the tests,
// which can offer STARTTLS, require AUTH and refuse messages on demand.
package mailcatcher

import (
	"bytes"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Message is one message received.
type Message struct {
	ID       int       `json:"id"`
	Received time.Time `json:"received"`
	From     string    `json:"from"` // envelope sender
	To       []string  `json:"to"`   // envelope recipients
	TLS      bool      `json:"tls"`  // arrived over TLS (STARTTLS)
	AuthUser string    `json:"auth_user,omitempty"`
	Raw      []byte    `json:"-"`

	// Parsed from Raw.
	Header    mail.Header `json:"-"`
	Subject   string      `json:"subject"` // RFC 2047 decoded
	MessageID string      `json:"message_id"`
	Text      string      `json:"text"`
	HTML      string      `json:"html"`
	ParseErr  string      `json:"parse_error,omitempty"`
}

// Options shape the server.
type Options struct {
	// TLSConfig, when set, offers STARTTLS.
	TLSConfig *tls.Config
	// Users, when set, requires AUTH (PLAIN or LOGIN) with one of them;
	// over plain text only if AllowInsecureAuth.
	Users             map[string]string
	AllowInsecureAuth bool
	// AuthMechanisms offered (default PLAIN and LOGIN).
	AuthMechanisms []string
	// Refuse, when set, may refuse a message before it is accepted: return
	// an *smtp.SMTPError such as 451 (try later) or 550 (never).
	Refuse func(m Message) error
	// Keep is how many recent messages are kept (default 500).
	Keep int
	// Domain is the name the server greets with (default localhost).
	Domain string
}

// Catcher is a running mail catcher.
type Catcher struct {
	opts Options
	srv  *smtp.Server
	ln   net.Listener

	mu     sync.Mutex
	nextID int
	msgs   []Message
	notify []chan struct{}
}

// Start listens on addr (127.0.0.1:0 for any free port) and serves.
func Start(addr string, opts Options) (*Catcher, error) {
	if opts.Keep <= 0 {
		opts.Keep = 500
	}
	if opts.Domain == "" {
		opts.Domain = "localhost"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("mail catcher: listen on %s: %w", addr, err)
	}
	c := &Catcher{opts: opts, ln: ln}
	s := smtp.NewServer(smtp.BackendFunc(func(conn *smtp.Conn) (smtp.Session, error) {
		_, isTLS := conn.TLSConnectionState()
		return &session{c: c, tls: isTLS, conn: conn}, nil
	}))
	s.Domain = opts.Domain
	s.TLSConfig = opts.TLSConfig
	s.AllowInsecureAuth = opts.AllowInsecureAuth
	s.MaxMessageBytes = 10 << 20
	s.MaxRecipients = 100
	s.ReadTimeout = time.Minute
	s.WriteTimeout = time.Minute
	c.srv = s
	go func() { _ = s.Serve(ln) }()
	return c, nil
}

// Addr is the host:port the server listens on.
func (c *Catcher) Addr() string { return c.ln.Addr().String() }

// Close stops the server.
func (c *Catcher) Close() error { return c.srv.Close() }

// Messages returns the messages received, oldest first.
func (c *Catcher) Messages() []Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Message(nil), c.msgs...)
}

// Message returns one message by id.
func (c *Catcher) Message(id int) (Message, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, m := range c.msgs {
		if m.ID == id {
			return m, true
		}
	}
	return Message{}, false
}

// Clear forgets every message.
func (c *Catcher) Clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.msgs = nil
}

// Wait blocks until at least n messages are kept or the timeout passes,
// and returns the messages.
func (c *Catcher) Wait(n int, timeout time.Duration) []Message {
	deadline := time.Now().Add(timeout)
	for {
		c.mu.Lock()
		if len(c.msgs) >= n || !time.Now().Before(deadline) {
			out := append([]Message(nil), c.msgs...)
			c.mu.Unlock()
			return out
		}
		ch := make(chan struct{})
		c.notify = append(c.notify, ch)
		c.mu.Unlock()
		select {
		case <-ch:
		case <-time.After(time.Until(deadline)):
		}
	}
}

func (c *Catcher) add(m Message) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.nextID++
	m.ID = c.nextID
	c.msgs = append(c.msgs, m)
	if len(c.msgs) > c.opts.Keep {
		c.msgs = c.msgs[len(c.msgs)-c.opts.Keep:]
	}
	for _, ch := range c.notify {
		close(ch)
	}
	c.notify = nil
}

type session struct {
	c        *Catcher
	conn     *smtp.Conn
	tls      bool
	authUser string
	from     string
	to       []string
}

func (s *session) AuthMechanisms() []string {
	if len(s.c.opts.Users) == 0 {
		return nil
	}
	if len(s.c.opts.AuthMechanisms) > 0 {
		return s.c.opts.AuthMechanisms
	}
	return []string{sasl.Plain, sasl.Login}
}

func (s *session) Auth(mech string) (sasl.Server, error) {
	check := func(username, password string) error {
		if want, ok := s.c.opts.Users[username]; !ok || want != password {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "Authentication credentials invalid"}
		}
		s.authUser = username
		return nil
	}
	switch mech {
	case sasl.Plain:
		return sasl.NewPlainServer(func(_, username, password string) error { return check(username, password) }), nil
	case sasl.Login:
		return &loginServer{check: check}, nil
	}
	return nil, smtp.ErrAuthUnknownMechanism
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if len(s.c.opts.Users) > 0 && s.authUser == "" {
		return smtp.ErrAuthRequired
	}
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	_, isTLS := s.conn.TLSConnectionState()
	m := Parse(raw)
	m.Received, m.From, m.To, m.TLS, m.AuthUser = time.Now(), s.from, append([]string(nil), s.to...), isTLS || s.tls, s.authUser
	if s.c.opts.Refuse != nil {
		if err := s.c.opts.Refuse(m); err != nil {
			return err
		}
	}
	s.c.add(m)
	return nil
}

func (s *session) Reset() { s.from, s.to = "", nil }

func (s *session) Logout() error { return nil }

// loginServer is the server side of AUTH LOGIN, which go-sasl lacks.
type loginServer struct {
	check    func(username, password string) error
	step     int
	username string
}

func (l *loginServer) Next(response []byte) ([]byte, bool, error) {
	switch l.step {
	case 0:
		l.step++
		if len(response) > 0 { // initial response: the username
			l.username = string(response)
			l.step++
			return []byte("Password:"), false, nil
		}
		return []byte("Username:"), false, nil
	case 1:
		l.username = string(response)
		l.step++
		return []byte("Password:"), false, nil
	default:
		return nil, true, l.check(l.username, string(response))
	}
}

// Parse reads a raw message: headers, decoded subject, and the text and
// HTML parts of a (possibly multipart) body.
func Parse(raw []byte) Message {
	m := Message{Raw: raw}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		m.ParseErr = err.Error()
		return m
	}
	m.Header = msg.Header
	dec := new(mime.WordDecoder)
	if s, err := dec.DecodeHeader(msg.Header.Get("Subject")); err == nil {
		m.Subject = s
	} else {
		m.Subject = msg.Header.Get("Subject")
	}
	m.MessageID = msg.Header.Get("Message-Id")
	if err := m.readPart(msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body); err != nil {
		m.ParseErr = err.Error()
	}
	return m
}

func (m *Message) readPart(contentType, encoding string, body io.Reader) error {
	if contentType == "" {
		contentType = "text/plain"
	}
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return err
	}
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			if err := m.readPart(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p); err != nil {
				return err
			}
		}
	}
	var r io.Reader = body
	switch strings.ToLower(encoding) {
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, &stripCRLF{r: body})
	case "quoted-printable":
		r = quotedprintable.NewReader(body)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	switch mt {
	case "text/plain":
		m.Text = strings.ReplaceAll(string(b), "\r\n", "\n")
	case "text/html":
		m.HTML = string(b)
	}
	return nil
}

// stripCRLF drops line breaks so base64 lines decode as one stream.
type stripCRLF struct{ r io.Reader }

func (s *stripCRLF) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	j := 0
	for i := 0; i < n; i++ {
		if p[i] != '\r' && p[i] != '\n' {
			p[j] = p[i]
			j++
		}
	}
	if j == 0 && n > 0 && err == nil {
		return s.Read(p)
	}
	return j, err
}
