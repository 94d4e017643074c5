package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/org"
	"github.com/duban-dev/duban/plan"
)

// UserFilter selects users, by id.
type UserFilter struct {
	UnitPrefix string // users of units under this one
	Unit       string // users of exactly this unit
	Query      string // part of the username or display name
	AfterID    int64
	Limit      int
}

// Users lists users matching f in id order.
func (db *DB) Users(ctx context.Context, f UserFilter) ([]User, error) {
	var where []string
	var args []any
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	if f.UnitPrefix != "" {
		where = append(where, "unit_code LIKE "+arg(likePrefix(f.UnitPrefix)))
	}
	if f.Unit != "" {
		where = append(where, "unit_code = "+arg(f.Unit))
	}
	if f.Query != "" {
		p := "%" + strings.TrimSuffix(likePrefix(f.Query), "%") + "%"
		where = append(where, "(username ILIKE "+arg(p)+" OR display_name ILIKE $"+strconv.Itoa(len(args))+")")
	}
	where = append(where, "id > "+arg(f.AfterID))
	q := `SELECT ` + userCols + ` FROM users WHERE ` + strings.Join(where, " AND ") + ` ORDER BY id LIMIT ` + arg(limitOf(f.Limit))
	rows, err := db.Pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("users: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (User, error) { return scanUser(r) })
}

// userAudit is what the audit log keeps of a user: never the password hash.
func userAudit(u User) map[string]any {
	return map[string]any{"id": u.ID, "username": u.Username, "display_name": u.DisplayName, "unit_code": u.UnitCode,
		"roles": u.Roles, "email": u.Email, "disabled": u.Disabled}
}

// CreateUserAs stores a new user and audits it, in one transaction.
func (db *DB) CreateUserAs(ctx context.Context, u User, actor duban.Actor) (User, error) {
	if err := validUser(u); err != nil {
		return u, err
	}
	var created User
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		var err error
		created, err = scanUser(tx.QueryRow(ctx, `INSERT INTO users (username, display_name, unit_code, roles, email, password_hash)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING `+userCols,
			u.Username, u.DisplayName, u.UnitCode, roleStrings(u.Roles), u.Email, u.PasswordHash))
		if err != nil {
			return translateUser(err, u.Username)
		}
		return auditTx(ctx, tx, actor, "user.create", created.UnitCode, "", map[string]any{"user": userAudit(created)})
	})
	return created, err
}

// UserChange is a partial update of a user; nil fields stay as they are.
type UserChange struct {
	DisplayName  *string
	UnitCode     *string
	Roles        *[]duban.Role
	Email        *string
	Disabled     *bool
	PasswordHash *string
	// Unlock clears failed sign-ins and any lockout.
	Unlock bool
}

// UpdateUserAs changes a user and audits the change, in one transaction.
// A new password or disabling the user ends every session of theirs.
func (db *DB) UpdateUserAs(ctx context.Context, id int64, ch UserChange, actor duban.Actor) (User, error) {
	var after User
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		before, err := scanUser(tx.QueryRow(ctx, `SELECT `+userCols+` FROM users WHERE id = $1 FOR UPDATE`, id))
		if err != nil {
			return translate(err, fmt.Sprintf("用户 %d", id))
		}
		next := before
		changed := map[string]any{}
		if ch.DisplayName != nil && *ch.DisplayName != before.DisplayName {
			next.DisplayName, changed["display_name"] = *ch.DisplayName, *ch.DisplayName
		}
		if ch.UnitCode != nil && *ch.UnitCode != before.UnitCode {
			next.UnitCode, changed["unit_code"] = *ch.UnitCode, *ch.UnitCode
		}
		if ch.Roles != nil {
			next.Roles, changed["roles"] = *ch.Roles, *ch.Roles
		}
		if ch.Email != nil && *ch.Email != before.Email {
			next.Email, changed["email"] = *ch.Email, *ch.Email
		}
		if ch.Disabled != nil && *ch.Disabled != before.Disabled {
			next.Disabled, changed["disabled"] = *ch.Disabled, *ch.Disabled
		}
		if ch.PasswordHash != nil {
			next.PasswordHash, changed["password"] = *ch.PasswordHash, "changed"
		}
		if ch.Unlock {
			changed["unlock"] = true
			if _, err := tx.Exec(ctx, `DELETE FROM login_attempts WHERE username = $1`, loginKey(before.Username)); err != nil {
				return err
			}
		}
		if err := validUser(next); err != nil {
			return err
		}
		after, err = scanUser(tx.QueryRow(ctx, `UPDATE users SET display_name = $2, unit_code = $3, roles = $4, email = $5, disabled = $6, password_hash = $7
			WHERE id = $1 RETURNING `+userCols, id, next.DisplayName, next.UnitCode, roleStrings(next.Roles), next.Email, next.Disabled, next.PasswordHash))
		if err != nil {
			return translate(err, "用户 "+before.Username)
		}
		if ch.PasswordHash != nil || (ch.Disabled != nil && *ch.Disabled) {
			if err := revokeUserSessions(ctx, tx, id, "user_changed"); err != nil {
				return err
			}
		}
		action := "user.update"
		if actor.UserID == id && len(changed) == 1 && changed["password"] != nil {
			action = "user.password"
		}
		return auditTx(ctx, tx, actor, action, after.UnitCode, "", map[string]any{"user_id": id, "username": before.Username, "changed": changed, "unit_before": before.UnitCode})
	})
	return after, err
}

func auditTx(ctx context.Context, tx pgx.Tx, actor duban.Actor, action, unit, instance string, detail any) error {
	e, err := NewAuditEntry(actor, action, unit, instance, detail)
	if err != nil {
		return err
	}
	_, err = appendAudit(ctx, tx, e)
	return err
}

// CreateUnitAs adds a unit under an existing parent and audits it. The code
// must extend the parent's code to the length of the level below.
func (db *DB) CreateUnitAs(ctx context.Context, u org.Unit, actor duban.Actor) (org.Unit, error) {
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO units (code, name, level, parent_code) VALUES ($1, $2, $3, $4)`, u.Code, u.Name, string(u.Level), u.ParentCode)
		if err != nil {
			return translate(err, "单位 "+u.Code)
		}
		return auditTx(ctx, tx, actor, "unit.create", u.Code, "", map[string]any{"unit": u})
	})
	return u, err
}

// RenameUnitAs changes a unit's name and audits it.
func (db *DB) RenameUnitAs(ctx context.Context, code, name string, actor duban.Actor) error {
	return pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		var old string
		if err := tx.QueryRow(ctx, `SELECT name FROM units WHERE code = $1 FOR UPDATE`, code).Scan(&old); err != nil {
			return translate(err, "单位 "+code)
		}
		if _, err := tx.Exec(ctx, `UPDATE units SET name = $2 WHERE code = $1`, code, name); err != nil {
			return err
		}
		return auditTx(ctx, tx, actor, "unit.rename", code, "", map[string]any{"code": code, "name_before": old, "name": name})
	})
}

// ImportPlanAs stores a validated plan as ImportPlan does and audits the
// import in the same transaction.
func (db *DB) ImportPlanAs(ctx context.Context, p *plan.Plan, source []byte, actor duban.Actor, rootUnit string) (PlanSummary, error) {
	var s PlanSummary
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		var previous string
		var err error
		if s, previous, err = importPlanTx(ctx, tx, p, source, actor.Name); err != nil {
			return err
		}
		return auditTx(ctx, tx, actor, "plan.import", rootUnit, "", map[string]any{"plan_id": p.ID, "year": p.Year,
			"checksum": s.Checksum, "previous_checksum": previous, "templates": s.TemplateCount})
	})
	if err != nil {
		return s, fmt.Errorf("import plan %s: %w", p.ID, err)
	}
	return s, nil
}

// PlanSummaryOf returns one stored plan's summary.
func (db *DB) PlanSummaryOf(ctx context.Context, id string) (PlanSummary, error) {
	var s PlanSummary
	err := db.Pool.QueryRow(ctx, `SELECT id, year, title, source, checksum, template_count, imported_at, imported_by FROM plans WHERE id = $1`, id).
		Scan(&s.ID, &s.Year, &s.Title, &s.Source, &s.Checksum, &s.TemplateCount, &s.ImportedAt, &s.ImportedBy)
	return s, translate(err, "计划 "+id)
}

// TemplateRow is one stored task template, for listing a plan.
type TemplateRow struct {
	ID           string     `json:"id"`
	Section      string     `json:"section"`
	SectionTitle string     `json:"section_title"`
	Title        string     `json:"title"`
	Quote        string     `json:"quote"`
	Kind         duban.Kind `json:"kind"`
	KindLabel    string     `json:"kind_label"`
}

// Templates lists a plan's templates in file order.
func (db *DB) Templates(ctx context.Context, planID string) ([]TemplateRow, error) {
	rows, err := db.Pool.Query(ctx, `SELECT id, section, section_title, title, quote, kind FROM templates WHERE plan_id = $1 ORDER BY ord`, planID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (TemplateRow, error) {
		var t TemplateRow
		var kind string
		err := r.Scan(&t.ID, &t.Section, &t.SectionTitle, &t.Title, &t.Quote, &kind)
		t.Kind = duban.Kind(kind)
		t.KindLabel = t.Kind.Label()
		return t, err
	})
}

// Ping checks the database answers.
func (db *DB) Ping(ctx context.Context) error { return db.Pool.Ping(ctx) }
