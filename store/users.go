package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/duban-dev/duban"
)

// User is a person who signs in.
type User struct {
	ID           int64        `json:"id"`
	Username     string       `json:"username"`
	DisplayName  string       `json:"display_name"`
	UnitCode     string       `json:"unit_code"`
	Roles        []duban.Role `json:"roles"`
	Email        string       `json:"email"`
	PasswordHash string       `json:"-"`
	Disabled     bool         `json:"disabled"`
	CreatedAt    time.Time    `json:"created_at"`
}

// Actor is the user as a workflow sees them.
func (u User) Actor() duban.Actor {
	return duban.Actor{UserID: u.ID, Name: u.DisplayName, UnitCode: u.UnitCode, Roles: u.Roles}
}

const userCols = `id, username, display_name, unit_code, roles, email, password_hash, disabled, created_at`

func scanUser(row pgx.Row) (User, error) {
	var u User
	var roles []string
	err := row.Scan(&u.ID, &u.Username, &u.DisplayName, &u.UnitCode, &roles, &u.Email, &u.PasswordHash, &u.Disabled, &u.CreatedAt)
	for _, r := range roles {
		u.Roles = append(u.Roles, duban.Role(r))
	}
	return u, err
}

// CreateUser stores a new user; the username must be free and the unit exist.
func (db *DB) CreateUser(ctx context.Context, u User) (User, error) {
	if err := validUser(u); err != nil {
		return u, err
	}
	row := db.Pool.QueryRow(ctx, `INSERT INTO users (username, display_name, unit_code, roles, email, password_hash)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING `+userCols,
		u.Username, u.DisplayName, u.UnitCode, roleStrings(u.Roles), u.Email, u.PasswordHash)
	created, err := scanUser(row)
	if err != nil {
		return u, translateUser(err, u.Username)
	}
	return created, nil
}

// translateUser names a taken username as a field error: usernames are
// unique whatever their case.
func translateUser(err error, username string) error {
	err = translate(err, "用户 "+username)
	if duban.ErrorCode(err) == duban.ECONFLICT {
		return &duban.Error{Code: duban.ECONFLICT, Field: "username", Message: fmt.Sprintf("用户名 %s 已被使用（用户名不区分大小写）", username)}
	}
	return err
}

// UpsertUser creates a user or, if the username exists, updates its
// profile, roles and password (used to seed demo users idempotently).
func (db *DB) UpsertUser(ctx context.Context, u User) (User, error) {
	if err := validUser(u); err != nil {
		return u, err
	}
	row := db.Pool.QueryRow(ctx, `INSERT INTO users (username, display_name, unit_code, roles, email, password_hash)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT ((lower(username))) DO UPDATE SET display_name = $2, unit_code = $3, roles = $4, email = $5, password_hash = $6, disabled = false
		RETURNING `+userCols,
		u.Username, u.DisplayName, u.UnitCode, roleStrings(u.Roles), u.Email, u.PasswordHash)
	saved, err := scanUser(row)
	if err != nil {
		return u, translate(err, "用户 "+u.Username)
	}
	return saved, nil
}

func validUser(u User) error {
	if strings.TrimSpace(u.Username) == "" {
		return duban.FieldError("username", "用户名不能为空")
	}
	for _, f := range [][2]string{{"username", u.Username}, {"display_name", u.DisplayName}, {"email", u.Email}, {"unit_code", u.UnitCode}} {
		if duban.HasControl(f[1]) {
			return duban.FieldError(f[0], "包含控制字符或无效编码")
		}
	}
	if strings.TrimSpace(u.DisplayName) == "" {
		return duban.FieldError("display_name", "姓名不能为空")
	}
	if len(u.Roles) == 0 {
		return duban.FieldError("roles", "至少需要一个角色")
	}
	for _, r := range u.Roles {
		if !r.Valid() {
			return duban.FieldError("roles", "未知角色 %q", r)
		}
	}
	if u.PasswordHash == "" {
		return duban.FieldError("password", "密码不能为空")
	}
	return nil
}

func roleStrings(roles []duban.Role) []string {
	out := make([]string, len(roles))
	for i, r := range roles {
		out[i] = string(r)
	}
	return out
}

// UserByUsername finds a user by sign-in name.
func (db *DB) UserByUsername(ctx context.Context, username string) (User, error) {
	u, err := scanUser(db.Pool.QueryRow(ctx, `SELECT `+userCols+` FROM users WHERE lower(username) = lower($1)`, username))
	return u, translate(err, "用户 "+username)
}

// UserByID finds a user by id.
func (db *DB) UserByID(ctx context.Context, id int64) (User, error) {
	u, err := scanUser(db.Pool.QueryRow(ctx, `SELECT `+userCols+` FROM users WHERE id = $1`, id))
	return u, translate(err, fmt.Sprintf("用户 %d", id))
}

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
	var q query
	if f.UnitPrefix != "" {
		q.add("unit_code LIKE " + q.arg(likePrefix(f.UnitPrefix)))
	}
	if f.Unit != "" {
		q.add("unit_code = " + q.arg(f.Unit))
	}
	if f.Query != "" {
		p := q.arg("%" + strings.TrimSuffix(likePrefix(f.Query), "%") + "%")
		q.add("(username ILIKE " + p + " OR display_name ILIKE " + p + ")")
	}
	q.add("id > " + q.arg(f.AfterID))
	sql := `SELECT ` + userCols + ` FROM users WHERE ` + q.sql() + ` ORDER BY id LIMIT ` + q.arg(limitOf(f.Limit))
	rows, err := db.Pool.Query(ctx, sql, q.args...)
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
