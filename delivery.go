package duban

import (
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Notifications beyond the inbox are deliveries: the store writes one row
// per person and external channel with each transition, and the notify
// package's dispatcher sends them. The records both sides share live here.

// DeliveryStatus is where one delivery stands.
type DeliveryStatus string

// Delivery statuses. Sent, digested, failed and skipped are final.
const (
	DeliveryPending  DeliveryStatus = "pending"  // written with its transition, not looked at yet
	DeliveryRetrying DeliveryStatus = "retrying" // failed for a reason that may pass; tried again
	DeliveryHeld     DeliveryStatus = "held"     // quiet hours: waits until NotBefore
	DeliveryDigest   DeliveryStatus = "digest"   // waits for the person's digest at NotBefore
	DeliveryDigested DeliveryStatus = "digested" // went out inside the digest DigestID
	DeliverySent     DeliveryStatus = "sent"     // the channel accepted it
	DeliveryFailed   DeliveryStatus = "failed"   // given up (LastError says why); the inbox has it
	DeliverySkipped  DeliveryStatus = "skipped"  // the channel is not configured on this deployment
)

// Label is the Chinese name of the status.
func (s DeliveryStatus) Label() string {
	switch s {
	case DeliveryPending:
		return "待发送"
	case DeliveryRetrying:
		return "重试中"
	case DeliveryHeld:
		return "免打扰暂缓"
	case DeliveryDigest:
		return "待汇总"
	case DeliveryDigested:
		return "已并入汇总"
	case DeliverySent:
		return "已发送"
	case DeliveryFailed:
		return "发送失败"
	case DeliverySkipped:
		return "未配置，已跳过"
	}
	return string(s)
}

// Delivery is one message to one person on one external channel: a notice
// of a transition, or a digest of several.
type Delivery struct {
	ID         int64     `json:"id"`
	Key        string    `json:"key"` // dedup key: instance#seq#user#channel, or digest#user#channel#slot
	UserID     int64     `json:"user_id"`
	Channel    string    `json:"channel"`
	Target     string    `json:"target"` // email address, webhook endpoint name, DingTalk/WeCom user id, or mobile
	InstanceID string    `json:"instance_id,omitempty"`
	Seq        int64     `json:"seq,omitempty"`
	Kind       EventKind `json:"kind"`
	Urgent     bool      `json:"urgent"`
	Title      string    `json:"title"`
	Body       string    `json:"body"`
	// Facts are the notice's short values that SMS templates take (task,
	// due, …); only SMS rows carry them.
	Facts     map[string]string `json:"facts,omitempty"`
	EventAt   time.Time         `json:"event_at"` // plan time of the event
	Status    DeliveryStatus    `json:"status"`
	NotBefore time.Time         `json:"not_before"`
	DigestID  *int64            `json:"digest_id,omitempty"`
	Attempts  int               `json:"attempts"`
	LastError string            `json:"last_error,omitempty"`
	Fallback  bool              `json:"fallback"` // the person was told in the inbox that it failed
	CreatedAt time.Time         `json:"created_at"`
	UpdatedAt time.Time         `json:"updated_at"`
	SentAt    *time.Time        `json:"sent_at,omitempty"`
}

// NotifyPrefs are one person's notification preferences. A nil field takes the
// deployment's default (see notify.Defaults).
type NotifyPrefs struct {
	UserID int64 `json:"user_id"`
	// Email overrides the account's address; "" turns email off.
	Email *string `json:"email,omitempty"`
	// EmailKinds limits email to some event kinds; nil means every kind.
	EmailKinds []EventKind `json:"email_kinds,omitempty"`
	// Webhook names an endpoint of the configuration (notify.webhooks); "" none.
	Webhook      string      `json:"webhook,omitempty"`
	WebhookKinds []EventKind `json:"webhook_kinds,omitempty"`
	// Mobile is @-mentioned in DingTalk group messages, and receives SMS
	// when SMS is on.
	Mobile string `json:"mobile,omitempty"`
	// DingTalkUserID receives DingTalk 工作通知 (the person's userid in the
	// organisation's DingTalk directory); "" for none.
	DingTalkUserID string      `json:"dingtalk_userid,omitempty"`
	DingTalkKinds  []EventKind `json:"dingtalk_kinds,omitempty"`
	// WeComUserID receives WeCom 应用消息 (the person's UserID in the WeCom
	// directory); "" for none.
	WeComUserID string      `json:"wecom_userid,omitempty"`
	WeComKinds  []EventKind `json:"wecom_kinds,omitempty"`
	// SMS sends text messages to Mobile (they cost money: SMSKinds usually
	// names only the urgent kinds).
	SMS      bool        `json:"sms,omitempty"`
	SMSKinds []EventKind `json:"sms_kinds,omitempty"`
	// Digest bundles non-urgent notices into one message a day at DigestHour.
	Digest     *bool `json:"digest,omitempty"`
	DigestHour *int  `json:"digest_hour,omitempty"`
	// QuietStart and QuietEnd are hours (0–23, Asia/Shanghai): non-urgent
	// messages due in [start, end) wait until end. Equal hours: no quiet time.
	QuietStart *int `json:"quiet_start,omitempty"`
	QuietEnd   *int `json:"quiet_end,omitempty"`
}

// Recipient is a person as the dispatcher needs them.
type Recipient struct {
	UserID   int64       `json:"user_id"`
	Username string      `json:"username"`
	Name     string      `json:"name"`
	UnitCode string      `json:"unit_code"`
	Roles    []Role      `json:"roles"`
	Email    string      `json:"email"` // the account's address
	Disabled bool        `json:"disabled"`
	Prefs    NotifyPrefs `json:"prefs"`
}

// EmailAddress is where email goes for this person, or "".
func (r Recipient) EmailAddress() string {
	if r.Prefs.Email != nil {
		return *r.Prefs.Email
	}
	return r.Email
}

// DeliveryReport counts what one dispatch of deliveries did.
type DeliveryReport struct {
	Sent     int `json:"sent"`
	Held     int `json:"held"`     // deferred by quiet hours
	Digest   int `json:"digest"`   // deferred to a digest
	Digests  int `json:"digests"`  // digests formed
	Retrying int `json:"retrying"` // failed for now; to be tried again
	Failed   int `json:"failed"`   // given up; fell back to the inbox
	Skipped  int `json:"skipped"`  // channel not configured
	Busy     int `json:"busy"`     // claimed by another attempt still running
	// Failures lists the deliveries given up in this dispatch.
	Failures []DeliveryFailure `json:"failures,omitempty"`
}

// DeliveryFailure is one delivery given up.
type DeliveryFailure struct {
	Key     string `json:"key"`
	UserID  int64  `json:"user_id"`
	Channel string `json:"channel"`
	Target  string `json:"target"`
	Reason  string `json:"reason"`
}

// Add sums two reports.
func (r *DeliveryReport) Add(o DeliveryReport) {
	r.Sent += o.Sent
	r.Held += o.Held
	r.Digest += o.Digest
	r.Digests += o.Digests
	r.Retrying += o.Retrying
	r.Failed += o.Failed
	r.Skipped += o.Skipped
	r.Busy += o.Busy
	r.Failures = append(r.Failures, o.Failures...)
}

// Unfinished reports whether some delivery still needs another attempt.
func (r DeliveryReport) Unfinished() bool { return r.Retrying > 0 || r.Busy > 0 }

// mobilePattern accepts a mainland mobile number (13800000000, optionally
// +86 or 86 in front) or another country's number in E.164 (+852…).
var mobilePattern = regexp.MustCompile(`^(?:(?:\+?86)?1[3-9]\d{9}|\+[1-9]\d{6,14})$`)

// ValidMobile reports whether s is a number SMS can go to.
func ValidMobile(s string) bool { return mobilePattern.MatchString(s) }

// Check checks preferences before they are stored: hours, quiet
// hours given whole, a mobile number that SMS can use, and directory user
// ids that cannot address anyone else (DingTalk separates ids with ",",
// WeCom with "|"). The error is a FieldError in Chinese.
func (p NotifyPrefs) Check() error {
	for _, h := range []*int{p.DigestHour, p.QuietStart, p.QuietEnd} {
		if h != nil && !validHour(*h) {
			return FieldError("hour", "时刻应为 0–23 之间的整点")
		}
	}
	if (p.QuietStart == nil) != (p.QuietEnd == nil) {
		return FieldError("quiet_hours", "免打扰时段须同时设置开始和结束")
	}
	if p.Mobile != "" && !ValidMobile(p.Mobile) {
		return FieldError("mobile", "手机号 %q 格式不正确：应为 11 位手机号（如 13800000000），境外号码以 + 和国家代码开头", p.Mobile)
	}
	if p.SMS && p.Mobile == "" {
		return FieldError("sms", "开启短信通知须先填写手机号")
	}
	if err := checkDirectoryID("dingtalk_userid", "钉钉 userid", p.DingTalkUserID); err != nil {
		return err
	}
	return checkDirectoryID("wecom_userid", "企业微信 UserID", p.WeComUserID)
}

func checkDirectoryID(field, label, id string) error {
	if id == "" {
		return nil
	}
	if utf8.RuneCountInString(id) > 64 || strings.ContainsAny(id, ",|") || strings.IndexFunc(id, unicode.IsSpace) >= 0 {
		return FieldError(field, "%s %q 不正确：不超过 64 个字符，且不能含有空格、逗号或“|”", label, id)
	}
	return nil
}

func validHour(h int) bool { return h >= 0 && h <= 23 }
