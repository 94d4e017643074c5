package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/duban-dev/duban"
)

// PlanChangeRow is a recorded plan change and how far it has got.
type PlanChangeRow struct {
	duban.PlanChange
	Summary    string     `json:"summary"`
	Status     string     `json:"status"` // running, done
	Total      int        `json:"total"`
	Applied    int        `json:"applied"`
	Skipped    int        `json:"skipped"`
	Failed     int        `json:"failed"`
	Pending    int        `json:"pending"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
	// UnitNames are the names of Units (filled by the API).
	UnitNames []string `json:"unit_names,omitempty"`
}

const planChangeColumns = `id, plan_id, year, template_id, doc_no, reason, units, new_due, reminders, evidence_note, withdraw,
	summary, status, total, applied, skipped, failed, by_id, by_name, by_unit, created_at, finished_at`

func scanPlanChange(row pgx.Row) (PlanChangeRow, error) {
	var (
		c         PlanChangeRow
		reminders []byte
		byID      *int64
	)
	err := row.Scan(&c.ID, &c.PlanID, &c.Year, &c.TemplateID, &c.DocNo, &c.Reason, &c.Units, &c.NewDue, &reminders, &c.EvidenceNote,
		&c.Withdraw, &c.Summary, &c.Status, &c.Total, &c.Applied, &c.Skipped, &c.Failed, &byID, &c.By.Name, &c.By.UnitCode,
		&c.At, &c.FinishedAt)
	if err != nil {
		return c, err
	}
	if byID != nil {
		c.By.UserID = *byID
	}
	c.By.Roles = []duban.Role{duban.RoleAdmin}
	if reminders != nil {
		var rs []duban.Offset
		if err := json.Unmarshal(reminders, &rs); err != nil {
			return c, fmt.Errorf("plan change %d reminders: %w", c.ID, err)
		}
		c.Reminders = &rs
	}
	if c.NewDue != nil {
		d := c.NewDue.In(duban.Shanghai)
		c.NewDue = &d
	}
	c.Pending = c.Total - c.Applied - c.Skipped - c.Failed
	return c, nil
}

// RecordPlanChange stores a change, picks the instances it reaches (open
// instances of the template, of the units it names, that do not carry it
// yet), adds a version to the plan and audits it, in one transaction. The
// same 文号 recorded again for the same template with the same content is
// the change already stored (created false); with other content it is a
// conflict.
func (db *DB) RecordPlanChange(ctx context.Context, c duban.PlanChange) (PlanChangeRow, bool, error) {
	row, created, err := db.recordPlanChange(ctx, c)
	var pg *pgconn.PgError
	if errors.As(err, &pg) && pg.Code == "23505" {
		// The same change recorded at the same moment by another request:
		// now it is stored, this one finds it.
		row, created, err = db.recordPlanChange(ctx, c)
	}
	if err != nil {
		return row, false, fmt.Errorf("record plan change: %w", refusedContent(err))
	}
	return row, created, nil
}

func (db *DB) recordPlanChange(ctx context.Context, c duban.PlanChange) (PlanChangeRow, bool, error) {
	var (
		row     PlanChangeRow
		created bool
	)
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		existing, err := scanPlanChange(tx.QueryRow(ctx, `SELECT `+planChangeColumns+` FROM plan_changes
			WHERE plan_id = $1 AND year = $2 AND template_id = $3 AND doc_no = $4`, c.PlanID, c.Year, c.TemplateID, c.DocNo))
		switch {
		case err == nil:
			if !existing.Same(c) {
				return duban.FieldError("doc_no", "文号 %s 已用于此任务模板的另一项变更（%s），请核对文号", c.DocNo, existing.Summary)
			}
			row = existing
			return nil
		case !errors.Is(err, pgx.ErrNoRows):
			return err
		}
		var reminders []byte
		if c.Reminders != nil {
			if reminders, err = json.Marshal(*c.Reminders); err != nil {
				return err
			}
		}
		units := c.Units
		if units == nil {
			units = []string{}
		}
		var byID *int64
		if c.By.UserID != 0 {
			id := c.By.UserID
			byID = &id
		}
		var newDue *time.Time
		if c.NewDue != nil {
			d := duban.DayEnd(*c.NewDue)
			newDue = &d
		}
		summary := c.Summary()
		err = tx.QueryRow(ctx, `INSERT INTO plan_changes (plan_id, year, template_id, doc_no, reason, units, new_due, reminders,
				evidence_note, withdraw, summary, by_id, by_name, by_unit)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id`,
			c.PlanID, c.Year, c.TemplateID, c.DocNo, c.Reason, units, newDue, reminders, c.EvidenceNote, c.Withdraw, summary,
			byID, c.By.Name, c.By.UnitCode).Scan(&c.ID)
		if err != nil {
			return err
		}
		if _, err := addChangeItems(ctx, tx, c); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO plan_versions (plan_id, version, kind, summary, change_id, by_name)
			SELECT $1, coalesce(max(version), 0) + 1, 'change', $2, $3, $4 FROM plan_versions WHERE plan_id = $1`,
			c.PlanID, fmt.Sprintf("%d 年 %s：%s（%s）", c.Year, c.TemplateID, summary, c.DocNo), c.ID, c.By.Name); err != nil {
			return err
		}
		if err := auditTx(ctx, tx, c.By, "plan.change", c.By.UnitCode, "", map[string]any{"change_id": c.ID, "plan_id": c.PlanID,
			"year": c.Year, "template_id": c.TemplateID, "doc_no": c.DocNo, "reason": c.Reason, "summary": summary, "units": c.Units}); err != nil {
			return err
		}
		created = true
		row, err = scanPlanChange(tx.QueryRow(ctx, `SELECT `+planChangeColumns+` FROM plan_changes WHERE id = $1`, c.ID))
		return err
	})
	return row, created, err
}

// addChangeItems adds the instances the change reaches that are not items
// yet: open, of the template and units, not carrying the change. It counts
// them into the change's total.
func addChangeItems(ctx context.Context, tx pgx.Tx, c duban.PlanChange) (int, error) {
	units := c.Units
	if units == nil {
		units = []string{}
	}
	tag, err := tx.Exec(ctx, `INSERT INTO plan_change_items (change_id, instance_id, unit_name)
		SELECT $1, id, unit_name FROM instances
		WHERE plan_id = $2 AND year = $3 AND template_id = $4 AND status IN ('assigned', 'in_progress', 'submitted')
			AND (cardinality($5::text[]) = 0 OR unit_code = ANY($5::text[]))
			AND NOT coalesce(spec -> 'changes' @> jsonb_build_array($1::bigint), false)
		ON CONFLICT DO NOTHING`, c.ID, c.PlanID, c.Year, c.TemplateID, units)
	if err != nil {
		return 0, fmt.Errorf("plan change %d items: %w", c.ID, err)
	}
	n := int(tag.RowsAffected())
	if n > 0 {
		_, err = tx.Exec(ctx, `UPDATE plan_changes SET total = total + $2, status = 'running', finished_at = NULL WHERE id = $1`, c.ID, n)
	}
	return n, err
}

// SweepPlanChange adds the instances a change reaches that were launched
// while it ran (a launch that read the plan before the change was stored),
// and reports how many.
func (db *DB) SweepPlanChange(ctx context.Context, id int64) (int, error) {
	var n int
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		c, err := scanPlanChange(tx.QueryRow(ctx, `SELECT `+planChangeColumns+` FROM plan_changes WHERE id = $1 FOR UPDATE`, id))
		if err != nil {
			return translate(err, fmt.Sprintf("计划变更 %d", id))
		}
		n, err = addChangeItems(ctx, tx, c.PlanChange)
		return err
	})
	return n, err
}

// PlanChange returns one change with its progress.
func (db *DB) PlanChange(ctx context.Context, id int64) (PlanChangeRow, error) {
	c, err := scanPlanChange(db.Pool.QueryRow(ctx, `SELECT `+planChangeColumns+` FROM plan_changes WHERE id = $1`, id))
	return c, translate(err, fmt.Sprintf("计划变更 %d", id))
}

// Change returns one recorded change, to carry out.
func (db *DB) Change(ctx context.Context, id int64) (duban.PlanChange, error) {
	c, err := db.PlanChange(ctx, id)
	return c.PlanChange, err
}

// PlanChanges lists a plan's changes, newest first (of one year when year
// is not 0).
func (db *DB) PlanChanges(ctx context.Context, planID string, year int) ([]PlanChangeRow, error) {
	rows, err := db.Pool.Query(ctx, `SELECT `+planChangeColumns+` FROM plan_changes
		WHERE plan_id = $1 AND ($2 = 0 OR year = $2) ORDER BY id DESC`, planID, year)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (PlanChangeRow, error) { return scanPlanChange(r) })
}

// ChangesOf are the changes of a plan year in the order they were made, to
// apply to instances launched after them.
func (db *DB) ChangesOf(ctx context.Context, planID string, year int) ([]duban.PlanChange, error) {
	rows, err := db.Pool.Query(ctx, `SELECT `+planChangeColumns+` FROM plan_changes WHERE plan_id = $1 AND year = $2 ORDER BY id`, planID, year)
	if err != nil {
		return nil, err
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (PlanChangeRow, error) { return scanPlanChange(r) })
	out := make([]duban.PlanChange, len(list))
	for i, c := range list {
		out[i] = c.PlanChange
	}
	return out, err
}

// PendingChangeItems returns up to limit instances the change has not
// reached yet.
func (db *DB) PendingChangeItems(ctx context.Context, id int64, limit int) ([]string, error) {
	rows, err := db.Pool.Query(ctx, `SELECT instance_id FROM plan_change_items WHERE change_id = $1 AND status = 'pending'
		ORDER BY instance_id LIMIT $2`, id, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// ChangeItems lists a change's instances (of one status when status is
// not empty), up to limit.
func (db *DB) ChangeItems(ctx context.Context, id int64, status string, limit int) ([]duban.ChangeItem, error) {
	rows, err := db.Pool.Query(ctx, `SELECT instance_id, unit_name, status, detail, updated_at FROM plan_change_items
		WHERE change_id = $1 AND ($2 = '' OR status = $2) ORDER BY instance_id LIMIT $3`, id, status, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[duban.ChangeItem])
}

// SettleChangeItems records what became of some of a change's instances
// (applied, skipped or failed, with a detail) and counts them; an item
// already settled is left as it was.
func (db *DB) SettleChangeItems(ctx context.Context, id int64, items []duban.ChangeItem) error {
	if len(items) == 0 {
		return nil
	}
	return pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		counts := map[string]int{}
		for _, it := range items {
			tag, err := tx.Exec(ctx, `UPDATE plan_change_items SET status = $3, detail = $4, updated_at = now()
				WHERE change_id = $1 AND instance_id = $2 AND status = 'pending'`, id, it.InstanceID, it.Status, it.Detail)
			if err != nil {
				return err
			}
			counts[it.Status] += int(tag.RowsAffected())
		}
		_, err := tx.Exec(ctx, `UPDATE plan_changes SET applied = applied + $2, skipped = skipped + $3, failed = failed + $4 WHERE id = $1`,
			id, counts["applied"], counts["skipped"], counts["failed"])
		return err
	})
}

// FinishPlanChange marks a change done once nothing is pending.
func (db *DB) FinishPlanChange(ctx context.Context, id int64) error {
	_, err := db.Pool.Exec(ctx, `UPDATE plan_changes SET status = 'done', finished_at = now()
		WHERE id = $1 AND status = 'running' AND NOT EXISTS (SELECT 1 FROM plan_change_items WHERE change_id = $1 AND status = 'pending')`, id)
	return err
}

// PlanVersion is one version of a plan: an import of its file or a change.
type PlanVersion struct {
	Version  int       `json:"version"`
	Kind     string    `json:"kind"` // import, change
	Summary  string    `json:"summary"`
	Checksum string    `json:"checksum,omitempty"`
	ChangeID *int64    `json:"change_id,omitempty"`
	By       string    `json:"by"`
	At       time.Time `json:"at"`
}

// PlanVersions lists a plan's versions, the latest first.
func (db *DB) PlanVersions(ctx context.Context, planID string) ([]PlanVersion, error) {
	rows, err := db.Pool.Query(ctx, `SELECT version, kind, summary, checksum, change_id, by_name, at FROM plan_versions
		WHERE plan_id = $1 ORDER BY version DESC`, planID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[PlanVersion])
}

// PlanVersionSource returns the file of an imported version.
func (db *DB) PlanVersionSource(ctx context.Context, planID string, version int) ([]byte, error) {
	var src *string
	err := db.Pool.QueryRow(ctx, `SELECT yaml FROM plan_versions WHERE plan_id = $1 AND version = $2`, planID, version).Scan(&src)
	if err != nil {
		return nil, translate(err, fmt.Sprintf("计划 %s 的第 %d 版", planID, version))
	}
	if src == nil {
		return nil, duban.Errorf(duban.ENOTFOUND, "计划 %s 的第 %d 版是一项变更，没有计划文件", planID, version)
	}
	return []byte(*src), nil
}

// UnitsWithoutTask returns those of units that have no instance of the
// template in the plan year.
func (db *DB) UnitsWithoutTask(ctx context.Context, planID string, year int, templateID string, units []string) ([]string, error) {
	rows, err := db.Pool.Query(ctx, `SELECT u FROM unnest($4::text[]) AS u
		WHERE NOT EXISTS (SELECT 1 FROM instances WHERE plan_id = $1 AND year = $2 AND template_id = $3 AND unit_code = u)`,
		planID, year, templateID, units)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}
