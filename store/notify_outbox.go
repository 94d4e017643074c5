package store

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/message"
)

// queueOutbox adds, next to a notice's inbox rows and in the same
// transaction, one delivery row per person and external channel they
// chose for this kind of event: email to their address (the account's,
// unless their preferences name another or none), their webhook endpoint,
// DingTalk 工作通知 and WeCom 应用消息 to their user ids there, and SMS to
// their mobile number if they turned it on. The dedup key
// instance#seq#user#channel makes it idempotent, and a person named twice
// hears once per channel. SMS rows keep the notice's facts for the
// template. Whether a row goes out now, waits for quiet hours to end or for
// a digest is decided when it is dispatched (notify.Dispatcher).
func queueOutbox(batch *pgx.Batch, tr duban.Transition, kind duban.EventKind, msg message.Message, urgent bool, unit string, roles []string) {
	batch.Queue(`INSERT INTO deliveries (dedup_key, user_id, channel, target, instance_id, seq, kind, urgent, title, body, event_at, facts)
		SELECT $1::text || '#' || $2::bigint::text || '#' || u.id::text || '#' || c.channel, u.id, c.channel, c.target,
			$1, $2, $3, $4, $5, $6, $7, CASE WHEN c.channel = 'sms' THEN $10::jsonb END
		FROM users u
		LEFT JOIN notification_prefs p ON p.user_id = u.id
		CROSS JOIN LATERAL (VALUES
			('email', coalesce(p.email, u.email), p.email_kinds),
			('webhook', coalesce(p.webhook, ''), p.webhook_kinds),
			('dingtalk', coalesce(p.dingtalk_userid, ''), p.dingtalk_kinds),
			('wecom', coalesce(p.wecom_userid, ''), p.wecom_kinds),
			('sms', CASE WHEN p.sms THEN p.mobile ELSE '' END, p.sms_kinds)) AS c (channel, target, kinds)
		WHERE u.unit_code = $8 AND u.roles && $9::text[] AND NOT u.disabled
			AND c.target <> '' AND (c.kinds IS NULL OR $3 = ANY (c.kinds))
		ON CONFLICT (dedup_key) DO NOTHING`,
		tr.InstanceID, tr.Seq, string(kind), urgent, msg.Title, msg.Body, tr.At, unit, roles, msg.Facts)
}

// PendingDeliveries reports, for each instance, whether its transition seq
// has deliveries on external channels, so that a workflow runs a delivery
// activity only when there is something to send.
func (db *DB) PendingDeliveries(ctx context.Context, seq int64, instanceIDs []string) (map[string]bool, error) {
	rows, err := db.Pool.Query(ctx, `SELECT DISTINCT instance_id FROM deliveries WHERE seq = $1 AND instance_id = ANY($2)`, seq, instanceIDs)
	if err != nil {
		return nil, err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(ids))
	for _, id := range ids {
		out[id] = true
	}
	return out, nil
}
