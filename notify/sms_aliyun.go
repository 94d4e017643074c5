package notify

import (
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// AliyunSMSEndpoint is Aliyun's SMS API.
const AliyunSMSEndpoint = "https://dysmsapi.aliyuncs.com/"

// aliyunSMS calls dysmsapi SendSms (API version 2017-05-25) in the RPC
// style: a form of parameters, signed with HMAC-SHA1 (SignatureVersion 1.0).
type aliyunSMS struct {
	endpoint string
	keyID    string
	secret   string
	region   string
	client   *http.Client
	now      func() time.Time
}

func newAliyunSMS(cfg SMSConfig, client *http.Client, now func() time.Time) (*aliyunSMS, error) {
	ep := cmp.Or(cfg.Endpoint, AliyunSMSEndpoint)
	if _, ok := httpURL(ep, false); !ok {
		return nil, fmt.Errorf("sms endpoint %q is not an http(s) URL", ep)
	}
	return &aliyunSMS{endpoint: ep, keyID: cfg.AccessKeyID, secret: cfg.AccessKeySecret, region: cmp.Or(cfg.Region, "cn-hangzhou"),
		client: client, now: now}, nil
}

// aliyunEscape is the RPC signature's percent-encoding: RFC 3986, every
// byte but A–Z a–z 0–9 - _ . ~ as %XX with upper-case hex (so a space is
// %20, never +, and * is %2A).
func aliyunEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

// AliyunSignature is the RPC signature (SignatureMethod HMAC-SHA1,
// SignatureVersion 1.0) of a request's parameters: the parameters but
// Signature, sorted by name, each name and value percent-encoded and
// joined as name=value&…; then StringToSign = method & %2F & the encoded
// canonical query; the signature is base64 HMAC-SHA1 keyed by secret + "&".
func AliyunSignature(method string, params url.Values, secret string) string {
	names := make([]string, 0, len(params))
	for name := range params {
		if name != "Signature" {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	pairs := make([]string, len(names))
	for i, name := range names {
		pairs[i] = aliyunEscape(name) + "=" + aliyunEscape(params.Get(name))
	}
	toSign := method + "&" + aliyunEscape("/") + "&" + aliyunEscape(strings.Join(pairs, "&"))
	mac := hmac.New(sha1.New, []byte(secret+"&"))
	mac.Write([]byte(toSign))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

func (a *aliyunSMS) send(ctx context.Context, r smsRequest) error {
	phone, ok := chinaMobile(r.Phone)
	if !ok {
		phone = strings.TrimPrefix(r.Phone, "+") // international: country code and number
	}
	vars := map[string]string{}
	for _, p := range r.Params {
		vars[p.Name] = p.Fact
	}
	tp, _ := json.Marshal(vars)
	nonce := make([]byte, 16)
	_, _ = rand.Read(nonce)
	q := url.Values{
		"AccessKeyId":      {a.keyID},
		"Action":           {"SendSms"},
		"Format":           {"JSON"},
		"RegionId":         {a.region},
		"SignatureMethod":  {"HMAC-SHA1"},
		"SignatureNonce":   {hex.EncodeToString(nonce)},
		"SignatureVersion": {"1.0"},
		"Timestamp":        {a.now().UTC().Format("2006-01-02T15:04:05Z")},
		"Version":          {"2017-05-25"},
		"PhoneNumbers":     {phone},
		"SignName":         {r.SignName},
		"TemplateCode":     {r.Template},
		"TemplateParam":    {string(tp)},
	}
	if r.Ref != "" {
		q.Set("OutId", truncate(r.Ref, 200))
	}
	q.Set("Signature", AliyunSignature(http.MethodPost, q, a.secret))
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.endpoint, strings.NewReader(q.Encode()))
	if err != nil {
		return Permanent("阿里云短信: %v", redactErr(err))
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", "duban-notify/1")
	resp, err := a.client.Do(req)
	if err != nil {
		return Temporary("阿里云短信: %v", redactErr(err))
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var reply struct {
		Code      string `json:"Code"`
		Message   string `json:"Message"`
		RequestID string `json:"RequestId"`
		BizID     string `json:"BizId"`
	}
	if json.Unmarshal(raw, &reply) != nil || reply.Code == "" {
		if err := httpStatusError("阿里云短信", resp.StatusCode, raw); err != nil {
			return err
		}
		return Temporary("阿里云短信: 无法解析应答 %s", short(raw))
	}
	if reply.Code == "OK" && resp.StatusCode == http.StatusOK {
		return nil
	}
	reason := fmt.Sprintf("阿里云短信: %s %s", reply.Code, truncate(reply.Message, 120))
	if aliyunTemporary(reply.Code) || resp.StatusCode >= 500 {
		return Temporary("%s", reason)
	}
	return Permanent("%s", reason)
}

// aliyunTemporary reports the codes that pass with time: flow control
// (isv.BUSINESS_LIMIT_CONTROL: per number, at most one a minute and five
// an hour by default), API throttling, a reused nonce, and the service's
// own failures. isv.DAY_LIMIT_CONTROL, a bad number, template or signature,
// an empty account or a wrong key are permanent.
func aliyunTemporary(code string) bool {
	switch code {
	case "isv.BUSINESS_LIMIT_CONTROL", "isp.SYSTEM_ERROR", "isp.GATEWAY_ERROR", "SignatureNonceUsed", "ServiceUnavailable", "InternalError":
		return true
	}
	return strings.HasPrefix(code, "Throttling")
}
