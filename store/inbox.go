package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/message"
	"github.com/duban-dev/duban/plan"
)

// Inbox lists a user's notifications, newest first, before an id.
func (db *DB) Inbox(ctx context.Context, userID int64, unreadOnly bool, beforeID int64, limit int) ([]InboxItem, error) {
	var q query
	q.add("user_id = " + q.arg(userID))
	if unreadOnly {
		q.add("read_at IS NULL")
	}
	if beforeID > 0 {
		q.add("id < " + q.arg(beforeID))
	}
	rows, err := db.Pool.Query(ctx, `SELECT `+InboxCols+` FROM inbox WHERE `+q.sql()+` ORDER BY id DESC LIMIT `+q.arg(limitOf(limit)), q.args...)
	if err != nil {
		return nil, fmt.Errorf("inbox: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (InboxItem, error) { return ScanInbox(r) })
}

// InboxAfter lists a user's notifications after an id, oldest first (for
// event streams resuming from Last-Event-ID).
func (db *DB) InboxAfter(ctx context.Context, userID, afterID int64, limit int) ([]InboxItem, error) {
	rows, err := db.Pool.Query(ctx, `SELECT `+InboxCols+` FROM inbox WHERE user_id = $1 AND id > $2 ORDER BY id LIMIT $3`, userID, afterID, limitOf(limit))
	if err != nil {
		return nil, fmt.Errorf("inbox: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (InboxItem, error) { return ScanInbox(r) })
}

// LastInboxID is the id of a user's newest notification, 0 if none.
func (db *DB) LastInboxID(ctx context.Context, userID int64) (int64, error) {
	var id int64
	err := db.Pool.QueryRow(ctx, `SELECT coalesce(max(id), 0) FROM inbox WHERE user_id = $1`, userID).Scan(&id)
	return id, err
}

// UnreadCount counts a user's unread notifications.
func (db *DB) UnreadCount(ctx context.Context, userID int64) (int, error) {
	var n int
	err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM inbox WHERE user_id = $1 AND read_at IS NULL`, userID).Scan(&n)
	return n, err
}

// MarkRead marks some of a user's notifications read (all when ids is
// empty and all is true) and returns how many changed. Ids of other users'
// notifications are not found.
func (db *DB) MarkRead(ctx context.Context, userID int64, ids []int64, all bool, now time.Time) (int, error) {
	var sql string
	args := []any{userID, now}
	if all {
		sql = `UPDATE inbox SET read_at = $2 WHERE user_id = $1 AND read_at IS NULL`
	} else {
		sql = `UPDATE inbox SET read_at = coalesce(read_at, $2) WHERE user_id = $1 AND id = ANY($3)`
		args = append(args, ids)
	}
	tag, err := db.Pool.Exec(ctx, sql, args...)
	if err != nil {
		return 0, fmt.Errorf("mark read: %w", err)
	}
	if !all && int(tag.RowsAffected()) == 0 && len(ids) > 0 {
		return 0, duban.Errorf(duban.ENOTFOUND, "通知不存在")
	}
	return int(tag.RowsAffected()), nil
}

// ListenInbox calls notify for every new inbox row until ctx ends or the
// connection fails. It holds one connection of its own, outside the pool.
func (db *DB) ListenInbox(ctx context.Context, ready func(), notify func(userID, inboxID int64)) error {
	conn, err := pgx.ConnectConfig(ctx, db.Pool.Config().ConnConfig.Copy())
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, `LISTEN duban_inbox`); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	if ready != nil {
		ready()
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			if errors.Is(ctx.Err(), context.Canceled) {
				return nil
			}
			return fmt.Errorf("listen: %w", err)
		}
		user, id, ok := strings.Cut(n.Payload, ":")
		if !ok {
			continue
		}
		u, err1 := strconv.ParseInt(user, 10, 64)
		i, err2 := strconv.ParseInt(id, 10, 64)
		if err1 == nil && err2 == nil {
			notify(u, i)
		}
	}
}

// queueInbox adds one inbox row per person the transition's notices reach:
// every active user holding one of the roles at the unit. The dedup key is
// (instance, seq, user), so a person named twice hears once. Next to each
// notice's inbox rows go its outbox rows for email and webhooks (queueOutbox).
func queueInbox(batch *pgx.Batch, tr duban.Transition, s duban.TaskSpec) {
	for _, n := range tr.Notices {
		kind := n.Kind
		if kind == "" {
			kind = tr.Kind
		}
		stepCount := tr.Projection.StepCount
		if stepCount == 0 {
			stepCount = len(s.Approval)
		}
		info := message.Info{
			InstanceID: tr.InstanceID, Title: s.Title, UnitName: s.UnitName, Period: plan.PeriodLabel(s.Period),
			Due: tr.Projection.Due, Step: tr.Projection.CurrentStep, StepCount: stepCount, Reason: tr.Reason,
			NewDue: tr.NewDue, Offset: n.Offset, Actor: tr.Actor.Name, Note: tr.Note, ToStep: tr.ToStep,
		}
		if tr.Person != nil {
			info.Person = tr.Person.Name
		}
		if tr.Change != nil {
			info.DocNo = tr.Change.DocNo
		}
		if kind == duban.EventHandedOver || kind == duban.EventSignerAdded || kind == duban.EventWithdrawn {
			info.Step = tr.Step
		}
		if info.Due.IsZero() {
			info.Due = s.Due
		}
		if kind == duban.EventSLAReminder || kind == duban.EventSLABreached || kind == duban.EventSLAEscalated {
			info.Step = tr.Step
		}
		msg := message.Render(kind, info)
		for _, r := range n.Recipients {
			roles := make([]string, len(r.Roles))
			for i, role := range r.Roles {
				roles[i] = string(role)
			}
			batch.Queue(`INSERT INTO inbox (user_id, instance_id, seq, kind, title, body, urgent, dedup_key, at)
				SELECT id, $1::text, $2::bigint, $3, $4, $5, $6, $1::text || '#' || $2::bigint::text || '#' || id::text, $7
				FROM users WHERE unit_code = $8 AND roles && $9::text[] AND NOT disabled AND ($10::bigint = 0 OR id = $10)
				ON CONFLICT (dedup_key) DO NOTHING`,
				tr.InstanceID, tr.Seq, string(kind), msg.Title, msg.Body, n.Urgent, tr.At, r.Unit, roles, r.UserID)
			queueOutbox(batch, tr, kind, msg, n.Urgent, r, roles)
		}
	}
}

// AddInboxNote puts a message in a person's inbox that belongs to no task
// (a test message). The key makes it idempotent.
func (db *DB) AddInboxNote(ctx context.Context, userID int64, key, title, body string, at time.Time) error {
	_, err := db.Pool.Exec(ctx, `INSERT INTO inbox (user_id, instance_id, seq, kind, title, body, urgent, dedup_key, at)
		VALUES ($1, '', 0, 'test', $2, $3, false, $4, $5) ON CONFLICT (dedup_key) DO NOTHING`, userID, title, body, key, at)
	return err
}

// InboxItem is one notification for one person.
type InboxItem struct {
	ID         int64           `json:"id"`
	UserID     int64           `json:"user_id"`
	InstanceID string          `json:"instance_id"`
	Seq        int64           `json:"seq"`
	Kind       duban.EventKind `json:"kind"`
	Title      string          `json:"title"`
	Body       string          `json:"body"`
	Urgent     bool            `json:"urgent"`
	At         time.Time       `json:"at"`
	ReadAt     *time.Time      `json:"read_at,omitempty"`
}

// InboxCols is the column list ScanInbox reads.
const InboxCols = `id, user_id, instance_id, seq, kind, title, body, urgent, at, read_at`

// ScanInbox reads a row selected with InboxCols.
func ScanInbox(r pgx.Row) (InboxItem, error) {
	var it InboxItem
	var kind string
	err := r.Scan(&it.ID, &it.UserID, &it.InstanceID, &it.Seq, &kind, &it.Title, &it.Body, &it.Urgent, &it.At, &it.ReadAt)
	it.Kind = duban.EventKind(kind)
	return it, err
}

// InboxForInstance returns every inbox row about an instance, oldest first.
func (db *DB) InboxForInstance(ctx context.Context, instanceID string) ([]InboxItem, error) {
	rows, err := db.Pool.Query(ctx, `SELECT `+InboxCols+` FROM inbox WHERE instance_id = $1 ORDER BY id`, instanceID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (InboxItem, error) { return ScanInbox(r) })
}
