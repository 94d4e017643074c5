package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/duban-dev/duban"
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
	if err := addImportVersion(ctx, tx, p, s, string(source), previous); err != nil {
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

// addImportVersion adds a version for an import of the plan's file, saying
// which templates it added, removed or changed against the templates stored.
func addImportVersion(ctx context.Context, tx pgx.Tx, p *plan.Plan, s PlanSummary, source, previous string) error {
	summary := fmt.Sprintf("导入计划（%d 个任务模板）", s.TemplateCount)
	if previous != "" {
		rows, err := tx.Query(ctx, `SELECT id, spec FROM templates WHERE plan_id = $1`, p.ID)
		if err != nil {
			return err
		}
		old := map[string]string{}
		for rows.Next() {
			var id string
			var spec []byte
			if err := rows.Scan(&id, &spec); err != nil {
				rows.Close()
				return err
			}
			old[id] = string(spec)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		var added, changed []string
		for _, st := range p.Templates() {
			spec, err := json.Marshal(st.Template)
			if err != nil {
				return err
			}
			was, ok := old[st.Template.ID]
			switch {
			case !ok:
				added = append(added, st.Template.ID)
			case !jsonEqual(was, spec):
				changed = append(changed, st.Template.ID)
			}
			delete(old, st.Template.ID)
		}
		summary = importDiff(previous == s.Checksum, added, slices.Sorted(maps.Keys(old)), changed)
	}
	_, err := tx.Exec(ctx, `INSERT INTO plan_versions (plan_id, version, kind, summary, checksum, yaml, by_name)
		SELECT $1, coalesce(max(version), 0) + 1, 'import', $2, $3, $4, $5 FROM plan_versions WHERE plan_id = $1`,
		p.ID, summary, s.Checksum, source, s.ImportedBy)
	return err
}

// importDiff says what a new import of a plan's file changed.
func importDiff(same bool, added, removed, changed []string) string {
	if same {
		return "重新导入：文件未变"
	}
	var parts []string
	for _, d := range []struct {
		label string
		ids   []string
	}{{"新增", added}, {"删除", removed}, {"修改", changed}} {
		if len(d.ids) > 0 {
			parts = append(parts, d.label+" "+strings.Join(d.ids, "、"))
		}
	}
	if len(parts) == 0 {
		return "重新导入：任务模板未变（文字或格式有改动）"
	}
	return "重新导入：" + strings.Join(parts, "；")
}

// jsonEqual compares a stored jsonb text with freshly encoded JSON by value.
func jsonEqual(stored string, fresh []byte) bool {
	var a, b any
	return json.Unmarshal([]byte(stored), &a) == nil && json.Unmarshal(fresh, &b) == nil && reflect.DeepEqual(a, b)
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

// ErrNoPlan is returned when a plan id is unknown.
var ErrNoPlan = duban.Errorf(duban.ENOTFOUND, "计划不存在")

// ImportPlanAs stores a validated plan as ImportPlan does and audits the
// import in the same transaction.
func (db *DB) ImportPlanAs(ctx context.Context, p *plan.Plan, source []byte, actor duban.Actor, rootUnit string) (PlanSummary, error) {
	var s PlanSummary
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		var previous string
		var err error
		if s, previous, err = importPlanTx(ctx, tx, p, source, actor.Name); err != nil {
			return err
		}
		return auditTx(ctx, tx, actor, "plan.import", rootUnit, "", map[string]any{"plan_id": p.ID, "year": p.Year,
			"checksum": s.Checksum, "previous_checksum": previous, "templates": s.TemplateCount})
	})
	if err != nil {
		return s, fmt.Errorf("import plan %s: %w", p.ID, err)
	}
	return s, nil
}

// CopyPlanAs stores p, a copy of the plan from made for another year, as a
// new plan: refused with ECONFLICT when a plan of p's id exists already
// (two copies at once: one wins, under a lock on the id), and audited in
// the same transaction.
func (db *DB) CopyPlanAs(ctx context.Context, p *plan.Plan, source []byte, from string, actor duban.Actor, rootUnit string) (PlanSummary, error) {
	var s PlanSummary
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('plan:' || $1))`, p.ID); err != nil {
			return err
		}
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM plans WHERE id = $1)`, p.ID).Scan(&exists); err != nil {
			return err
		}
		if exists {
			return duban.Errorf(duban.ECONFLICT, "计划 %s 已存在：请换一个计划编号，或在计划管理中导入新版本", p.ID)
		}
		var err error
		if s, _, err = importPlanTx(ctx, tx, p, source, actor.Name); err != nil {
			return err
		}
		return auditTx(ctx, tx, actor, "plan.copy", rootUnit, "", map[string]any{"plan_id": p.ID, "year": p.Year, "from": from,
			"checksum": s.Checksum, "templates": s.TemplateCount})
	})
	if err != nil {
		return s, fmt.Errorf("copy plan %s to %s: %w", from, p.ID, err)
	}
	return s, nil
}

// PlanSummaryOf returns one stored plan's summary.
func (db *DB) PlanSummaryOf(ctx context.Context, id string) (PlanSummary, error) {
	var s PlanSummary
	err := db.Pool.QueryRow(ctx, `SELECT id, year, title, source, checksum, template_count, imported_at, imported_by FROM plans WHERE id = $1`, id).
		Scan(&s.ID, &s.Year, &s.Title, &s.Source, &s.Checksum, &s.TemplateCount, &s.ImportedAt, &s.ImportedBy)
	return s, translate(err, "计划 "+id)
}

// TemplateRow is one stored task template, for listing a plan.
type TemplateRow struct {
	ID           string     `json:"id"`
	Section      string     `json:"section"`
	SectionTitle string     `json:"section_title"`
	Title        string     `json:"title"`
	Quote        string     `json:"quote"`
	Kind         duban.Kind `json:"kind"`
	KindLabel    string     `json:"kind_label"`
}

// Templates lists a plan's templates in file order.
func (db *DB) Templates(ctx context.Context, planID string) ([]TemplateRow, error) {
	rows, err := db.Pool.Query(ctx, `SELECT id, section, section_title, title, quote, kind FROM templates WHERE plan_id = $1 ORDER BY ord`, planID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (TemplateRow, error) {
		var t TemplateRow
		var kind string
		err := r.Scan(&t.ID, &t.Section, &t.SectionTitle, &t.Title, &t.Quote, &kind)
		t.Kind = duban.Kind(kind)
		t.KindLabel = t.Kind.Label()
		return t, err
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
