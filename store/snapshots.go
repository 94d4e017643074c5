package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/plan"
)

// PlanClockSetting is the settings key of the plan clock a demo runs on
// (`duban dev` keeps its demo clock there); without it plan time is real
// time.
const PlanClockSetting = "dev_clock"

// PlanClock returns the clock plan time runs on: the demo's, or the
// identity.
func (db *DB) PlanClock(ctx context.Context) (duban.Clock, error) {
	var c duban.Clock
	if _, err := db.Setting(ctx, PlanClockSetting, &c); err != nil {
		return duban.Clock{}, fmt.Errorf("read %s: %w", PlanClockSetting, err)
	}
	return c, nil
}

// TakeSnapshot copies every unit's rollup counters into the snapshot of the
// day, for the plan years the day can concern: its year, and the year
// before, whose last deadlines fall in January. Taking it again the same day replaces that day's rows with the
// counters as they are now, so the last snapshot of a day is its end; it
// never touches another day. It returns the number of rows written.
func (db *DB) TakeSnapshot(ctx context.Context, day plan.Date) (int, error) {
	tag, err := db.Pool.Exec(ctx, `INSERT INTO rollup_snapshots (unit_code, year, plan_id, day, total, completed, cancelled, submitted, overdue)
		SELECT unit_code, year, plan_id, $1::date, total, completed, cancelled, submitted, overdue
		FROM rollups WHERE year BETWEEN $2 AND $3
		ON CONFLICT (unit_code, year, plan_id, day) DO UPDATE SET
			total = excluded.total, completed = excluded.completed, cancelled = excluded.cancelled,
			submitted = excluded.submitted, overdue = excluded.overdue, taken_at = now()`,
		day.String(), day.Year-1, day.Year)
	if err != nil {
		return 0, fmt.Errorf("snapshot %s: %w", day, err)
	}
	return int(tag.RowsAffected()), nil
}

// SnapshotPoint is one day of a unit's series.
type SnapshotPoint struct {
	Day       string `json:"day"` // YYYY-MM-DD
	Total     int    `json:"total"`
	Completed int    `json:"completed"`
	Cancelled int    `json:"cancelled"`
	Submitted int    `json:"submitted"`
	Overdue   int    `json:"overdue"`
}

// Series returns a unit's daily counters (its whole subtree) for a plan
// year, oldest first. planID "" adds up every plan of the year (a
// deployment runs one plan a year, under a new id each year).
func (db *DB) Series(ctx context.Context, unit string, year int, planID string) ([]SnapshotPoint, error) {
	q := &query{}
	q.add("unit_code = " + q.arg(unit))
	q.add("year = " + q.arg(year))
	if planID != "" {
		q.add("plan_id = " + q.arg(planID))
	}
	rows, err := db.Pool.Query(ctx, `SELECT to_char(day, 'YYYY-MM-DD'), sum(total)::int, sum(completed)::int, sum(cancelled)::int,
			sum(submitted)::int, sum(overdue)::int
		FROM rollup_snapshots WHERE `+q.sql()+` GROUP BY day ORDER BY day`, q.args...)
	if err != nil {
		return nil, fmt.Errorf("series of %s in %d: %w", unit, year, err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (SnapshotPoint, error) {
		var p SnapshotPoint
		err := r.Scan(&p.Day, &p.Total, &p.Completed, &p.Cancelled, &p.Submitted, &p.Overdue)
		return p, err
	})
}

// Trend is a unit's series for a plan year next to the year before's.
type Trend struct {
	Unit     string          `json:"unit"`
	Year     int             `json:"year"`
	PlanID   string          `json:"plan_id"`
	Days     []SnapshotPoint `json:"days"`
	Previous []SnapshotPoint `json:"previous"` // the year before, every plan of it
}

// TrendOf returns a unit's series for a plan year and for the year before.
func (db *DB) TrendOf(ctx context.Context, unit string, year int, planID string) (Trend, error) {
	t := Trend{Unit: unit, Year: year, PlanID: planID}
	var err error
	if t.Days, err = db.Series(ctx, unit, year, planID); err != nil {
		return t, err
	}
	t.Previous, err = db.Series(ctx, unit, year-1, "")
	return t, err
}
