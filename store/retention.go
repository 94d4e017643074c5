package store

import (
	"context"
	"fmt"
	"time"
)

// Retention says what Prune deletes: rows older than these ages. A zero
// age keeps that kind of row for ever. Audit rows, timelines, instances,
// comments and evidence are never deleted.
type Retention struct {
	// ReadInbox: inbox rows read longer ago than this.
	ReadInbox time.Duration
	// Deliveries: finished deliveries (sent, failed for good, skipped,
	// digested into a digest) last touched longer ago than this.
	Deliveries time.Duration
	// Sessions: sign-ins that expired or were revoked longer ago than this
	// (their refresh tokens go with them).
	Sessions time.Duration
	// Batch is how many rows one DELETE removes (10,000 when 0): each
	// statement is a short transaction, so the tables are never locked
	// for long.
	Batch int
	// DryRun counts what would be deleted and deletes nothing.
	DryRun bool
}

// PruneResult counts the rows deleted (or, dry, that would be).
type PruneResult struct {
	Inbox      int64         `json:"inbox"`
	Deliveries int64         `json:"deliveries"`
	Sessions   int64         `json:"sessions"`
	Statements int           `json:"statements"` // DELETE statements run
	Took       time.Duration `json:"took"`
	// Longest is the longest single statement: how long a batch held its
	// row locks at most.
	Longest time.Duration `json:"longest"`
}

// Total is every row deleted.
func (r PruneResult) Total() int64 { return r.Inbox + r.Deliveries + r.Sessions }

// pruneTarget is one table's rule: rows matching cond (with $1 the cutoff)
// go, walked in key order so each batch starts where the last stopped.
type pruneTarget struct {
	table, key, cond string
}

var (
	pruneInbox      = pruneTarget{"inbox", "id", "read_at IS NOT NULL AND read_at < $1"}
	pruneDeliveries = pruneTarget{"deliveries", "id", "status IN ('sent', 'failed', 'skipped', 'digested') AND updated_at < $1"}
	pruneSessions   = pruneTarget{"sessions", "id", "(expires_at < $1 OR revoked_at < $1)"}
)

// deleteSQL is one batch: the first (after == false) from the lowest key,
// the next ones past the last key deleted ($3).
func (t pruneTarget) deleteSQL(after bool) string {
	past := ""
	if after {
		past = " AND " + t.key + " > $3"
	}
	return `WITH gone AS (
			DELETE FROM ` + t.table + ` WHERE ` + t.key + ` IN (
				SELECT ` + t.key + ` FROM ` + t.table + ` WHERE ` + t.cond + past + ` ORDER BY ` + t.key + ` LIMIT $2)
			RETURNING ` + t.key + `)
		SELECT count(*), max(` + t.key + `) FROM gone`
}

// Prune deletes what the retention rules say may go, in batches, and
// reports how many rows of each kind went. now is real time.
func (db *DB) Prune(ctx context.Context, r Retention, now time.Time) (PruneResult, error) {
	start := time.Now()
	var res PruneResult
	batch := r.Batch
	if batch <= 0 {
		batch = 10_000
	}
	for _, step := range []struct {
		t   pruneTarget
		age time.Duration
		n   *int64
	}{{pruneInbox, r.ReadInbox, &res.Inbox}, {pruneDeliveries, r.Deliveries, &res.Deliveries}, {pruneSessions, r.Sessions, &res.Sessions}} {
		if step.age <= 0 {
			continue
		}
		n, stmts, err := db.pruneTable(ctx, step.t, now.Add(-step.age), batch, r.DryRun, &res.Longest)
		*step.n += n
		res.Statements += stmts
		if err != nil {
			res.Took = time.Since(start)
			return res, fmt.Errorf("prune %s: %w", step.t.table, err)
		}
	}
	res.Took = time.Since(start)
	return res, nil
}

// pruneTable deletes the matching rows batch by batch, walking the key
// upwards (an index range scan each time, never a rescan of what was
// already passed), until a batch finds nothing.
func (db *DB) pruneTable(ctx context.Context, t pruneTarget, cutoff time.Time, batch int, dry bool, longest *time.Duration) (int64, int, error) {
	if dry {
		var n int64
		err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM `+t.table+` WHERE `+t.cond, cutoff).Scan(&n)
		return n, 0, err
	}
	var (
		total int64
		stmts int
		after any // the last key deleted; nil before the first batch
	)
	for {
		if err := ctx.Err(); err != nil {
			return total, stmts, err
		}
		var (
			n    int64
			last any
		)
		args := []any{cutoff, batch}
		if after != nil {
			args = append(args, after)
		}
		began := time.Now()
		err := db.Pool.QueryRow(ctx, t.deleteSQL(after != nil), args...).Scan(&n, &last)
		*longest = max(*longest, time.Since(began))
		stmts++
		if err != nil {
			return total, stmts, err
		}
		total += n
		if n < int64(batch) {
			return total, stmts, nil
		}
		after = last
	}
}
