package notify

import (
	"context"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/message"
)

// SMS providers.
const (
	SMSAliyun  = "aliyun"  // Aliyun 短信服务 (dysmsapi SendSms, RPC signature HMAC-SHA1)
	SMSTencent = "tencent" // Tencent Cloud 短信 (SendSms 2021-01-11, TC3-HMAC-SHA256)
)

// SMSConfig says how to reach the SMS provider and which approved template
// each kind of notice uses. Providers only send approved templates under
// an approved signature (签名); the message text is the template with its
// variables filled in from the notice's facts.
type SMSConfig struct {
	Provider string // SMSAliyun or SMSTencent
	// AccessKeyID and AccessKeySecret: Aliyun's AccessKey pair, or
	// Tencent Cloud's SecretId and SecretKey.
	AccessKeyID     string
	AccessKeySecret string
	// SDKAppID is Tencent's SmsSdkAppId (unused by Aliyun).
	SDKAppID string
	SignName string // the approved signature, e.g. 湖南省计生协
	// Region: Aliyun cn-hangzhou, Tencent ap-guangzhou by default.
	Region string
	// Endpoint overrides the provider's API address (tests, a proxy).
	Endpoint  string
	Templates []SMSTemplate
	// MaxParamChars caps each variable (default: Aliyun 35, Tencent 12,
	// their limits for notification templates); longer values are cut
	// with "…".
	MaxParamChars int
	Timeout       time.Duration
	Now           func() time.Time
}

// SMSTemplate is one approved template and the notices that use it.
type SMSTemplate struct {
	// Kinds are the event kinds it serves, "digest" for the daily digest,
	// or "*" for every kind without a template of its own.
	Kinds []string
	// Code is Aliyun's TemplateCode (SMS_123456789) or Tencent's
	// TemplateId (1234567).
	Code string
	// Params fill the template's variables in order: for Aliyun, the
	// variable ${name} takes the fact; Tencent's {1}, {2}, … take them by
	// position.
	Params []SMSParam
}

// SMSParam fills one template variable with one fact of the notice.
type SMSParam struct {
	Name string // the template's variable (Aliyun ${Name}); Tencent ignores it
	Fact string // message.FactTask, FactDue, …
}

// SMSFacts are the facts a template can name (message.Fact*), and what
// each is, for documentation and error messages.
var SMSFacts = map[string]string{
	message.FactTask:   "任务名称",
	message.FactUnit:   "单位名称",
	message.FactDue:    "截止日期",
	message.FactKind:   "事件类型",
	message.FactLeft:   "剩余或逾期时长",
	message.FactStep:   "审批步骤",
	message.FactNewDue: "新的截止日期",
	message.FactName:   "收件人姓名",
	message.FactCount:  "汇总条数",
}

// ParseSMSParams reads params written "variable=fact" (or just "fact",
// when the variable has the fact's name), e.g. ["task=task", "date=due"].
func ParseSMSParams(specs []string) ([]SMSParam, error) {
	var out []SMSParam
	for _, spec := range specs {
		name, fact, ok := strings.Cut(strings.TrimSpace(spec), "=")
		if !ok {
			fact = name
		}
		name, fact = strings.TrimSpace(name), strings.TrimSpace(fact)
		if _, known := SMSFacts[fact]; !known || name == "" {
			return nil, fmt.Errorf("sms template param %q: want variable=fact, fact one of %s", spec, strings.Join(slices.Sorted(maps.Keys(SMSFacts)), ", "))
		}
		out = append(out, SMSParam{Name: name, Fact: fact})
	}
	return out, nil
}

// smsRequest is one text message to send.
type smsRequest struct {
	Phone    string
	SignName string
	Template string
	Params   []SMSParam // Name and, in Fact's place, the value
	Ref      string     // the dedup key: Aliyun OutId, Tencent SessionContext
}

type smsProvider interface {
	send(ctx context.Context, r smsRequest) error
}

// SMS sends notices as text messages from templates.
type SMS struct {
	provider smsProvider
	signName string
	byKind   map[string]SMSTemplate
	maxChars int
}

// NewSMS checks the configuration and returns the channel.
func NewSMS(cfg SMSConfig) (*SMS, error) {
	if cfg.SignName == "" || cfg.AccessKeyID == "" || cfg.AccessKeySecret == "" {
		return nil, fmt.Errorf("sms: sign_name, access_key_id and access_key_secret are all needed")
	}
	s := &SMS{signName: cfg.SignName, byKind: map[string]SMSTemplate{}, maxChars: cfg.MaxParamChars}
	client := newHTTPClient(cfg.Timeout)
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	switch cfg.Provider {
	case SMSAliyun:
		p, err := newAliyunSMS(cfg, client, now)
		if err != nil {
			return nil, err
		}
		s.provider = p
		if s.maxChars <= 0 {
			s.maxChars = 35
		}
	case SMSTencent:
		p, err := newTencentSMS(cfg, client, now)
		if err != nil {
			return nil, err
		}
		s.provider = p
		if s.maxChars <= 0 {
			s.maxChars = 12
		}
	default:
		return nil, fmt.Errorf("sms provider %q: want aliyun or tencent", cfg.Provider)
	}
	if len(cfg.Templates) == 0 {
		return nil, fmt.Errorf("sms: no templates: give at least one (kinds, code, params)")
	}
	for i, t := range cfg.Templates {
		if t.Code == "" || len(t.Kinds) == 0 {
			return nil, fmt.Errorf("sms templates[%d]: code and kinds are needed", i)
		}
		for _, k := range t.Kinds {
			k = strings.TrimSpace(k)
			if k != "*" && k != string(KindDigest) && duban.EventKind(k).Label() == k {
				return nil, fmt.Errorf("sms templates[%d]: unknown kind %q", i, k)
			}
			if _, dup := s.byKind[k]; dup {
				return nil, fmt.Errorf("sms templates[%d]: kind %q has a template already", i, k)
			}
			s.byKind[k] = t
		}
	}
	return s, nil
}

// Send fills the template of the notice's kind with its facts and sends it
// to m.To.Mobile. A kind without a template is not configured (skipped).
func (s *SMS) Send(ctx context.Context, m Message) error {
	phone := m.To.Mobile
	if !duban.ValidMobile(phone) {
		return Permanent("手机号 %q 格式不正确", phone)
	}
	t, ok := s.byKind[string(m.Kind)]
	if !ok {
		t, ok = s.byKind["*"]
	}
	label := kindLabel(m.Kind)
	if !ok {
		return NotConfigured("未为「%s」配置短信模板（notify.sms.templates）", label)
	}
	facts := maps.Clone(m.Facts)
	if facts == nil {
		facts = map[string]string{}
	}
	facts[message.FactName] = m.To.Name
	if _, ok := facts[message.FactKind]; !ok {
		facts[message.FactKind] = label
	}
	if m.Kind == KindDigest {
		facts[message.FactCount] = strconv.Itoa(len(m.Items))
	}
	req := smsRequest{Phone: phone, SignName: s.signName, Template: t.Code, Ref: m.Key}
	for _, p := range t.Params {
		v := smsText(facts[p.Fact], s.maxChars)
		if v == "" {
			return NotConfigured("短信模板 %s 的变量 %s 需要「%s」，这条「%s」通知没有", t.Code, p.Name, SMSFacts[p.Fact], label)
		}
		req.Params = append(req.Params, SMSParam{Name: p.Name, Fact: v})
	}
	return s.provider.send(ctx, req)
}

// linkPattern finds what providers take for a link in a variable.
var linkPattern = regexp.MustCompile(`(?i)(https?://|www\.)\S*`)

// smsText makes a fact fit a template variable: no links (providers refuse
// them in variables), no 【】 (they mark the signature), no line breaks, at
// most max characters.
func smsText(s string, max int) string {
	s = linkPattern.ReplaceAllString(s, "")
	s = strings.NewReplacer("【", "［", "】", "］", "\r", " ", "\n", " ").Replace(s)
	s = strings.TrimSpace(s)
	if max > 0 && utf8.RuneCountInString(s) > max {
		r := []rune(s)
		s = string(r[:max-1]) + "…"
	}
	return s
}

var chinaMobilePattern = regexp.MustCompile(`^(?:\+?86)?(1[3-9]\d{9})$`)

// chinaMobile returns a mainland number as its 11 digits, without +86.
func chinaMobile(phone string) (string, bool) {
	m := chinaMobilePattern.FindStringSubmatch(phone)
	if m == nil {
		return "", false
	}
	return m[1], true
}
