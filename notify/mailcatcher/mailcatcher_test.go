package mailcatcher_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/notify"
	"github.com/duban-dev/duban/notify/mailcatcher"
)

func TestTheWebPageShowsWhatArrived(t *testing.T) {
	c, err := mailcatcher.Start("127.0.0.1:0", mailcatcher.Options{})
	require.NoError(t, err)
	defer c.Close()
	email, err := notify.NewEmail(notify.SMTPConfig{Addr: c.Addr(), From: "督办系统 <duban@localhost>", TLS: notify.TLSNone})
	require.NoError(t, err)
	require.NoError(t, email.Send(context.Background(), notify.Message{Key: "k1", Kind: duban.EventReminder, Title: "到期提醒：出台改革方案",
		Body: "还剩7天", Link: "http://127.0.0.1:8080/#/tasks/x", To: notify.Address{Name: "王芳", Email: "furong-official@duban.test"}}))
	require.Len(t, c.Wait(1, 5*time.Second), 1)

	web := httptest.NewServer(c.Handler())
	defer web.Close()
	get := func(path string) (*http.Response, string) {
		resp, err := http.Get(web.URL + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	_, list := get("/")
	require.Contains(t, list, "到期提醒：出台改革方案")
	require.Contains(t, list, "furong-official@duban.test")
	_, one := get("/messages/1")
	require.Contains(t, one, "还剩7天")
	resp, html := get("/messages/1/html")
	require.True(t, strings.HasPrefix(resp.Header.Get("Content-Security-Policy"), "sandbox"))
	require.Contains(t, html, "查看任务")
	resp, _ = get("/messages/99")
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
	_, js := get("/api/messages")
	var msgs []mailcatcher.Message
	require.NoError(t, json.Unmarshal([]byte(js), &msgs))
	require.Equal(t, "到期提醒：出台改革方案", msgs[0].Subject)
}
