package store

import (
	"context"
	"encoding/json"

	"github.com/jackc/pgx/v5"
)

// SetSetting stores a JSON setting.
func (db *DB) SetSetting(ctx context.Context, key string, value any) error {
	raw, err := json.Marshal(value)
	if err != nil {
		return err
	}
	_, err = db.Pool.Exec(ctx, `INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = $2`, key, raw)
	return err
}

// Setting reads a JSON setting into v; found is false when unset.
func (db *DB) Setting(ctx context.Context, key string, v any) (bool, error) {
	var raw []byte
	err := db.Pool.QueryRow(ctx, `SELECT value FROM settings WHERE key = $1`, key).Scan(&raw)
	if err == pgx.ErrNoRows {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return true, json.Unmarshal(raw, v)
}
