package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/duban-dev/duban"
)

const recipientSQL = `SELECT u.id, u.username, u.display_name, u.unit_code, u.roles, u.email, u.disabled,
		p.email, p.email_kinds, coalesce(p.webhook, ''), p.webhook_kinds, coalesce(p.mobile, ''),
		p.digest, p.digest_hour, p.quiet_start, p.quiet_end,
		coalesce(p.dingtalk_userid, ''), p.dingtalk_kinds, coalesce(p.wecom_userid, ''), p.wecom_kinds,
		coalesce(p.sms, false), p.sms_kinds
	FROM users u LEFT JOIN notification_prefs p ON p.user_id = u.id`

func scanRecipient(row pgx.Row) (duban.Recipient, error) {
	var (
		r                               duban.Recipient
		roles                           []string
		emailKinds, hookKinds           []string
		dingKinds, wecomKinds, smsKinds []string
		digestHour, qs, qe              *int16
	)
	err := row.Scan(&r.UserID, &r.Username, &r.Name, &r.UnitCode, &roles, &r.Email, &r.Disabled,
		&r.Prefs.Email, &emailKinds, &r.Prefs.Webhook, &hookKinds, &r.Prefs.Mobile,
		&r.Prefs.Digest, &digestHour, &qs, &qe,
		&r.Prefs.DingTalkUserID, &dingKinds, &r.Prefs.WeComUserID, &wecomKinds, &r.Prefs.SMS, &smsKinds)
	if err != nil {
		return r, err
	}
	r.Prefs.UserID = r.UserID
	for _, role := range roles {
		r.Roles = append(r.Roles, duban.Role(role))
	}
	r.Prefs.EmailKinds, r.Prefs.WebhookKinds = kindsOf(emailKinds), kindsOf(hookKinds)
	r.Prefs.DingTalkKinds, r.Prefs.WeComKinds, r.Prefs.SMSKinds = kindsOf(dingKinds), kindsOf(wecomKinds), kindsOf(smsKinds)
	r.Prefs.DigestHour, r.Prefs.QuietStart, r.Prefs.QuietEnd = intPtr(digestHour), intPtr(qs), intPtr(qe)
	return r, nil
}

// kindsOf keeps the difference between NULL (every kind: nil) and '{}'
// (no kind: empty).
func kindsOf(ss []string) []duban.EventKind {
	if ss == nil {
		return nil
	}
	out := make([]duban.EventKind, len(ss))
	for i, s := range ss {
		out[i] = duban.EventKind(s)
	}
	return out
}

func kindStrings(ks []duban.EventKind) []string {
	if ks == nil {
		return nil
	}
	out := make([]string, len(ks))
	for i, k := range ks {
		out[i] = string(k)
	}
	return out
}

func intPtr(v *int16) *int {
	if v == nil {
		return nil
	}
	n := int(*v)
	return &n
}

// Recipients loads people with their notification preferences.
func (db *DB) Recipients(ctx context.Context, userIDs []int64) (map[int64]duban.Recipient, error) {
	rows, err := db.Pool.Query(ctx, recipientSQL+` WHERE u.id = ANY ($1)`, userIDs)
	if err != nil {
		return nil, fmt.Errorf("load recipients: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (duban.Recipient, error) { return scanRecipient(r) })
	if err != nil {
		return nil, fmt.Errorf("load recipients: %w", err)
	}
	out := make(map[int64]duban.Recipient, len(list))
	for _, r := range list {
		out[r.UserID] = r
	}
	return out, nil
}

// Recipient loads one person by username with their preferences.
func (db *DB) Recipient(ctx context.Context, username string) (duban.Recipient, error) {
	r, err := scanRecipient(db.Pool.QueryRow(ctx, recipientSQL+` WHERE u.username = $1`, username))
	return r, translate(err, "用户 "+username)
}

// SetPrefs stores a person's notification preferences whole (nil fields
// mean the deployment's default). The API's "notification settings" and
// `duban notify prefs` use it. Bad values are refused with a Chinese
// message naming the field, and nothing is stored.
func (db *DB) SetPrefs(ctx context.Context, p duban.NotifyPrefs) error {
	if err := p.Check(); err != nil {
		return err
	}
	return upsertPrefs(ctx, db.Pool, p)
}

// upsertPrefs writes a person's preferences row whole.
func upsertPrefs(ctx context.Context, q interface {
	Exec(context.Context, string, ...any) (pgconn.CommandTag, error)
}, p duban.NotifyPrefs) error {
	_, err := q.Exec(ctx, `INSERT INTO notification_prefs (user_id, email, email_kinds, webhook, webhook_kinds, mobile,
			digest, digest_hour, quiet_start, quiet_end, dingtalk_userid, dingtalk_kinds, wecom_userid, wecom_kinds, sms, sms_kinds, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, now())
		ON CONFLICT (user_id) DO UPDATE SET email = $2, email_kinds = $3, webhook = $4, webhook_kinds = $5, mobile = $6,
			digest = $7, digest_hour = $8, quiet_start = $9, quiet_end = $10, dingtalk_userid = $11, dingtalk_kinds = $12,
			wecom_userid = $13, wecom_kinds = $14, sms = $15, sms_kinds = $16, updated_at = now()`,
		p.UserID, p.Email, kindStrings(p.EmailKinds), p.Webhook, kindStrings(p.WebhookKinds), p.Mobile,
		p.Digest, p.DigestHour, p.QuietStart, p.QuietEnd,
		p.DingTalkUserID, kindStrings(p.DingTalkKinds), p.WeComUserID, kindStrings(p.WeComKinds), p.SMS, kindStrings(p.SMSKinds))
	return translate(err, fmt.Sprintf("用户 %d 的通知设置", p.UserID))
}

// SetPrefsAs stores a person's preferences as they set them themselves (or
// an admin for them) and audits the change (user.settings, with the fields
// that changed), in one transaction. Nothing is stored when Check refuses.
func (db *DB) SetPrefsAs(ctx context.Context, p duban.NotifyPrefs, actor duban.Actor) error {
	if err := p.Check(); err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		before, err := scanRecipient(tx.QueryRow(ctx, recipientSQL+` WHERE u.id = $1 FOR UPDATE OF u`, p.UserID))
		if err != nil {
			return translate(err, fmt.Sprintf("用户 %d", p.UserID))
		}
		if err := upsertPrefs(ctx, tx, p); err != nil {
			return err
		}
		return auditTx(ctx, tx, actor, "user.settings", before.UnitCode, "",
			map[string]any{"user_id": p.UserID, "username": before.Username, "changed": prefsChanged(before.Prefs, p)})
	})
}

// prefsChanged names the preferences that differ, with their new values
// (a mobile number or an address is personal data, but the audit trail is
// read by the person's own admins, who manage it anyway).
func prefsChanged(a, b duban.NotifyPrefs) map[string]any {
	out := map[string]any{}
	str := func(p *string) any {
		if p == nil {
			return nil
		}
		return *p
	}
	num := func(p *int) any {
		if p == nil {
			return nil
		}
		return *p
	}
	kinds := func(ks []duban.EventKind) any {
		if ks == nil {
			return "all"
		}
		return kindStrings(ks)
	}
	set := func(name string, x, y any) {
		if fmt.Sprint(x) != fmt.Sprint(y) {
			out[name] = y
		}
	}
	set("email", str(a.Email), str(b.Email))
	set("email_kinds", kinds(a.EmailKinds), kinds(b.EmailKinds))
	set("webhook", a.Webhook, b.Webhook)
	set("webhook_kinds", kinds(a.WebhookKinds), kinds(b.WebhookKinds))
	set("mobile", a.Mobile, b.Mobile)
	set("dingtalk_userid", a.DingTalkUserID, b.DingTalkUserID)
	set("dingtalk_kinds", kinds(a.DingTalkKinds), kinds(b.DingTalkKinds))
	set("wecom_userid", a.WeComUserID, b.WeComUserID)
	set("wecom_kinds", kinds(a.WeComKinds), kinds(b.WeComKinds))
	set("sms", a.SMS, b.SMS)
	set("sms_kinds", kinds(a.SMSKinds), kinds(b.SMSKinds))
	var ad, bd any
	if a.Digest != nil {
		ad = *a.Digest
	}
	if b.Digest != nil {
		bd = *b.Digest
	}
	set("digest", ad, bd)
	set("digest_hour", num(a.DigestHour), num(b.DigestHour))
	set("quiet_start", num(a.QuietStart), num(b.QuietStart))
	set("quiet_end", num(a.QuietEnd), num(b.QuietEnd))
	return out
}

// RecipientByID loads one person by id with their preferences.
func (db *DB) RecipientByID(ctx context.Context, id int64) (duban.Recipient, error) {
	r, err := scanRecipient(db.Pool.QueryRow(ctx, recipientSQL+` WHERE u.id = $1`, id))
	return r, translate(err, fmt.Sprintf("用户 %d", id))
}
