package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/duban-dev/duban"
)

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
}

// InstanceCols is the column list scanInstance reads, in order.
const InstanceCols = `id, plan_id, year, template_id, section, title, kind, period, unit_code, unit_name, unit_level,
	status, due_at, overdue_since, current_step, step_count, approver_unit, step_due_at, progress, progress_base,
	escalation, extension_pending, seq, assigned_at, updated_at, completed_at, last_reason,
	extension_new_due, extension_reason, extension_requested_by, extension_requested_at, spec`

// ScanInstance reads a row selected with InstanceCols.
func ScanInstance(row pgx.Row) (Instance, error) {
	var in Instance
	var kind, level, status string
	var spec []byte
	err := row.Scan(&in.ID, &in.PlanID, &in.Year, &in.TemplateID, &in.Section, &in.Title, &kind, &in.Period, &in.UnitCode, &in.UnitName, &level,
		&status, &in.Due, &in.OverdueSince, &in.CurrentStep, &in.StepCount, &in.ApproverUnit, &in.StepDue, &in.Progress, &in.ProgressBase,
		&in.Escalation, &in.Extension, &in.Seq, &in.AssignedAt, &in.UpdatedAt, &in.CompletedAt, &in.LastReason,
		&in.ExtensionNewDue, &in.ExtensionReason, &in.ExtensionRequestedBy, &in.ExtensionRequestedAt, &spec)
	if err != nil {
		return in, err
	}
	in.Kind, in.UnitLevel, in.Status = duban.Kind(kind), duban.Level(level), duban.Status(status)
	err = json.Unmarshal(spec, &in.Spec)
	return in, err
}

// Instance returns one instance row.
func (db *DB) Instance(ctx context.Context, id string) (Instance, error) {
	in, err := ScanInstance(db.Pool.QueryRow(ctx, `SELECT `+InstanceCols+` FROM instances WHERE id = $1`, id))
	return in, translate(err, "任务 "+id)
}

// Event is one timeline entry.
type Event struct {
	InstanceID string          `json:"instance_id"`
	Seq        int64           `json:"seq"`
	At         time.Time       `json:"at"`
	Kind       duban.EventKind `json:"kind"`
	KindLabel  string          `json:"kind_label"`
	ActorID    *int64          `json:"actor_id,omitempty"`
	ActorName  string          `json:"actor_name"`
	ActorUnit  string          `json:"actor_unit,omitempty"`
	From       duban.Status    `json:"from,omitempty"`
	To         duban.Status    `json:"to,omitempty"`
	Step       int             `json:"step,omitempty"`
	Reason     string          `json:"reason,omitempty"`
	Note       string          `json:"note,omitempty"`
	Data       json.RawMessage `json:"data,omitempty"`
}

// Timeline returns an instance's events in order.
func (db *DB) Timeline(ctx context.Context, id string) ([]Event, error) {
	rows, err := db.Pool.Query(ctx, `SELECT instance_id, seq, at, kind, actor_id, actor_name, actor_unit, from_status, to_status, step, reason, note, data
		FROM events WHERE instance_id = $1 ORDER BY seq`, id)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Event, error) {
		var e Event
		var kind, from, to string
		err := r.Scan(&e.InstanceID, &e.Seq, &e.At, &kind, &e.ActorID, &e.ActorName, &e.ActorUnit, &from, &to, &e.Step, &e.Reason, &e.Note, &e.Data)
		e.Kind, e.From, e.To = duban.EventKind(kind), duban.Status(from), duban.Status(to)
		e.KindLabel = e.Kind.Label()
		return e, err
	})
}

// InboxItem is one notification for one person.
type InboxItem struct {
	ID         int64           `json:"id"`
	UserID     int64           `json:"user_id"`
	InstanceID string          `json:"instance_id"`
	Seq        int64           `json:"seq"`
	Kind       duban.EventKind `json:"kind"`
	Title      string          `json:"title"`
	Body       string          `json:"body"`
	Urgent     bool            `json:"urgent"`
	At         time.Time       `json:"at"`
	ReadAt     *time.Time      `json:"read_at,omitempty"`
}

// InboxCols is the column list ScanInbox reads.
const InboxCols = `id, user_id, instance_id, seq, kind, title, body, urgent, at, read_at`

// ScanInbox reads a row selected with InboxCols.
func ScanInbox(r pgx.Row) (InboxItem, error) {
	var it InboxItem
	var kind string
	err := r.Scan(&it.ID, &it.UserID, &it.InstanceID, &it.Seq, &kind, &it.Title, &it.Body, &it.Urgent, &it.At, &it.ReadAt)
	it.Kind = duban.EventKind(kind)
	return it, err
}

// InboxForInstance returns every inbox row about an instance, oldest first.
func (db *DB) InboxForInstance(ctx context.Context, instanceID string) ([]InboxItem, error) {
	rows, err := db.Pool.Query(ctx, `SELECT `+InboxCols+` FROM inbox WHERE instance_id = $1 ORDER BY id`, instanceID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (InboxItem, error) { return ScanInbox(r) })
}

// Rollup is the counters of one unit's subtree.
type Rollup struct {
	UnitCode  string `json:"unit_code"`
	Total     int    `json:"total"`
	Completed int    `json:"completed"`
	Cancelled int    `json:"cancelled"`
	Submitted int    `json:"submitted"`
	Overdue   int    `json:"overdue"`
}

// RollupOf returns the counters of one unit's subtree for a plan year.
func (db *DB) RollupOf(ctx context.Context, planID string, year int, unit string) (Rollup, error) {
	var r Rollup
	err := db.Pool.QueryRow(ctx, `SELECT unit_code, total, completed, cancelled, submitted, overdue FROM rollups
		WHERE plan_id = $1 AND year = $2 AND unit_code = $3`, planID, year, unit).
		Scan(&r.UnitCode, &r.Total, &r.Completed, &r.Cancelled, &r.Submitted, &r.Overdue)
	if err == pgx.ErrNoRows {
		return Rollup{UnitCode: unit}, nil
	}
	return r, err
}

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
