package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/activities"
	"github.com/duban-dev/duban/plan"
)

// PlanSummary describes a stored plan.
type PlanSummary struct {
	ID            string    `json:"id"`
	Year          int       `json:"year"`
	Title         string    `json:"title"`
	Source        string    `json:"source"`
	Checksum      string    `json:"checksum"`
	TemplateCount int       `json:"template_count"`
	ImportedAt    time.Time `json:"imported_at"`
	ImportedBy    string    `json:"imported_by"`
}

// ImportPlan stores a validated plan with its source text, replacing an
// earlier version of the same id, all in one transaction.
func (db *DB) ImportPlan(ctx context.Context, p *plan.Plan, source []byte, by string) (PlanSummary, error) {
	var s PlanSummary
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		var err error
		s, _, err = importPlanTx(ctx, tx, p, source, by)
		return err
	})
	if err != nil {
		return s, fmt.Errorf("import plan %s: %w", p.ID, err)
	}
	return s, nil
}

// importPlanTx writes a plan and its templates in tx and returns the
// checksum of the version it replaced, if any.
func importPlanTx(ctx context.Context, tx pgx.Tx, p *plan.Plan, source []byte, by string) (PlanSummary, string, error) {
	sum := sha256.Sum256(source)
	tpls := p.Templates()
	s := PlanSummary{ID: p.ID, Year: p.Year, Title: p.Title, Source: p.Source, Checksum: hex.EncodeToString(sum[:]), TemplateCount: len(tpls), ImportedBy: by}
	var previous string
	err := tx.QueryRow(ctx, `SELECT checksum FROM plans WHERE id = $1 FOR UPDATE`, p.ID).Scan(&previous)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return s, "", err
	}
	err = tx.QueryRow(ctx, `
		INSERT INTO plans (id, year, title, source, yaml, checksum, template_count, imported_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (id) DO UPDATE SET year = $2, title = $3, source = $4, yaml = $5, checksum = $6,
			template_count = $7, imported_by = $8, imported_at = now()
		RETURNING imported_at`,
		p.ID, p.Year, p.Title, p.Source, string(source), s.Checksum, len(tpls), by).Scan(&s.ImportedAt)
	if err != nil {
		return s, "", err
	}
	if _, err := tx.Exec(ctx, `DELETE FROM templates WHERE plan_id = $1`, p.ID); err != nil {
		return s, "", err
	}
	batch := &pgx.Batch{}
	for i, st := range tpls {
		spec, err := json.Marshal(st.Template)
		if err != nil {
			return s, "", err
		}
		batch.Queue(`INSERT INTO templates (plan_id, id, section, section_title, title, quote, kind, ord, spec)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			p.ID, st.Template.ID, st.Section.ID, st.Section.Title, st.Template.Title, st.Template.Quote, string(st.Template.Kind), i, spec)
	}
	return s, previous, tx.SendBatch(ctx, batch).Close()
}

// Plans lists the stored plans, newest year first.
func (db *DB) Plans(ctx context.Context) ([]PlanSummary, error) {
	rows, err := db.Pool.Query(ctx, `SELECT id, year, title, source, checksum, template_count, imported_at, imported_by
		FROM plans ORDER BY year DESC, id`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[PlanSummary])
}

// PlanSource returns a stored plan's file text.
func (db *DB) PlanSource(ctx context.Context, id string) ([]byte, error) {
	var src string
	err := db.Pool.QueryRow(ctx, `SELECT yaml FROM plans WHERE id = $1`, id).Scan(&src)
	if err != nil {
		return nil, translate(err, "计划 "+id)
	}
	return []byte(src), nil
}

// Plan parses a stored plan against the stored hierarchy.
func (db *DB) Plan(ctx context.Context, id string) (*plan.Plan, error) {
	src, err := db.PlanSource(ctx, id)
	if err != nil {
		return nil, err
	}
	h, err := db.Hierarchy(ctx)
	if err != nil {
		return nil, err
	}
	return plan.Parse(id+".yaml", src, h)
}

// UpdateLaunch upserts a launch's progress. Status "pending" is what the
// API writes before it starts (or joins) the launch workflow, so that the
// launch can be polled at once: it takes the place of a finished launch's
// row (done or failed: a new run starts), never of one still pending or
// running (launching again joins that run, which goes on writing).
func (db *DB) UpdateLaunch(ctx context.Context, p activities.LaunchProgress) error {
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
func (db *DB) Launch(ctx context.Context, id string) (activities.LaunchProgress, error) {
	var p activities.LaunchProgress
	err := db.Pool.QueryRow(ctx, `SELECT id, plan_id, year, status, total, started, existing, failed, error, updated_at
		FROM launches WHERE id = $1`, id).Scan(&p.ID, &p.PlanID, &p.Year, &p.Status, &p.Total, &p.Started, &p.Existing, &p.Failed, &p.Error, &p.Updated)
	return p, translate(err, "启动记录 "+id)
}

// ErrNoPlan is returned when a plan id is unknown.
var ErrNoPlan = duban.Errorf(duban.ENOTFOUND, "计划不存在")
