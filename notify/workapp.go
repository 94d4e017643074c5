package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// workApp is what DingTalk's and WeCom's server APIs for an organisation's
// own app share: GET {base}{tokenPath}?<credentials> answers
// {"errcode":0,"access_token":…,"expires_in":7200}; every call then carries
// ?access_token=… and answers HTTP 200 with an errcode, 0 for success.
type workApp struct {
	label     string // in error text: 钉钉工作通知, 企业微信应用消息
	base      string // https://oapi.dingtalk.com, without a trailing slash
	tokenPath string
	tokenArgs url.Values // appkey/appsecret, or corpid/corpsecret
	client    *http.Client
	tokens    tokenCache
	classify  func(code int) codeClass
	// hints explain some errcodes in Chinese for the delivery log.
	hints map[int]string
}

// codeClass is what an errcode means for the sender.
type codeClass int

const (
	codeOK        codeClass = iota
	codeBadToken            // the token is invalid or expired: fetch another, try once more
	codeTemporary           // rate limits, "system busy": try again later
	codePermanent           // anything else: the request, the user or the setup is wrong
)

// appReply is the union of the fields the two services answer with.
type appReply struct {
	ErrCode int    `json:"errcode"`
	ErrMsg  string `json:"errmsg"`
	// DingTalk's topapi answers some failures as errcode 88 with the real
	// code in sub_code.
	SubCode     string `json:"sub_code"`
	SubMsg      string `json:"sub_msg"`
	AccessToken string `json:"access_token"`
	ExpiresIn   int    `json:"expires_in"`
	// DingTalk asyncsend_v2.
	TaskID int64 `json:"task_id"`
	// WeCom message/send: ids it could not deliver to, "|"-separated.
	InvalidUser    string `json:"invaliduser"`
	UnlicensedUser string `json:"unlicenseduser"`
	MsgID          string `json:"msgid"`
}

// code is the errcode that explains the reply.
func (r appReply) code() int {
	if r.ErrCode == 88 && r.SubCode != "" {
		if n, err := strconv.Atoi(r.SubCode); err == nil {
			return n
		}
	}
	return r.ErrCode
}

func (r appReply) message() string {
	if r.ErrCode == 88 && r.SubMsg != "" {
		return r.SubMsg
	}
	return r.ErrMsg
}

func newWorkApp(label, endpoint, tokenPath string, tokenArgs url.Values, timeout time.Duration, now func() time.Time, classify func(int) codeClass) (*workApp, error) {
	if _, ok := httpURL(endpoint, true); !ok {
		return nil, fmt.Errorf("%s: endpoint %q is not an http(s) URL without a query", label, endpoint)
	}
	if now == nil {
		now = time.Now
	}
	a := &workApp{label: label, base: strings.TrimRight(endpoint, "/"), tokenPath: tokenPath, tokenArgs: tokenArgs,
		client: newHTTPClient(timeout), classify: classify}
	a.tokens = tokenCache{fetch: a.fetchToken, now: now}
	return a, nil
}

// fetchToken calls gettoken. Wrong credentials are permanent: every
// message would fail the same way until someone fixes the configuration.
func (a *workApp) fetchToken(ctx context.Context) (string, time.Duration, error) {
	r, err := a.do(ctx, http.MethodGet, a.base+a.tokenPath+"?"+a.tokenArgs.Encode(), nil)
	if err != nil {
		return "", 0, err
	}
	switch a.classify(r.code()) {
	case codeOK:
		if r.AccessToken == "" {
			return "", 0, Temporary("%s: 获取 access_token 的应答中没有 access_token", a.label)
		}
		return r.AccessToken, time.Duration(r.ExpiresIn) * time.Second, nil
	case codeTemporary:
		return "", 0, Temporary("%s: 获取 access_token 失败（errcode %d %s）", a.label, r.code(), r.message())
	}
	return "", 0, Permanent("%s: 获取 access_token 失败（errcode %d %s），请检查应用凭证配置", a.label, r.code(), r.message())
}

// call posts body to path with the current access_token. When the service
// says the token is invalid or expired (it may revoke one before its
// time), it fetches a new one and tries once more.
func (a *workApp) call(ctx context.Context, path string, body any) (appReply, error) {
	raw, err := json.Marshal(body)
	if err != nil {
		return appReply{}, Permanent("%s: %v", a.label, err)
	}
	for attempt := 0; ; attempt++ {
		tok, err := a.tokens.Token(ctx)
		if err != nil {
			return appReply{}, err
		}
		r, err := a.do(ctx, http.MethodPost, a.base+path+"?access_token="+url.QueryEscape(tok), raw)
		if err != nil {
			return r, err
		}
		switch a.classify(r.code()) {
		case codeOK:
			return r, nil
		case codeBadToken:
			a.tokens.Invalidate(tok)
			if attempt == 0 {
				continue
			}
			return r, Temporary("%s: 新取得的 access_token 仍被拒绝（errcode %d %s）", a.label, r.code(), r.message())
		case codeTemporary:
			return r, Temporary("%s: 暂时无法发送（errcode %d %s）", a.label, r.code(), r.message())
		}
		if hint := a.hints[r.code()]; hint != "" {
			return r, Permanent("%s: %s（errcode %d %s）", a.label, hint, r.code(), r.message())
		}
		return r, Permanent("%s: errcode %d %s", a.label, r.code(), r.message())
	}
}

// do makes one request and reads the JSON reply. Transport failures and
// 5xx are temporary; URLs in errors lose their query (access_token,
// appsecret).
func (a *workApp) do(ctx context.Context, method, target string, body []byte) (appReply, error) {
	var r appReply
	req, err := http.NewRequestWithContext(ctx, method, target, bytes.NewReader(body))
	if err != nil {
		return r, Permanent("%s: %v", a.label, redactErr(err))
	}
	req.Header.Set("User-Agent", "duban-notify/1")
	if body != nil {
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return r, Temporary("%s: %v", a.label, redactErr(err))
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err := httpStatusError(a.label, resp.StatusCode, raw); err != nil {
		return r, err
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return r, Temporary("%s: 无法解析应答 %s", a.label, short(raw))
	}
	return r, nil
}
