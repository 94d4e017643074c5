package store

import (
	"context"
	"fmt"
	"sort"

	"github.com/jackc/pgx/v5"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/org"
)

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

// bucket is an instance's contribution to the rollup counters.
type bucket struct{ total, completed, cancelled, submitted, overdue int }

func bucketOf(status duban.Status, overdue bool) bucket {
	b := bucket{total: 1}
	switch status {
	case duban.StatusCompleted:
		b.completed = 1
	case duban.StatusCancelled:
		b.cancelled = 1
	case duban.StatusSubmitted:
		b.submitted = 1
	}
	if overdue && !status.Finished() {
		b.overdue = 1
	}
	return b
}

func (b bucket) minus(o bucket) bucket {
	return bucket{b.total - o.total, b.completed - o.completed, b.cancelled - o.cancelled, b.submitted - o.submitted, b.overdue - o.overdue}
}

func (b bucket) plus(o bucket) bucket {
	return bucket{b.total + o.total, b.completed + o.completed, b.cancelled + o.cancelled, b.submitted + o.submitted, b.overdue + o.overdue}
}

func (b bucket) zero() bool { return b == bucket{} }

type rollupKey struct {
	plan string
	year int
	unit string
}

// queueRollups adds counter updates for every ancestor of each unit, in
// code order so that concurrent transactions lock rows in the same order
// and cannot deadlock.
func queueRollups(batch *pgx.Batch, deltas map[rollupKey]bucket) {
	keys := make([]rollupKey, 0, len(deltas))
	for k, d := range deltas {
		if !d.zero() {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].plan != keys[j].plan {
			return keys[i].plan < keys[j].plan
		}
		if keys[i].year != keys[j].year {
			return keys[i].year < keys[j].year
		}
		return keys[i].unit < keys[j].unit
	})
	for _, k := range keys {
		d := deltas[k]
		var parent *string
		if anc := org.Ancestors(k.unit); len(anc) > 1 {
			parent = &anc[len(anc)-2]
		}
		batch.Queue(`INSERT INTO rollups (plan_id, year, unit_code, parent_code, total, completed, cancelled, submitted, overdue)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
			ON CONFLICT (plan_id, year, unit_code) DO UPDATE SET
				total = rollups.total + $5, completed = rollups.completed + $6, cancelled = rollups.cancelled + $7,
				submitted = rollups.submitted + $8, overdue = rollups.overdue + $9`,
			k.plan, k.year, k.unit, parent, d.total, d.completed, d.cancelled, d.submitted, d.overdue)
	}
}

func addDelta(deltas map[rollupKey]bucket, planID string, year int, unit string, d bucket) {
	for _, anc := range org.Ancestors(unit) {
		k := rollupKey{planID, year, anc}
		deltas[k] = deltas[k].plus(d)
	}
}

// Rollup is the counters of one unit's subtree.
type Rollup struct {
	UnitCode  string `json:"unit_code"`
	Total     int    `json:"total"`
	Completed int    `json:"completed"`
	Cancelled int    `json:"cancelled"`
	Submitted int    `json:"submitted"`
	Overdue   int    `json:"overdue"`
}

// RollupOf returns the counters of one unit's subtree for a plan year.
func (db *DB) RollupOf(ctx context.Context, planID string, year int, unit string) (Rollup, error) {
	var r Rollup
	err := db.Pool.QueryRow(ctx, `SELECT unit_code, total, completed, cancelled, submitted, overdue FROM rollups
		WHERE plan_id = $1 AND year = $2 AND unit_code = $3`, planID, year, unit).
		Scan(&r.UnitCode, &r.Total, &r.Completed, &r.Cancelled, &r.Submitted, &r.Overdue)
	if err == pgx.ErrNoRows {
		return Rollup{UnitCode: unit}, nil
	}
	return r, err
}
