package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/plan"
	"github.com/duban-dev/duban/score"
)

// RecordQuery selects the units to score and the day to score them on.
type RecordQuery struct {
	PlanID string
	Year   int
	// Under is the root of the subtree scored ("" or the province: all).
	Under string
	// Levels keeps the units at these levels (none: every level). The
	// children of a unit are Under it at the level below.
	Levels []duban.Level
	// AsOf is the day: events and awards after its end are not read.
	AsOf plan.Date
}

// ScoreRecords loads, for each unit the query selects, what its score is
// computed from: its own task instances with the events the rules read (up
// to the end of the day) and the awards it received. Units without tasks
// come back with empty records, so a ranking lists every unit. Three
// queries, whatever the number of units: the units, the instances, and
// their events joined to them.
func (db *DB) ScoreRecords(ctx context.Context, rq RecordQuery) ([]score.Record, error) {
	cutoff := rq.AsOf.EndOfDay()
	levels := make([]string, len(rq.Levels))
	for i, l := range rq.Levels {
		levels[i] = string(l)
	}
	// Units.
	uq := &query{}
	if rq.Under != "" {
		uq.add("code LIKE " + uq.arg(likePrefix(rq.Under)))
	}
	if len(levels) > 0 {
		uq.add("level = ANY(" + uq.arg(levels) + ")")
	}
	rows, err := db.Pool.Query(ctx, `SELECT code, name, level, coalesce(parent_code, '') FROM units WHERE `+uq.sql()+` ORDER BY code`, uq.args...)
	if err != nil {
		return nil, fmt.Errorf("score units: %w", err)
	}
	units, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (score.Unit, error) {
		var u score.Unit
		var level string
		err := r.Scan(&u.Code, &u.Name, &level, &u.Parent)
		u.Level = duban.Level(level)
		return u, err
	})
	if err != nil {
		return nil, fmt.Errorf("score units: %w", err)
	}
	recs := make([]score.Record, len(units))
	byUnit := make(map[string]*score.Record, len(units))
	for i, u := range units {
		recs[i] = score.Record{Unit: u}
		byUnit[u.Code] = &recs[i]
	}

	// Instances of those units, and their events up to the cutoff.
	iq := &query{}
	if rq.Under != "" {
		iq.subtree(rq.Under)
	}
	iq.add("plan_id = " + iq.arg(rq.PlanID))
	iq.add("year = " + iq.arg(rq.Year))
	if len(levels) > 0 {
		iq.add("unit_level = ANY(" + iq.arg(levels) + ")")
	}
	rows, err = db.Pool.Query(ctx, `SELECT id, template_id, section, title, period, kind, unit_code,
			(spec->>'due')::timestamptz, coalesce((spec->>'target')::int, 0), spec->'ratio'
		FROM instances WHERE `+iq.sql()+` ORDER BY unit_code, id`, iq.args...)
	if err != nil {
		return nil, fmt.Errorf("score instances: %w", err)
	}
	type owned struct {
		unit string
		task score.Task
	}
	tasks, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (owned, error) {
		var o owned
		var kind string
		var ratio []byte
		err := r.Scan(&o.task.ID, &o.task.TemplateID, &o.task.Section, &o.task.Title, &o.task.Period, &kind, &o.unit,
			&o.task.Due, &o.task.Target, &ratio)
		o.task.Kind = duban.Kind(kind)
		if err == nil && len(ratio) > 0 && string(ratio) != "null" {
			o.task.Ratio = new(duban.Ratio)
			err = json.Unmarshal(ratio, o.task.Ratio)
		}
		return o, err
	})
	if err != nil {
		return nil, fmt.Errorf("score instances: %w", err)
	}
	index := make(map[string]*score.Task, len(tasks))
	for _, o := range tasks {
		rec := byUnit[o.unit]
		if rec == nil {
			continue // a unit no longer in the hierarchy
		}
		rec.Tasks = append(rec.Tasks, o.task)
	}
	for i := range recs {
		for j := range recs[i].Tasks {
			index[recs[i].Tasks[j].ID] = &recs[i].Tasks[j]
		}
	}
	kinds := make([]string, len(score.Kinds))
	for i, k := range score.Kinds {
		kinds[i] = string(k)
	}
	eq := &query{where: iq.where, args: iq.args}
	eq.add("e.kind = ANY(" + eq.arg(kinds) + ")")
	eq.add("e.at <= " + eq.arg(cutoff))
	rows, err = db.Pool.Query(ctx, `SELECT e.instance_id, e.seq, e.at, e.kind, e.to_status,
			(e.data->>'new_due')::timestamptz, (e.data->>'progress')::int, (e.data->>'progress_base')::int
		FROM instances JOIN events e ON e.instance_id = instances.id
		WHERE `+eq.sql()+` ORDER BY e.instance_id, e.seq`, eq.args...)
	if err != nil {
		return nil, fmt.Errorf("score events: %w", err)
	}
	var (
		id             string
		ev             score.Event
		kind, to       string
		progress, base *int
	)
	_, err = pgx.ForEachRow(rows, []any{&id, &ev.Seq, &ev.At, &kind, &to, &ev.NewDue, &progress, &base}, func() error {
		t := index[id]
		if t == nil {
			return nil
		}
		e := ev
		e.Kind, e.To = duban.EventKind(kind), duban.Status(to)
		if progress != nil {
			e.Progress, e.HasProgress = *progress, true
			if base != nil {
				e.ProgressBase = *base
			}
		}
		t.Events = append(t.Events, e)
		ev.NewDue = nil
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("score events: %w", err)
	}

	awards, err := db.awards(ctx, rq.PlanID, rq.Year, rq.Under, levels, &cutoff)
	if err != nil {
		return nil, err
	}
	for _, a := range awards {
		if rec := byUnit[a.UnitCode]; rec != nil {
			rec.Awards = append(rec.Awards, a.Award)
		}
	}
	return recs, nil
}

// ScoreUnits scores the units a query selects with the stored plan's rules.
func (db *DB) ScoreUnits(ctx context.Context, rq RecordQuery) (*plan.Plan, []score.Score, error) {
	p, err := db.Plan(ctx, rq.PlanID)
	if err != nil {
		return nil, nil, err
	}
	if p.Scoring == nil {
		return p, nil, duban.Errorf(duban.EINVALID, "计划 %s 未设置考核规则（scoring）", p.ID)
	}
	recs, err := db.ScoreRecords(ctx, rq)
	if err != nil {
		return p, nil, err
	}
	scores, err := score.ComputeAll(p.Scoring, recs, rq.AsOf)
	return p, scores, err
}

// RankChildren scores the units directly under parent and ranks them.
func (db *DB) RankChildren(ctx context.Context, planID string, year int, parent string, asOf plan.Date) (score.Ranking, error) {
	level, ok := duban.LevelOfCode(parent)
	if !ok || level.Depth() >= duban.LevelTownship.Depth() {
		return score.Ranking{}, duban.FieldError("unit", "单位代码 %q 无效：应为省、市州或县市区的区划代码", parent)
	}
	var pu score.Unit
	var lv string
	err := db.Pool.QueryRow(ctx, `SELECT code, name, level, coalesce(parent_code, '') FROM units WHERE code = $1`, parent).Scan(&pu.Code, &pu.Name, &lv, &pu.Parent)
	if err != nil {
		return score.Ranking{}, translate(err, "单位 "+parent)
	}
	pu.Level = duban.Level(lv)
	below := duban.Levels[level.Depth()+1]
	p, scores, err := db.ScoreUnits(ctx, RecordQuery{PlanID: planID, Year: year, Under: parent, Levels: []duban.Level{below}, AsOf: asOf})
	if err != nil {
		return score.Ranking{}, err
	}
	return score.Ranking{PlanID: p.ID, PlanTitle: p.Title, Year: year, Parent: pu, AsOf: asOf, Rows: score.Rank(scores), TieRule: score.TieRule}, nil
}

// Award is a bonus award as stored.
type Award struct {
	score.Award
	PlanID        string     `json:"plan_id"`
	Year          int        `json:"year"`
	UnitCode      string     `json:"unit_code"`
	UnitName      string     `json:"unit_name"`
	AwardedByID   *int64     `json:"awarded_by_id,omitempty"`
	RevokedAt     *time.Time `json:"revoked_at,omitempty"`
	RevokedByName string     `json:"revoked_by_name,omitempty"`
	RevokeReason  string     `json:"revoke_reason,omitempty"`
}

// AwardInput is a supervisor's award of a bonus item to a unit.
type AwardInput struct {
	PlanID   string
	Year     int
	UnitCode string
	BonusID  string
	Points   plan.Points
	Reason   string
	At       time.Time // plan time of the award
}

const awardCols = `a.id, a.plan_id, a.year, a.unit_code, u.name, a.bonus_id, (a.points * 100)::bigint, a.reason, a.at,
	a.awarded_by, a.awarded_by_name, a.revoked_at, a.revoked_by_name, a.revoke_reason`

func scanAward(r pgx.Row) (Award, error) {
	var a Award
	var pts int64
	err := r.Scan(&a.ID, &a.PlanID, &a.Year, &a.UnitCode, &a.UnitName, &a.BonusID, &pts, &a.Reason, &a.At,
		&a.AwardedByID, &a.AwardedBy, &a.RevokedAt, &a.RevokedByName, &a.RevokeReason)
	a.Points = plan.Points(pts)
	return a, err
}

// AwardBonus records an award and audits it, in one transaction. The item
// must be one of the plan's bonus items, the points within it, the unit
// real, the reason given: otherwise an invalid-input error names the field.
func (db *DB) AwardBonus(ctx context.Context, in AwardInput, actor duban.Actor) (Award, error) {
	switch {
	case strings.TrimSpace(in.Reason) == "":
		return Award{}, duban.FieldError("reason", "请填写加减分理由")
	case duban.TextProblem(in.Reason, duban.MaxReasonLength, true) != "":
		return Award{}, duban.FieldError("reason", "理由%s", duban.TextProblem(in.Reason, duban.MaxReasonLength, true))
	case !duban.DateInRange(in.At):
		return Award{}, duban.FieldError("at", "%s", duban.DateRangeProblem())
	}
	p, err := db.Plan(ctx, in.PlanID)
	if err != nil {
		return Award{}, err
	}
	var rules *plan.Scoring
	if p != nil {
		rules = p.Scoring
	}
	if err := score.CheckAward(rules, in.BonusID, in.Points); err != nil {
		return Award{}, err
	}
	if in.Year == 0 {
		in.Year = p.Year
	}
	var a Award
	err = pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		var by *int64
		if actor.UserID != 0 {
			id := actor.UserID
			by = &id
		}
		var id int64
		err := tx.QueryRow(ctx, `INSERT INTO score_awards (plan_id, year, unit_code, bonus_id, points, reason, at, awarded_by, awarded_by_name)
			VALUES ($1, $2, $3, $4, $5::numeric / 100, $6, $7, $8, $9) RETURNING id`,
			in.PlanID, in.Year, in.UnitCode, in.BonusID, int64(in.Points), in.Reason, in.At, by, actor.Name).Scan(&id)
		if err != nil {
			return translate(err, "单位 "+in.UnitCode)
		}
		a, err = scanAward(tx.QueryRow(ctx, `SELECT `+awardCols+` FROM score_awards a JOIN units u ON u.code = a.unit_code WHERE a.id = $1`, id))
		if err != nil {
			return err
		}
		item, _ := rules.BonusItem(in.BonusID)
		return auditTx(ctx, tx, actor, "score.award", in.UnitCode, "", map[string]any{
			"award": a.ID, "plan_id": in.PlanID, "year": in.Year, "bonus_id": in.BonusID, "title": item.Title,
			"points": in.Points.Short(), "reason": in.Reason, "plan_at": in.At,
		})
	})
	if err != nil {
		return Award{}, fmt.Errorf("award bonus: %w", refusedContent(err))
	}
	return a, nil
}

// RevokeAward withdraws an award (it stays, marked) and audits it.
func (db *DB) RevokeAward(ctx context.Context, id int64, reason string, actor duban.Actor) (Award, error) {
	switch {
	case strings.TrimSpace(reason) == "":
		return Award{}, duban.FieldError("reason", "请填写撤销理由")
	case duban.TextProblem(reason, duban.MaxReasonLength, true) != "":
		return Award{}, duban.FieldError("reason", "理由%s", duban.TextProblem(reason, duban.MaxReasonLength, true))
	}
	var a Award
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE score_awards SET revoked_at = now(), revoked_by_name = $2, revoke_reason = $3
			WHERE id = $1 AND revoked_at IS NULL`, id, actor.Name, reason)
		if err != nil {
			return err
		}
		a, err = scanAward(tx.QueryRow(ctx, `SELECT `+awardCols+` FROM score_awards a JOIN units u ON u.code = a.unit_code WHERE a.id = $1`, id))
		if err != nil {
			return translate(err, fmt.Sprintf("加减分记录 %d", id))
		}
		if tag.RowsAffected() == 0 {
			return duban.Errorf(duban.ECONFLICT, "加减分记录 %d 已于 %s 撤销", id, a.RevokedAt.In(duban.Shanghai).Format("2006-01-02 15:04"))
		}
		return auditTx(ctx, tx, actor, "score.revoke", a.UnitCode, "", map[string]any{
			"award": id, "bonus_id": a.BonusID, "points": a.Points.Short(), "reason": reason,
		})
	})
	return a, err
}

// AwardByID returns one award, revoked or not.
func (db *DB) AwardByID(ctx context.Context, id int64) (Award, error) {
	a, err := scanAward(db.Pool.QueryRow(ctx, `SELECT `+awardCols+` FROM score_awards a JOIN units u ON u.code = a.unit_code WHERE a.id = $1`, id))
	return a, translate(err, fmt.Sprintf("加减分记录 %d", id))
}

// Awards lists the awards of a plan year to units under a unit ("" for
// all), revoked ones included, oldest first.
func (db *DB) Awards(ctx context.Context, planID string, year int, under string) ([]Award, error) {
	q := &query{}
	q.add("a.plan_id = " + q.arg(planID))
	q.add("a.year = " + q.arg(year))
	if under != "" {
		q.add("a.unit_code LIKE " + q.arg(likePrefix(under)))
	}
	rows, err := db.Pool.Query(ctx, `SELECT `+awardCols+` FROM score_awards a JOIN units u ON u.code = a.unit_code WHERE `+q.sql()+` ORDER BY a.at, a.id`, q.args...)
	if err != nil {
		return nil, fmt.Errorf("awards: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Award, error) { return scanAward(r) })
}

// awards are the standing awards up to the cutoff of units under a unit at
// some levels.
func (db *DB) awards(ctx context.Context, planID string, year int, under string, levels []string, cutoff *time.Time) ([]Award, error) {
	q := &query{}
	q.add("a.plan_id = " + q.arg(planID))
	q.add("a.year = " + q.arg(year))
	q.add("a.revoked_at IS NULL")
	if under != "" {
		q.add("a.unit_code LIKE " + q.arg(likePrefix(under)))
	}
	if len(levels) > 0 {
		q.add("u.level = ANY(" + q.arg(levels) + ")")
	}
	if cutoff != nil {
		q.add("a.at <= " + q.arg(*cutoff))
	}
	rows, err := db.Pool.Query(ctx, `SELECT `+awardCols+` FROM score_awards a JOIN units u ON u.code = a.unit_code WHERE `+q.sql()+` ORDER BY a.at, a.id`, q.args...)
	if err != nil {
		return nil, fmt.Errorf("awards: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Award, error) { return scanAward(r) })
}
