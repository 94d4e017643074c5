package bench

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/internal/devpg"
	"github.com/duban-dev/duban/org"
	"github.com/duban-dev/duban/store"
)

// RetentionOptions sizes the retention measurement.
type RetentionOptions struct {
	// Rows is how many inbox rows and how many deliveries are written (each);
	// nine in ten are old enough to go. Sessions are a tenth of that.
	Rows  int
	Batch int // rows per DELETE (the configuration's retention.batch)
	Log   io.Writer
}

// RetentionReport is what one measurement found.
type RetentionReport struct {
	Rows       int           // rows written (inbox + deliveries + sessions)
	Fill       time.Duration // writing them
	Count      time.Duration // the dry run (counting what would go)
	Result     store.PruneResult
	Kept       int64 // rows left that had to stay
	RowsPerSec float64
}

// Retention fills a scratch database with Rows read inbox rows and Rows
// finished deliveries (and a tenth as many sessions), nine in ten of them
// older than the retention ages, then runs the retention as the worker
// does, and reports how fast it deleted and how long its longest statement
// held its locks.
func Retention(ctx context.Context, o RetentionOptions) (*RetentionReport, error) {
	if o.Rows <= 0 {
		o.Rows = 1_000_000
	}
	if o.Batch <= 0 {
		o.Batch = 10_000
	}
	logf := func(format string, args ...any) {
		if o.Log != nil {
			fmt.Fprintf(o.Log, format+"\n", args...)
		}
	}
	dsn, drop, err := devpg.NewScratchDatabase(ctx, "duban_bench_retention")
	if err != nil {
		return nil, err
	}
	defer drop()
	db, err := store.Open(ctx, dsn, 4)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		return nil, err
	}
	if _, err := db.SeedUnits(ctx, org.Hunan(), false); err != nil {
		return nil, err
	}
	u, err := db.CreateUser(ctx, store.User{Username: "retention-bench", DisplayName: "保留期限测量", UnitCode: "430102",
		Roles: []duban.Role{duban.RoleOfficial}, PasswordHash: "x"})
	if err != nil {
		return nil, err
	}
	now := time.Now()
	old := now.AddDate(-1, 0, 0)
	rep := &RetentionReport{}
	start := time.Now()
	const chunk = 100_000
	for from := 1; from <= o.Rows; from += chunk {
		to := min(from+chunk-1, o.Rows)
		// Every tenth row stays: unread, or still waiting to be sent.
		if _, err := db.Pool.Exec(ctx, `INSERT INTO inbox (user_id, instance_id, seq, kind, title, body, dedup_key, at, read_at)
			SELECT $1, '2021/2.1/430102', g, 'reminder', '任务即将到期', '请在截止日前办结', 'bench-' || g, $2::timestamptz, CASE WHEN g % 10 <> 0 THEN $2::timestamptz END
			FROM generate_series($3::int, $4::int) g`, u.ID, old, from, to); err != nil {
			return nil, fmt.Errorf("fill inbox: %w", err)
		}
		if _, err := db.Pool.Exec(ctx, `INSERT INTO deliveries (dedup_key, user_id, channel, target, instance_id, seq, kind, title, body, event_at,
				status, created_at, updated_at, sent_at)
			SELECT 'bench-' || g, $1, 'email', 'bench@example.org', '2021/2.1/430102', g, 'reminder', '任务即将到期', '请在截止日前办结', $2,
				CASE WHEN g % 10 = 0 THEN 'held' WHEN g % 10 = 1 THEN 'failed' ELSE 'sent' END, $2, $2, $2
			FROM generate_series($3::int, $4::int) g`, u.ID, old, from, to); err != nil {
			return nil, fmt.Errorf("fill deliveries: %w", err)
		}
		if _, err := db.Pool.Exec(ctx, `INSERT INTO sessions (id, user_id, created_at, expires_at)
			SELECT 'bench-' || g, $1, $2::timestamptz, CASE WHEN g % 10 <> 0 THEN $2::timestamptz ELSE $3::timestamptz END
			FROM generate_series($4::int, $5::int) g WHERE g % 10 = 5 OR g % 100 = 0`, u.ID, old, now.AddDate(0, 0, 7), from, to); err != nil {
			return nil, fmt.Errorf("fill sessions: %w", err)
		}
		logf("  filled %d of %d", to, o.Rows)
	}
	if _, err := db.Pool.Exec(ctx, `ANALYZE inbox; ANALYZE deliveries; ANALYZE sessions`); err != nil {
		return nil, err
	}
	var total int64
	if err := db.Pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM inbox) + (SELECT count(*) FROM deliveries) + (SELECT count(*) FROM sessions)`).Scan(&total); err != nil {
		return nil, err
	}
	rep.Rows, rep.Fill = int(total), time.Since(start)
	logf("filled %d rows in %s", total, rep.Fill.Round(time.Millisecond))

	rules := store.Retention{ReadInbox: 180 * 24 * time.Hour, Deliveries: 90 * 24 * time.Hour, Sessions: 30 * 24 * time.Hour, Batch: o.Batch}
	dry := rules
	dry.DryRun = true
	start = time.Now()
	if _, err := db.Prune(ctx, dry, now); err != nil {
		return nil, err
	}
	rep.Count = time.Since(start)
	if rep.Result, err = db.Prune(ctx, rules, now); err != nil {
		return nil, err
	}
	if err := db.Pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM inbox) + (SELECT count(*) FROM deliveries) + (SELECT count(*) FROM sessions)`).Scan(&rep.Kept); err != nil {
		return nil, err
	}
	rep.RowsPerSec = float64(rep.Result.Total()) / rep.Result.Took.Seconds()
	return rep, nil
}

// Markdown is the report as a table for docs/benchmarks.md.
func (r *RetentionReport) Markdown(batch int) string {
	res := r.Result
	return fmt.Sprintf(`| figure | value |
| --- | --- |
| rows written (inbox, deliveries, sessions) | %d in %s |
| dry run (counting what would go) | %s |
| rows deleted | %d (inbox %d, deliveries %d, sessions %d); %d kept |
| time to delete them | %s, %d statements of at most %d rows |
| rate | %.0f rows/s |
| longest statement (the longest any row lock was held) | %s |
`, r.Rows, r.Fill.Round(time.Millisecond), r.Count.Round(time.Millisecond), res.Total(), res.Inbox, res.Deliveries, res.Sessions, r.Kept,
		res.Took.Round(time.Millisecond), res.Statements, batch, r.RowsPerSec, res.Longest.Round(time.Millisecond))
}
