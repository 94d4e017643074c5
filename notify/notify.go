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
