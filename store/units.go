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
	rows, err := db.Pool.Query(ctx, `SELECT code, name, level, coalesce(parent_code, '') FROM units`)
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
		return auditTx(ctx, tx, actor, "unit.rename", code, "", map[string]any{"code": code, "name_before": old, "name": name})
	})
}
