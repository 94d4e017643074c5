package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/org"
)

// SeedUnits inserts the units of a hierarchy that are not stored yet, top
// down so every parent exists first. It returns how many were added.
func (db *DB) SeedUnits(ctx context.Context, h *org.Hierarchy, synthetic bool) (int, error) {
	units := h.All()
	codes := make([]string, len(units))
	names := make([]string, len(units))
	levels := make([]string, len(units))
	parents := make([]*string, len(units))
	for i, u := range units {
		codes[i], names[i], levels[i] = u.Code, u.Name, string(u.Level)
		if u.ParentCode != "" {
			p := u.ParentCode
			parents[i] = &p
		}
	}
	tag, err := db.Pool.Exec(ctx, `
		INSERT INTO units (code, name, level, parent_code, synthetic)
		SELECT code, name, level, parent, $5
		FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) WITH ORDINALITY AS u(code, name, level, parent, ord)
		ORDER BY ord
		ON CONFLICT (code) DO NOTHING`, codes, names, levels, parents, synthetic)
	if err != nil {
		return 0, fmt.Errorf("seed units: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// Hierarchy loads every stored unit into a hierarchy.
func (db *DB) Hierarchy(ctx context.Context) (*org.Hierarchy, error) {
	rows, err := db.Pool.Query(ctx, `SELECT code, name, level, coalesce(parent_code, '') FROM units WHERE merged_into IS NULL`)
	if err != nil {
		return nil, err
	}
	units, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (org.Unit, error) {
		var u org.Unit
		var level string
		err := r.Scan(&u.Code, &u.Name, &level, &u.ParentCode)
		u.Level = duban.Level(level)
		return u, err
	})
	if err != nil {
		return nil, err
	}
	if len(units) == 0 {
		return nil, duban.Errorf(duban.ENOTFOUND, "尚未导入单位数据")
	}
	return org.New(units)
}

// CreateUnitAs adds a unit under an existing parent and audits it. The code
// must extend the parent's code to the length of the level below.
func (db *DB) CreateUnitAs(ctx context.Context, u org.Unit, actor duban.Actor) (org.Unit, error) {
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO units (code, name, level, parent_code) VALUES ($1, $2, $3, $4)`, u.Code, u.Name, string(u.Level), u.ParentCode)
		if err != nil {
			return translate(err, "单位 "+u.Code)
		}
		return auditTx(ctx, tx, actor, "unit.create", u.Code, "", map[string]any{"unit": u})
	})
	return u, err
}

// RenameUnitAs changes a unit's name and audits it.
func (db *DB) RenameUnitAs(ctx context.Context, code, name string, actor duban.Actor) error {
	return pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		var old string
		if err := tx.QueryRow(ctx, `SELECT name FROM units WHERE code = $1 FOR UPDATE`, code).Scan(&old); err != nil {
			return translate(err, "单位 "+code)
		}
		if _, err := tx.Exec(ctx, `UPDATE units SET name = $2 WHERE code = $1`, code, name); err != nil {
			return err
		}
		// Its tasks follow: their rows (lists, boards, exports) and the
		// spec notices are written from carry the new name.
		if _, err := tx.Exec(ctx, `UPDATE instances SET unit_name = $2, spec = jsonb_set(spec, '{unit_name}', to_jsonb($2::text))
			WHERE unit_code = $1`, code, name); err != nil {
			return err
		}
		return auditTx(ctx, tx, actor, "unit.rename", code, "", map[string]any{"code": code, "name_before": old, "name": name})
	})
}

// MergeUnitAs records that unit from merged into unit into (a peer under
// the same parent, without units below it): from leaves the hierarchy, its
// people move to into, and it is audited, in one transaction. It returns
// the number of people moved. Merging again into the same unit is a no-op.
func (db *DB) MergeUnitAs(ctx context.Context, from, into, reason string, actor duban.Actor) (int, error) {
	var moved int
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		var merged *string
		if err := tx.QueryRow(ctx, `SELECT merged_into FROM units WHERE code = $1 FOR UPDATE`, from).Scan(&merged); err != nil {
			return translate(err, "单位 "+from)
		}
		if merged != nil {
			if *merged == into {
				return nil
			}
			return duban.Errorf(duban.ECONFLICT, "单位 %s 已并入 %s", from, *merged)
		}
		var children int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM units WHERE parent_code = $1 AND merged_into IS NULL`, from).Scan(&children); err != nil {
			return err
		}
		if children > 0 {
			return duban.FieldError("code", "单位 %s 还有 %d 个下级单位，请先合并或调整下级单位", from, children)
		}
		if _, err := tx.Exec(ctx, `UPDATE units SET merged_into = $2 WHERE code = $1`, from, into); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `UPDATE users SET unit_code = $2 WHERE unit_code = $1`, from, into)
		if err != nil {
			return err
		}
		moved = int(tag.RowsAffected())
		return auditTx(ctx, tx, actor, "unit.merge", into, "", map[string]any{"code": from, "into": into, "reason": reason, "people": moved})
	})
	return moved, err
}

// MergedInto returns the unit a merged unit joined ("" when it was not
// merged).
func (db *DB) MergedInto(ctx context.Context, code string) (string, error) {
	var into *string
	err := db.Pool.QueryRow(ctx, `SELECT merged_into FROM units WHERE code = $1`, code).Scan(&into)
	if err != nil || into == nil {
		return "", translate(err, "单位 "+code)
	}
	return *into, nil
}

// OpenTasksOf lists a unit's open tasks, each with into's instance of the
// same task, if any.
func (db *DB) OpenTasksOf(ctx context.Context, unit, into string) ([]duban.UnitTask, error) {
	rows, err := db.Pool.Query(ctx, `SELECT i.id, coalesce(d.id, '') FROM instances i
		LEFT JOIN instances d ON d.unit_code = $2 AND d.plan_id = i.plan_id AND d.year = i.year AND d.template_id = i.template_id
			AND d.period = i.period AND d.status <> 'cancelled'
		WHERE i.unit_code = $1 AND i.status IN ('assigned', 'in_progress', 'submitted') ORDER BY i.id`, unit, into)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[duban.UnitTask])
}
