package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/duban-dev/duban"
)

// Keyset is a position in a list ordered by (time, id).
type Keyset struct {
	At time.Time
	ID string
}

// InstanceFilter selects instance rows. Unit with Subtree uses the ancestor
// columns, so "everything under a city" is an index range.
type InstanceFilter struct {
	Unit      string
	Subtree   bool
	Statuses  []duban.Status
	DueBefore *time.Time
	Overdue   *bool
	PlanID    string
	Year      int
	Section   string
	Level     duban.Level
	After     *Keyset // (due_at, id)
	Limit     int
}

// subtree restricts to a unit and everything under it, through the
// ancestor column of the unit's level.
func (q *query) subtree(unit string) {
	switch len(unit) {
	case duban.LevelCity.CodeLength():
		q.add("city = " + q.arg(unit))
	case duban.LevelCounty.CodeLength():
		q.add("county = " + q.arg(unit))
	case duban.LevelTownship.CodeLength():
		q.add("township = " + q.arg(unit))
	case duban.LevelProvince.CodeLength():
		q.add("unit_code LIKE " + q.arg(likePrefix(unit)))
	default:
		q.add("unit_code = " + q.arg(unit))
	}
}

func (q *query) common(unit string, subtree bool, planID string, year int, section string, level duban.Level) {
	if unit != "" {
		if subtree {
			q.subtree(unit)
		} else {
			q.add("unit_code = " + q.arg(unit))
		}
	}
	if planID != "" {
		q.add("plan_id = " + q.arg(planID))
	}
	if year != 0 {
		q.add("year = " + q.arg(year))
	}
	if section != "" {
		q.add("section = " + q.arg(section))
	}
	if level != "" {
		q.add("unit_level = " + q.arg(string(level)))
	}
}

// instancePage lists the rows q selects in (key, id) order: limit of them,
// from the keyset after (from the start when nil).
func (db *DB) instancePage(ctx context.Context, q *query, key string, after *Keyset, limit int) ([]Instance, error) {
	if after != nil {
		q.add("(" + key + ", id) > (" + q.arg(after.At) + ", " + q.arg(after.ID) + ")")
	}
	sql := `SELECT ` + InstanceCols + ` FROM instances WHERE ` + q.sql() + ` ORDER BY ` + key + `, id LIMIT ` + q.arg(limitOf(limit))
	rows, err := db.Pool.Query(ctx, sql, q.args...)
	if err != nil {
		return nil, fmt.Errorf("list instances: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Instance, error) { return ScanInstance(r) })
}

// Instances lists rows matching f by deadline, then id.
func (db *DB) Instances(ctx context.Context, f InstanceFilter) ([]Instance, error) {
	var q query
	q.common(f.Unit, f.Subtree, f.PlanID, f.Year, f.Section, f.Level)
	if len(f.Statuses) > 0 {
		st := make([]string, len(f.Statuses))
		for i, s := range f.Statuses {
			st[i] = string(s)
		}
		q.add("status = ANY(" + q.arg(st) + ")")
	}
	if f.DueBefore != nil {
		q.add("due_at < " + q.arg(*f.DueBefore))
	}
	if f.Overdue != nil {
		if *f.Overdue {
			q.add("overdue_since IS NOT NULL AND status IN ('assigned', 'in_progress', 'submitted')")
		} else {
			q.add("NOT (overdue_since IS NOT NULL AND status IN ('assigned', 'in_progress', 'submitted'))")
		}
	}
	return db.instancePage(ctx, &q, "due_at", f.After, f.Limit)
}

// OverdueFilter selects open overdue instances under a unit, the most
// overdue first.
type OverdueFilter struct {
	Unit    string
	PlanID  string
	Year    int
	Section string
	Level   duban.Level
	// LateSince keeps rows overdue since this instant or earlier ("at least N days late").
	LateSince *time.Time
	// LateAfter keeps rows overdue since after this instant ("at most N days late").
	LateAfter *time.Time
	After     *Keyset // (overdue_since, id)
	Limit     int
}

// Overdue lists open overdue instances under f.Unit ordered by
// (overdue_since, id): an index range on the partial overdue indexes.
func (db *DB) Overdue(ctx context.Context, f OverdueFilter) ([]Instance, error) {
	var q query
	q.add("overdue_since IS NOT NULL AND status IN ('assigned', 'in_progress', 'submitted')")
	q.common(f.Unit, true, f.PlanID, f.Year, f.Section, f.Level)
	if f.LateSince != nil {
		q.add("overdue_since <= " + q.arg(*f.LateSince))
	}
	if f.LateAfter != nil {
		q.add("overdue_since > " + q.arg(*f.LateAfter))
	}
	return db.instancePage(ctx, &q, "overdue_since", f.After, f.Limit)
}

// WaitingApprovals lists instances whose current approval step is decided
// by unit, the nearest SLA end first.
func (db *DB) WaitingApprovals(ctx context.Context, w Waiter, after *Keyset, limit int) ([]Instance, error) {
	var q query
	q.add("status = 'submitted'")
	q.add("waiting_units && " + q.arg(w.Units))
	q.add("(waiting_user = 0 OR waiting_user = ANY(" + q.arg(w.UserIDs) + "))")
	return db.instancePage(ctx, &q, "step_due_at", after, limit)
}

// Waiter is whose 待我审批 a list is: the approver's unit and id, and those
// of the approvers whose delegations to them are in force.
type Waiter struct {
	Units   []string
	UserIDs []int64
}

// WaitingExtensions lists open instances with an extension request that
// unit decides, by deadline.
func (db *DB) WaitingExtensions(ctx context.Context, unit string, after *Keyset, limit int) ([]Instance, error) {
	var q query
	q.add("extension_pending AND status IN ('assigned', 'in_progress', 'submitted')")
	q.add("extension_unit = " + q.arg(unit))
	return db.instancePage(ctx, &q, "due_at", after, limit)
}

// Instance is one row of the projection.
type Instance struct {
	ID           string         `json:"id"`
	PlanID       string         `json:"plan_id"`
	Year         int            `json:"year"`
	TemplateID   string         `json:"template_id"`
	Section      string         `json:"section"`
	Title        string         `json:"title"`
	Kind         duban.Kind     `json:"kind"`
	Period       string         `json:"period,omitempty"`
	UnitCode     string         `json:"unit_code"`
	UnitName     string         `json:"unit_name"`
	UnitLevel    duban.Level    `json:"unit_level"`
	Status       duban.Status   `json:"status"`
	Due          time.Time      `json:"due"`
	OverdueSince *time.Time     `json:"overdue_since,omitempty"`
	CurrentStep  int            `json:"current_step"`
	StepCount    int            `json:"step_count"`
	ApproverUnit *string        `json:"approver_unit,omitempty"`
	StepDue      *time.Time     `json:"step_due,omitempty"`
	Progress     int            `json:"progress"`
	ProgressBase int            `json:"progress_base"`
	Escalation   int            `json:"escalation"`
	Extension    bool           `json:"extension_pending"`
	Seq          int64          `json:"seq"`
	AssignedAt   time.Time      `json:"assigned_at"`
	UpdatedAt    time.Time      `json:"updated_at"`
	CompletedAt  *time.Time     `json:"completed_at,omitempty"`
	Spec         duban.TaskSpec `json:"-"`

	// LastReason is why the task was last sent back, while the unit holds
	// it again ("" otherwise).
	LastReason string `json:"last_reason,omitempty"`
	// The pending extension request, when Extension is set.
	ExtensionNewDue      *time.Time `json:"extension_new_due,omitempty"`
	ExtensionReason      string     `json:"extension_reason,omitempty"`
	ExtensionRequestedBy string     `json:"extension_requested_by,omitempty"` // the requester's name
	ExtensionRequestedAt *time.Time `json:"extension_requested_at,omitempty"`

	// How often the task was urged (催办), and when last.
	UrgeCount   int        `json:"urge_count"`
	LastUrgedAt *time.Time `json:"last_urged_at,omitempty"`
	// Assignee is the 承办人 the unit named, if any.
	Assignee *duban.Person `json:"assignee,omitempty"`
	// WaitingUnits are the units the step waiting waits on; WaitingUser the
	// one approver it was handed to (0: any approver of those units).
	WaitingUnits []string `json:"waiting_units,omitempty"`
	WaitingUser  int64    `json:"waiting_user,omitempty"`
	// Signed are the signatures the step waiting has so far.
	Signed []duban.Actor `json:"signed,omitempty"`
	// Chain is the approval chain once it changed; nil: the spec's.
	Chain []duban.ApprovalStep `json:"chain,omitempty"`
}

// ApprovalChain is the chain as it now is.
func (in Instance) ApprovalChain() []duban.ApprovalStep {
	if in.Chain != nil {
		return in.Chain
	}
	return in.Spec.Approval
}

// InstanceCols is the column list scanInstance reads, in order.
const InstanceCols = `id, plan_id, year, template_id, section, title, kind, period, unit_code, unit_name, unit_level,
	status, due_at, overdue_since, current_step, step_count, approver_unit, step_due_at, progress, progress_base,
	escalation, extension_pending, seq, assigned_at, updated_at, completed_at, last_reason,
	extension_new_due, extension_reason, extension_requested_by, extension_requested_at, spec,
	urge_count, last_urged_at, assignee_id, assignee_name, waiting_units, waiting_user, signed, chain`

// ScanInstance reads a row selected with InstanceCols.
func ScanInstance(row pgx.Row) (Instance, error) {
	var in Instance
	var kind, level, status string
	var spec, signed, chain []byte
	var assigneeID *int64
	var assigneeName string
	err := row.Scan(&in.ID, &in.PlanID, &in.Year, &in.TemplateID, &in.Section, &in.Title, &kind, &in.Period, &in.UnitCode, &in.UnitName, &level,
		&status, &in.Due, &in.OverdueSince, &in.CurrentStep, &in.StepCount, &in.ApproverUnit, &in.StepDue, &in.Progress, &in.ProgressBase,
		&in.Escalation, &in.Extension, &in.Seq, &in.AssignedAt, &in.UpdatedAt, &in.CompletedAt, &in.LastReason,
		&in.ExtensionNewDue, &in.ExtensionReason, &in.ExtensionRequestedBy, &in.ExtensionRequestedAt, &spec,
		&in.UrgeCount, &in.LastUrgedAt, &assigneeID, &assigneeName, &in.WaitingUnits, &in.WaitingUser, &signed, &chain)
	if err != nil {
		return in, err
	}
	in.Kind, in.UnitLevel, in.Status = duban.Kind(kind), duban.Level(level), duban.Status(status)
	if assigneeID != nil {
		in.Assignee = &duban.Person{UserID: *assigneeID, Name: assigneeName, UnitCode: in.UnitCode}
	}
	for _, j := range []struct {
		raw []byte
		v   any
	}{{spec, &in.Spec}, {signed, &in.Signed}, {chain, &in.Chain}} {
		if len(j.raw) > 0 {
			if err := json.Unmarshal(j.raw, j.v); err != nil {
				return in, err
			}
		}
	}
	return in, nil
}

// Instance returns one instance row.
func (db *DB) Instance(ctx context.Context, id string) (Instance, error) {
	in, err := ScanInstance(db.Pool.QueryRow(ctx, `SELECT `+InstanceCols+` FROM instances WHERE id = $1`, id))
	return in, translate(err, "任务 "+id)
}
