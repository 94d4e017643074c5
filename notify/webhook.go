package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/duban-dev/duban/message"
)

// Webhook kinds.
const (
	WebhookGeneric  = "generic"  // JSON POST signed with HMAC-SHA256
	WebhookDingTalk = "dingtalk" // DingTalk (钉钉) group robot
	WebhookWeCom    = "wecom"    // WeCom (企业微信) group robot
)

// Headers of the generic webhook.
const (
	HeaderSignature = "X-Duban-Signature" // sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>
	HeaderTimestamp = "X-Duban-Timestamp" // Unix seconds
	HeaderDelivery  = "X-Duban-Delivery"  // the dedup key: drop a repeat
)

// chatLimit keeps robot messages under both services' size caps (4096
// bytes of markdown for WeCom; DingTalk's is larger).
const chatLimit = 3800

// WebhookEndpoint is one configured webhook target.
type WebhookEndpoint struct {
	Name   string
	Kind   string // WebhookGeneric, WebhookDingTalk or WebhookWeCom
	URL    string // DingTalk: …/robot/send?access_token=…; WeCom: …/webhook/send?key=…
	Secret string // generic: the HMAC key; DingTalk: the robot's 加签 secret (SEC…); WeCom: unused
}

// Webhook posts notices to one endpoint.
type Webhook struct {
	Endpoint WebhookEndpoint
	Client   *http.Client
	Now      func() time.Time
}

// NewWebhook checks an endpoint and returns its channel.
func NewWebhook(ep WebhookEndpoint) (*Webhook, error) {
	switch ep.Kind {
	case WebhookGeneric, WebhookDingTalk, WebhookWeCom:
	default:
		return nil, fmt.Errorf("webhook %s: kind %q: want generic, dingtalk or wecom", ep.Name, ep.Kind)
	}
	if _, ok := httpURL(ep.URL, false); !ok {
		return nil, fmt.Errorf("webhook %s: url %s is not an http(s) URL", ep.Name, RedactURL(ep.URL))
	}
	return &Webhook{Endpoint: ep, Client: newHTTPClient(15 * time.Second), Now: time.Now}, nil
}

// GenericPayload is the JSON body of the generic webhook.
type GenericPayload struct {
	ID         string    `json:"id"` // the dedup key
	Kind       string    `json:"kind"`
	KindLabel  string    `json:"kind_label"`
	Urgent     bool      `json:"urgent"`
	Title      string    `json:"title"`
	Text       string    `json:"text"`
	Link       string    `json:"link,omitempty"`
	InstanceID string    `json:"instance_id,omitempty"`
	At         time.Time `json:"at"`
	Recipient  struct {
		UserID int64  `json:"user_id"`
		Name   string `json:"name"`
	} `json:"recipient"`
	Items []Item `json:"items,omitempty"`
}

// Sign is the generic webhook's signature of a body sent at ts (Unix
// seconds): hex HMAC-SHA256 over "ts.body", so that a captured request
// cannot be replayed with a fresh timestamp.
func Sign(secret string, ts int64, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(strconv.FormatInt(ts, 10)))
	mac.Write([]byte("."))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// DingTalkSign is a DingTalk robot's 加签 signature for a millisecond
// timestamp: base64 HMAC-SHA256 keyed by the secret over "timestamp\nsecret".
func DingTalkSign(secret string, tsMillis int64) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(strconv.FormatInt(tsMillis, 10) + "\n" + secret))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// Send posts one message in the endpoint's format.
func (w *Webhook) Send(ctx context.Context, m Message) error {
	now := w.Now()
	target := w.Endpoint.URL
	var body []byte
	header := http.Header{"Content-Type": {"application/json; charset=utf-8"}, "User-Agent": {"duban-notify/1"}}
	switch w.Endpoint.Kind {
	case WebhookGeneric:
		p := GenericPayload{ID: m.Key, Kind: string(m.Kind), KindLabel: mailOf(m).KindLabel, Urgent: m.Urgent, Title: m.Title, Text: m.Body,
			Link: m.Link, InstanceID: m.InstanceID, At: m.At, Items: m.Items}
		p.Recipient.UserID, p.Recipient.Name = m.To.UserID, m.To.Name
		body, _ = json.Marshal(p)
		ts := now.Unix()
		header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
		header.Set(HeaderDelivery, oneLine(m.Key))
		if w.Endpoint.Secret != "" {
			header.Set(HeaderSignature, Sign(w.Endpoint.Secret, ts, body))
		}
	case WebhookDingTalk:
		type at struct {
			AtMobiles []string `json:"atMobiles,omitempty"`
			IsAtAll   bool     `json:"isAtAll"`
		}
		p := struct {
			MsgType  string `json:"msgtype"`
			Markdown struct {
				Title string `json:"title"`
				Text  string `json:"text"`
			} `json:"markdown"`
			At at `json:"at"`
		}{MsgType: "markdown"}
		p.Markdown.Title = m.Title
		p.Markdown.Text = message.RenderChat(mailOf(m), m.To.Mobile, chatLimit)
		if m.To.Mobile != "" {
			p.At.AtMobiles = []string{m.To.Mobile}
		}
		body, _ = json.Marshal(p)
		if w.Endpoint.Secret != "" {
			ms := now.UnixMilli()
			u, err := url.Parse(target)
			if err != nil {
				return Permanent("webhook %s: URL 无效", w.Endpoint.Name)
			}
			q := u.Query()
			q.Set("timestamp", strconv.FormatInt(ms, 10))
			q.Set("sign", DingTalkSign(w.Endpoint.Secret, ms))
			u.RawQuery = q.Encode()
			target = u.String()
		}
	case WebhookWeCom:
		// WeCom group robots have no signature: the key in the URL is the
		// only credential, so the URL itself must be kept secret.
		p := struct {
			MsgType  string `json:"msgtype"`
			Markdown struct {
				Content string `json:"content"`
			} `json:"markdown"`
		}{MsgType: "markdown"}
		p.Markdown.Content = message.RenderChat(mailOf(m), "", chatLimit)
		body, _ = json.Marshal(p)
	default:
		return Permanent("webhook %s: 未知类型 %q", w.Endpoint.Name, w.Endpoint.Kind)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return Permanent("webhook %s: %v", w.Endpoint.Name, redactErr(err))
	}
	req.Header = header
	resp, err := w.Client.Do(req)
	if err != nil {
		return Temporary("webhook %s: %v", w.Endpoint.Name, redactErr(err))
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 2048))
	if err := httpStatusError("webhook "+w.Endpoint.Name, resp.StatusCode, snippet); err != nil {
		return err
	}
	if w.Endpoint.Kind == WebhookGeneric {
		return nil
	}
	// The robots answer 200 with an error code in the body.
	var r struct {
		ErrCode int    `json:"errcode"`
		ErrMsg  string `json:"errmsg"`
	}
	if err := json.Unmarshal(snippet, &r); err != nil {
		return Temporary("webhook %s: 无法解析应答 %s", w.Endpoint.Name, short(snippet))
	}
	if r.ErrCode == 0 {
		return nil
	}
	if robotRateLimited(w.Endpoint.Kind, r.ErrCode) {
		return Temporary("webhook %s: 发送过于频繁（errcode %d %s）", w.Endpoint.Name, r.ErrCode, r.ErrMsg)
	}
	return Permanent("webhook %s: errcode %d %s", w.Endpoint.Name, r.ErrCode, r.ErrMsg)
}

// robotRateLimited reports the robots' "too many messages" codes, which
// pass with time: DingTalk allows 20 messages a minute per robot, WeCom 20.
func robotRateLimited(kind string, code int) bool {
	switch kind {
	case WebhookDingTalk:
		return code == 130101 || code == 410100
	case WebhookWeCom:
		return code == 45009 || code == 45033 || code == -1
	}
	return false
}

func short(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = truncate(s, 200)
	}
	return s
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

// RedactURL hides a URL's query (DingTalk's access_token, WeCom's key) and
// any password: webhook URLs are credentials.
func RedactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		if i := strings.IndexAny(s, "?#"); i >= 0 {
			return s[:i] + "?***"
		}
		return s
	}
	if u.User != nil {
		u.User = url.User(u.User.Username())
	}
	if u.RawQuery != "" {
		u.RawQuery = "***"
	}
	u.Fragment = ""
	return u.String()
}

// redactErr keeps the secret parts of a request URL out of error text,
// which is logged and stored for admins.
func redactErr(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return &url.Error{Op: ue.Op, URL: RedactURL(ue.URL), Err: ue.Err}
	}
	return err
}
