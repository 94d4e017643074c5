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
