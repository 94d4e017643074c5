// Package store is Duban's PostgreSQL persistence through pgx: embedded
// migrations, the instance projection, the timeline, rollup counters, the
// inbox, users, plans and launches. Driver errors become domain errors here;
// no pgx type leaves the package.
package store

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/duban-dev/duban"
)

//go:embed migrations/*.sql
var migrations embed.FS

// DB is a pool of connections to Duban's database.
type DB struct {
	Pool *pgxpool.Pool
}

// Open connects and checks the connection. maxConns 0 keeps pgx's default.
func Open(ctx context.Context, dsn string, maxConns int32) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("parse database url: %w", err)
	}
	if maxConns > 0 {
		cfg.MaxConns = maxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("reach database: %w", err)
	}
	return &DB{Pool: pool}, nil
}

// Close releases the pool.
func (db *DB) Close() { db.Pool.Close() }

// Migrate applies the embedded migrations not yet applied, each in its own
// transaction, recorded in schema_migrations. Concurrent migrators wait on an
// advisory lock, so replicas starting together are safe.
func (db *DB) Migrate(ctx context.Context) ([]string, error) {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	conn, err := db.Pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Release()
	const lockID = 0x6475_6261_6e // "duban"
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, lockID); err != nil {
		return nil, fmt.Errorf("migration lock: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, lockID) //nolint:errcheck
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return nil, fmt.Errorf("create schema_migrations: %w", err)
	}
	var applied []string
	for _, name := range names {
		base := strings.TrimPrefix(name, "migrations/")
		var exists bool
		if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE name = $1)`, base).Scan(&exists); err != nil {
			return applied, err
		}
		if exists {
			continue
		}
		sql, err := migrations.ReadFile(name)
		if err != nil {
			return applied, err
		}
		err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, string(sql)); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (name) VALUES ($1)`, base)
			return err
		})
		if err != nil {
			return applied, fmt.Errorf("migration %s: %w", base, err)
		}
		applied = append(applied, base)
	}
	return applied, nil
}

// refusedContent turns an error that says the database will never accept
// this content (a data exception such as NUL in text or a number out of
// range, a check or not-null violation, a value too large to index) into an
// invalid-input error; anything else (the server down, a deadlock, a bug
// in a statement) is returned as it is, to be retried or fixed.
func refusedContent(err error) error {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		class := pg.Code[:2]
		if class == "22" || class == "54" || pg.Code == "23502" || pg.Code == "23514" {
			return fmt.Errorf("%w: %w", duban.Errorf(duban.EINVALID, "数据库拒绝保存此内容（%s）", pg.Code), err)
		}
	}
	var unsupported *json.UnsupportedValueError
	var marshal *json.MarshalerError
	if errors.As(err, &unsupported) || errors.As(err, &marshal) {
		return fmt.Errorf("%w: %w", duban.Errorf(duban.EINVALID, "内容无法编码保存"), err)
	}
	return err
}

// translate turns driver errors into domain errors.
func translate(err error, what string) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return duban.Errorf(duban.ENOTFOUND, "%s不存在", what)
	}
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		switch pg.Code {
		case "23505":
			return duban.Errorf(duban.ECONFLICT, "%s已存在", what)
		case "23503":
			return duban.Errorf(duban.EINVALID, "%s引用的对象不存在", what)
		}
	}
	return err
}
