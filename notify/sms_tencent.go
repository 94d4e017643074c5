package notify

import (
	"bytes"
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// TencentSMSEndpoint is Tencent Cloud's SMS API.
const TencentSMSEndpoint = "https://sms.tencentcloudapi.com/"

// tencentSMS calls SendSms (API version 2021-01-11): a JSON POST signed
// with TC3-HMAC-SHA256 over the content-type and host headers.
type tencentSMS struct {
	endpoint *url.URL
	secretID string
	key      string
	appID    string
	region   string
	client   *http.Client
	now      func() time.Time
}

func newTencentSMS(cfg SMSConfig, client *http.Client, now func() time.Time) (*tencentSMS, error) {
	ep := cmp.Or(cfg.Endpoint, TencentSMSEndpoint)
	u, ok := httpURL(ep, true)
	if !ok {
		return nil, fmt.Errorf("sms endpoint %q is not an http(s) URL without a query", ep)
	}
	if u.Path == "" {
		u.Path = "/"
	}
	if cfg.SDKAppID == "" {
		return nil, fmt.Errorf("sms: tencent needs sdk_app_id (SmsSdkAppId)")
	}
	return &tencentSMS{endpoint: u, secretID: cfg.AccessKeyID, key: cfg.AccessKeySecret, appID: cfg.SDKAppID,
		region: cmp.Or(cfg.Region, "ap-guangzhou"), client: client, now: now}, nil
}

func hmacSHA256(key []byte, msg string) []byte {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(msg))
	return mac.Sum(nil)
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// TC3Signature is Tencent Cloud's TC3-HMAC-SHA256 signature of a POST with
// only content-type and host signed:
//
//	CanonicalRequest = POST\n{uri}\n\ncontent-type:{ct}\nhost:{host}\n\ncontent-type;host\n{hex sha256(payload)}
//	StringToSign     = TC3-HMAC-SHA256\n{ts}\n{date}/{service}/tc3_request\n{hex sha256(CanonicalRequest)}
//	key              = HMAC(HMAC(HMAC("TC3"+secretKey, date), service), "tc3_request")
//	Signature        = hex HMAC(key, StringToSign)
//
// where date is the UTC day of the Unix time ts.
func TC3Signature(secretKey, service, uri, host, contentType string, payload []byte, ts int64) string {
	date := time.Unix(ts, 0).UTC().Format("2006-01-02")
	canonical := "POST\n" + uri + "\n\n" + "content-type:" + contentType + "\nhost:" + host + "\n\n" + "content-type;host\n" + sha256Hex(payload)
	toSign := "TC3-HMAC-SHA256\n" + strconv.FormatInt(ts, 10) + "\n" + date + "/" + service + "/tc3_request\n" + sha256Hex([]byte(canonical))
	k := hmacSHA256([]byte("TC3"+secretKey), date)
	k = hmacSHA256(k, service)
	k = hmacSHA256(k, "tc3_request")
	return hex.EncodeToString(hmacSHA256(k, toSign))
}

func (t *tencentSMS) send(ctx context.Context, r smsRequest) error {
	phone := r.Phone
	if p, ok := chinaMobile(phone); ok {
		phone = "+86" + p
	}
	params := make([]string, len(r.Params))
	for i, p := range r.Params {
		params[i] = p.Fact
	}
	body, _ := json.Marshal(struct {
		PhoneNumberSet   []string
		SmsSdkAppID      string `json:"SmsSdkAppId"`
		SignName         string
		TemplateID       string `json:"TemplateId"`
		TemplateParamSet []string
		SessionContext   string `json:",omitempty"`
	}{[]string{phone}, t.appID, r.SignName, r.Template, params, truncate(r.Ref, 400)})
	const ct = "application/json; charset=utf-8"
	ts := t.now().Unix()
	sig := TC3Signature(t.key, "sms", t.endpoint.Path, t.endpoint.Host, ct, body, ts)
	date := time.Unix(ts, 0).UTC().Format("2006-01-02")
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.endpoint.String(), bytes.NewReader(body))
	if err != nil {
		return Permanent("腾讯云短信: %v", redactErr(err))
	}
	req.Header.Set("Content-Type", ct)
	req.Header.Set("Authorization", fmt.Sprintf("TC3-HMAC-SHA256 Credential=%s/%s/sms/tc3_request, SignedHeaders=content-type;host, Signature=%s", t.secretID, date, sig))
	req.Header.Set("X-TC-Action", "SendSms")
	req.Header.Set("X-TC-Version", "2021-01-11")
	req.Header.Set("X-TC-Timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("X-TC-Region", t.region)
	req.Header.Set("User-Agent", "duban-notify/1")
	resp, err := t.client.Do(req)
	if err != nil {
		return Temporary("腾讯云短信: %v", redactErr(err))
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err := httpStatusError("腾讯云短信", resp.StatusCode, raw); err != nil {
		return err
	}
	var reply struct {
		Response struct {
			Error *struct {
				Code    string
				Message string
			}
			SendStatusSet []struct {
				PhoneNumber string
				Code        string
				Message     string
				SerialNo    string
			}
			RequestID string `json:"RequestId"`
		}
	}
	if err := json.Unmarshal(raw, &reply); err != nil {
		return Temporary("腾讯云短信: 无法解析应答 %s", short(raw))
	}
	code, msg := "", ""
	switch {
	case reply.Response.Error != nil:
		code, msg = reply.Response.Error.Code, reply.Response.Error.Message
	case len(reply.Response.SendStatusSet) == 1:
		code, msg = reply.Response.SendStatusSet[0].Code, reply.Response.SendStatusSet[0].Message
	default:
		return Temporary("腾讯云短信: 应答中没有发送状态 %s", short(raw))
	}
	if code == "Ok" {
		return nil
	}
	reason := fmt.Sprintf("腾讯云短信: %s %s", code, truncate(msg, 120))
	if tencentTemporary(code) {
		return Temporary("%s", reason)
	}
	return Permanent("%s", reason)
}

// tencentTemporary reports the codes that pass with time: the per-number
// limits of 30 seconds and one hour, API rate limits and internal errors.
// The daily limits, a wrong number, template, signature or key, an empty
// package and sensitive words are permanent.
func tencentTemporary(code string) bool {
	switch code {
	case "LimitExceeded.PhoneNumberThirtySecondLimit", "LimitExceeded.PhoneNumberOneHourLimit", "RequestLimitExceeded",
		"ResourceUnavailable", "ServiceUnavailable":
		return true
	}
	return strings.HasPrefix(code, "InternalError")
}
