package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/duban-dev/duban"
)

// Delegation lets an approver away have a colleague, or an approver of the
// unit above, decide their steps for a range of days (委托).
type Delegation struct {
	ID           int64      `json:"id"`
	UserID       int64      `json:"user_id"`
	UserName     string     `json:"user_name"`
	UnitCode     string     `json:"unit_code"`
	DelegateID   int64      `json:"delegate_id"`
	DelegateName string     `json:"delegate_name"`
	DelegateUnit string     `json:"delegate_unit"`
	StartsOn     time.Time  `json:"starts_on"`
	EndsOn       time.Time  `json:"ends_on"`
	Reason       string     `json:"reason"`
	CreatedAt    time.Time  `json:"created_at"`
	RevokedAt    *time.Time `json:"revoked_at,omitempty"`
}

// InForce reports whether the delegation applies on day (Asia/Shanghai).
func (d Delegation) InForce(day time.Time) bool {
	dd := day.In(duban.Shanghai).Format("2006-01-02")
	return d.RevokedAt == nil && d.StartsOn.Format("2006-01-02") <= dd && dd <= d.EndsOn.Format("2006-01-02")
}

const delegationCols = `d.id, d.user_id, u.display_name, u.unit_code, d.delegate_id, v.display_name, v.unit_code,
	d.starts_on, d.ends_on, d.reason, d.created_at, d.revoked_at`

func scanDelegations(rows pgx.Rows, err error) ([]Delegation, error) {
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Delegation, error) {
		var d Delegation
		err := r.Scan(&d.ID, &d.UserID, &d.UserName, &d.UnitCode, &d.DelegateID, &d.DelegateName, &d.DelegateUnit,
			&d.StartsOn, &d.EndsOn, &d.Reason, &d.CreatedAt, &d.RevokedAt)
		return d, err
	})
}

// AddDelegation stores a delegation and audits it; the API has checked who
// may delegate to whom.
func (db *DB) AddDelegation(ctx context.Context, d Delegation, actor duban.Actor) (Delegation, error) {
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		var overlapping int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM delegations WHERE user_id = $1 AND revoked_at IS NULL AND starts_on <= $3 AND ends_on >= $2`,
			d.UserID, d.StartsOn, d.EndsOn).Scan(&overlapping); err != nil {
			return err
		}
		if overlapping > 0 {
			return &duban.Error{Code: duban.ECONFLICT, Field: "starts_on", Message: "这段时间已有委托，请先撤销原委托"}
		}
		if err := tx.QueryRow(ctx, `INSERT INTO delegations (user_id, delegate_id, starts_on, ends_on, reason) VALUES ($1, $2, $3, $4, $5)
			RETURNING id, created_at`, d.UserID, d.DelegateID, d.StartsOn, d.EndsOn, d.Reason).Scan(&d.ID, &d.CreatedAt); err != nil {
			return err
		}
		return auditTx(ctx, tx, actor, "delegation.create", actor.UnitCode, "", map[string]any{"delegation_id": d.ID,
			"delegate_id": d.DelegateID, "starts_on": d.StartsOn.Format("2006-01-02"), "ends_on": d.EndsOn.Format("2006-01-02"), "reason": d.Reason})
	})
	if err != nil {
		return d, fmt.Errorf("add delegation: %w", refusedContent(err))
	}
	out, err := db.delegationsWhere(ctx, `d.id = $1`, d.ID)
	if err != nil || len(out) == 0 {
		return d, err
	}
	return out[0], nil
}

// Delegations lists what a user delegated and what was delegated to them
// (revoked ones too, newest first).
func (db *DB) Delegations(ctx context.Context, userID int64) ([]Delegation, error) {
	return db.delegationsWhere(ctx, `d.user_id = $1 OR d.delegate_id = $1`, userID)
}

// DelegationsTo lists the delegations to a user that are not revoked.
func (db *DB) DelegationsTo(ctx context.Context, delegateID int64) ([]Delegation, error) {
	return db.delegationsWhere(ctx, `d.delegate_id = $1 AND d.revoked_at IS NULL`, delegateID)
}

func (db *DB) delegationsWhere(ctx context.Context, where string, arg any) ([]Delegation, error) {
	return scanDelegations(db.Pool.Query(ctx, `SELECT `+delegationCols+` FROM delegations d
		JOIN users u ON u.id = d.user_id JOIN users v ON v.id = d.delegate_id WHERE `+where+` ORDER BY d.id DESC LIMIT 200`, arg))
}

// RevokeDelegation ends a delegation early; only its owner may.
func (db *DB) RevokeDelegation(ctx context.Context, id int64, actor duban.Actor, now time.Time) error {
	return pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		var owner int64
		var revoked bool
		err := tx.QueryRow(ctx, `SELECT user_id, revoked_at IS NOT NULL FROM delegations WHERE id = $1 FOR UPDATE`, id).Scan(&owner, &revoked)
		switch {
		case errors.Is(err, pgx.ErrNoRows), err == nil && owner != actor.UserID:
			return duban.Errorf(duban.ENOTFOUND, "委托不存在")
		case err != nil:
			return err
		case revoked:
			return duban.Errorf(duban.ECONFLICT, "委托已撤销")
		}
		if _, err := tx.Exec(ctx, `UPDATE delegations SET revoked_at = $2 WHERE id = $1`, id, now); err != nil {
			return err
		}
		return auditTx(ctx, tx, actor, "delegation.revoke", actor.UnitCode, "", map[string]any{"delegation_id": id})
	})
}
