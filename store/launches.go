package store

import (
	"context"

	"github.com/duban-dev/duban"
)

// UpdateLaunch upserts a launch's progress. Status "pending" is what the
// API writes before it starts (or joins) the launch workflow, so that the
// launch can be polled at once: it takes the place of a finished launch's
// row (done or failed: a new run starts), never of one still pending or
// running (launching again joins that run, which goes on writing).
func (db *DB) UpdateLaunch(ctx context.Context, p duban.LaunchProgress) error {
	_, err := db.Pool.Exec(ctx, `
		INSERT INTO launches (id, plan_id, year, status, total, started, existing, failed, error, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, now())
		ON CONFLICT (id) DO UPDATE SET status = $4, total = $5, started = $6, existing = $7, failed = $8, error = $9, updated_at = now()
		WHERE EXCLUDED.status <> 'pending' OR launches.status IN ('done', 'failed')`,
		p.ID, p.PlanID, p.Year, p.Status, p.Total, p.Started, p.Existing, p.Failed, p.Error)
	return translate(err, "启动记录")
}

// FailPendingLaunch marks a launch that is still pending as failed: its
// workflow could not be started, so nothing will write its progress.
func (db *DB) FailPendingLaunch(ctx context.Context, id, reason string) error {
	_, err := db.Pool.Exec(ctx, `UPDATE launches SET status = 'failed', error = $2, updated_at = now() WHERE id = $1 AND status = 'pending'`, id, reason)
	return translate(err, "启动记录")
}

// Launch returns a launch's progress.
func (db *DB) Launch(ctx context.Context, id string) (duban.LaunchProgress, error) {
	var p duban.LaunchProgress
	err := db.Pool.QueryRow(ctx, `SELECT id, plan_id, year, status, total, started, existing, failed, error, updated_at
		FROM launches WHERE id = $1`, id).Scan(&p.ID, &p.PlanID, &p.Year, &p.Status, &p.Total, &p.Started, &p.Existing, &p.Failed, &p.Error, &p.Updated)
	return p, translate(err, "启动记录 "+id)
}
