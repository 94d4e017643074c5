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
)

// Keyset is a position in a list ordered by (time, id).
type Keyset struct {
	At time.Time
	ID string
}

// InstanceFilter selects instance rows. Unit with Subtree uses the ancestor
// columns, so "everything under a city" is an index range.
type InstanceFilter struct {
	Unit      string
	Subtree   bool
	Statuses  []duban.Status
	DueBefore *time.Time
	Overdue   *bool
	PlanID    string
	Year      int
	Section   string
	Level     duban.Level
	After     *Keyset // (due_at, id)
	Limit     int
}

type query struct {
	where []string
	args  []any
}

func (q *query) arg(v any) string { q.args = append(q.args, v); return "$" + strconv.Itoa(len(q.args)) }
func (q *query) add(cond string)  { q.where = append(q.where, cond) }

func (q *query) sql() string {
	if len(q.where) == 0 {
		return "true"
	}
	return strings.Join(q.where, " AND ")
}

// subtree restricts to a unit and everything under it, through the
// ancestor column of the unit's level.
func (q *query) subtree(unit string) {
	switch len(unit) {
	case duban.LevelCity.CodeLength():
		q.add("city = " + q.arg(unit))
	case duban.LevelCounty.CodeLength():
		q.add("county = " + q.arg(unit))
	case duban.LevelTownship.CodeLength():
		q.add("township = " + q.arg(unit))
	case duban.LevelProvince.CodeLength():
		q.add("unit_code LIKE " + q.arg(likePrefix(unit)))
	default:
		q.add("unit_code = " + q.arg(unit))
	}
}

func (q *query) common(unit string, subtree bool, planID string, year int, section string, level duban.Level) {
	if unit != "" {
		if subtree {
			q.subtree(unit)
		} else {
			q.add("unit_code = " + q.arg(unit))
		}
	}
	if planID != "" {
		q.add("plan_id = " + q.arg(planID))
	}
	if year != 0 {
		q.add("year = " + q.arg(year))
	}
	if section != "" {
		q.add("section = " + q.arg(section))
	}
	if level != "" {
		q.add("unit_level = " + q.arg(string(level)))
	}
}

func (db *DB) instances(ctx context.Context, sql string, args []any) ([]Instance, error) {
	rows, err := db.Pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("list instances: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Instance, error) { return ScanInstance(r) })
}

// Instances lists rows matching f by deadline, then id.
func (db *DB) Instances(ctx context.Context, f InstanceFilter) ([]Instance, error) {
	var q query
	q.common(f.Unit, f.Subtree, f.PlanID, f.Year, f.Section, f.Level)
	if len(f.Statuses) > 0 {
		st := make([]string, len(f.Statuses))
		for i, s := range f.Statuses {
			st[i] = string(s)
		}
		q.add("status = ANY(" + q.arg(st) + ")")
	}
	if f.DueBefore != nil {
		q.add("due_at < " + q.arg(*f.DueBefore))
	}
	if f.Overdue != nil {
		if *f.Overdue {
			q.add("overdue_since IS NOT NULL AND status IN ('assigned', 'in_progress', 'submitted')")
		} else {
			q.add("NOT (overdue_since IS NOT NULL AND status IN ('assigned', 'in_progress', 'submitted'))")
		}
	}
	if f.After != nil {
		q.add("(due_at, id) > (" + q.arg(f.After.At) + ", " + q.arg(f.After.ID) + ")")
	}
	return db.instances(ctx, `SELECT `+InstanceCols+` FROM instances WHERE `+q.sql()+` ORDER BY due_at, id LIMIT `+q.arg(limitOf(f.Limit)), q.args)
}

// OverdueFilter selects open overdue instances under a unit, the most
// overdue first.
type OverdueFilter struct {
	Unit    string
	PlanID  string
	Year    int
	Section string
	Level   duban.Level
	// LateSince keeps rows overdue since this instant or earlier ("at least N days late").
	LateSince *time.Time
	// LateAfter keeps rows overdue since after this instant ("at most N days late").
	LateAfter *time.Time
	After     *Keyset // (overdue_since, id)
	Limit     int
}

// Overdue lists open overdue instances under f.Unit ordered by
// (overdue_since, id): an index range on the partial overdue indexes.
func (db *DB) Overdue(ctx context.Context, f OverdueFilter) ([]Instance, error) {
	var q query
	q.add("overdue_since IS NOT NULL AND status IN ('assigned', 'in_progress', 'submitted')")
	q.common(f.Unit, true, f.PlanID, f.Year, f.Section, f.Level)
	if f.LateSince != nil {
		q.add("overdue_since <= " + q.arg(*f.LateSince))
	}
	if f.LateAfter != nil {
		q.add("overdue_since > " + q.arg(*f.LateAfter))
	}
	if f.After != nil {
		q.add("(overdue_since, id) > (" + q.arg(f.After.At) + ", " + q.arg(f.After.ID) + ")")
	}
	return db.instances(ctx, `SELECT `+InstanceCols+` FROM instances WHERE `+q.sql()+` ORDER BY overdue_since, id LIMIT `+q.arg(limitOf(f.Limit)), q.args)
}

// WaitingApprovals lists instances whose current approval step is decided
// by unit, the nearest SLA end first.
func (db *DB) WaitingApprovals(ctx context.Context, unit string, after *Keyset, limit int) ([]Instance, error) {
	var q query
	q.add("status = 'submitted'")
	q.add("approver_unit = " + q.arg(unit))
	if after != nil {
		q.add("(step_due_at, id) > (" + q.arg(after.At) + ", " + q.arg(after.ID) + ")")
	}
	return db.instances(ctx, `SELECT `+InstanceCols+` FROM instances WHERE `+q.sql()+` ORDER BY step_due_at, id LIMIT `+q.arg(limitOf(limit)), q.args)
}

// WaitingExtensions lists open instances with an extension request that
// unit decides, by deadline.
func (db *DB) WaitingExtensions(ctx context.Context, unit string, after *Keyset, limit int) ([]Instance, error) {
	var q query
	q.add("extension_pending AND status IN ('assigned', 'in_progress', 'submitted')")
	q.add("extension_unit = " + q.arg(unit))
	if after != nil {
		q.add("(due_at, id) > (" + q.arg(after.At) + ", " + q.arg(after.ID) + ")")
	}
	return db.instances(ctx, `SELECT `+InstanceCols+` FROM instances WHERE `+q.sql()+` ORDER BY due_at, id LIMIT `+q.arg(limitOf(limit)), q.args)
}

// ChildRollups returns the counters of the units whose parent is parent.
// Units without instances have no row.
func (db *DB) ChildRollups(ctx context.Context, planID string, year int, parent string) ([]Rollup, error) {
	rows, err := db.Pool.Query(ctx, `SELECT unit_code, total, completed, cancelled, submitted, overdue FROM rollups
		WHERE plan_id = $1 AND year = $2 AND parent_code = $3 ORDER BY unit_code`, planID, year, parent)
	if err != nil {
		return nil, fmt.Errorf("child rollups: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Rollup, error) {
		var x Rollup
		err := r.Scan(&x.UnitCode, &x.Total, &x.Completed, &x.Cancelled, &x.Submitted, &x.Overdue)
		return x, err
	})
}

// PlanYear names a plan launched onto a year.
type PlanYear struct {
	PlanID string `json:"plan_id"`
	Year   int    `json:"year"`
}

// PlanYears lists the plan years that have instances, the latest first.
func (db *DB) PlanYears(ctx context.Context) ([]PlanYear, error) {
	rows, err := db.Pool.Query(ctx, `SELECT plan_id, year FROM rollups WHERE parent_code IS NULL GROUP BY plan_id, year ORDER BY year DESC, plan_id`)
	if err != nil {
		return nil, fmt.Errorf("plan years: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[PlanYear])
}

// AddEvidence records files uploaded for an instance. A file uploaded twice
// keeps its first name.
func (db *DB) AddEvidence(ctx context.Context, instanceID string, files []duban.Evidence, by int64) error {
	batch := &pgx.Batch{}
	for _, f := range files {
		batch.Queue(`INSERT INTO evidence (instance_id, sha256, name, size, content_type, uploaded_by) VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (instance_id, sha256) DO NOTHING`, instanceID, f.SHA256, f.Name, f.Size, f.ContentType, by)
	}
	if err := db.Pool.SendBatch(ctx, batch).Close(); err != nil {
		return fmt.Errorf("add evidence: %w", err)
	}
	return nil
}

// EvidenceOf returns the files with the given hashes uploaded for an
// instance, in the order asked; a hash never uploaded there is invalid.
func (db *DB) EvidenceOf(ctx context.Context, instanceID string, hashes []string) ([]duban.Evidence, error) {
	rows, err := db.Pool.Query(ctx, `SELECT sha256, name, size, content_type FROM evidence WHERE instance_id = $1 AND sha256 = ANY($2)`, instanceID, hashes)
	if err != nil {
		return nil, fmt.Errorf("evidence: %w", err)
	}
	found, err := pgx.CollectRows(rows, pgx.RowToStructByPos[duban.Evidence])
	if err != nil {
		return nil, err
	}
	by := map[string]duban.Evidence{}
	for _, e := range found {
		by[e.SHA256] = e
	}
	out := make([]duban.Evidence, 0, len(hashes))
	for i, h := range hashes {
		e, ok := by[h]
		if !ok {
			return nil, duban.FieldError(fmt.Sprintf("evidence[%d]", i), "佐证材料 %s 未上传到此任务", shortHash(h))
		}
		out = append(out, e)
	}
	return out, nil
}

// InstanceEvidence lists every file uploaded for an instance, oldest first.
func (db *DB) InstanceEvidence(ctx context.Context, instanceID string) ([]duban.Evidence, error) {
	rows, err := db.Pool.Query(ctx, `SELECT sha256, name, size, content_type FROM evidence WHERE instance_id = $1 ORDER BY uploaded_at, sha256`, instanceID)
	if err != nil {
		return nil, fmt.Errorf("evidence: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[duban.Evidence])
}

func shortHash(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

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
