package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/internal/testenv"
	"github.com/duban-dev/duban/plan"
	"github.com/duban-dev/duban/score"
	"github.com/duban-dev/duban/store"
)

// importShipped stores the shipped plan, as `duban plan import` does.
func importShipped(t *testing.T, db *store.DB) *plan.Plan {
	t.Helper()
	p, src, err := plan.Shipped("hunan-2021")
	require.NoError(t, err)
	_, err = db.ImportPlan(context.Background(), p, src, "test")
	require.NoError(t, err)
	return p
}

func at(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, duban.Shanghai)
	if err != nil {
		panic(err)
	}
	return t
}

func mustDate(s string) plan.Date {
	d, err := plan.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

// step applies one transition to an instance, as the workflow's activity
// does, with a projection of the given status.
type step struct {
	kind     duban.EventKind
	at       string
	to       duban.Status
	newDue   string
	progress int
	base     int
	overdue  bool
}

func applySteps(t *testing.T, db *store.DB, id string, due time.Time, steps ...step) {
	t.Helper()
	from := duban.StatusAssigned
	for i, s := range steps {
		seq := int64(i + 2)
		tr := duban.Transition{InstanceID: id, Seq: seq, At: at(s.at), Kind: s.kind, From: from, To: s.to,
			Actor: duban.Actor{Name: "测试"}}
		if s.newDue != "" {
			d := mustDate(s.newDue).EndOfDay()
			tr.NewDue, due = &d, d
		}
		p := duban.Projection{Status: s.to, Due: due, StepCount: 3, Seq: seq, Progress: s.progress, ProgressBase: s.base}
		if s.to == duban.StatusCompleted {
			c := tr.At
			p.CompletedAt = &c
		}
		if s.overdue {
			p.OverdueSince = &due
		}
		tr.Projection = p
		_, err := db.ApplyTransition(context.Background(), tr)
		require.NoError(t, err)
		from = s.to
	}
}

// The record of a city's counties as of a day: their tasks, the events the
// rules read up to the end of that day and nothing after, and their awards;
// the ranking under the city follows from it.
func TestScoreRecordsAndRanking(t *testing.T) {
	db := testenv.OpenDB(t)
	ctx := context.Background()
	p := importShipped(t, db)
	_, err := db.RecordAssigned(ctx, specsOf(t, "2.1", "2.13", "6.1"), at("2021-01-04 09:00"))
	require.NoError(t, err)
	due := duban.EndOfDay(2021, 12, 31)

	// 芙蓉区: reform plan submitted, sent back, submitted again and approved
	// in time; the village training reached 30 of 120.
	applySteps(t, db, "2021/2.1/430102", due,
		step{kind: duban.EventReminder, at: "2021-12-01 09:00", to: duban.StatusAssigned},
		step{kind: duban.EventSubmitted, at: "2021-12-10 10:00", to: duban.StatusSubmitted},
		step{kind: duban.EventRejected, at: "2021-12-12 10:00", to: duban.StatusInProgress},
		step{kind: duban.EventSubmitted, at: "2021-12-20 10:00", to: duban.StatusSubmitted},
		step{kind: duban.EventCompleted, at: "2021-12-28 10:00", to: duban.StatusCompleted})
	applySteps(t, db, "2021/2.13/430102", due,
		step{kind: duban.EventProgress, at: "2021-10-01 10:00", to: duban.StatusInProgress, progress: 30, base: 120})
	// 天心区: reform plan extended to January, done in January; urged once
	// (an event kind the score counts); the insurance campaign cancelled.
	applySteps(t, db, "2021/2.1/430103", due,
		step{kind: duban.EventUrged, at: "2021-11-01 10:00", to: duban.StatusAssigned},
		step{kind: duban.EventExtensionGranted, at: "2021-12-15 10:00", to: duban.StatusAssigned, newDue: "2022-01-31"},
		step{kind: duban.EventSubmitted, at: "2022-01-10 10:00", to: duban.StatusSubmitted},
		step{kind: duban.EventCompleted, at: "2022-01-12 10:00", to: duban.StatusCompleted})
	applySteps(t, db, "2021/6.1/430103", due,
		step{kind: duban.EventCancelled, at: "2021-06-01 10:00", to: duban.StatusCancelled})
	// 岳麓区 does nothing and goes overdue.
	applySteps(t, db, "2021/2.1/430104", due,
		step{kind: duban.EventOverdue, at: "2022-01-01 00:00", to: duban.StatusAssigned, overdue: true})

	supervisor := duban.Actor{UserID: 0, Name: "省督查人", UnitCode: "43"}
	award, err := db.AwardBonus(ctx, store.AwardInput{PlanID: p.ID, UnitCode: "430102", BonusID: "provincial-promotion", Points: 200,
		Reason: "改革经验在全省推广", At: at("2021-11-20 10:00")}, supervisor)
	require.NoError(t, err)
	require.Equal(t, 2021, award.Year, "the year defaults to the plan's")
	// An award after the day scored, and a revoked one, do not count.
	_, err = db.AwardBonus(ctx, store.AwardInput{PlanID: p.ID, UnitCode: "430102", BonusID: "provincial-commendation", Points: 100,
		Reason: "次年表彰", At: at("2022-01-05 10:00")}, supervisor)
	require.NoError(t, err)
	wrong, err := db.AwardBonus(ctx, store.AwardInput{PlanID: p.ID, UnitCode: "430104", BonusID: "provincial-promotion", Points: 200,
		Reason: "记错了单位", At: at("2021-11-20 10:00")}, supervisor)
	require.NoError(t, err)
	_, err = db.RevokeAward(ctx, wrong.ID, "单位记错", supervisor)
	require.NoError(t, err)

	recs, err := db.ScoreRecords(ctx, store.RecordQuery{PlanID: p.ID, Year: 2021, Under: "4301",
		Levels: []duban.Level{duban.LevelCounty}, AsOf: mustDate("2021-12-31")})
	require.NoError(t, err)
	require.Len(t, recs, 9, "every county of Changsha, with tasks or not")
	byCode := map[string]score.Record{}
	for _, r := range recs {
		byCode[r.Unit.Code] = r
	}
	furong := byCode["430102"]
	require.Equal(t, "芙蓉区", furong.Unit.Name)
	require.Len(t, furong.Tasks, 3)
	require.Len(t, furong.Awards, 1, "the award after the day is not read")
	for _, tk := range furong.Tasks {
		switch tk.TemplateID {
		case "2.1":
			var kinds []duban.EventKind
			for _, e := range tk.Events {
				kinds = append(kinds, e.Kind)
			}
			require.Equal(t, []duban.EventKind{duban.EventSubmitted, duban.EventRejected, duban.EventSubmitted, duban.EventCompleted}, kinds,
				"reminders are not read; the rest in order")
			require.True(t, tk.Due.Equal(due))
		case "2.13":
			require.NotNil(t, tk.Ratio)
			require.Equal(t, 3, tk.Ratio.Den)
			require.Len(t, tk.Events, 1)
			require.True(t, tk.Events[0].HasProgress)
			require.Equal(t, 30, tk.Events[0].Progress)
			require.Equal(t, 120, tk.Events[0].ProgressBase)
		}
	}
	tianxin := byCode["430103"]
	for _, tk := range tianxin.Tasks {
		if tk.TemplateID == "2.1" {
			require.Len(t, tk.Events, 2, "as of 31 December: the urge and the extension, not January's submission")
			require.NotNil(t, tk.Events[1].NewDue)
			require.True(t, tk.Events[1].NewDue.Equal(mustDate("2022-01-31").EndOfDay()))
		}
	}
	require.Empty(t, byCode["430104"].Awards, "a revoked award is not read")

	ranking, err := db.RankChildren(ctx, p.ID, 2021, "4301", mustDate("2022-02-28"))
	require.NoError(t, err)
	require.Equal(t, "长沙市", ranking.Parent.Name)
	require.Len(t, ranking.Rows, 9)
	first := ranking.Rows[0]
	require.Equal(t, "430102", first.Score.Unit.Code, "芙蓉区 did everything in time")
	for _, r := range ranking.Rows {
		var sum plan.Points
		for _, l := range r.Score.Lines {
			sum += l.Points
		}
		require.Equal(t, r.Score.Total, sum, "lines add up for %s", r.Score.Unit.Name)
	}
	// 芙蓉区: 2.1 on time (10 × 2), 2.13 at 75 % (15 × 0.75), 6.1 not done
	// (0 of 10): 31.25 of 45 → 69.44; a return −0.5; the awards +2 and, by
	// February, January's +1.
	require.Equal(t, plan.Points(7194), first.Score.Total)
	// 天心区: 2.1 on time after its extension (20 of 20), 2.13 not done (0 of
	// 15), 6.1 cancelled: 20 of 35 → 57.14; the extension −0.5, the urge −0.5.
	require.Equal(t, "430103", ranking.Rows[1].Score.Unit.Code)
	require.Equal(t, plan.Points(5614), ranking.Rows[1].Score.Total)
	// The seven others did nothing: all tied third, in code order.
	for i, r := range ranking.Rows[2:] {
		require.Equal(t, 3, r.Rank)
		require.True(t, r.Tied)
		require.Equal(t, "并列第 3 名", r.RankText())
		if i > 0 {
			require.Less(t, ranking.Rows[i+1].Score.Unit.Code, r.Score.Unit.Code)
		}
	}
	require.NotEmpty(t, ranking.TieRule)
}

func TestAwardRefusals(t *testing.T) {
	db := testenv.OpenDB(t)
	ctx := context.Background()
	p := importShipped(t, db)
	actor := duban.Actor{Name: "省督查人", UnitCode: "43"}
	ok := store.AwardInput{PlanID: p.ID, UnitCode: "4301", BonusID: "provincial-promotion", Points: 200, Reason: "推广", At: at("2021-06-01 10:00")}
	for name, c := range map[string]struct {
		mut   func(*store.AwardInput)
		field string
	}{
		"unknown item":   {func(in *store.AwardInput) { in.BonusID = "nope" }, "bonus_id"},
		"too many":       {func(in *store.AwardInput) { in.Points = 300 }, "points"},
		"wrong sign":     {func(in *store.AwardInput) { in.Points = -100 }, "points"},
		"no reason":      {func(in *store.AwardInput) { in.Reason = "  " }, "reason"},
		"control in why": {func(in *store.AwardInput) { in.Reason = "a\x00b" }, "reason"},
	} {
		in := ok
		c.mut(&in)
		_, err := db.AwardBonus(ctx, in, actor)
		var e *duban.Error
		require.ErrorAs(t, err, &e, name)
		require.Equal(t, c.field, e.Field, name)
	}
	in := ok
	in.UnitCode = "4399"
	_, err := db.AwardBonus(ctx, in, actor)
	require.Equal(t, duban.EINVALID, duban.ErrorCode(err), "an unknown unit")
	require.Zero(t, count(t, db, `SELECT count(*) FROM score_awards`), "nothing half-written")
	require.Zero(t, count(t, db, `SELECT count(*) FROM audit_log WHERE action LIKE 'score.%'`))

	a, err := db.AwardBonus(ctx, ok, actor)
	require.NoError(t, err)
	require.Equal(t, plan.Points(200), a.Points)
	_, err = db.RevokeAward(ctx, a.ID, "撤回", actor)
	require.NoError(t, err)
	_, err = db.RevokeAward(ctx, a.ID, "再撤回", actor)
	require.Equal(t, duban.ECONFLICT, duban.ErrorCode(err))
	all, err := db.Awards(ctx, p.ID, 2021, "43")
	require.NoError(t, err)
	require.Len(t, all, 1)
	require.NotNil(t, all[0].RevokedAt)
	require.Equal(t, "撤回", all[0].RevokeReason)
	// Both acts are audited, and the chain still verifies.
	require.Equal(t, 1, count(t, db, `SELECT count(*) FROM audit_log WHERE action = 'score.award' AND unit_code = '4301'`))
	require.Equal(t, 1, count(t, db, `SELECT count(*) FROM audit_log WHERE action = 'score.revoke'`))
	check, err := db.VerifyAudit(ctx)
	require.NoError(t, err)
	require.True(t, check.OK(), check.Problem)
}

func TestSnapshotsAndTrend(t *testing.T) {
	db := testenv.OpenDB(t)
	ctx := context.Background()
	importShipped(t, db)
	_, err := db.RecordAssigned(ctx, specsOf(t, "2.1"), at("2021-01-04 09:00"))
	require.NoError(t, err)
	rows := count(t, db, `SELECT count(*) FROM rollups WHERE year = 2021`)

	n, err := db.TakeSnapshot(ctx, mustDate("2021-03-01"))
	require.NoError(t, err)
	require.Equal(t, rows, n)
	// Again the same day: the same rows, nothing added.
	_, err = db.TakeSnapshot(ctx, mustDate("2021-03-01"))
	require.NoError(t, err)
	require.Equal(t, rows, count(t, db, `SELECT count(*) FROM rollup_snapshots`))

	// 芙蓉区 finishes; later that day the snapshot is taken again and the
	// day's row shows it; the next day gets its own rows.
	applySteps(t, db, "2021/2.1/430102", duban.EndOfDay(2021, 12, 31),
		step{kind: duban.EventSubmitted, at: "2021-03-01 10:00", to: duban.StatusSubmitted},
		step{kind: duban.EventCompleted, at: "2021-03-01 15:00", to: duban.StatusCompleted})
	_, err = db.TakeSnapshot(ctx, mustDate("2021-03-01"))
	require.NoError(t, err)
	applySteps(t, db, "2021/2.1/430103", duban.EndOfDay(2021, 12, 31),
		step{kind: duban.EventOverdue, at: "2021-03-02 10:00", to: duban.StatusAssigned, overdue: true})
	_, err = db.TakeSnapshot(ctx, mustDate("2021-03-02"))
	require.NoError(t, err)

	series, err := db.Series(ctx, "4301", 2021, "hunan-2021")
	require.NoError(t, err)
	require.Equal(t, []store.SnapshotPoint{
		{Day: "2021-03-01", Total: 10, Completed: 1},
		{Day: "2021-03-02", Total: 10, Completed: 1, Overdue: 1},
	}, series)

	// The year before ran under another plan id; its snapshots are the
	// comparison.
	_, err = db.Pool.Exec(ctx, `INSERT INTO rollups (plan_id, year, unit_code, parent_code, total, completed, overdue)
		VALUES ('hunan-2020', 2020, '4301', '43', 12, 7, 2)`)
	require.NoError(t, err)
	_, err = db.TakeSnapshot(ctx, mustDate("2020-03-01"))
	require.NoError(t, err)
	trend, err := db.TrendOf(ctx, "4301", 2021, "hunan-2021")
	require.NoError(t, err)
	require.Len(t, trend.Days, 2)
	require.Equal(t, []store.SnapshotPoint{{Day: "2020-03-01", Total: 12, Completed: 7, Overdue: 2}}, trend.Previous)
}
