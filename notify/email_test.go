package notify_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/stretchr/testify/require"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/notify"
	"github.com/duban-dev/duban/notify/mailcatcher"
)

// testTLS makes a certificate for 127.0.0.1 and localhost, and a client
// configuration that trusts it.
func testTLS(t *testing.T) (server, client *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "duban test mail"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true,
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}},
		&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
}

func startCatcher(t *testing.T, opts mailcatcher.Options) *mailcatcher.Catcher {
	t.Helper()
	c, err := mailcatcher.Start("127.0.0.1:0", opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func notice() notify.Message {
	return notify.Message{
		Key:  "2021/2.1/430102#4#7#email",
		To:   notify.Address{UserID: 7, Name: "王芳", Email: "wangfang@furong.example"},
		Kind: duban.EventReminder, Title: "到期提醒：出台改革方案",
		Body:       "芙蓉区「出台改革方案」将于 2021年12月31日 到期（还剩7天），请及时办理并报送。",
		Link:       "https://duban.example/#/tasks/2021%2F2.1%2F430102",
		InstanceID: "2021/2.1/430102", At: duban.EndOfDay(2021, 12, 24),
	}
}

func TestEmailOverSTARTTLSWithAuthReadsBackInChinese(t *testing.T) {
	serverTLS, clientTLS := testTLS(t)
	c := startCatcher(t, mailcatcher.Options{TLSConfig: serverTLS, Users: map[string]string{"duban": "s3cret-pass"}})
	email, err := notify.NewEmail(notify.SMTPConfig{Addr: c.Addr(), Username: "duban", Password: "s3cret-pass",
		From: "湖南省计生协督办 <duban@hnjsx.example>", TLS: notify.TLSStartTLS, TLSConfig: clientTLS})
	require.NoError(t, err)
	m := notice()
	require.NoError(t, email.Send(context.Background(), m))

	got := c.Wait(1, 5*time.Second)
	require.Len(t, got, 1)
	msg := got[0]
	require.True(t, msg.TLS, "sent after STARTTLS")
	require.Equal(t, "duban", msg.AuthUser)
	require.Equal(t, []string{"wangfang@furong.example"}, msg.To)
	require.Equal(t, "duban@hnjsx.example", msg.From)
	require.Empty(t, msg.ParseErr)
	require.Equal(t, "到期提醒：出台改革方案", msg.Subject)
	// RFC 2047: the header on the wire is ASCII.
	raw := msg.Header.Get("Subject")
	require.True(t, strings.HasPrefix(raw, "=?UTF-8?b?"), raw)
	from, err := mail.ParseAddress(msg.Header.Get("From"))
	require.NoError(t, err)
	require.Equal(t, "湖南省计生协督办", from.Name)
	to, err := mail.ParseAddress(msg.Header.Get("To"))
	require.NoError(t, err)
	require.Equal(t, "王芳", to.Name)
	require.Equal(t, notify.MessageID(m.Key, "hnjsx.example"), msg.MessageID)
	require.Equal(t, m.Key, msg.Header.Get("X-Duban-Delivery"))
	require.Equal(t, "auto-generated", msg.Header.Get("Auto-Submitted"))
	require.True(t, strings.HasPrefix(msg.Header.Get("Content-Type"), "multipart/alternative"))

	require.Contains(t, msg.Text, "王芳，您好")
	require.Contains(t, msg.Text, m.Body)
	require.Contains(t, msg.Text, "查看任务："+m.Link)
	require.Contains(t, msg.HTML, "<html lang=\"zh-CN\">")
	require.Contains(t, msg.HTML, "芙蓉区「出台改革方案」将于 2021年12月31日 到期")
	require.Contains(t, msg.HTML, `href="https://duban.example/#/tasks/2021%2F2.1%2F430102"`)
}

func TestEmailUsesLOGINWhenThatIsAllTheServerOffers(t *testing.T) {
	serverTLS, clientTLS := testTLS(t)
	c := startCatcher(t, mailcatcher.Options{TLSConfig: serverTLS, Users: map[string]string{"duban": "pw"}, AuthMechanisms: []string{"LOGIN"}})
	email, err := notify.NewEmail(notify.SMTPConfig{Addr: c.Addr(), Username: "duban", Password: "pw", From: "duban@hnjsx.example", TLSConfig: clientTLS})
	require.NoError(t, err)
	require.NoError(t, email.Send(context.Background(), notice()))
	got := c.Wait(1, 5*time.Second)
	require.Len(t, got, 1)
	require.Equal(t, "duban", got[0].AuthUser)
	require.True(t, got[0].TLS, "auto mode upgrades when STARTTLS is offered")

	wrong, err := notify.NewEmail(notify.SMTPConfig{Addr: c.Addr(), Username: "duban", Password: "nope", From: "duban@hnjsx.example", TLSConfig: clientTLS})
	require.NoError(t, err)
	err = wrong.Send(context.Background(), notice())
	require.Error(t, err)
	require.True(t, notify.IsPermanent(err), "535 is permanent: %v", err)
	require.NotContains(t, err.Error(), "nope")
}

func TestEmailRefusesToSendInClearWhenSTARTTLSIsRequired(t *testing.T) {
	c := startCatcher(t, mailcatcher.Options{})
	email, err := notify.NewEmail(notify.SMTPConfig{Addr: c.Addr(), From: "duban@hnjsx.example", TLS: notify.TLSStartTLS})
	require.NoError(t, err)
	err = email.Send(context.Background(), notice())
	require.Error(t, err)
	require.True(t, notify.IsPermanent(err))
	require.Contains(t, err.Error(), "STARTTLS")
	require.Empty(t, c.Messages())

	// The same server is fine for a mail catcher configured without TLS.
	plain, err := notify.NewEmail(notify.SMTPConfig{Addr: c.Addr(), From: "duban@hnjsx.example", TLS: notify.TLSNone})
	require.NoError(t, err)
	require.NoError(t, plain.Send(context.Background(), notice()))
	require.Len(t, c.Wait(1, 5*time.Second), 1)
}

func TestEmailTellsTemporaryFromPermanentSMTPReplies(t *testing.T) {
	reply := 451
	c := startCatcher(t, mailcatcher.Options{Refuse: func(mailcatcher.Message) error {
		return &smtp.SMTPError{Code: reply, EnhancedCode: smtp.EnhancedCode{reply / 100, 0, 0}, Message: "test refusal"}
	}})
	email, err := notify.NewEmail(notify.SMTPConfig{Addr: c.Addr(), From: "duban@hnjsx.example", TLS: notify.TLSNone})
	require.NoError(t, err)
	err = email.Send(context.Background(), notice())
	require.Error(t, err)
	require.False(t, notify.IsPermanent(err), "451 is worth retrying: %v", err)
	require.Contains(t, err.Error(), "451")
	reply = 550
	err = email.Send(context.Background(), notice())
	require.True(t, notify.IsPermanent(err), "550 is not: %v", err)
	require.Contains(t, err.Error(), "550")

	// Nobody listening: temporary.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	l.Close()
	down, err := notify.NewEmail(notify.SMTPConfig{Addr: addr, From: "duban@hnjsx.example", Timeout: 2 * time.Second})
	require.NoError(t, err)
	err = down.Send(context.Background(), notice())
	require.Error(t, err)
	require.False(t, notify.IsPermanent(err))
	// No address at all: permanent.
	m := notice()
	m.To.Email = "not an address"
	require.True(t, notify.IsPermanent(email.Send(context.Background(), m)))
}

func TestUrgentEmailIsMarked(t *testing.T) {
	c := startCatcher(t, mailcatcher.Options{})
	email, err := notify.NewEmail(notify.SMTPConfig{Addr: c.Addr(), From: "duban@hnjsx.example", TLS: notify.TLSNone})
	require.NoError(t, err)
	m := notice()
	m.Kind, m.Urgent, m.Title = duban.EventOverdue, true, "已逾期：出台改革方案"
	require.NoError(t, email.Send(context.Background(), m))
	got := c.Wait(1, 5*time.Second)[0]
	require.Equal(t, "【紧急】已逾期：出台改革方案", got.Subject)
	require.Equal(t, "high", got.Header.Get("Importance"))
	require.Contains(t, got.Text, "【紧急】")
}

// implicitTLS is a TLS front for a plain SMTP server, as port 465 is: it
// terminates TLS and passes the bytes on.
func implicitTLS(t *testing.T, serverTLS *tls.Config, backend string) string {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", serverTLS)
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			front, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer front.Close()
				back, err := net.Dial("tcp", backend)
				if err != nil {
					return
				}
				defer back.Close()
				go func() { _, _ = io.Copy(back, front) }()
				_, _ = io.Copy(front, back)
			}()
		}
	}()
	return ln.Addr().String()
}

func TestEmailOverImplicitTLS(t *testing.T) {
	serverTLS, clientTLS := testTLS(t)
	c := startCatcher(t, mailcatcher.Options{Users: map[string]string{"duban": "pw"}, AllowInsecureAuth: true})
	addr := implicitTLS(t, serverTLS, c.Addr())
	email, err := notify.NewEmail(notify.SMTPConfig{Addr: addr, Username: "duban", Password: "pw", From: "duban@hnjsx.example",
		TLS: notify.TLSImplicit, TLSConfig: clientTLS})
	require.NoError(t, err)
	require.NoError(t, email.Send(context.Background(), notice()))
	got := c.Wait(1, 5*time.Second)
	require.Len(t, got, 1)
	require.Equal(t, "duban", got[0].AuthUser)
	require.Equal(t, "到期提醒：出台改革方案", got[0].Subject)

	// A certificate the client cannot verify is a configuration error, not
	// worth retrying.
	untrusted, err := notify.NewEmail(notify.SMTPConfig{Addr: addr, From: "duban@hnjsx.example", TLS: notify.TLSImplicit, Timeout: 5 * time.Second})
	require.NoError(t, err)
	err = untrusted.Send(context.Background(), notice())
	require.Error(t, err)
	require.True(t, notify.IsPermanent(err), "%v", err)
	require.Contains(t, err.Error(), "证书")
	require.Len(t, c.Messages(), 1)
}

// TestEmailGivesUpWhenTheServerIsSilent: a server that accepts the
// connection and never greets is abandoned at the timeout, and at once when
// the context is cancelled; both are worth retrying.
func TestEmailGivesUpWhenTheServerIsSilent(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { _ = conn.Close() })
		}
	}()
	email, err := notify.NewEmail(notify.SMTPConfig{Addr: ln.Addr().String(), From: "duban@hnjsx.example", Timeout: time.Second})
	require.NoError(t, err)
	start := time.Now()
	err = email.Send(context.Background(), notice())
	require.Error(t, err)
	require.False(t, notify.IsPermanent(err))
	require.Less(t, time.Since(start), 5*time.Second)

	patient, err := notify.NewEmail(notify.SMTPConfig{Addr: ln.Addr().String(), From: "duban@hnjsx.example", Timeout: time.Minute})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	start = time.Now()
	err = patient.Send(ctx, notice())
	require.Error(t, err)
	require.False(t, notify.IsPermanent(err))
	require.Less(t, time.Since(start), 5*time.Second, "cancelling interrupts the conversation")
}
