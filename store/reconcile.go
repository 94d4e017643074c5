package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/duban-dev/duban"
)

// Reconciliation: what `duban verify` compares and repairs. The workflows
// are the truth of each open instance; the store's rows, counters and
// inbox are projections of them that must agree.

// OpenInstancesAfter pages through the open instances by id.
func (db *DB) OpenInstancesAfter(ctx context.Context, afterID string, limit int) ([]Instance, error) {
	rows, err := db.Pool.Query(ctx, `SELECT `+InstanceCols+` FROM instances
		WHERE status IN ('assigned', 'in_progress', 'submitted') AND id > $1 ORDER BY id LIMIT $2`, afterID, limitOf(limit))
	if err != nil {
		return nil, fmt.Errorf("open instances: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Instance, error) { return ScanInstance(r) })
}

// RepairProjection rewrites an instance's row from its workflow's
// projection (seq is the workflow's), moves the rollup counters by the
// change of bucket, and audits the repair with what differed.
func (db *DB) RepairProjection(ctx context.Context, id string, p duban.Projection, seq int64, actor duban.Actor, differences []string, now time.Time) error {
	return pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		var (
			planID, unit, status string
			year                 int
			overdue              bool
		)
		err := tx.QueryRow(ctx, `SELECT plan_id, year, unit_code, status, overdue_since IS NOT NULL FROM instances WHERE id = $1 FOR UPDATE`, id).
			Scan(&planID, &year, &unit, &status, &overdue)
		if errors.Is(err, pgx.ErrNoRows) {
			return duban.Errorf(duban.ENOTFOUND, "任务 %s 不存在", id)
		}
		if err != nil {
			return err
		}
		batch := &pgx.Batch{}
		queueProjection(batch, id, p, seq, now)
		deltas := map[rollupKey]bucket{}
		addDelta(deltas, planID, year, unit, bucketOf(p.Status, p.OverdueSince != nil).minus(bucketOf(duban.Status(status), overdue)))
		queueRollups(batch, deltas)
		if err := tx.SendBatch(ctx, batch).Close(); err != nil {
			return err
		}
		return auditTx(ctx, tx, actor, "reconcile.projection", unit, id, map[string]any{"differences": differences, "seq": seq})
	})
}

// Gap is an instance whose timeline skips sequence numbers.
type Gap struct {
	InstanceID string `json:"instance_id"`
	Events     int64  `json:"events"`
	MaxSeq     int64  `json:"max_seq"`
}

// TimelineGaps lists instances whose events are not 1…n without a hole.
func (db *DB) TimelineGaps(ctx context.Context) ([]Gap, error) {
	rows, err := db.Pool.Query(ctx, `SELECT instance_id, count(*), max(seq) FROM events GROUP BY instance_id
		HAVING count(*) <> max(seq) OR min(seq) <> 1 ORDER BY instance_id LIMIT 1000`)
	if err != nil {
		return nil, fmt.Errorf("timeline gaps: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Gap, error) {
		var g Gap
		err := r.Scan(&g.InstanceID, &g.Events, &g.MaxSeq)
		return g, err
	})
}

// RollupDiff is one unit's counters as stored and as recounted.
type RollupDiff struct {
	PlanID  string `json:"plan_id"`
	Year    int    `json:"year"`
	Unit    string `json:"unit"`
	Stored  Rollup `json:"stored"`
	Counted Rollup `json:"counted"`
}

// recountSQL counts every unit's subtree from the instance rows, as the
// transitions keep the counters: each instance counts at its unit and at
// each unit above it (a division code is a prefix of the codes below it).
const recountSQL = `WITH anc AS (
	SELECT plan_id, year, left(unit_code, l) AS unit, status, overdue_since IS NOT NULL AS overdue
	FROM instances, unnest(ARRAY[2, 4, 6, 9, 12]) AS l WHERE length(unit_code) >= l)
SELECT plan_id, year, unit, count(*)::int AS total,
	count(*) FILTER (WHERE status = 'completed')::int AS completed, count(*) FILTER (WHERE status = 'cancelled')::int AS cancelled,
	count(*) FILTER (WHERE status = 'submitted')::int AS submitted,
	count(*) FILTER (WHERE overdue AND status IN ('assigned', 'in_progress', 'submitted'))::int AS overdue
FROM anc GROUP BY plan_id, year, unit`

// RollupDrift compares every stored counter with a recount and, with
// repair, sets the stored ones to the recount (audited), in one
// transaction that keeps transitions out meanwhile.
func (db *DB) RollupDrift(ctx context.Context, repair bool, actor duban.Actor) ([]RollupDiff, error) {
	var out []RollupDiff
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		if repair {
			// Transitions update rows of rollups; stop them for the moment
			// the recount takes, so the recount is the truth when written.
			if _, err := tx.Exec(ctx, `LOCK TABLE rollups IN EXCLUSIVE MODE`); err != nil {
				return err
			}
		}
		rows, err := tx.Query(ctx, `WITH c AS (`+recountSQL+`)
			SELECT coalesce(c.plan_id, r.plan_id), coalesce(c.year, r.year), coalesce(c.unit, r.unit_code),
				coalesce(r.total, 0), coalesce(r.completed, 0), coalesce(r.cancelled, 0), coalesce(r.submitted, 0), coalesce(r.overdue, 0),
				coalesce(c.total, 0), coalesce(c.completed, 0), coalesce(c.cancelled, 0), coalesce(c.submitted, 0), coalesce(c.overdue, 0)
			FROM c FULL JOIN rollups r ON r.plan_id = c.plan_id AND r.year = c.year AND r.unit_code = c.unit
			WHERE (coalesce(r.total, 0), coalesce(r.completed, 0), coalesce(r.cancelled, 0), coalesce(r.submitted, 0), coalesce(r.overdue, 0))
				IS DISTINCT FROM (coalesce(c.total, 0), coalesce(c.completed, 0), coalesce(c.cancelled, 0), coalesce(c.submitted, 0), coalesce(c.overdue, 0))
			ORDER BY 1, 2, 3 LIMIT 10000`)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (RollupDiff, error) {
			var d RollupDiff
			err := r.Scan(&d.PlanID, &d.Year, &d.Unit, &d.Stored.Total, &d.Stored.Completed, &d.Stored.Cancelled, &d.Stored.Submitted, &d.Stored.Overdue,
				&d.Counted.Total, &d.Counted.Completed, &d.Counted.Cancelled, &d.Counted.Submitted, &d.Counted.Overdue)
			d.Stored.UnitCode, d.Counted.UnitCode = d.Unit, d.Unit
			return d, err
		})
		if err != nil || !repair || len(out) == 0 {
			return err
		}
		batch := &pgx.Batch{}
		for _, d := range out {
			deltas := map[rollupKey]bucket{{d.PlanID, d.Year, d.Unit}: {
				d.Counted.Total - d.Stored.Total, d.Counted.Completed - d.Stored.Completed, d.Counted.Cancelled - d.Stored.Cancelled,
				d.Counted.Submitted - d.Stored.Submitted, d.Counted.Overdue - d.Stored.Overdue}}
			queueRollups(batch, deltas)
		}
		if err := tx.SendBatch(ctx, batch).Close(); err != nil {
			return err
		}
		return auditTx(ctx, tx, actor, "reconcile.rollups", "", "", map[string]any{"repaired": len(out)})
	})
	if err != nil {
		return nil, fmt.Errorf("rollup drift: %w", err)
	}
	return out, nil
}

// InboxDrift finds the inbox rows the timeline says should exist and do
// not: for each event that sent notices, one row per person the notice
// reached who had an account when it was sent. With repair they are
// written (idempotent on the inbox's dedup key) and the repair audited;
// without, the transaction is rolled back. It returns how many were (or
// would be) written.
func (db *DB) InboxDrift(ctx context.Context, repair bool, actor duban.Actor) (int64, error) {
	var missing int64
	errDryRun := errors.New("dry run")
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO inbox (user_id, instance_id, seq, kind, title, body, urgent, dedup_key, at)
			SELECT u.id, e.instance_id, e.seq, coalesce(n->>'kind', e.kind), '（补发）' || i.title, '此通知由对账补发：' || i.title,
				coalesce((n->>'urgent')::bool, false), e.instance_id || '#' || e.seq::text || '#' || u.id::text, e.at
			FROM events e
			JOIN instances i ON i.id = e.instance_id
			CROSS JOIN LATERAL jsonb_array_elements(coalesce(e.data->'notices', '[]'::jsonb)) AS n
			CROSS JOIN LATERAL jsonb_array_elements(coalesce(n->'recipients', '[]'::jsonb)) AS r
			JOIN users u ON u.unit_code = r->>'unit' AND NOT u.disabled AND u.created_at <= e.recorded_at
				AND u.roles && ARRAY(SELECT jsonb_array_elements_text(r->'roles'))
				AND (coalesce((r->>'user_id')::bigint, 0) = 0 OR u.id = (r->>'user_id')::bigint)
			ON CONFLICT (dedup_key) DO NOTHING`)
		if err != nil {
			return err
		}
		missing = tag.RowsAffected()
		if !repair {
			return errDryRun
		}
		if missing > 0 {
			return auditTx(ctx, tx, actor, "reconcile.inbox", "", "", map[string]any{"written": missing})
		}
		return nil
	})
	if err != nil && !errors.Is(err, errDryRun) {
		return 0, fmt.Errorf("inbox drift: %w", err)
	}
	return missing, nil
}
