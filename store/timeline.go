package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/duban-dev/duban"
)

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
	// ToStep is the step a return sent the task back to; Person who a step
	// was handed to or was named 承办人; OnBehalfOf the approver a delegate
	// acted for. (From Data.)
	ToStep     int           `json:"to_step,omitempty"`
	Person     *duban.Person `json:"person,omitempty"`
	OnBehalfOf *duban.Person `json:"on_behalf_of,omitempty"`
	// Change is the plan change (文号) the event carried out.
	Change *duban.ChangeRef `json:"change,omitempty"`
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
		if err != nil {
			return e, err
		}
		e.Kind, e.From, e.To = duban.EventKind(kind), duban.Status(from), duban.Status(to)
		e.KindLabel = e.Kind.Label()
		if len(e.Data) > 2 {
			var d struct {
				ToStep     int              `json:"to_step"`
				Person     *duban.Person    `json:"person"`
				OnBehalfOf *duban.Person    `json:"on_behalf_of"`
				Change     *duban.ChangeRef `json:"change"`
			}
			if json.Unmarshal(e.Data, &d) == nil {
				e.ToStep, e.Person, e.OnBehalfOf, e.Change = d.ToStep, d.Person, d.OnBehalfOf, d.Change
			}
		}
		return e, nil
	})
}
