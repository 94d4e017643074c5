package notify

import (
	"context"
	"io"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/message"
)

// Store is what the dispatcher needs from persistence; store.DB implements
// it. Times are passed in so that one clock (the dispatcher's, or the
// digest workflow's) decides everything.
type Store interface {
	// ClaimTransition leases the open (pending or retrying) deliveries of one
	// transition until now+lease. busy counts open rows another attempt holds.
	ClaimTransition(ctx context.Context, instanceID string, seq int64, now time.Time, lease time.Duration) (claimed []duban.Delivery, busy int, err error)
	// ClaimDue leases up to limit deliveries whose time has come: held rows
	// at their NotBefore, open digests, and open rows nobody has touched
	// since now-stale (their workflow gave up, or never ran them).
	ClaimDue(ctx context.Context, now time.Time, stale, lease time.Duration, limit int) ([]duban.Delivery, error)
	// FormDigests bundles, per person and channel, the digest items due by
	// now into one delivery of kind digest. It returns how many it formed.
	FormDigests(ctx context.Context, now time.Time) (int, error)
	// DigestItems returns the items of a digest, oldest first.
	DigestItems(ctx context.Context, digestID int64) ([]duban.Delivery, error)
	// Recipients loads people with their preferences.
	Recipients(ctx context.Context, userIDs []int64) (map[int64]duban.Recipient, error)
	// Defer sets a delivery aside (duban.DeliveryHeld or duban.DeliveryDigest) until notBefore.
	Defer(ctx context.Context, id int64, status duban.DeliveryStatus, notBefore, now time.Time) error
	// MarkSent records that the channel accepted the delivery.
	MarkSent(ctx context.Context, id int64, now time.Time) error
	// MarkRetry records a temporary failure.
	MarkRetry(ctx context.Context, id int64, reason string, now time.Time) error
	// MarkFailed gives a delivery up and, in the same transaction, leaves
	// the person a note in their inbox (one per person, channel and day).
	MarkFailed(ctx context.Context, id int64, reason string, now time.Time) error
	// MarkSkipped records that the channel is not configured here.
	MarkSkipped(ctx context.Context, id int64, reason string, now time.Time) error
}

// Dispatcher sends deliveries on their channels. Its methods run inside
// activities and are safe to retry: a delivery marked sent is never sent
// again, so a retry after a channel accepted a message skips it.
type Dispatcher struct {
	Store Store
	// Email is nil when no SMTP server is configured.
	Email Channel
	// Webhooks are the configured endpoints by name.
	Webhooks map[string]Channel
	// DingTalk (工作通知), WeCom (应用消息) and SMS are the personal
	// channels; nil when not configured.
	DingTalk Channel
	WeCom    Channel
	SMS      Channel
	Defaults Defaults
	// PublicURL is where people open the web UI; messages link to a task
	// at PublicURL/#/tasks/<id>.
	PublicURL string
	// MaxAttempts is how often a delivery is tried before it falls back to
	// the inbox (the configuration's notify.max_attempts; below 1, once).
	MaxAttempts int
	// Lease is how long a claim holds a row (default 5 minutes, longer than
	// the activities' start-to-close timeouts).
	Lease time.Duration
	// Stale is how long an open row may go untouched before the digest
	// workflow's sweep sends it (default 10 minutes, longer than the task
	// workflow's longest backoff; the lease keeps the two from both sending).
	Stale time.Duration
	// Now is the clock of DeliverTransition (real time by default).
	Now    func() time.Time
	Logger *slog.Logger
	// AfterAccept, when set, runs after a channel has accepted a message
	// and before its row is marked sent. Tests use it to stand for a crash
	// in that window.
	AfterAccept func(duban.Delivery) error
}

func (d *Dispatcher) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

func (d *Dispatcher) maxAttempts() int { return max(d.MaxAttempts, 1) }

func (d *Dispatcher) lease() time.Duration {
	if d.Lease > 0 {
		return d.Lease
	}
	return 5 * time.Minute
}

func (d *Dispatcher) stale() time.Duration {
	if d.Stale > 0 {
		return d.Stale
	}
	return 10 * time.Minute
}

func (d *Dispatcher) log() *slog.Logger {
	if d.Logger != nil {
		return d.Logger
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// DeliverTransition sends the deliveries of one transition that are due now,
// and sets aside those that wait for a digest or the end of quiet hours.
// The report's Unfinished says some need another attempt.
func (d *Dispatcher) DeliverTransition(ctx context.Context, instanceID string, seq int64) (duban.DeliveryReport, error) {
	now := d.now()
	rows, busy, err := d.Store.ClaimTransition(ctx, instanceID, seq, now, d.lease())
	if err != nil {
		return duban.DeliveryReport{}, err
	}
	rep, err := d.process(ctx, rows, now, nil)
	rep.Busy += busy
	return rep, err
}

// DeliverDue forms the digests due at now, then sends them, the held
// messages whose quiet hours are over, and open deliveries left behind. It
// works in small batches (so that a batch is done well within its lease even
// when every send runs into the SMTP timeout) until nothing is due or budget
// is spent; heartbeat (if not nil) runs after each delivery.
func (d *Dispatcher) DeliverDue(ctx context.Context, now time.Time, budget time.Duration, heartbeat func(duban.DeliveryReport)) (duban.DeliveryReport, error) {
	var rep duban.DeliveryReport
	formed, err := d.Store.FormDigests(ctx, now)
	rep.Digests = formed
	if err != nil {
		return rep, err
	}
	start := time.Now()
	for budget <= 0 || time.Since(start) < budget {
		rows, err := d.Store.ClaimDue(ctx, now, d.stale(), d.lease(), 8)
		if err != nil || len(rows) == 0 {
			return rep, err
		}
		var beat func(duban.DeliveryReport)
		if heartbeat != nil {
			beat = func(r duban.DeliveryReport) {
				sum := rep
				sum.Add(r)
				heartbeat(sum)
			}
		}
		r, err := d.process(ctx, rows, now, beat)
		rep.Add(r)
		if err != nil {
			return rep, err
		}
	}
	return rep, nil
}

func (d *Dispatcher) process(ctx context.Context, rows []duban.Delivery, now time.Time, after func(duban.DeliveryReport)) (duban.DeliveryReport, error) {
	var rep duban.DeliveryReport
	if len(rows) == 0 {
		return rep, nil
	}
	var ids []int64
	for _, r := range rows {
		if !slices.Contains(ids, r.UserID) {
			ids = append(ids, r.UserID)
		}
	}
	people, err := d.Store.Recipients(ctx, ids)
	if err != nil {
		return rep, err
	}
	for _, row := range rows {
		r, err := d.one(ctx, row, people[row.UserID], now)
		rep.Add(r)
		if err != nil {
			return rep, err
		}
		if after != nil {
			after(rep)
		}
	}
	return rep, nil
}

// one decides what becomes of one claimed delivery and does it.
func (d *Dispatcher) one(ctx context.Context, row duban.Delivery, person duban.Recipient, now time.Time) (duban.DeliveryReport, error) {
	var rep duban.DeliveryReport
	if person.UserID == 0 || person.Disabled {
		rep.Skipped++
		return rep, d.Store.MarkSkipped(ctx, row.ID, "用户不存在或已停用", now)
	}
	// A notice looked at for the first time may wait: urgent ones never do.
	if row.Status == duban.DeliveryPending && row.Kind != KindDigest && !row.Urgent {
		pol := d.Defaults.PolicyFor(person)
		switch {
		case pol.Digest:
			rep.Digest++
			return rep, d.Store.Defer(ctx, row.ID, duban.DeliveryDigest, pol.NextDigest(now), now)
		case pol.InQuiet(now):
			rep.Held++
			return rep, d.Store.Defer(ctx, row.ID, duban.DeliveryHeld, pol.QuietEndAfter(now), now)
		}
	}
	ch, missing, misconfigured := d.channel(row)
	if ch == nil {
		if misconfigured {
			return d.giveUp(ctx, rep, row, missing, now)
		}
		rep.Skipped++
		return rep, d.Store.MarkSkipped(ctx, row.ID, missing, now)
	}
	msg, err := d.message(ctx, row, person)
	if err != nil {
		return rep, err
	}
	sendErr := ch.Send(ctx, msg)
	if IsNotConfigured(sendErr) {
		rep.Skipped++
		return rep, d.Store.MarkSkipped(context.WithoutCancel(ctx), row.ID, sendErr.Error(), now)
	}
	if sendErr == nil {
		if d.AfterAccept != nil {
			if err := d.AfterAccept(row); err != nil {
				return rep, err
			}
		}
		// The window: a crash between the acceptance above and this
		// write sends the message again on retry (same Message-ID and
		// delivery id, so the receiver can tell).
		if err := d.Store.MarkSent(context.WithoutCancel(ctx), row.ID, now); err != nil {
			return rep, err
		}
		rep.Sent++
		return rep, nil
	}
	reason := sendErr.Error()
	if IsPermanent(sendErr) || row.Attempts+1 >= d.maxAttempts() {
		if !IsPermanent(sendErr) {
			reason = "多次重试仍失败：" + reason
		}
		return d.giveUp(ctx, rep, row, reason, now)
	}
	rep.Retrying++
	d.log().Info("delivery failed, will retry", "key", row.Key, "channel", row.Channel, "attempt", row.Attempts+1, "reason", reason)
	return rep, d.Store.MarkRetry(context.WithoutCancel(ctx), row.ID, reason, now)
}

func (d *Dispatcher) giveUp(ctx context.Context, rep duban.DeliveryReport, row duban.Delivery, reason string, now time.Time) (duban.DeliveryReport, error) {
	rep.Failed++
	rep.Failures = append(rep.Failures, duban.DeliveryFailure{Key: row.Key, UserID: row.UserID, Channel: row.Channel, Target: row.Target, Reason: reason})
	d.log().Warn("delivery failed, fell back to the inbox", "key", row.Key, "user", row.UserID, "channel", row.Channel, "target", row.Target, "reason", reason)
	return rep, d.Store.MarkFailed(context.WithoutCancel(ctx), row.ID, reason, now)
}

// channel finds a delivery's channel. When there is none, missing says
// why, and misconfigured whether that is an error to report (a webhook
// name nobody configured) rather than a deployment choice (no SMTP).
func (d *Dispatcher) channel(row duban.Delivery) (ch Channel, missing string, misconfigured bool) {
	switch row.Channel {
	case ChannelEmail:
		if d.Email == nil {
			return nil, "未配置邮件服务器（smtp）", false
		}
		return d.Email, "", false
	case ChannelWebhook:
		if w, ok := d.Webhooks[row.Target]; ok {
			return w, "", false
		}
		if len(d.Webhooks) == 0 {
			return nil, "未配置工作群机器人（webhooks）", false
		}
		return nil, "工作群机器人 " + row.Target + " 未在配置中定义", true
	}
	for _, p := range d.personal() {
		if p.name == row.Channel {
			if p.ch == nil {
				return nil, "未配置" + p.label + "（" + p.setting + "）", false
			}
			return p.ch, "", false
		}
	}
	return nil, "未知渠道 " + row.Channel, true
}

// personalChannel is a personal channel with its names.
type personalChannel struct {
	name    string // the channel's name in deliveries
	label   string // in Chinese
	setting string // where it is configured
	ch      Channel
	// address is the person's address on it, or "".
	address func(duban.NotifyPrefs) string
}

func (d *Dispatcher) personal() []personalChannel {
	return []personalChannel{
		{ChannelDingTalk, "钉钉工作通知", "notify.dingtalk_app", d.DingTalk, func(p duban.NotifyPrefs) string { return p.DingTalkUserID }},
		{ChannelWeCom, "企业微信应用消息", "notify.wecom_app", d.WeCom, func(p duban.NotifyPrefs) string { return p.WeComUserID }},
		{ChannelSMS, "短信", "notify.sms", d.SMS, func(p duban.NotifyPrefs) string {
			if p.SMS {
				return p.Mobile
			}
			return ""
		}},
	}
}

// setTarget fills in the address for the channel the message goes on.
func (a *Address) setTarget(channel, target string) {
	switch channel {
	case ChannelEmail:
		a.Email = target
	case ChannelDingTalk:
		a.DingTalkUserID = target
	case ChannelWeCom:
		a.WeComUserID = target
	case ChannelSMS:
		a.Mobile = target
	}
}

// Link is the web UI's page of an instance. Instance ids contain slashes,
// so the id is escaped as one path segment.
func (d *Dispatcher) Link(instanceID string) string {
	if d.PublicURL == "" || instanceID == "" {
		return ""
	}
	return strings.TrimRight(d.PublicURL, "/") + "/#/tasks/" + url.PathEscape(instanceID)
}

func (d *Dispatcher) message(ctx context.Context, row duban.Delivery, person duban.Recipient) (Message, error) {
	m := Message{
		Key: row.Key, Kind: row.Kind, Urgent: row.Urgent, Title: row.Title, Body: row.Body,
		Link: d.Link(row.InstanceID), InstanceID: row.InstanceID, At: row.EventAt, Facts: row.Facts,
		To: Address{UserID: person.UserID, Name: person.Name, Mobile: person.Prefs.Mobile},
	}
	m.To.setTarget(row.Channel, row.Target)
	if row.Kind != KindDigest {
		return m, nil
	}
	items, err := d.Store.DigestItems(ctx, row.ID)
	if err != nil {
		return m, err
	}
	for _, it := range items {
		m.Items = append(m.Items, Item{InstanceID: it.InstanceID, Kind: it.Kind, Title: it.Title, Body: it.Body,
			Link: d.Link(it.InstanceID), At: it.EventAt, Urgent: it.Urgent})
	}
	m.Body = message.DigestIntro(len(items))
	m.Link = strings.TrimRight(d.PublicURL, "/")
	return m, nil
}

// TestResult is the outcome of a test message on one channel.
type TestResult struct {
	Channel string `json:"channel"`
	Target  string `json:"target"`
	Err     error  `json:"-"`
	Note    string `json:"note,omitempty"` // why nothing was sent
}

// Test sends a test message on each of a person's external channels, now,
// bypassing digests, quiet hours and the outbox.
func (d *Dispatcher) Test(ctx context.Context, person duban.Recipient) []TestResult {
	now := d.now()
	text := message.TestNotice(person.Name, now)
	m := Message{Key: "test#" + person.Username + "#" + now.Format("20060102T150405.000"), Kind: KindTest, Title: text.Title, Body: text.Body,
		Link: strings.TrimRight(d.PublicURL, "/"), At: now, To: Address{UserID: person.UserID, Name: person.Name, Mobile: person.Prefs.Mobile}}
	var out []TestResult
	if addr := person.EmailAddress(); addr != "" {
		res := TestResult{Channel: ChannelEmail, Target: addr}
		if d.Email == nil {
			res.Note = "未配置邮件服务器（smtp），未发送"
		} else {
			em := m
			em.To.Email = addr
			res.Err = d.Email.Send(ctx, em)
		}
		out = append(out, res)
	} else {
		out = append(out, TestResult{Channel: ChannelEmail, Note: "该用户没有邮件地址"})
	}
	if name := person.Prefs.Webhook; name != "" {
		res := TestResult{Channel: ChannelWebhook, Target: name}
		if w, ok := d.Webhooks[name]; ok {
			res.Err = w.Send(ctx, m)
		} else {
			res.Note = "工作群机器人 " + name + " 未在配置中定义"
		}
		out = append(out, res)
	} else {
		out = append(out, TestResult{Channel: ChannelWebhook, Note: "该用户未设置工作群机器人"})
	}
	for _, p := range d.personal() {
		addr := p.address(person.Prefs)
		res := TestResult{Channel: p.name, Target: addr}
		switch {
		case addr == "":
			res.Note = "该用户未开通" + p.label
		case p.ch == nil:
			res.Note = "未配置" + p.label + "（" + p.setting + "），未发送"
		default:
			pm := m
			pm.To.setTarget(p.name, addr)
			res.Err = p.ch.Send(ctx, pm)
			if IsNotConfigured(res.Err) {
				res.Note, res.Err = res.Err.Error()+"，未发送", nil
			}
		}
		out = append(out, res)
	}
	return out
}
