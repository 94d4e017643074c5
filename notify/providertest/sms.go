package providertest

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

var (
	mainland      = regexp.MustCompile(`^(?:\+?86)?(1[3-9]\d{9})$`)
	international = regexp.MustCompile(`^\+?[1-9]\d{6,14}$`)
	urlInText     = regexp.MustCompile(`(?i)(https?://|www\.)`)
)

// ---------------------------------------------------------------------------
// Aliyun

// Aliyun is Aliyun's SMS API (dysmsapi, version 2017-05-25) in the RPC
// style: GET or POST of a form carrying the common parameters
// (AccessKeyId, Action, Format, SignatureMethod HMAC-SHA1,
// SignatureNonce, SignatureVersion 1.0, Timestamp, Version, Signature) and
// SendSms's own (PhoneNumbers, SignName, TemplateCode, TemplateParam,
// OutId). Errors in the request come back with HTTP 4xx and
// {"Code","Message","RequestId","HostId","Recommend"}; business errors
// with HTTP 200 and an isv.* Code.
type Aliyun struct {
	log[aliyunFault]
	// AccessKeys are the valid AccessKey pairs, id → secret.
	AccessKeys map[string]string
	// Signs are the approved signatures.
	Signs []string
	// Templates are the approved templates, code → text with ${variables}.
	Templates map[string]string
	// PerNumberPerMinute is the flow control per phone number (Aliyun's
	// default is 1 a minute); 0 turns it off.
	PerNumberPerMinute int
	// MaxParamChars limits each variable (35 when 0).
	MaxParamChars int

	nonces map[string]time.Time
}

type aliyunFault struct {
	Status        int
	Code, Message string
}

// NewAliyun returns a fake that knows one AccessKey pair, one signature
// and the templates.
func NewAliyun(keyID, keySecret, sign string, templates map[string]string) *Aliyun {
	return &Aliyun{AccessKeys: map[string]string{keyID: keySecret}, Signs: []string{sign}, Templates: templates}
}

// FailNext makes the next SendSms answer with this status and Code.
func (a *Aliyun) FailNext(status int, code, message string) {
	a.queue(aliyunFault{Status: status, Code: code, Message: message})
}

// popEscape is the percent-encoding Aliyun's signature documentation
// gives: URL-encode in UTF-8, then "+" → "%20", "*" → "%2A", "%7E" → "~".
func popEscape(s string) string {
	e := url.QueryEscape(s)
	return strings.NewReplacer("+", "%20", "*", "%2A", "%7E", "~").Replace(e)
}

// rpcStringToSign is HTTPMethod & popEscape("/") & popEscape(canonicalized
// query), the query being every parameter but Signature sorted by name.
func rpcStringToSign(method string, form url.Values) string {
	keys := make([]string, 0, len(form))
	for k := range form {
		if k != "Signature" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var q []string
	for _, k := range keys {
		q = append(q, popEscape(k)+"="+popEscape(form.Get(k)))
	}
	return method + "&" + popEscape("/") + "&" + popEscape(strings.Join(q, "&"))
}

func (a *Aliyun) fail(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]string{"RequestId": randomHex(8), "HostId": "dysmsapi.aliyuncs.com", "Code": code, "Message": msg,
		"Recommend": "https://api.aliyun.com/troubleshoot?q=" + code + "&product=Dysmsapi"})
}

func (a *Aliyun) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.requests++
	now := a.now()
	if (r.Method != http.MethodGet && r.Method != http.MethodPost) || r.ParseForm() != nil {
		a.fail(w, http.StatusBadRequest, "InvalidParameter", "The request is not a form.")
		return
	}
	f := r.Form
	for _, p := range []string{"AccessKeyId", "Action", "SignatureMethod", "SignatureNonce", "SignatureVersion", "Timestamp", "Version", "Signature"} {
		if f.Get(p) == "" {
			a.fail(w, http.StatusBadRequest, "Missing"+p, p+" is mandatory for this action.")
			return
		}
	}
	if f.Get("SignatureMethod") != "HMAC-SHA1" || f.Get("SignatureVersion") != "1.0" {
		a.fail(w, http.StatusBadRequest, "InvalidParameter", "SignatureMethod must be HMAC-SHA1 and SignatureVersion 1.0.")
		return
	}
	ts, err := time.Parse("2006-01-02T15:04:05Z", f.Get("Timestamp"))
	if err != nil {
		a.fail(w, http.StatusBadRequest, "InvalidTimeStamp.Format", "Specified time stamp or date value is not well formatted.")
		return
	}
	if d := now.Sub(ts); d > 15*time.Minute || d < -15*time.Minute {
		a.fail(w, http.StatusBadRequest, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired.")
		return
	}
	secret, ok := a.AccessKeys[f.Get("AccessKeyId")]
	if !ok {
		a.fail(w, http.StatusNotFound, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
		return
	}
	toSign := rpcStringToSign(r.Method, f)
	mac := hmac.New(sha1.New, []byte(secret+"&"))
	mac.Write([]byte(toSign))
	if !hmac.Equal([]byte(base64.StdEncoding.EncodeToString(mac.Sum(nil))), []byte(f.Get("Signature"))) {
		a.fail(w, http.StatusBadRequest, "SignatureDoesNotMatch", "Specified signature is not matched with our calculation. server string to sign is:"+toSign)
		return
	}
	if a.nonces == nil {
		a.nonces = map[string]time.Time{}
	}
	if at, used := a.nonces[f.Get("SignatureNonce")]; used && now.Sub(at) < 15*time.Minute {
		a.fail(w, http.StatusBadRequest, "SignatureNonceUsed", "Specified signature nonce was used already.")
		return
	}
	a.nonces[f.Get("SignatureNonce")] = now
	if f.Get("Action") != "SendSms" || f.Get("Version") != "2017-05-25" {
		a.fail(w, http.StatusNotFound, "InvalidAction.NotFound", "Specified api is not found, please check your url and method.")
		return
	}
	if fault, ok := a.nextFault(); ok {
		a.fail(w, fault.Status, fault.Code, fault.Message)
		return
	}
	a.sendSms(w, f, now)
}

func (a *Aliyun) sendSms(w http.ResponseWriter, f url.Values, now time.Time) {
	biz := func(code, msg string) {
		writeJSON(w, http.StatusOK, map[string]string{"RequestId": randomHex(8), "Code": code, "Message": msg})
	}
	phones := strings.Split(f.Get("PhoneNumbers"), ",")
	for _, p := range phones {
		if !mainland.MatchString(p) && !international.MatchString(p) {
			biz("isv.MOBILE_NUMBER_ILLEGAL", "非法手机号")
			return
		}
	}
	sign := f.Get("SignName")
	if !slices.Contains(a.Signs, sign) {
		biz("isv.SMS_SIGNATURE_ILLEGAL", "该账号下找不到对应签名")
		return
	}
	text, ok := a.Templates[f.Get("TemplateCode")]
	if !ok {
		biz("isv.SMS_TEMPLATE_ILLEGAL", "该账号下找不到对应模板")
		return
	}
	vars := map[string]string{}
	if tp := f.Get("TemplateParam"); tp != "" && json.Unmarshal([]byte(tp), &vars) != nil {
		biz("isv.INVALID_JSON_PARAM", "JSON参数不合法，只接受字符串值")
		return
	}
	max := a.MaxParamChars
	if max <= 0 {
		max = 35
	}
	var missing bool
	filled := regexp.MustCompile(`\$\{(\w+)\}`).ReplaceAllStringFunc(text, func(v string) string {
		val, ok := vars[v[2:len(v)-1]]
		missing = missing || !ok || val == ""
		return val
	})
	if missing {
		biz("isv.TEMPLATE_MISSING_PARAMETERS", "模板变量缺少对应参数值")
		return
	}
	for _, v := range vars {
		if utf8.RuneCountInString(v) > max {
			biz("isv.PARAM_LENGTH_LIMIT", "参数超出长度限制")
			return
		}
		if urlInText.MatchString(v) {
			biz("isv.PARAM_NOT_SUPPORT_URL", "不支持URL参数")
			return
		}
	}
	if a.PerNumberPerMinute > 0 {
		for _, p := range phones {
			n := 0
			for _, m := range a.messages {
				if m.To == p && now.Sub(m.At) < time.Minute {
					n++
				}
			}
			if n >= a.PerNumberPerMinute {
				biz("isv.BUSINESS_LIMIT_CONTROL", fmt.Sprintf("触发分钟级流控Permits:%d", a.PerNumberPerMinute))
				return
			}
		}
	}
	for _, p := range phones {
		a.messages = append(a.messages, Message{Provider: "aliyun", To: p, Text: "【" + sign + "】" + filled, SignName: sign,
			Template: f.Get("TemplateCode"), Vars: vars, Ref: f.Get("OutId"), At: now})
	}
	writeJSON(w, http.StatusOK, map[string]string{"RequestId": randomHex(8), "Code": "OK", "Message": "OK", "BizId": strconv.FormatInt(now.UnixNano(), 10) + "^0"})
}

// ---------------------------------------------------------------------------
// Tencent Cloud

// Tencent is Tencent Cloud's SMS API (SendSms, version 2021-01-11): a JSON
// POST with the X-TC-Action, X-TC-Version, X-TC-Timestamp and X-TC-Region
// headers and an Authorization header signed with TC3-HMAC-SHA256. Every
// answer is HTTP 200: {"Response": {"Error": {"Code","Message"},
// "RequestId"}} for a refused request, or {"Response": {"SendStatusSet":
// [{"PhoneNumber","Code","Message",…}], "RequestId"}} with each number's
// outcome ("Ok" when sent).
type Tencent struct {
	log[tencentFault]
	// SecretIDs are the valid key pairs, SecretId → SecretKey.
	SecretIDs map[string]string
	SDKAppID  string
	Signs     []string
	// Templates are the approved templates, id → text with {1}, {2}, ….
	Templates map[string]string
	// PerNumberPer30s is the limit per phone number in 30 seconds
	// (Tencent's default is 1); 0 turns it off.
	PerNumberPer30s int
	// MaxParamChars limits each variable (12 when 0).
	MaxParamChars int
}

type tencentFault struct {
	Code, Message string
	PerNumber     bool
}

// NewTencent returns a fake that knows one key pair, one SmsSdkAppId, one
// signature and the templates.
func NewTencent(secretID, secretKey, sdkAppID, sign string, templates map[string]string) *Tencent {
	return &Tencent{SecretIDs: map[string]string{secretID: secretKey}, SDKAppID: sdkAppID, Signs: []string{sign}, Templates: templates}
}

// FailNext makes the next SendSms answer with a Response.Error.
func (t *Tencent) FailNext(code, message string) { t.queue(tencentFault{Code: code, Message: message}) }

// FailNextNumber makes the next SendSms answer with this Code in the
// number's SendStatus.
func (t *Tencent) FailNextNumber(code, message string) {
	t.queue(tencentFault{Code: code, Message: message, PerNumber: true})
}

func (t *Tencent) fail(w http.ResponseWriter, code, msg string) {
	writeJSON(w, http.StatusOK, map[string]any{"Response": map[string]any{"Error": map[string]string{"Code": code, "Message": msg}, "RequestId": randomHex(8)}})
}

// tc3Verify recomputes the request's TC3-HMAC-SHA256 signature as Tencent
// documents it: the canonical request over the signed headers (lower-case
// name:trimmed value), the string to sign with the credential scope, and
// the key derived from the SecretKey by date, service and "tc3_request".
// It returns "" or the Error.Code refusing the request.
func (t *Tencent) tc3Verify(r *http.Request, payload []byte, now time.Time) (string, string) {
	auth := r.Header.Get("Authorization")
	rest, ok := strings.CutPrefix(auth, "TC3-HMAC-SHA256 ")
	if !ok {
		return "AuthFailure.InvalidAuthorization", "Authorization 头格式不正确"
	}
	parts := map[string]string{}
	for _, kv := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(kv), "=")
		parts[k] = v
	}
	scope := strings.Split(parts["Credential"], "/")
	if len(scope) != 4 || scope[3] != "tc3_request" {
		return "AuthFailure.InvalidAuthorization", "Credential 格式不正确"
	}
	key, ok := t.SecretIDs[scope[0]]
	if !ok {
		return "AuthFailure.SecretIdNotFound", "密钥不存在"
	}
	ts, err := strconv.ParseInt(r.Header.Get("X-TC-Timestamp"), 10, 64)
	if err != nil {
		return "AuthFailure.InvalidAuthorization", "X-TC-Timestamp 不正确"
	}
	if d := now.Sub(time.Unix(ts, 0)); d > 5*time.Minute || d < -5*time.Minute {
		return "AuthFailure.SignatureExpire", "签名过期，Timestamp 与服务器时间相差超过五分钟"
	}
	date := time.Unix(ts, 0).UTC().Format("2006-01-02")
	if scope[1] != date || scope[2] != "sms" {
		return "AuthFailure.SignatureFailure", "Credential 中的日期或服务不正确"
	}
	signed := strings.Split(parts["SignedHeaders"], ";")
	if !slices.Contains(signed, "content-type") || !slices.Contains(signed, "host") {
		return "AuthFailure.SignatureFailure", "SignedHeaders 须包含 content-type 与 host"
	}
	var headers strings.Builder
	for _, h := range signed {
		v := r.Header.Get(h)
		if h == "host" {
			v = r.Host
		}
		headers.WriteString(h + ":" + strings.ToLower(strings.TrimSpace(v)) + "\n")
	}
	hash := func(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }
	canonical := strings.Join([]string{r.Method, r.URL.EscapedPath(), r.URL.RawQuery, headers.String(), parts["SignedHeaders"], hash(payload)}, "\n")
	toSign := "TC3-HMAC-SHA256\n" + strconv.FormatInt(ts, 10) + "\n" + date + "/sms/tc3_request\n" + hash([]byte(canonical))
	sign := func(k []byte, msg string) []byte {
		m := hmac.New(sha256.New, k)
		m.Write([]byte(msg))
		return m.Sum(nil)
	}
	k := sign(sign(sign([]byte("TC3"+key), date), "sms"), "tc3_request")
	if !hmac.Equal([]byte(hex.EncodeToString(sign(k, toSign))), []byte(parts["Signature"])) {
		return "AuthFailure.SignatureFailure", "签名错误"
	}
	return "", ""
}

func (t *Tencent) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.requests++
	now := t.now()
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	payload, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if r.Method != http.MethodPost || ct != "application/json" || err != nil {
		t.fail(w, "InvalidParameter", "请求须为 POST application/json")
		return
	}
	if code, msg := t.tc3Verify(r, payload, now); code != "" {
		t.fail(w, code, msg)
		return
	}
	switch {
	case r.Header.Get("X-TC-Action") != "SendSms":
		t.fail(w, "InvalidAction", "接口不存在")
		return
	case r.Header.Get("X-TC-Version") != "2021-01-11":
		t.fail(w, "NoSuchVersion", "接口版本不存在")
		return
	case r.Header.Get("X-TC-Region") == "":
		t.fail(w, "MissingParameter", "缺少参数 X-TC-Region")
		return
	}
	fault, faulty := t.nextFault()
	if faulty && !fault.PerNumber {
		t.fail(w, fault.Code, fault.Message)
		return
	}
	var req struct {
		PhoneNumberSet   []string
		SmsSdkAppID      string `json:"SmsSdkAppId"`
		SignName         string
		TemplateID       string `json:"TemplateId"`
		TemplateParamSet []string
		SessionContext   string
	}
	if json.Unmarshal(payload, &req) != nil {
		t.fail(w, "FailedOperation.JsonParseFail", "解析请求包体时候失败")
		return
	}
	text, ok := t.Templates[req.TemplateID]
	switch {
	case len(req.PhoneNumberSet) == 0 || len(req.PhoneNumberSet) > 200:
		t.fail(w, "InvalidParameterValue.IncorrectPhoneNumber", "手机号码数量为 1–200")
		return
	case req.SmsSdkAppID != t.SDKAppID:
		t.fail(w, "InvalidParameterValue.SdkAppIdNotExist", "SdkAppId 不存在")
		return
	case !slices.Contains(t.Signs, req.SignName):
		t.fail(w, "FailedOperation.SignatureIncorrectOrUnapproved", "签名未审批或格式错误")
		return
	case !ok:
		t.fail(w, "FailedOperation.TemplateIncorrectOrUnapproved", "模板未审批或内容不匹配")
		return
	}
	max := t.MaxParamChars
	if max <= 0 {
		max = 12
	}
	placeholders := regexp.MustCompile(`\{(\d+)\}`)
	if len(placeholders.FindAllString(text, -1)) != len(req.TemplateParamSet) {
		t.fail(w, "InvalidParameterValue.TemplateParameterFormatError", "验证码模板参数格式错误或参数个数与模板不符")
		return
	}
	for _, p := range req.TemplateParamSet {
		if urlInText.MatchString(p) {
			t.fail(w, "InvalidParameterValue.ProhibitedUseUrlInTemplateParameter", "禁止在模板变量中使用 URL")
			return
		}
		if utf8.RuneCountInString(p) > max {
			t.fail(w, "InvalidParameterValue.TemplateParameterLengthLimit", fmt.Sprintf("单个模板变量字符数超过 %d 个", max))
			return
		}
	}
	filled := placeholders.ReplaceAllStringFunc(text, func(v string) string {
		i, _ := strconv.Atoi(v[1 : len(v)-1])
		if i < 1 || i > len(req.TemplateParamSet) {
			return v
		}
		return req.TemplateParamSet[i-1]
	})
	var statuses []map[string]any
	for _, p := range req.PhoneNumberSet {
		st := map[string]any{"SerialNo": randomHex(10), "PhoneNumber": p, "Fee": 0, "SessionContext": req.SessionContext, "IsoCode": "CN"}
		recent := 0
		for _, m := range t.messages {
			if m.To == p && now.Sub(m.At) < 30*time.Second {
				recent++
			}
		}
		switch {
		case !mainland.MatchString(p) && !international.MatchString(p):
			st["Code"], st["Message"] = "InvalidParameterValue.IncorrectPhoneNumber", "手机号格式错误"
		case faulty:
			st["Code"], st["Message"] = fault.Code, fault.Message
		case t.PerNumberPer30s > 0 && recent >= t.PerNumberPer30s:
			st["Code"], st["Message"] = "LimitExceeded.PhoneNumberThirtySecondLimit", "单个手机号30秒内下发短信条数超过设定的上限"
		default:
			st["Code"], st["Message"], st["Fee"] = "Ok", "send success", 1
			t.messages = append(t.messages, Message{Provider: "tencent", To: p, Text: "【" + req.SignName + "】" + filled, SignName: req.SignName,
				Template: req.TemplateID, Params: req.TemplateParamSet, Ref: req.SessionContext, Body: payload, At: now})
		}
		statuses = append(statuses, st)
	}
	writeJSON(w, http.StatusOK, map[string]any{"Response": map[string]any{"SendStatusSet": statuses, "RequestId": randomHex(8)}})
}
