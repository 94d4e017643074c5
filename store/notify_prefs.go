package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/notify"
)

const recipientSQL = `SELECT u.id, u.username, u.display_name, u.unit_code, u.roles, u.email, u.disabled,
		p.email, p.email_kinds, coalesce(p.webhook, ''), p.webhook_kinds, coalesce(p.mobile, ''),
		p.digest, p.digest_hour, p.quiet_start, p.quiet_end
	FROM users u LEFT JOIN notification_prefs p ON p.user_id = u.id`

func scanRecipient(row pgx.Row) (notify.Recipient, error) {
	var (
		r                       notify.Recipient
		roles                   []string
		emailKinds, hookKinds   []string
		digestHour, qs, qe      *int16
		hasEmailKinds, hasHooks bool
	)
	err := row.Scan(&r.UserID, &r.Username, &r.Name, &r.UnitCode, &roles, &r.Email, &r.Disabled,
		&r.Prefs.Email, &emailKinds, &r.Prefs.Webhook, &hookKinds, &r.Prefs.Mobile,
		&r.Prefs.Digest, &digestHour, &qs, &qe)
	if err != nil {
		return r, err
	}
	hasEmailKinds, hasHooks = emailKinds != nil, hookKinds != nil
	r.Prefs.UserID = r.UserID
	for _, role := range roles {
		r.Roles = append(r.Roles, duban.Role(role))
	}
	if hasEmailKinds {
		r.Prefs.EmailKinds = kindsOf(emailKinds)
	}
	if hasHooks {
		r.Prefs.WebhookKinds = kindsOf(hookKinds)
	}
	r.Prefs.DigestHour, r.Prefs.QuietStart, r.Prefs.QuietEnd = intPtr(digestHour), intPtr(qs), intPtr(qe)
	return r, nil
}

func kindsOf(ss []string) []duban.EventKind {
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
func (db *DB) Recipients(ctx context.Context, userIDs []int64) (map[int64]notify.Recipient, error) {
	rows, err := db.Pool.Query(ctx, recipientSQL+` WHERE u.id = ANY ($1)`, userIDs)
	if err != nil {
		return nil, fmt.Errorf("load recipients: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (notify.Recipient, error) { return scanRecipient(r) })
	if err != nil {
		return nil, fmt.Errorf("load recipients: %w", err)
	}
	out := make(map[int64]notify.Recipient, len(list))
	for _, r := range list {
		out[r.UserID] = r
	}
	return out, nil
}

// Recipient loads one person by username with their preferences.
func (db *DB) Recipient(ctx context.Context, username string) (notify.Recipient, error) {
	r, err := scanRecipient(db.Pool.QueryRow(ctx, recipientSQL+` WHERE u.username = $1`, username))
	return r, translate(err, "用户 "+username)
}

// SetPrefs stores a person's notification preferences whole (nil fields
// mean the deployment's default). The API's "notification settings" and
// `duban notify prefs` use it.
func (db *DB) SetPrefs(ctx context.Context, p notify.Prefs) error {
	for _, h := range []*int{p.DigestHour, p.QuietStart, p.QuietEnd} {
		if h != nil && (*h < 0 || *h > 23) {
			return duban.FieldError("hour", "时刻应为 0–23 之间的整点")
		}
	}
	if (p.QuietStart == nil) != (p.QuietEnd == nil) {
		return duban.FieldError("quiet_hours", "免打扰时段须同时设置开始和结束")
	}
	_, err := db.Pool.Exec(ctx, `INSERT INTO notification_prefs (user_id, email, email_kinds, webhook, webhook_kinds, mobile,
			digest, digest_hour, quiet_start, quiet_end, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, now())
		ON CONFLICT (user_id) DO UPDATE SET email = $2, email_kinds = $3, webhook = $4, webhook_kinds = $5, mobile = $6,
			digest = $7, digest_hour = $8, quiet_start = $9, quiet_end = $10, updated_at = now()`,
		p.UserID, p.Email, kindStrings(p.EmailKinds), p.Webhook, kindStrings(p.WebhookKinds), p.Mobile,
		p.Digest, p.DigestHour, p.QuietStart, p.QuietEnd)
	return translate(err, fmt.Sprintf("用户 %d 的通知设置", p.UserID))
}

// AddInboxNote puts a message in a person's inbox that belongs to no task
// (a test message). The key makes it idempotent.
func (db *DB) AddInboxNote(ctx context.Context, userID int64, key, title, body string, at time.Time) error {
	_, err := db.Pool.Exec(ctx, `INSERT INTO inbox (user_id, instance_id, seq, kind, title, body, urgent, dedup_key, at)
		VALUES ($1, '', 0, 'test', $2, $3, false, $4, $5) ON CONFLICT (dedup_key) DO NOTHING`, userID, title, body, key, at)
	return err
}
