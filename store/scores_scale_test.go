package store_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/internal/testenv"
	"github.com/duban-dev/duban/org"
	"github.com/duban-dev/duban/plan"
	"github.com/duban-dev/duban/score"
	"github.com/duban-dev/duban/store"
)

// The whole 2021 plan launched (every instance, townships included) with a
// year of events on the 148 cities' and counties' tasks: scoring all 148
// from the store, and ranking the 14 cities, take well under a second.
// The figures are logged for docs/scoring.md.
func TestScoreWholeProvince(t *testing.T) {
	if testing.Short() {
		t.Skip("loads a whole year")
	}
	db := testenv.OpenDB(t)
	ctx := context.Background()
	p := importShipped(t, db)
	specs, err := plan.Expand(p, org.Hunan(), 2021)
	require.NoError(t, err)
	start := time.Now()
	for i := 0; i < len(specs); i += 1000 {
		_, err := db.RecordAssigned(ctx, specs[i:min(i+1000, len(specs))], at("2021-03-25 09:00"))
		require.NoError(t, err)
	}
	t.Logf("launched %d instances in %s", len(specs), time.Since(start).Round(time.Millisecond))

	// A year of events for the city and county tasks: most submitted and
	// approved (some late, some sent back first), some extended, some
	// urged, a few cancelled, a few never done; reminders besides, which
	// the score does not read.
	var rows [][]any
	scored := 0
	for i, s := range specs {
		if s.UnitLevel != duban.LevelCity && s.UnitLevel != duban.LevelCounty {
			continue
		}
		scored++
		seq := int64(1)
		ev := func(kind duban.EventKind, when time.Time, to duban.Status, data map[string]any) {
			seq++
			raw, _ := json.Marshal(data)
			rows = append(rows, []any{s.ID, seq, when, string(kind), "测试", string(to), string(raw)})
		}
		due := s.Due
		for r := 0; r < 3; r++ {
			ev(duban.EventReminder, due.AddDate(0, 0, -30+r*10), "", map[string]any{})
		}
		switch i % 10 {
		case 0: // never done, urged
			ev("urged", due.AddDate(0, 0, -5), "", map[string]any{})
			ev("urged", due.AddDate(0, 0, 3), "", map[string]any{})
		case 1: // cancelled
			ev(duban.EventCancelled, due.AddDate(0, -2, 0), duban.StatusCancelled, map[string]any{})
		case 2: // extended a month, done within it
			nd := due.AddDate(0, 1, 0)
			ev(duban.EventExtensionGranted, due.AddDate(0, 0, -3), "", map[string]any{"new_due": nd})
			ev(duban.EventSubmitted, due.AddDate(0, 0, 20), duban.StatusSubmitted, map[string]any{"progress": 1, "progress_base": 1})
			ev(duban.EventCompleted, due.AddDate(0, 0, 25), duban.StatusCompleted, map[string]any{})
		default: // sent back once for some, submitted i%40 days late or early
			if i%3 == 0 {
				ev(duban.EventSubmitted, due.AddDate(0, 0, -20), duban.StatusSubmitted, map[string]any{"progress": 1, "progress_base": 1})
				ev(duban.EventRejected, due.AddDate(0, 0, -18), duban.StatusInProgress, map[string]any{})
			}
			when := due.AddDate(0, 0, i%40-20)
			ev(duban.EventSubmitted, when, duban.StatusSubmitted, map[string]any{"progress": 1, "progress_base": 1})
			ev(duban.EventCompleted, when.AddDate(0, 0, 3), duban.StatusCompleted, map[string]any{})
		}
	}
	n, err := db.Pool.CopyFrom(ctx, pgx.Identifier{"events"}, []string{"instance_id", "seq", "at", "kind", "actor_name", "to_status", "data"}, pgx.CopyFromRows(rows))
	require.NoError(t, err)
	_, err = db.Pool.Exec(ctx, `ANALYZE instances; ANALYZE events`)
	require.NoError(t, err)
	t.Logf("%d events on %d city and county instances", n, scored)

	asOf := mustDate("2022-02-28")
	q := store.RecordQuery{PlanID: p.ID, Year: 2021, Levels: []duban.Level{duban.LevelCity, duban.LevelCounty}, AsOf: asOf}
	var load, compute time.Duration
	var scores []score.Score
	const runs = 5
	for range runs {
		t0 := time.Now()
		recs, err := db.ScoreRecords(ctx, q)
		require.NoError(t, err)
		t1 := time.Now()
		scores, err = score.ComputeAll(p.Scoring, recs, asOf)
		require.NoError(t, err)
		load += t1.Sub(t0)
		compute += time.Since(t1)
	}
	require.Len(t, scores, 148)
	var lines, tasks int
	for _, s := range scores {
		var sum plan.Points
		for _, l := range s.Lines {
			sum += l.Points
		}
		require.Equal(t, s.Total, sum, s.Unit.Name)
		lines += len(s.Lines)
		tasks += s.Counts.Tasks + s.Counts.Cancelled
	}
	require.Equal(t, scored, tasks, "every city and county task is in a score")
	t.Logf("scoring 148 cities and counties (%d tasks, %d lines): load %s, compute %s (mean of %d)",
		tasks, lines, (load / runs).Round(100*time.Microsecond), (compute / runs).Round(100*time.Microsecond), runs)

	t0 := time.Now()
	r, err := db.RankChildren(ctx, p.ID, 2021, "43", asOf)
	require.NoError(t, err)
	require.Len(t, r.Rows, 14)
	t.Logf("ranking the 14 cities: %s; first %s %s, last %s %s", time.Since(t0).Round(100*time.Microsecond),
		r.Rows[0].Score.Unit.Name, r.Rows[0].Score.Total, r.Rows[13].Score.Unit.Name, r.Rows[13].Score.Total)
	t0 = time.Now()
	cs, err := db.RankChildren(ctx, p.ID, 2021, "4301", asOf)
	require.NoError(t, err)
	t.Logf("ranking Changsha's %d counties: %s", len(cs.Rows), time.Since(t0).Round(100*time.Microsecond))

	t0 = time.Now()
	snap, err := db.TakeSnapshot(ctx, asOf)
	require.NoError(t, err)
	t.Logf("snapshot of %d rollup rows: %s", snap, time.Since(t0).Round(100*time.Microsecond))
	require.Equal(t, count(t, db, `SELECT count(*) FROM rollups`), snap)
}
