package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/message"
)

const deliveryCols = `id, dedup_key, user_id, channel, target, coalesce(instance_id, ''), coalesce(seq, 0), kind, urgent, title, body,
	facts, event_at, status, not_before, digest_id, attempts, last_error, fallback, created_at, updated_at, sent_at`

// deliveryColsD is deliveryCols for the alias d.
const deliveryColsD = `d.id, d.dedup_key, d.user_id, d.channel, d.target, coalesce(d.instance_id, ''), coalesce(d.seq, 0), d.kind, d.urgent,
	d.title, d.body, d.facts, d.event_at, d.status, d.not_before, d.digest_id, d.attempts, d.last_error, d.fallback, d.created_at, d.updated_at, d.sent_at`

func scanDelivery(r pgx.Row) (duban.Delivery, error) {
	var d duban.Delivery
	var kind, status string
	err := r.Scan(&d.ID, &d.Key, &d.UserID, &d.Channel, &d.Target, &d.InstanceID, &d.Seq, &kind, &d.Urgent, &d.Title, &d.Body,
		&d.Facts, &d.EventAt, &status, &d.NotBefore, &d.DigestID, &d.Attempts, &d.LastError, &d.Fallback, &d.CreatedAt, &d.UpdatedAt, &d.SentAt)
	d.Kind, d.Status = duban.EventKind(kind), duban.DeliveryStatus(status)
	return d, err
}

func collectDeliveries(rows pgx.Rows, err error) ([]duban.Delivery, error) {
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (duban.Delivery, error) { return scanDelivery(r) })
}

// openStatuses are the statuses a dispatch may still act on right away.
var openStatuses = []string{string(duban.DeliveryPending), string(duban.DeliveryRetrying)}

// ClaimTransition leases the open deliveries of one transition; see notify.Store.
func (db *DB) ClaimTransition(ctx context.Context, instanceID string, seq int64, now time.Time, lease time.Duration) ([]duban.Delivery, int, error) {
	var (
		claimed []duban.Delivery
		busy    int
	)
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT id, lease_until FROM deliveries
			WHERE instance_id = $1 AND seq = $2 AND status = ANY ($3) ORDER BY id FOR UPDATE`, instanceID, seq, openStatuses)
		if err != nil {
			return err
		}
		type open struct {
			ID    int64
			Lease *time.Time
		}
		all, err := pgx.CollectRows(rows, pgx.RowToStructByPos[open])
		if err != nil {
			return err
		}
		var free []int64
		for _, o := range all {
			if o.Lease != nil && o.Lease.After(now) {
				busy++
				continue
			}
			free = append(free, o.ID)
		}
		if len(free) == 0 {
			return nil
		}
		claimed, err = collectDeliveries(tx.Query(ctx, `UPDATE deliveries SET lease_until = $2, updated_at = $3
			WHERE id = ANY ($1) RETURNING `+deliveryCols, free, now.Add(lease), now))
		return err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("claim deliveries of %s#%d: %w", instanceID, seq, err)
	}
	sortByID(claimed)
	return claimed, busy, nil
}

func sortByID(ds []duban.Delivery) {
	slices.SortFunc(ds, func(a, b duban.Delivery) int { return cmp.Compare(a.ID, b.ID) })
}

// ClaimDue leases deliveries whose time has come; see notify.Store.
func (db *DB) ClaimDue(ctx context.Context, now time.Time, stale, lease time.Duration, limit int) ([]duban.Delivery, error) {
	ds, err := collectDeliveries(db.Pool.Query(ctx, `
		WITH due AS (
			SELECT id FROM deliveries
			WHERE status IN ('pending', 'retrying', 'held')
				AND (lease_until IS NULL OR lease_until <= $1)
				AND ((status = 'held' AND not_before <= $1)
					-- a digest is sent when formed, and retried once per tick
					OR (kind = 'digest' AND (status = 'pending' OR updated_at < $1))
					-- a failed row an admin put back in the queue (RetryDelivery)
					OR (status = 'retrying' AND attempts = 0)
					OR (status <> 'held' AND updated_at <= $2))
			ORDER BY id LIMIT $3
			FOR UPDATE SKIP LOCKED)
		UPDATE deliveries d SET lease_until = $4, updated_at = $1
		FROM due WHERE d.id = due.id
		RETURNING `+deliveryColsD, now, now.Add(-stale), limit, now.Add(lease)))
	if err != nil {
		return nil, fmt.Errorf("claim due deliveries: %w", err)
	}
	sortByID(ds)
	return ds, nil
}

// FormDigests bundles due digest items into digest deliveries; see notify.Store.
func (db *DB) FormDigests(ctx context.Context, now time.Time) (int, error) {
	type group struct {
		UserID  int64
		Channel string
		Slot    time.Time
		MinID   int64
	}
	rows, err := db.Pool.Query(ctx, `SELECT user_id, channel, max(not_before), min(id) FROM deliveries
		WHERE status = 'digest' AND not_before <= $1 GROUP BY user_id, channel ORDER BY user_id, channel`, now)
	if err != nil {
		return 0, fmt.Errorf("find due digests: %w", err)
	}
	groups, err := pgx.CollectRows(rows, pgx.RowToStructByPos[group])
	if err != nil {
		return 0, fmt.Errorf("find due digests: %w", err)
	}
	formed := 0
	for _, g := range groups {
		err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
			var target string
			err := tx.QueryRow(ctx, `SELECT target FROM deliveries WHERE user_id = $1 AND channel = $2 AND status = 'digest'
				AND not_before <= $3 ORDER BY id DESC LIMIT 1`, g.UserID, g.Channel, g.Slot).Scan(&target)
			if errors.Is(err, pgx.ErrNoRows) {
				return nil // formed meanwhile by another tick
			}
			if err != nil {
				return err
			}
			// One digest per person, channel and slot (the digest hour of a
			// day). A slot whose digest is already out or being sent gets a
			// second one for items that arrived late.
			key := fmt.Sprintf("digest#%d#%s#%s", g.UserID, g.Channel, g.Slot.In(duban.Shanghai).Format("2006-01-02T15"))
			id, err := digestRow(ctx, tx, key, g.UserID, g.Channel, target, g.Slot, now)
			if err != nil {
				return err
			}
			if id == 0 {
				id, err = digestRow(ctx, tx, key+"#"+strconv.FormatInt(g.MinID, 10), g.UserID, g.Channel, target, g.Slot, now)
				if err != nil {
					return err
				}
				if id == 0 {
					return fmt.Errorf("digest %s is busy", key)
				}
			}
			if _, err := tx.Exec(ctx, `UPDATE deliveries SET status = 'digested', digest_id = $1, updated_at = $5
				WHERE user_id = $2 AND channel = $3 AND status = 'digest' AND not_before <= $4`, id, g.UserID, g.Channel, g.Slot, now); err != nil {
				return err
			}
			var n int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM deliveries WHERE digest_id = $1`, id).Scan(&n); err != nil {
				return err
			}
			_, err = tx.Exec(ctx, `UPDATE deliveries SET title = $2 WHERE id = $1`, id, message.DigestTitle(n, g.Slot))
			return err
		})
		if err != nil {
			return formed, fmt.Errorf("form digest for user %d (%s): %w", g.UserID, g.Channel, err)
		}
		formed++
	}
	return formed, nil
}

// digestRow returns the id of the open, unclaimed digest with the key,
// creating it if needed, or 0 if that digest is out or being sent.
func digestRow(ctx context.Context, tx pgx.Tx, key string, userID int64, channel, target string, slot, now time.Time) (int64, error) {
	if _, err := tx.Exec(ctx, `INSERT INTO deliveries (dedup_key, user_id, channel, target, kind, title, body, event_at, status, not_before, created_at, updated_at)
		VALUES ($1, $2, $3, $4, 'digest', '', '', $5, 'pending', $5, $6, $6) ON CONFLICT (dedup_key) DO NOTHING`,
		key, userID, channel, target, slot, now); err != nil {
		return 0, err
	}
	var (
		id     int64
		status string
		lease  *time.Time
	)
	if err := tx.QueryRow(ctx, `SELECT id, status, lease_until FROM deliveries WHERE dedup_key = $1 FOR UPDATE`, key).Scan(&id, &status, &lease); err != nil {
		return 0, err
	}
	if (status != string(duban.DeliveryPending) && status != string(duban.DeliveryRetrying)) || (lease != nil && lease.After(now)) {
		return 0, nil
	}
	return id, nil
}

// DigestItems returns a digest's items, oldest first.
func (db *DB) DigestItems(ctx context.Context, digestID int64) ([]duban.Delivery, error) {
	return collectDeliveries(db.Pool.Query(ctx, `SELECT `+deliveryCols+` FROM deliveries WHERE digest_id = $1 ORDER BY event_at, id`, digestID))
}

// Defer sets a delivery aside until notBefore.
func (db *DB) Defer(ctx context.Context, id int64, status duban.DeliveryStatus, notBefore, now time.Time) error {
	_, err := db.Pool.Exec(ctx, `UPDATE deliveries SET status = $2, not_before = $3, lease_until = NULL, updated_at = $4 WHERE id = $1`,
		id, string(status), notBefore, now)
	return err
}

// MarkSent records that a channel accepted a delivery.
func (db *DB) MarkSent(ctx context.Context, id int64, now time.Time) error {
	_, err := db.Pool.Exec(ctx, `UPDATE deliveries SET status = 'sent', attempts = attempts + 1, last_error = '', sent_at = $2,
		lease_until = NULL, updated_at = $2 WHERE id = $1`, id, now)
	return err
}

// MarkRetry records a temporary failure.
func (db *DB) MarkRetry(ctx context.Context, id int64, reason string, now time.Time) error {
	_, err := db.Pool.Exec(ctx, `UPDATE deliveries SET status = 'retrying', attempts = attempts + 1, last_error = $2,
		lease_until = NULL, updated_at = $3 WHERE id = $1`, id, reason, now)
	return err
}

// MarkSkipped records that a delivery's channel is not configured.
func (db *DB) MarkSkipped(ctx context.Context, id int64, reason string, now time.Time) error {
	_, err := db.Pool.Exec(ctx, `UPDATE deliveries SET status = 'skipped', last_error = $2, lease_until = NULL, updated_at = $3 WHERE id = $1`,
		id, reason, now)
	return err
}

// MarkFailed gives a delivery up and leaves the person a note in their
// inbox, at most one per person, channel and day, in one transaction.
func (db *DB) MarkFailed(ctx context.Context, id int64, reason string, now time.Time) error {
	return pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		var (
			userID              int64
			channel, target, ti string
			instanceID          string
			seq                 int64
		)
		err := tx.QueryRow(ctx, `UPDATE deliveries SET status = 'failed', attempts = attempts + 1, last_error = $2, fallback = true,
			lease_until = NULL, updated_at = $3 WHERE id = $1
			RETURNING user_id, channel, target, title, coalesce(instance_id, ''), coalesce(seq, 0)`, id, reason, now).
			Scan(&userID, &channel, &target, &ti, &instanceID, &seq)
		if err != nil {
			return err
		}
		note := message.Undelivered(channel, target, ti, reason)
		key := fmt.Sprintf("undelivered#%d#%s#%s", userID, channel, now.In(duban.Shanghai).Format("2006-01-02"))
		_, err = tx.Exec(ctx, `INSERT INTO inbox (user_id, instance_id, seq, kind, title, body, urgent, dedup_key, at)
			VALUES ($1, $2, $3, 'delivery_failed', $4, $5, false, $6, $7) ON CONFLICT (dedup_key) DO NOTHING`,
			userID, instanceID, seq, note.Title, note.Body, key, now)
		return err
	})
}

// DeliveryFilter selects deliveries for admins. Zero fields do not filter.
type DeliveryFilter struct {
	Status     duban.DeliveryStatus
	UserID     int64
	InstanceID string
	Channel    string
	Since      time.Time // created at or after
	// Before is the keyset cursor: only ids below it (the last id of the
	// previous page); 0 starts from the newest.
	Before int64
	Limit  int // default 50, at most 500
}

// Deliveries lists deliveries newest first, for admins: what was sent to
// whom, what is waiting (held, digest), and what failed and why. Page with
// Before = the last id of the previous page.
func (db *DB) Deliveries(ctx context.Context, f DeliveryFilter) ([]duban.Delivery, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, 500)
	var since *time.Time
	if !f.Since.IsZero() {
		since = &f.Since
	}
	ds, err := collectDeliveries(db.Pool.Query(ctx, `SELECT `+deliveryCols+` FROM deliveries
		WHERE ($1 = '' OR status = $1) AND ($2 = 0 OR user_id = $2) AND ($3 = '' OR instance_id = $3)
			AND ($4 = '' OR channel = $4) AND ($5::timestamptz IS NULL OR created_at >= $5) AND ($6 = 0 OR id < $6)
		ORDER BY id DESC LIMIT $7`,
		string(f.Status), f.UserID, f.InstanceID, f.Channel, since, f.Before, limit))
	if err != nil {
		return nil, fmt.Errorf("list deliveries: %w", err)
	}
	return ds, nil
}

// DeliveryFailure sums up one person's failing channel.
type DeliveryFailure struct {
	UserID      int64     `json:"user_id"`
	Username    string    `json:"username"`
	DisplayName string    `json:"display_name"`
	UnitCode    string    `json:"unit_code"`
	Channel     string    `json:"channel"`
	Target      string    `json:"target"`
	Failed      int       `json:"failed"`
	LastError   string    `json:"last_error"`
	LastAt      time.Time `json:"last_at"`
}

// DeliveryFailures reports, per person and channel, the deliveries given
// up since a time, worst first: the channels that keep failing.
func (db *DB) DeliveryFailures(ctx context.Context, since time.Time) ([]DeliveryFailure, error) {
	rows, err := db.Pool.Query(ctx, `SELECT d.user_id, u.username, u.display_name, u.unit_code, d.channel, d.target, count(*),
			(array_agg(d.last_error ORDER BY d.id DESC))[1], max(d.updated_at)
		FROM deliveries d JOIN users u ON u.id = d.user_id
		WHERE d.status = 'failed' AND d.updated_at >= $1
		GROUP BY d.user_id, u.username, u.display_name, u.unit_code, d.channel, d.target
		ORDER BY count(*) DESC, max(d.updated_at) DESC`, since)
	if err != nil {
		return nil, fmt.Errorf("delivery failures: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[DeliveryFailure])
}

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
//
// An urge (催办) goes out on every channel the person has, whatever kinds
// they chose for each.
func queueOutbox(batch *pgx.Batch, tr duban.Transition, kind duban.EventKind, msg message.Message, urgent bool, to duban.Recipients, roles []string) {
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
		WHERE u.unit_code = $8 AND u.roles && $9::text[] AND NOT u.disabled AND ($11::bigint = 0 OR u.id = $11)
			AND c.target <> '' AND (c.kinds IS NULL OR $3 = ANY (c.kinds) OR $3 = 'urged')
		ON CONFLICT (dedup_key) DO NOTHING`,
		tr.InstanceID, tr.Seq, string(kind), urgent, msg.Title, msg.Body, tr.At, to.Unit, roles, msg.Facts, to.UserID)
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

// DeliveryLogFilter selects the delivery log an admin reads. Zero fields
// do not filter.
type DeliveryLogFilter struct {
	// UnitPrefix keeps deliveries to people of units under it (the admin's
	// subtree); required by the API.
	UnitPrefix string
	// Statuses keeps these statuses (the API's "waiting" is pending, held
	// and digest).
	Statuses   []duban.DeliveryStatus
	UserID     int64
	Channel    string
	InstanceID string
	BeforeID   int64 // keyset: ids below it
	Limit      int
}

// DeliveryLogRow is a delivery with the person it goes to.
type DeliveryLogRow struct {
	duban.Delivery
	Username    string `json:"username"`
	DisplayName string `json:"display_name"`
	UnitCode    string `json:"unit_code"`
}

const deliveryLogSQL = `SELECT ` + deliveryColsD + `, u.username, u.display_name, u.unit_code
	FROM deliveries d JOIN users u ON u.id = d.user_id WHERE `

func scanLogRow(r pgx.CollectableRow) (DeliveryLogRow, error) {
	var (
		row          DeliveryLogRow
		kind, status string
	)
	d := &row.Delivery
	err := r.Scan(&d.ID, &d.Key, &d.UserID, &d.Channel, &d.Target, &d.InstanceID, &d.Seq, &kind, &d.Urgent, &d.Title, &d.Body,
		&d.Facts, &d.EventAt, &status, &d.NotBefore, &d.DigestID, &d.Attempts, &d.LastError, &d.Fallback, &d.CreatedAt, &d.UpdatedAt, &d.SentAt,
		&row.Username, &row.DisplayName, &row.UnitCode)
	d.Kind, d.Status = duban.EventKind(kind), duban.DeliveryStatus(status)
	return row, err
}

// DeliveryLog lists deliveries newest first with their people, for the
// admins' 投递记录 page.
func (db *DB) DeliveryLog(ctx context.Context, f DeliveryLogFilter) ([]DeliveryLogRow, error) {
	var q query
	if f.UnitPrefix != "" {
		q.add("u.unit_code LIKE " + q.arg(likePrefix(f.UnitPrefix)))
	}
	if len(f.Statuses) > 0 {
		ss := make([]string, len(f.Statuses))
		for i, s := range f.Statuses {
			ss[i] = string(s)
		}
		q.add("d.status = ANY (" + q.arg(ss) + ")")
	}
	if f.UserID != 0 {
		q.add("d.user_id = " + q.arg(f.UserID))
	}
	if f.Channel != "" {
		q.add("d.channel = " + q.arg(f.Channel))
	}
	if f.InstanceID != "" {
		q.add("d.instance_id = " + q.arg(f.InstanceID))
	}
	if f.BeforeID > 0 {
		q.add("d.id < " + q.arg(f.BeforeID))
	}
	rows, err := db.Pool.Query(ctx, deliveryLogSQL+q.sql()+` ORDER BY d.id DESC LIMIT `+q.arg(limitOf(f.Limit)), q.args...)
	if err != nil {
		return nil, fmt.Errorf("delivery log: %w", err)
	}
	out, err := pgx.CollectRows(rows, scanLogRow)
	if err != nil {
		return nil, fmt.Errorf("delivery log: %w", err)
	}
	return out, nil
}

// DeliveryLogRowByID reads one delivery with its person.
func (db *DB) DeliveryLogRowByID(ctx context.Context, id int64) (DeliveryLogRow, error) {
	rows, err := db.Pool.Query(ctx, deliveryLogSQL+`d.id = $1`, id)
	if err != nil {
		return DeliveryLogRow{}, err
	}
	row, err := pgx.CollectExactlyOneRow(rows, scanLogRow)
	return row, translate(err, "投递记录")
}

// RetryDelivery puts a failed delivery back in the queue, with its
// attempts counted afresh, and audits it (delivery.retry) in the same
// transaction; the digest workflow's next tick sends it. unitPrefix is the
// admin's subtree: a delivery to someone outside it is not found. A
// delivery already back in the queue, or sent, is left as it is
// (retried false): retrying twice queues it once. One that never failed
// (waiting for quiet hours or a digest, skipped) is a conflict.
func (db *DB) RetryDelivery(ctx context.Context, id int64, unitPrefix string, actor duban.Actor, now time.Time) (retried bool, err error) {
	err = pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		var (
			status, unit, channel, target, instance, lastError string
			userID                                             int64
		)
		err := tx.QueryRow(ctx, `SELECT d.status, u.unit_code, d.channel, d.target, coalesce(d.instance_id, ''), d.last_error, d.user_id
			FROM deliveries d JOIN users u ON u.id = d.user_id WHERE d.id = $1 AND u.unit_code LIKE $2 FOR UPDATE OF d`,
			id, likePrefix(unitPrefix)).Scan(&status, &unit, &channel, &target, &instance, &lastError, &userID)
		if errors.Is(err, pgx.ErrNoRows) {
			return duban.Errorf(duban.ENOTFOUND, "投递记录不存在")
		}
		if err != nil {
			return err
		}
		switch duban.DeliveryStatus(status) {
		case duban.DeliveryPending, duban.DeliveryRetrying, duban.DeliverySent:
			return nil
		case duban.DeliveryFailed:
		default:
			return duban.Errorf(duban.ECONFLICT, "只有发送失败的投递可以重试，这条的状态是“%s”", duban.DeliveryStatus(status).Label())
		}
		// attempts = 0 with status retrying marks a row put back by hand:
		// ClaimDue takes it at once instead of after the stale interval.
		if _, err := tx.Exec(ctx, `UPDATE deliveries SET status = 'retrying', attempts = 0, lease_until = NULL, not_before = $2, updated_at = $2
			WHERE id = $1`, id, now); err != nil {
			return err
		}
		retried = true
		return auditTx(ctx, tx, actor, "delivery.retry", unit, instance,
			map[string]any{"delivery_id": id, "user_id": userID, "channel": channel, "target": target, "last_error": lastError})
	})
	return retried, err
}
