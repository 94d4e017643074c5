package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/org"
)

func ancestorCols(unit string) (city, county, township *string) {
	anc := org.Ancestors(unit)
	if len(anc) > 1 {
		city = &anc[1]
	}
	if len(anc) > 2 {
		county = &anc[2]
	}
	if len(anc) > 3 {
		township = &anc[3]
	}
	return
}

const insertInstanceSQL = `
	INSERT INTO instances (id, plan_id, year, template_id, section, title, kind, period, unit_code, unit_name, unit_level,
		city, county, township, status, due_at, step_count, progress_base, seq, spec, assigned_at, updated_at)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $21)
	ON CONFLICT (id) DO NOTHING`

func queueInsertInstance(batch *pgx.Batch, s duban.TaskSpec, at time.Time, seq int64) error {
	spec, err := json.Marshal(s)
	if err != nil {
		return err
	}
	city, county, township := ancestorCols(s.UnitCode)
	base := s.Target
	if s.Ratio != nil {
		base = s.Ratio.Base
	}
	batch.Queue(insertInstanceSQL, s.ID, s.PlanID, s.Year, s.TemplateID, s.Section, s.Title, string(s.Kind), s.Period,
		s.UnitCode, s.UnitName, string(s.UnitLevel), city, county, township, string(duban.StatusAssigned), s.Due,
		len(s.Approval), base, seq, spec, at)
	return nil
}

// RecordAssigned creates instance rows in status assigned, each with its
// "assigned" event (seq 1) and inbox entries for the unit's officials, in one
// transaction per call. Rows that exist are left alone, so a relaunch is a
// no-op. It returns how many rows were new.
func (db *DB) RecordAssigned(ctx context.Context, specs []duban.TaskSpec, at time.Time) (int, error) {
	if len(specs) == 0 {
		return 0, nil
	}
	var created int
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		batch := &pgx.Batch{}
		for _, s := range specs {
			if err := queueInsertInstance(batch, s, at, 1); err != nil {
				return err
			}
		}
		res := tx.SendBatch(ctx, batch)
		fresh := make([]duban.TaskSpec, 0, len(specs))
		for _, s := range specs {
			tag, err := res.Exec()
			if err != nil {
				res.Close()
				return fmt.Errorf("insert instance %s: %w", s.ID, err)
			}
			if tag.RowsAffected() == 1 {
				fresh = append(fresh, s)
			}
		}
		if err := res.Close(); err != nil {
			return err
		}
		created = len(fresh)
		if created == 0 {
			return nil
		}
		batch = &pgx.Batch{}
		deltas := map[rollupKey]bucket{}
		for _, s := range fresh {
			tr := duban.Transition{InstanceID: s.ID, Seq: 1, At: at, Kind: duban.EventAssigned, Actor: duban.System, To: duban.StatusAssigned,
				Notices: []duban.Notice{{Kind: duban.EventAssigned, Recipients: []duban.Recipients{{Unit: s.UnitCode, Roles: []duban.Role{duban.RoleOfficial}}}}}}
			if err := queueEvent(batch, tr); err != nil {
				return err
			}
			queueInbox(batch, tr, s)
			addDelta(deltas, s.PlanID, s.Year, s.UnitCode, bucketOf(duban.StatusAssigned, false))
		}
		queueRollups(batch, deltas)
		return tx.SendBatch(ctx, batch).Close()
	})
	if err != nil {
		return 0, fmt.Errorf("record assigned: %w", err)
	}
	return created, nil
}

func queueEvent(batch *pgx.Batch, tr duban.Transition) error {
	data := map[string]any{}
	if len(tr.Evidence) > 0 {
		data["evidence"] = tr.Evidence
	}
	if tr.NewDue != nil {
		data["new_due"] = tr.NewDue
	}
	if len(tr.Notices) > 0 {
		data["notices"] = tr.Notices
	}
	if tr.Kind == duban.EventProgress || tr.Kind == duban.EventSubmitted {
		data["progress"] = tr.Projection.Progress
		data["progress_base"] = tr.Projection.ProgressBase
	}
	if tr.ToStep != 0 {
		data["to_step"] = tr.ToStep
	}
	if tr.Person != nil {
		data["person"] = tr.Person
	}
	if ob := tr.Actor.OnBehalfOf; ob != nil {
		data["on_behalf_of"] = ob.Person()
	}
	if tr.Change != nil {
		data["change"] = tr.Change
	}
	raw, err := json.Marshal(data)
	if err != nil {
		return err
	}
	var actorID *int64
	if tr.Actor.UserID != 0 {
		id := tr.Actor.UserID
		actorID = &id
	}
	batch.Queue(`INSERT INTO events (instance_id, seq, at, kind, actor_id, actor_name, actor_unit, from_status, to_status, step, reason, note, data)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
		ON CONFLICT (instance_id, seq) DO NOTHING`,
		tr.InstanceID, tr.Seq, tr.At, string(tr.Kind), actorID, tr.Actor.Name, tr.Actor.UnitCode, string(tr.From), string(tr.To),
		tr.Step, tr.Reason, tr.Note, raw)
	return nil
}

// ApplyTransition writes one transition in a transaction: the event first
// (its primary key makes the whole call idempotent), then the projection if
// the transition is newer than the row, the rollup counters by the change of
// bucket, the inbox, and for a transition a person caused, the audit row.
// It reports whether the event was new.
func (db *DB) ApplyTransition(ctx context.Context, tr duban.Transition) (bool, error) {
	var fresh bool
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		var (
			spec     duban.TaskSpec
			rawSpec  []byte
			seq      int64
			status   string
			overdue  bool
			rowFound = true
		)
		err := tx.QueryRow(ctx, `SELECT spec, seq, status, overdue_since IS NOT NULL FROM instances WHERE id = $1 FOR UPDATE`, tr.InstanceID).
			Scan(&rawSpec, &seq, &status, &overdue)
		switch {
		case err == pgx.ErrNoRows:
			rowFound = false
			if tr.Spec == nil {
				return fmt.Errorf("instance %s has no row and the transition carries no spec", tr.InstanceID)
			}
			spec = *tr.Spec
		case err != nil:
			return err
		default:
			if err := json.Unmarshal(rawSpec, &spec); err != nil {
				return fmt.Errorf("instance %s spec: %w", tr.InstanceID, err)
			}
		}
		batch := &pgx.Batch{}
		if !rowFound {
			if err := queueInsertInstance(batch, spec, tr.At, 0); err != nil {
				return err
			}
		}
		if err := queueEvent(batch, tr); err != nil {
			return err
		}
		res := tx.SendBatch(ctx, batch)
		if !rowFound {
			if _, err := res.Exec(); err != nil {
				res.Close()
				return err
			}
		}
		tag, err := res.Exec()
		if cerr := res.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return nil // applied before: a retry or a replay
		}
		fresh = true
		batch = &pgx.Batch{}
		if tr.Seq > seq {
			p := tr.Projection
			queueProjection(batch, tr.InstanceID, p, tr.Seq, tr.At)
			before := bucketOf(duban.Status(status), overdue)
			if !rowFound {
				before = bucket{}
			}
			after := bucketOf(p.Status, p.OverdueSince != nil)
			deltas := map[rollupKey]bucket{}
			if rowFound && tr.Spec != nil {
				// A plan change or a unit's merge: the row holds the spec
				// as changed, and a task that moved to another unit
				// counts there from now on.
				if err := queueSpec(batch, tr.InstanceID, *tr.Spec, spec.UnitCode); err != nil {
					return err
				}
				if tr.Spec.UnitCode != spec.UnitCode {
					addDelta(deltas, spec.PlanID, spec.Year, spec.UnitCode, bucket{}.minus(before))
					before = bucket{}
				}
				spec = *tr.Spec
			}
			addDelta(deltas, spec.PlanID, spec.Year, spec.UnitCode, after.minus(before))
			queueRollups(batch, deltas)
		}
		queueInbox(batch, tr, spec)
		if err := tx.SendBatch(ctx, batch).Close(); err != nil {
			return err
		}
		if tr.Actor.UserID == 0 {
			return nil
		}
		// A person's decision is audited in the same transaction as its
		// timeline event: both are written or neither is.
		entry, err := transitionAudit(tr, spec)
		if err != nil {
			return err
		}
		_, err = appendAudit(ctx, tx, entry)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("apply transition %s#%d: %w", tr.InstanceID, tr.Seq, refusedContent(err))
	}
	return fresh, nil
}

// queueSpec writes the spec a transition carries onto the instance's row,
// and, when its unit changed (a merge), the unit columns too.
func queueSpec(batch *pgx.Batch, id string, s duban.TaskSpec, unitBefore string) error {
	raw, err := json.Marshal(s)
	if err != nil {
		return err
	}
	if s.UnitCode == unitBefore {
		// The unit's name is the row's: a rename since the launch is not
		// undone by the workflow's older copy.
		batch.Queue(`UPDATE instances SET spec = jsonb_set($2::jsonb, '{unit_name}', to_jsonb(unit_name)) WHERE id = $1`, id, raw)
		return nil
	}
	city, county, township := ancestorCols(s.UnitCode)
	batch.Queue(`UPDATE instances SET spec = $2, unit_code = $3, unit_name = $4, unit_level = $5, city = $6, county = $7, township = $8
		WHERE id = $1`, id, raw, s.UnitCode, s.UnitName, string(s.UnitLevel), city, county, township)
	return nil
}

// waitingUnits are the units the projection's step waits on (older
// workflows name only the approver unit).
func waitingUnits(p duban.Projection) []string {
	if p.Status != duban.StatusSubmitted {
		return nil
	}
	if len(p.WaitingUnits) > 0 {
		return p.WaitingUnits
	}
	if p.ApproverUnit != "" {
		return []string{p.ApproverUnit}
	}
	return nil
}

// jsonOrNil encodes v for a jsonb column, NULL when v is empty.
func jsonOrNil[T any](v []T) []byte {
	if len(v) == 0 {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	return b
}

// queueProjection writes an instance's row from its workflow's projection
// at seq: after a transition, and when reconciliation repairs a row.
func queueProjection(batch *pgx.Batch, id string, p duban.Projection, seq int64, at time.Time) {
	var assigneeID *int64
	assigneeName := ""
	if p.Assignee != nil {
		uid := p.Assignee.UserID
		assigneeID, assigneeName = &uid, p.Assignee.Name
	}
	batch.Queue(`UPDATE instances SET status = $2, due_at = $3, overdue_since = $4, current_step = $5, step_count = $6,
		approver_unit = $7, step_due_at = $8, progress = $9, progress_base = $10, escalation = $11, extension_pending = $12,
		seq = $13, completed_at = $14, updated_at = $15, last_reason = $16, extension_new_due = $17, extension_reason = $18,
		extension_requested_by = $19, extension_requested_at = $20, urge_count = $21, last_urged_at = $22,
		assignee_id = $23, assignee_name = $24, waiting_units = $25, waiting_user = $26, signed = $27, chain = $28 WHERE id = $1`,
		id, string(p.Status), p.Due, p.OverdueSince, p.CurrentStep, p.StepCount, nullable(p.ApproverUnit), p.StepDue,
		p.Progress, p.ProgressBase, p.Escalation, p.Extension, seq, p.CompletedAt, at,
		p.LastReason, p.ExtensionNewDue, p.ExtensionReason, p.ExtensionRequestedBy, p.ExtensionRequestedAt, p.UrgeCount, p.LastUrgedAt,
		assigneeID, assigneeName, waitingUnits(p), p.WaitingUser, jsonOrNil(p.Signed), jsonOrNil(p.Chain))
}
