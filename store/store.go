// Package store is Duban's PostgreSQL persistence through pgx: embedded
// migrations, the instance projection, the timeline, rollup counters, the
// inbox, users, plans and launches. Driver errors become domain errors here;
// no pgx type leaves the package.
package store

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
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
// transaction, recorded in schema_migrations with the SHA-256 of its file.
// Concurrent migrators wait on an advisory lock, so replicas starting
// together are safe. A migration applied earlier whose file has changed
// since is refused (a *MigrationChangedError) before anything new runs.
func (db *DB) Migrate(ctx context.Context) ([]string, error) {
	return db.migrate(ctx, migrations)
}

// MigrationChangedError says that an applied migration's file is no longer
// the one that was applied: the database's schema may not be what the file
// now describes, and running on would hide that.
type MigrationChangedError struct {
	Name              string // e.g. 002_api.sql
	Recorded, Current string // hex SHA-256 of the applied and the present file
}

func (e *MigrationChangedError) Error() string {
	return fmt.Sprintf("migration %s was applied to this database with sha256 %s, but the file now has sha256 %s: "+
		"applied migrations must not be edited; restore store/migrations/%s as released and put the change in a new migration file",
		e.Name, short(e.Recorded), short(e.Current), e.Name)
}

func short(sum string) string {
	if len(sum) > 12 {
		return sum[:12]
	}
	return sum
}

// appliedMigration is a row of schema_migrations; SHA256 is nil for rows
// written before checksums were recorded.
type appliedMigration struct {
	Name   string
	SHA256 *string
}

// migrate applies the *.sql files under migrations/ in fsys.
func (db *DB) migrate(ctx context.Context, fsys fs.FS) ([]string, error) {
	names, err := fs.Glob(fsys, "migrations/*.sql")
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
	// Databases migrated before checksums were recorded get the column
	// here; their rows are filled below from the files as they are now.
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now());
		ALTER TABLE schema_migrations ADD COLUMN IF NOT EXISTS sha256 text`); err != nil {
		return nil, fmt.Errorf("create schema_migrations: %w", err)
	}
	rows, err := conn.Query(ctx, `SELECT name, sha256 FROM schema_migrations`)
	if err != nil {
		return nil, err
	}
	done, err := pgx.CollectRows(rows, pgx.RowToStructByPos[appliedMigration])
	if err != nil {
		return nil, err
	}
	recorded := make(map[string]*string, len(done))
	for _, m := range done {
		recorded[m.Name] = m.SHA256
	}
	type file struct {
		name, sum string
		sql       []byte
	}
	var pending []file
	// Check every applied migration before applying anything new.
	for _, path := range names {
		sql, err := fs.ReadFile(fsys, path)
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(sql)
		f := file{name: strings.TrimPrefix(path, "migrations/"), sum: hex.EncodeToString(sum[:]), sql: sql}
		old, applied := recorded[f.name]
		switch {
		case !applied:
			pending = append(pending, f)
		case old == nil:
			if _, err := conn.Exec(ctx, `UPDATE schema_migrations SET sha256 = $2 WHERE name = $1`, f.name, f.sum); err != nil {
				return nil, fmt.Errorf("record checksum of %s: %w", f.name, err)
			}
		case *old != f.sum:
			return nil, &MigrationChangedError{Name: f.name, Recorded: *old, Current: f.sum}
		}
	}
	var applied []string
	for _, f := range pending {
		err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, string(f.sql)); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (name, sha256) VALUES ($1, $2)`, f.name, f.sum)
			return err
		})
		if err != nil {
			return applied, fmt.Errorf("migration %s: %w", f.name, err)
		}
		applied = append(applied, f.name)
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

// Ping checks the database answers.
func (db *DB) Ping(ctx context.Context) error { return db.Pool.Ping(ctx) }

// likePrefix escapes a prefix for LIKE and adds the wildcard.
func likePrefix(p string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(p) + "%"
}

func limitOf(n int) int {
	switch {
	case n <= 0:
		return 50
	case n > 500:
		return 500
	}
	return n
}

func prefixed(p, cols string) string {
	parts := strings.Split(cols, ",")
	for i, c := range parts {
		parts[i] = p + strings.TrimSpace(c)
	}
	return strings.Join(parts, ", ")
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	r := []rune(s[:n])
	return string(r[:len(r)-1])
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// query builds a WHERE clause: conditions joined by AND, with their values
// as numbered arguments.
type query struct {
	where []string
	args  []any
}

// arg adds a value and returns its placeholder ($n).
func (q *query) arg(v any) string { q.args = append(q.args, v); return "$" + strconv.Itoa(len(q.args)) }

func (q *query) add(cond string) { q.where = append(q.where, cond) }

// sql is the conditions joined by AND ("true" when there are none).
func (q *query) sql() string {
	if len(q.where) == 0 {
		return "true"
	}
	return strings.Join(q.where, " AND ")
}
