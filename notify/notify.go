// Package notify delivers notices beyond the in-app inbox: email over SMTP,
// work-chat webhooks (a generic signed JSON POST, DingTalk and WeCom group
// robots), and personal channels (DingTalk 工作通知 and WeCom 应用消息 to a
// person's user id, SMS through Aliyun or Tencent Cloud), with daily
// digests and quiet hours.
//
// The inbox row of every notice is written with its transition (see
// store.ApplyTransition); next to it the store writes one delivery row per
// person and external channel, keyed by instance#seq#user#channel. A
// Dispatcher then sends those rows from activities: it claims a row, sends
// it, and marks it sent as soon as the channel has accepted it, so a retry
// of the activity skips what went out already. See docs/notifications.md.
package notify

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/duban-dev/duban"
)

// Channel names, as stored in deliveries.channel and used in dedup keys.
const (
	ChannelInbox   = "inbox"
	ChannelEmail   = "email"
	ChannelWebhook = "webhook"
	// ChannelDingTalk is DingTalk 工作通知 from an internal app to one
	// person's DingTalk userid (not a group robot: those are webhooks).
	ChannelDingTalk = "dingtalk"
	// ChannelWeCom is a WeCom 应用消息 from an app to one person's UserID.
	ChannelWeCom = "wecom"
	// ChannelSMS is a text message from a template, to a mobile number.
	ChannelSMS = "sms"
)

// KindDigest is the kind of a delivery that bundles a person's held items.
const KindDigest duban.EventKind = "digest"

// KindTest is the kind of the message `duban notify test` sends.
const KindTest duban.EventKind = "test"

// kindLabel names a kind in Chinese, digests and test messages included.
func kindLabel(k duban.EventKind) string {
	switch k {
	case KindDigest:
		return "每日汇总"
	case KindTest:
		return "测试消息"
	}
	return k.Label()
}

// Status is where one delivery stands.
type Status string

// Delivery statuses. Sent, digested, failed and skipped are final.
const (
	StatusPending  Status = "pending"  // written with its transition, not looked at yet
	StatusRetrying Status = "retrying" // failed for a reason that may pass; tried again
	StatusHeld     Status = "held"     // quiet hours: waits until NotBefore
	StatusDigest   Status = "digest"   // waits for the person's digest at NotBefore
	StatusDigested Status = "digested" // went out inside the digest DigestID
	StatusSent     Status = "sent"     // the channel accepted it
	StatusFailed   Status = "failed"   // given up (LastError says why); the inbox has it
	StatusSkipped  Status = "skipped"  // the channel is not configured on this deployment
)

// Label is the Chinese name of the status.
func (s Status) Label() string {
	switch s {
	case StatusPending:
		return "待发送"
	case StatusRetrying:
		return "重试中"
	case StatusHeld:
		return "免打扰暂缓"
	case StatusDigest:
		return "待汇总"
	case StatusDigested:
		return "已并入汇总"
	case StatusSent:
		return "已发送"
	case StatusFailed:
		return "发送失败"
	case StatusSkipped:
		return "未配置，已跳过"
	}
	return string(s)
}

// Delivery is one message to one person on one external channel: a notice
// of a transition, or a digest of several.
type Delivery struct {
	ID         int64           `json:"id"`
	Key        string          `json:"key"` // dedup key: instance#seq#user#channel, or digest#user#channel#slot
	UserID     int64           `json:"user_id"`
	Channel    string          `json:"channel"`
	Target     string          `json:"target"` // email address, webhook endpoint name, DingTalk/WeCom user id, or mobile
	InstanceID string          `json:"instance_id,omitempty"`
	Seq        int64           `json:"seq,omitempty"`
	Kind       duban.EventKind `json:"kind"`
	Urgent     bool            `json:"urgent"`
	Title      string          `json:"title"`
	Body       string          `json:"body"`
	// Facts are the notice's short values that SMS templates take (task,
	// due, …); only SMS rows carry them.
	Facts     map[string]string `json:"facts,omitempty"`
	EventAt   time.Time         `json:"event_at"` // plan time of the event
	Status    Status            `json:"status"`
	NotBefore time.Time         `json:"not_before"`
	DigestID  *int64            `json:"digest_id,omitempty"`
	Attempts  int               `json:"attempts"`
	LastError string            `json:"last_error,omitempty"`
	Fallback  bool              `json:"fallback"` // the person was told in the inbox that it failed
	CreatedAt time.Time         `json:"created_at"`
	UpdatedAt time.Time         `json:"updated_at"`
	SentAt    *time.Time        `json:"sent_at,omitempty"`
}

// Prefs are one person's notification preferences. A nil field takes the
// deployment's default (see Defaults).
type Prefs struct {
	UserID int64 `json:"user_id"`
	// Email overrides the account's address; "" turns email off.
	Email *string `json:"email,omitempty"`
	// EmailKinds limits email to some event kinds; nil means every kind.
	EmailKinds []duban.EventKind `json:"email_kinds,omitempty"`
	// Webhook names an endpoint of the configuration (notify.webhooks); "" none.
	Webhook      string            `json:"webhook,omitempty"`
	WebhookKinds []duban.EventKind `json:"webhook_kinds,omitempty"`
	// Mobile is @-mentioned in DingTalk group messages, and receives SMS
	// when SMS is on.
	Mobile string `json:"mobile,omitempty"`
	// DingTalkUserID receives DingTalk 工作通知 (the person's userid in the
	// organisation's DingTalk directory); "" for none.
	DingTalkUserID string            `json:"dingtalk_userid,omitempty"`
	DingTalkKinds  []duban.EventKind `json:"dingtalk_kinds,omitempty"`
	// WeComUserID receives WeCom 应用消息 (the person's UserID in the WeCom
	// directory); "" for none.
	WeComUserID string            `json:"wecom_userid,omitempty"`
	WeComKinds  []duban.EventKind `json:"wecom_kinds,omitempty"`
	// SMS sends text messages to Mobile (they cost money: SMSKinds usually
	// names only the urgent kinds).
	SMS      bool              `json:"sms,omitempty"`
	SMSKinds []duban.EventKind `json:"sms_kinds,omitempty"`
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
	UserID   int64        `json:"user_id"`
	Username string       `json:"username"`
	Name     string       `json:"name"`
	UnitCode string       `json:"unit_code"`
	Roles    []duban.Role `json:"roles"`
	Email    string       `json:"email"` // the account's address
	Disabled bool         `json:"disabled"`
	Prefs    Prefs        `json:"prefs"`
}

// EmailAddress is where email goes for this person, or "".
func (r Recipient) EmailAddress() string {
	if r.Prefs.Email != nil {
		return *r.Prefs.Email
	}
	return r.Email
}

// Message is what a channel sends.
type Message struct {
	// Key is the delivery's dedup key; it seeds the email Message-ID and is
	// the webhook's delivery id, so a receiver can drop a repeat.
	Key        string
	To         Address
	Kind       duban.EventKind
	Urgent     bool
	Title      string
	Body       string
	Link       string
	InstanceID string
	At         time.Time
	// Items are a digest's entries; empty for a single notice.
	Items []Item
	// Facts are the values SMS templates take (see message.Facts).
	Facts map[string]string
}

// Address is who a message is for.
type Address struct {
	UserID int64
	Name   string
	Email  string
	Mobile string
	// DingTalkUserID and WeComUserID are the person's ids in those
	// directories, for the personal channels.
	DingTalkUserID string
	WeComUserID    string
}

// Item is one entry of a digest.
type Item struct {
	InstanceID string          `json:"instance_id"`
	Kind       duban.EventKind `json:"kind"`
	Title      string          `json:"title"`
	Body       string          `json:"body"`
	Link       string          `json:"link"`
	At         time.Time       `json:"at"`
	Urgent     bool            `json:"urgent,omitempty"`
}

// Channel sends one message. An error that IsPermanent will not pass by
// retrying; any other error may.
type Channel interface {
	Send(ctx context.Context, m Message) error
}

// SendError classifies a failed send.
type SendError struct {
	Permanent bool
	// Skip says the deployment is not set up to send this message (an SMS
	// kind without a template): nothing was tried, and nobody is told.
	Skip   bool
	Reason string
}

func (e *SendError) Error() string { return e.Reason }

// Permanent is a failure that retrying will not fix (a 4xx from a webhook,
// a 5xx reply from an SMTP server, a bad address, a configuration error).
func Permanent(format string, args ...any) error {
	return &SendError{Permanent: true, Reason: fmt.Sprintf(format, args...)}
}

// Temporary is a failure worth retrying (a 5xx from a webhook, a 4xx reply
// from an SMTP server, a timeout, a refused connection).
func Temporary(format string, args ...any) error {
	return &SendError{Reason: fmt.Sprintf(format, args...)}
}

// NotConfigured is a message this deployment is not set up to send on the
// channel; the dispatcher marks it skipped.
func NotConfigured(format string, args ...any) error {
	return &SendError{Permanent: true, Skip: true, Reason: fmt.Sprintf(format, args...)}
}

// IsNotConfigured reports whether err is NotConfigured.
func IsNotConfigured(err error) bool {
	var se *SendError
	return errors.As(err, &se) && se.Skip
}

// IsPermanent reports whether err says retrying is pointless. Errors that
// are not SendErrors count as temporary.
func IsPermanent(err error) bool {
	var se *SendError
	return errors.As(err, &se) && se.Permanent
}

// Report counts what one dispatch did.
type Report struct {
	Sent     int `json:"sent"`
	Held     int `json:"held"`     // deferred by quiet hours
	Digest   int `json:"digest"`   // deferred to a digest
	Digests  int `json:"digests"`  // digests formed
	Retrying int `json:"retrying"` // failed for now; to be tried again
	Failed   int `json:"failed"`   // given up; fell back to the inbox
	Skipped  int `json:"skipped"`  // channel not configured
	Busy     int `json:"busy"`     // claimed by another attempt still running
	// Failures lists the deliveries given up in this dispatch.
	Failures []Failure `json:"failures,omitempty"`
}

// Failure is one delivery given up.
type Failure struct {
	Key     string `json:"key"`
	UserID  int64  `json:"user_id"`
	Channel string `json:"channel"`
	Target  string `json:"target"`
	Reason  string `json:"reason"`
}

// Add sums two reports.
func (r *Report) Add(o Report) {
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
func (r Report) Unfinished() bool { return r.Retrying > 0 || r.Busy > 0 }
