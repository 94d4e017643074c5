package bench

import (
	"context"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/api/workflowservice/v1"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/org"
	"github.com/duban-dev/duban/store"
)

const rowsPlan = "bench-rows"

// fillRows replaces the synthetic projection with n rows spread over every
// village, township, county and city, with a realistic mix of statuses
// (about a tenth open and overdue), and rebuilds their rollup counters.
// It logs how long each phase took.
func fillRows(ctx context.Context, db *store.DB, h *org.Hierarchy, n int, logf func(string, ...any)) error {
	units := org.WithVillages(h).All()
	codes := make([]string, 0, len(units))
	for _, u := range units {
		if u.Level != duban.LevelProvince {
			codes = append(codes, u.Code)
		}
	}
	tx, err := db.Pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx) //nolint:errcheck
	stmts := []string{
		`DELETE FROM instances WHERE plan_id = '` + rowsPlan + `'`,
		`DELETE FROM rollups WHERE plan_id = '` + rowsPlan + `'`,
		`CREATE TEMP TABLE bench_units (idx int, code text) ON COMMIT DROP`,
	}
	for _, s := range stmts {
		if _, err := tx.Exec(ctx, s); err != nil {
			return err
		}
	}
	if _, err := tx.Exec(ctx, `INSERT INTO bench_units SELECT ord - 1, code FROM unnest($1::text[]) WITH ORDINALITY AS u(code, ord)`, codes); err != nil {
		return err
	}
	phase := time.Now()
	// Deterministic mix from the row number: 20% completed, 5% cancelled,
	// 15% submitted, the rest open; of the open rows about one in six overdue.
	_, err = tx.Exec(ctx, `
		INSERT INTO instances (id, plan_id, year, template_id, section, title, kind, period, unit_code, unit_name, unit_level,
			city, county, township, status, due_at, overdue_since, current_step, step_count, approver_unit, step_due_at,
			progress, progress_base, seq, spec, assigned_at, updated_at, completed_at)
		SELECT 'bench/' || g || '/' || u.code, $1, 2026, 't' || (g % 40), ((g % 10) + 1)::text, '压测任务 ' || g, 'deadline', '',
			u.code, u.code,
			CASE length(u.code) WHEN 4 THEN 'city' WHEN 6 THEN 'county' WHEN 9 THEN 'township' ELSE 'village' END,
			substr(u.code, 1, 4),
			CASE WHEN length(u.code) >= 6 THEN substr(u.code, 1, 6) END,
			CASE WHEN length(u.code) >= 9 THEN substr(u.code, 1, 9) END,
			s.status,
			timestamptz '2026-01-01 23:59:59+08' + (g % 365) * interval '1 day',
			CASE WHEN s.status IN ('assigned', 'in_progress', 'submitted') AND g % 6 = 0
				THEN timestamptz '2026-01-01 23:59:59+08' + (g % 300) * interval '1 day' END,
			CASE WHEN s.status = 'submitted' THEN 1 ELSE 0 END, 3,
			CASE WHEN s.status = 'submitted' THEN u.code END,
			CASE WHEN s.status = 'submitted' THEN timestamptz '2026-06-01 23:59:59+08' + (g % 100) * interval '1 day' END,
			0, 0, 2, jsonb_build_object('id', 'bench/' || g || '/' || u.code, 'plan_id', $1::text, 'year', 2026, 'unit_code', u.code), timestamptz '2026-01-01 00:00:00+08', now(),
			CASE WHEN s.status = 'completed' THEN now() END
		FROM generate_series(1, $2::int) AS g
		JOIN bench_units u ON u.idx = g % $3::int
		CROSS JOIN LATERAL (SELECT CASE
			WHEN g % 20 < 4 THEN 'completed' WHEN g % 20 = 4 THEN 'cancelled'
			WHEN g % 20 < 8 THEN 'submitted' WHEN g % 2 = 0 THEN 'in_progress' ELSE 'assigned' END AS status) s`,
		rowsPlan, n, len(codes))
	if err != nil {
		return fmt.Errorf("insert rows: %w", err)
	}
	logf("queries: %d rows inserted with their indexes in %s", n, time.Since(phase).Round(time.Second))
	phase = time.Now()
	// Counters for every unit's subtree, as transitions would have kept them.
	for _, col := range []string{"'43'", "city", "county", "township", "CASE WHEN unit_level = 'village' THEN unit_code END"} {
		parent := "NULL"
		switch col {
		case "city":
			parent = "'43'"
		case "county":
			parent = "city"
		case "township":
			parent = "county"
		default:
			if strings.HasPrefix(col, "CASE") {
				parent = "township"
			}
		}
		_, err := tx.Exec(ctx, `
			INSERT INTO rollups (plan_id, year, unit_code, parent_code, total, completed, cancelled, submitted, overdue)
			SELECT $1, 2026, k, p, count(*), count(*) FILTER (WHERE status = 'completed'), count(*) FILTER (WHERE status = 'cancelled'),
				count(*) FILTER (WHERE status = 'submitted'),
				count(*) FILTER (WHERE overdue_since IS NOT NULL AND status IN ('assigned', 'in_progress', 'submitted'))
			FROM (SELECT `+col+` AS k, `+parent+` AS p, status, overdue_since FROM instances WHERE plan_id = $1) x
			WHERE k IS NOT NULL GROUP BY k, p`, rowsPlan)
		if err != nil {
			return fmt.Errorf("rollups by %s: %w", col, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return err
	}
	logf("queries: rollup counters built and committed in %s", time.Since(phase).Round(time.Second))
	phase = time.Now()
	_, err = db.Pool.Exec(ctx, `ANALYZE instances; ANALYZE rollups`)
	logf("queries: analyzed in %s", time.Since(phase).Round(time.Second))
	return err
}

// projectionSize records the on-disk size of the projection at n rows.
func projectionSize(ctx context.Context, db *store.DB, n int, rep *Report, logf func(string, ...any)) error {
	var table, indexes, total, rollups int64
	err := db.Pool.QueryRow(ctx, `SELECT pg_table_size('instances'), pg_indexes_size('instances'), pg_total_relation_size('instances'),
		(SELECT count(*) FROM rollups)`).Scan(&table, &indexes, &total, &rollups)
	if err != nil {
		return err
	}
	mib := func(b int64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }
	logf("queries: %d rows: instances table %s, its indexes %s, %d rollup rows", n, mib(table), mib(indexes), rollups)
	rep.add(Figure{Section: "Projection size", Name: fmt.Sprintf("instances table and its indexes, %d rows (%d rollup rows)", n, rollups),
		Value: fmt.Sprintf("table %s, indexes %s, total %s (%.1f KiB a row)", mib(table), mib(indexes), mib(total), float64(total)/float64(n)/1024)})
	return nil
}

// writeTransitions times the write a person's decision makes at n rows:
// an open row taken to in_progress with its timeline event, the rollup
// counters of its five ancestors and its audit row, one at a time; then
// recounts every counter as the reconciler does and expects no drift.
func writeTransitions(ctx context.Context, db *store.DB, n int, rep *Report, logf func(string, ...any)) error {
	// A sample of pages, not a sort of the whole table.
	pct := min(100, 100*20000/float64(n))
	rows, err := db.Pool.Query(ctx, fmt.Sprintf(`SELECT id, seq, due_at, unit_code FROM instances TABLESAMPLE SYSTEM (%f)
		WHERE plan_id = $1 AND status = 'assigned' AND overdue_since IS NULL LIMIT 300`, pct), rowsPlan)
	if err != nil {
		return err
	}
	type open struct {
		id, unit string
		seq      int64
		due      time.Time
	}
	var picked []open
	for rows.Next() {
		var o open
		if err := rows.Scan(&o.id, &o.seq, &o.due, &o.unit); err != nil {
			rows.Close()
			return err
		}
		picked = append(picked, o)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(picked) < 100 {
		return fmt.Errorf("only %d open rows sampled", len(picked))
	}
	i := 0
	lat, err := timeIt(5, len(picked)-5, func() error {
		o := picked[i]
		i++
		tr := duban.Transition{InstanceID: o.id, Seq: o.seq + 1, At: time.Now(), Kind: duban.EventProgress,
			Actor: duban.Actor{UserID: 1, Name: "压测承办人", UnitCode: o.unit}, From: duban.StatusAssigned, To: duban.StatusInProgress,
			Projection: duban.Projection{Status: duban.StatusInProgress, Due: o.due, StepCount: 3, Progress: 1, ProgressBase: 1}}
		fresh, err := db.ApplyTransition(ctx, tr)
		if err == nil && !fresh {
			err = fmt.Errorf("transition on %s not written", o.id)
		}
		return err
	})
	if err != nil {
		return err
	}
	p50, p99, _ := percentiles(lat)
	logf("queries: %d rows, transition write with counters and audit: p50 %s p99 %s", n, ms(p50), ms(p99))
	rep.add(Figure{Section: "Projection writes", Name: fmt.Sprintf("a decision's write: row, event, 5 rollup counters, audit row, %d rows (%d writes)", n, len(lat)),
		Value: fmt.Sprintf("p50 %s, p99 %s", ms(p50), ms(p99))})

	start := time.Now()
	drift, err := db.RollupDrift(ctx, false, duban.System)
	if err != nil {
		return err
	}
	took := time.Since(start)
	logf("queries: %d rows, rollup recount in %s, %d counters drifted", n, took.Round(time.Millisecond), len(drift))
	met := "yes"
	if len(drift) > 0 {
		met = fmt.Sprintf("no: %d counters drifted", len(drift))
	}
	rep.add(Figure{Section: "Projection writes", Name: fmt.Sprintf("rollup counters against a full recount (reconciler), %d rows", n),
		Value: fmt.Sprintf("recount %s, %d counters drifted", took.Round(100*time.Millisecond), len(drift)), Target: "no drift", Met: met})
	return nil
}

// timeIt runs fn iterations times after warmups untimed runs.
func timeIt(warmups, iterations int, fn func() error) ([]time.Duration, error) {
	for range warmups {
		if err := fn(); err != nil {
			return nil, err
		}
	}
	out := make([]time.Duration, 0, iterations)
	for range iterations {
		start := time.Now()
		if err := fn(); err != nil {
			return nil, err
		}
		out = append(out, time.Since(start))
	}
	return out, nil
}

var scopes = []struct{ name, code string }{{"province 湖南省", "43"}, {"city 长沙市", "4301"}, {"county 芙蓉区", "430102"}}

func runQueries(ctx context.Context, s *stack, o Options, rep *Report, logf func(string, ...any)) error {
	// The visibility baseline is measured once, on whatever workflows the
	// run has started (the launch and timer sections).
	var running int64
	if r, err := s.client.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{Query: "WorkflowType = 'TaskWorkflow' AND ExecutionStatus = 'Running'"}); err == nil {
		running = r.GetCount()
	}
	visibility := map[string][2]string{}
	for _, sc := range scopes {
		if running == 0 {
			// A run of the queries alone (the million-row size) has no
			// workflows to ask; its baseline is the default run's.
			none := "— (no workflows in this run; see the run at default sizes)"
			visibility[sc.code] = [2]string{none, none}
			continue
		}
		overdueQ := fmt.Sprintf("ExecutionStatus = 'Running' AND DubanDue < '%s'", time.Now().UTC().Format(time.RFC3339))
		switch len(sc.code) {
		case 4:
			overdueQ += fmt.Sprintf(" AND DubanCity = '%s'", sc.code)
		case 6:
			overdueQ += fmt.Sprintf(" AND DubanCounty = '%s'", sc.code)
		}
		list, err := timeIt(5, 30, func() error {
			_, err := s.client.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: overdueQ, PageSize: 50})
			return err
		})
		if err != nil {
			return fmt.Errorf("visibility list: %w", err)
		}
		children := s.h.Children(sc.code)
		attr := map[int]string{2: "DubanCity", 4: "DubanCounty", 6: "DubanUnit"}[len(sc.code)]
		roll, err := timeIt(1, 5, func() error {
			for _, ch := range children {
				for _, extra := range []string{"", " AND ExecutionStatus = 'Running'", " AND ExecutionStatus = 'Completed'"} {
					// A township's own tasks (the launch has none below it).
					q := fmt.Sprintf("%s = '%s'%s", attr, ch.Code, extra)
					if _, err := s.client.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{Query: q}); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("visibility counts: %w", err)
		}
		l50, l99, _ := percentiles(list)
		r50, r99, _ := percentiles(roll)
		visibility[sc.code] = [2]string{
			fmt.Sprintf("visibility over %d running workflows: p50 %s, p99 %s", running, ms(l50), ms(l99)),
			fmt.Sprintf("visibility, %d count queries: p50 %s, p99 %s", 3*len(children), ms(r50), ms(r99)),
		}
		logf("queries: visibility %s: overdue list p50 %s p99 %s; rollup of %d children p50 %s p99 %s", sc.name, ms(l50), ms(l99), len(children), ms(r50), ms(r99))
	}

	for _, n := range o.Rows {
		start := time.Now()
		if err := fillRows(ctx, s.db, s.h, n, logf); err != nil {
			return err
		}
		took := time.Since(start)
		logf("queries: %d projection rows written in %s", n, took.Round(time.Second))
		rep.add(Figure{Section: "Projection size", Name: fmt.Sprintf("writing %d rows and their rollup counters (INSERT … SELECT generate_series, one transaction)", n),
			Value: took.Round(time.Second).String()})
		if err := projectionSize(ctx, s.db, n, rep, logf); err != nil {
			return err
		}
		for _, sc := range scopes {
			list, err := timeIt(5, 300, func() error {
				rows, err := s.db.Overdue(ctx, store.OverdueFilter{Unit: sc.code, PlanID: rowsPlan, Year: 2026, Limit: 50})
				if err == nil && len(rows) == 0 {
					err = fmt.Errorf("no overdue rows under %s", sc.code)
				}
				return err
			})
			if err != nil {
				return err
			}
			roll, err := timeIt(5, 300, func() error {
				rows, err := s.db.ChildRollups(ctx, rowsPlan, 2026, sc.code)
				if err == nil && len(rows) == 0 {
					err = fmt.Errorf("no rollups under %s", sc.code)
				}
				return err
			})
			if err != nil {
				return err
			}
			for _, m := range []struct {
				what string
				lat  []time.Duration
				base string
			}{{"overdue list, first page of 50", list, visibility[sc.code][0]}, {"rollup per child unit", roll, visibility[sc.code][1]}} {
				p50, p99, _ := percentiles(m.lat)
				met := "yes"
				if p99 > 10*time.Millisecond {
					met = fmt.Sprintf("no: %s over", ms(p99-10*time.Millisecond))
				}
				target := "p99 < 10 ms"
				if n < 1000000 {
					target, met = "p99 < 10 ms at 1,000,000", "—"
				}
				logf("queries: %d rows, %s, %s: p50 %s p99 %s", n, sc.name, m.what, ms(p50), ms(p99))
				rep.add(Figure{Section: "Supervisor queries", Name: fmt.Sprintf("%s, %s, %d rows", m.what, sc.name, n),
					Value: fmt.Sprintf("p50 %s, p99 %s", ms(p50), ms(p99)), Baseline: m.base, Target: target, Met: met})
			}
		}
		if err := writeTransitions(ctx, s.db, n, rep, logf); err != nil {
			return err
		}
	}
	return nil
}
