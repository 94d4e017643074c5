package api

import (
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/api/input"
)

// NotifySetup is what the deployment's notification configuration offers
// people: the channels it can send on and the defaults that apply to
// whoever has not chosen. The zero value is a deployment with the inbox
// only.
type NotifySetup struct {
	Email    bool     // an SMTP server is configured
	Webhooks []string // the configured webhook endpoints, by name
	DingTalk bool     // DingTalk 工作通知
	WeCom    bool     // WeCom 应用消息
	SMS      bool
	// The defaults (notify.digest_roles, digest_hour, quiet_hours).
	DigestRoles          []duban.Role
	DigestHour           int
	QuietStart, QuietEnd int
}

// Notification channels beyond the inbox, in the order the settings page
// shows them.
var settingsChannels = []struct{ id, label string }{
	{"email", "邮件"}, {"webhook", "工作群"}, {"dingtalk", "钉钉工作通知"}, {"wecom", "企业微信应用消息"}, {"sms", "短信"},
}

// settingsKinds are the kinds of notice a person chooses channels for. An
// urge (催办) reaches every channel the person has, whatever they chose.
var settingsKinds = []duban.EventKind{
	duban.EventAssigned, duban.EventReminder, duban.EventOverdue, duban.EventEscalated, duban.EventUrged,
	duban.EventSubmitted, duban.EventApproved, duban.EventRejected, duban.EventReturned, duban.EventCompleted,
	duban.EventSLAReminder, duban.EventSLABreached, duban.EventSLAEscalated,
	duban.EventExtensionRequested, duban.EventExtensionGranted, duban.EventExtensionRefused,
	duban.EventWithdrawn, duban.EventSigned, duban.EventHandedOver, duban.EventSignerAdded, duban.EventAssigneeNamed,
	duban.EventCancelled, duban.EventAmended, duban.EventUnitMoved, duban.EventProgress,
}

func (n NotifySetup) available(channel string) bool {
	switch channel {
	case "email":
		return n.Email
	case "webhook":
		return len(n.Webhooks) > 0
	case "dingtalk":
		return n.DingTalk
	case "wecom":
		return n.WeCom
	case "sms":
		return n.SMS
	}
	return false
}

type channelView struct {
	Channel   string `json:"channel"`
	Label     string `json:"label"`
	Available bool   `json:"available"`
	// Note says why an unavailable channel cannot be chosen.
	Note string `json:"note,omitempty"`
}

type kindView struct {
	Kind  duban.EventKind `json:"kind"`
	Label string          `json:"label"`
}

type policyView struct {
	Digest     bool `json:"digest"`
	DigestHour int  `json:"digest_hour"`
	QuietStart int  `json:"quiet_start"`
	QuietEnd   int  `json:"quiet_end"`
}

// settingsView is a person's own notification settings.
type settingsView struct {
	// The settings themselves, as PUT takes them: Kinds lists, for each
	// kind of notice, the channels besides the inbox that reach the person
	// (only channels this deployment offers); Digest, DigestHour,
	// QuietStart, QuietEnd null take the deployment's default (Effective
	// says what applies).
	settingsRequest
	// AccountEmail is the account's address, used while the person names
	// no other.
	AccountEmail string `json:"account_email"`

	Effective   policyView    `json:"effective"`
	Defaults    policyView    `json:"defaults"`
	Channels    []channelView `json:"channels"`
	KindOptions []kindView    `json:"kind_options"`
	Webhooks    []string      `json:"webhooks"`
}

// chosen reports whether a channel's kinds (nil: every kind) include k.
func chosen(kinds []duban.EventKind, k duban.EventKind) bool {
	return kinds == nil || slices.Contains(kinds, k)
}

func (s *server) settingsOf(r duban.Recipient) settingsView {
	p, n := r.Prefs, s.Notify
	v := settingsView{settingsRequest: settingsRequest{Email: r.EmailAddress(), Mobile: p.Mobile, DingTalkUserID: p.DingTalkUserID,
		WeComUserID: p.WeComUserID, Webhook: p.Webhook, Kinds: map[duban.EventKind][]string{},
		Digest: p.Digest, DigestHour: p.DigestHour, QuietStart: p.QuietStart, QuietEnd: p.QuietEnd}, AccountEmail: r.Email, Webhooks: n.Webhooks}
	if v.Webhooks == nil {
		v.Webhooks = []string{}
	}
	v.Defaults = policyView{DigestHour: n.DigestHour, QuietStart: n.QuietStart, QuietEnd: n.QuietEnd}
	for _, role := range r.Roles {
		if slices.Contains(n.DigestRoles, role) {
			v.Defaults.Digest = true
		}
	}
	v.Effective = v.Defaults
	if p.Digest != nil {
		v.Effective.Digest = *p.Digest
	}
	if p.DigestHour != nil {
		v.Effective.DigestHour = *p.DigestHour
	}
	if p.QuietStart != nil && p.QuietEnd != nil {
		v.Effective.QuietStart, v.Effective.QuietEnd = *p.QuietStart, *p.QuietEnd
	}
	for _, c := range settingsChannels {
		cv := channelView{Channel: c.id, Label: c.label, Available: n.available(c.id)}
		if !cv.Available {
			cv.Note = "本系统未配置" + c.label + "，暂不可用"
		}
		v.Channels = append(v.Channels, cv)
	}
	// A channel counts as chosen for a kind when the person can be reached
	// on it: an address, an endpoint, an id, SMS turned on.
	reach := map[string]struct {
		target string
		kinds  []duban.EventKind
	}{
		"email": {v.Email, p.EmailKinds}, "webhook": {p.Webhook, p.WebhookKinds},
		"dingtalk": {p.DingTalkUserID, p.DingTalkKinds}, "wecom": {p.WeComUserID, p.WeComKinds},
	}
	if p.SMS {
		reach["sms"] = struct {
			target string
			kinds  []duban.EventKind
		}{p.Mobile, p.SMSKinds}
	}
	for _, k := range settingsKinds {
		v.KindOptions = append(v.KindOptions, kindView{Kind: k, Label: k.Label()})
		chans := []string{}
		for _, c := range settingsChannels {
			if x, ok := reach[c.id]; ok && n.available(c.id) && x.target != "" && chosen(x.kinds, k) {
				chans = append(chans, c.id)
			}
		}
		v.Kinds[k] = chans
	}
	return v
}

func (s *server) getSettings(c *fiber.Ctx) error {
	p, err := caller(c)
	if err != nil {
		return err
	}
	r, err := s.DB.RecipientByID(c.UserContext(), p.User.ID)
	if err != nil {
		return err
	}
	return c.JSON(s.settingsOf(r))
}

// settingsRequest is the whole of a person's settings, as GET returns
// them (the read-only parts left out). Email is where notices by email go
// ("" none).
type settingsRequest struct {
	Email          string                       `json:"email"`
	Mobile         string                       `json:"mobile"`
	DingTalkUserID string                       `json:"dingtalk_userid"`
	WeComUserID    string                       `json:"wecom_userid"`
	Webhook        string                       `json:"webhook"`
	Kinds          map[duban.EventKind][]string `json:"kinds"`
	Digest         *bool                        `json:"digest"`
	DigestHour     *int                         `json:"digest_hour"`
	QuietStart     *int                         `json:"quiet_start"`
	QuietEnd       *int                         `json:"quiet_end"`
}

// validEmail accepts a bare address (name@domain), as mail servers take it.
func validEmail(s string) bool {
	if len(s) > 200 || strings.ContainsAny(s, " <>\"") {
		return false
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return false
	}
	_, domain, _ := strings.Cut(s, "@")
	return strings.Contains(domain, ".") && !strings.HasPrefix(domain, ".") && !strings.HasSuffix(domain, ".")
}

// prefs checks the request against the deployment and turns it into the
// stored preferences, keeping what the person cannot change here (the
// choices for channels this deployment does not offer). Every field at
// fault is named.
func (r *settingsRequest) prefs(n NotifySetup, before duban.Recipient) (duban.NotifyPrefs, error) {
	var errs []input.FieldError
	bad := func(field, format string, args ...any) {
		errs = append(errs, input.FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	r.Email, r.Mobile = strings.TrimSpace(r.Email), strings.TrimSpace(r.Mobile)
	r.DingTalkUserID, r.WeComUserID, r.Webhook = strings.TrimSpace(r.DingTalkUserID), strings.TrimSpace(r.WeComUserID), strings.TrimSpace(r.Webhook)
	if r.Email != "" && !validEmail(r.Email) {
		bad("email", "邮箱 %q 格式不正确，应如 name@example.org", truncateRunes(r.Email, 60))
	}
	if r.Mobile != "" && !duban.ValidMobile(r.Mobile) {
		bad("mobile", "手机号 %q 格式不正确：应为 11 位手机号（如 13800000000），境外号码以 + 和国家代码开头", truncateRunes(r.Mobile, 30))
	}
	for _, id := range []struct{ field, label, val string }{
		{"dingtalk_userid", "钉钉 userid", r.DingTalkUserID}, {"wecom_userid", "企业微信 UserID", r.WeComUserID},
	} {
		if id.val != "" && (utf8.RuneCountInString(id.val) > 64 || strings.ContainsAny(id.val, ",|") || strings.ContainsFunc(id.val, func(c rune) bool { return c == ' ' || c == '\t' })) {
			bad(id.field, "%s不正确：不超过 64 个字符，且不能含有空格、逗号或“|”", id.label)
		}
	}
	if r.Webhook != "" && !slices.Contains(n.Webhooks, r.Webhook) {
		bad("webhook", "工作群 %q 不是本系统配置的工作群", truncateRunes(r.Webhook, 40))
	}
	for _, h := range []struct {
		field string
		v     *int
	}{{"digest_hour", r.DigestHour}, {"quiet_start", r.QuietStart}, {"quiet_end", r.QuietEnd}} {
		if h.v != nil && (*h.v < 0 || *h.v > 23) {
			bad(h.field, "应为 0 到 23 之间的整点")
		}
	}
	if (r.QuietStart == nil) != (r.QuietEnd == nil) {
		field := "quiet_end"
		if r.QuietStart == nil {
			field = "quiet_start"
		}
		bad(field, "免打扰时段须同时设置开始和结束（两者都留空则用系统默认）")
	}
	// Kinds: channels per kind → kinds per channel.
	perChannel := map[string][]duban.EventKind{}
	for k, chans := range r.Kinds {
		field := "kinds." + truncateRunes(string(k), 30)
		if !slices.Contains(settingsKinds, k) {
			bad(field, "没有这类通知")
			continue
		}
		for i, ch := range chans {
			f := fmt.Sprintf("%s[%d]", field, i)
			switch {
			case !slices.ContainsFunc(settingsChannels, func(c struct{ id, label string }) bool { return c.id == ch }):
				bad(f, "渠道 %q 不存在：应为 email、webhook、dingtalk、wecom、sms 之一", truncateRunes(ch, 20))
			case !n.available(ch):
				bad(f, "本系统未配置%s，不能选择", channelLabel(ch))
			case slices.Contains(perChannel[ch], k):
				bad(f, "渠道重复")
			default:
				perChannel[ch] = append(perChannel[ch], k)
			}
		}
	}
	target := map[string]struct{ field, val, need string }{
		"email": {"email", r.Email, "须填写邮箱"}, "webhook": {"webhook", r.Webhook, "须选择工作群"},
		"dingtalk": {"dingtalk_userid", r.DingTalkUserID, "须填写钉钉 userid"}, "wecom": {"wecom_userid", r.WeComUserID, "须填写企业微信 UserID"},
		"sms": {"mobile", r.Mobile, "须填写手机号"},
	}
	for _, c := range settingsChannels {
		if t := target[c.id]; len(perChannel[c.id]) > 0 && t.val == "" {
			bad(t.field, "已选择%s接收通知，%s", c.label, t.need)
		}
	}
	if len(errs) > 0 {
		return duban.NotifyPrefs{}, input.Invalid("通知设置有误", errs...)
	}

	p := before.Prefs
	p.UserID = before.UserID
	p.Mobile, p.Digest, p.DigestHour, p.QuietStart, p.QuietEnd = r.Mobile, r.Digest, r.DigestHour, r.QuietStart, r.QuietEnd
	// The kinds chosen for a channel: every kind is stored as NULL, so that
	// kinds added later reach the person too.
	kindsOf := func(ch string) []duban.EventKind {
		ks := perChannel[ch]
		if len(ks) == len(settingsKinds) {
			return nil
		}
		if ks == nil {
			return []duban.EventKind{}
		}
		slices.Sort(ks)
		return ks
	}
	if n.Email {
		switch r.Email {
		case before.Email:
			p.Email = nil // the account's address, and any change an admin makes to it
		default:
			e := r.Email
			p.Email = &e
		}
		p.EmailKinds = kindsOf("email")
	}
	if len(n.Webhooks) > 0 {
		p.Webhook, p.WebhookKinds = r.Webhook, kindsOf("webhook")
	}
	if n.DingTalk {
		p.DingTalkUserID, p.DingTalkKinds = r.DingTalkUserID, kindsOf("dingtalk")
	}
	if n.WeCom {
		p.WeComUserID, p.WeComKinds = r.WeComUserID, kindsOf("wecom")
	}
	if n.SMS {
		p.SMS, p.SMSKinds = len(perChannel["sms"]) > 0, kindsOf("sms")
	} else if p.SMS && p.Mobile == "" {
		p.SMS = false // SMS is off here anyway; a cleared mobile turns it off
	}
	return p, nil
}

func channelLabel(id string) string {
	for _, c := range settingsChannels {
		if c.id == id {
			return c.label
		}
	}
	return id
}

// putSettings stores the caller's own notification settings, whole;
// audited (user.settings) with the fields that changed.
func (s *server) putSettings(c *fiber.Ctx) error {
	p, err := caller(c)
	if err != nil {
		return err
	}
	var req settingsRequest
	if err := s.decodeJSON(c, &req); err != nil {
		return err
	}
	before, err := s.DB.RecipientByID(c.UserContext(), p.User.ID)
	if err != nil {
		return err
	}
	prefs, err := req.prefs(s.Notify, before)
	if err != nil {
		return err
	}
	if err := s.DB.SetPrefsAs(c.UserContext(), prefs, p.actor()); err != nil {
		return err
	}
	after, err := s.DB.RecipientByID(c.UserContext(), p.User.ID)
	if err != nil {
		return err
	}
	return c.JSON(s.settingsOf(after))
}
