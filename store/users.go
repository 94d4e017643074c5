package store

import (
	"context"
	"errors"
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
	Mobile       string       `json:"mobile"`
	PasswordHash string       `json:"-"`
	Disabled     bool         `json:"disabled"`
	// MustChangePassword is set while the password is one an administrator
	// chose (a new account, an import, a reset): the user changes it
	// before anything else.
	MustChangePassword bool      `json:"must_change_password"`
	CreatedAt          time.Time `json:"created_at"`
	// LockedUntil is when a lockout after failed sign-ins ends (lists only).
	LockedUntil *time.Time `json:"locked_until,omitempty"`
}

// Actor is the user as a workflow sees them.
func (u User) Actor() duban.Actor {
	return duban.Actor{UserID: u.ID, Name: u.DisplayName, UnitCode: u.UnitCode, Roles: u.Roles}
}

const userCols = `id, username, display_name, unit_code, roles, email, mobile, password_hash, disabled, must_change_password, created_at`

func scanUser(row pgx.Row, extra ...any) (User, error) {
	var u User
	var roles []string
	dest := append([]any{&u.ID, &u.Username, &u.DisplayName, &u.UnitCode, &roles, &u.Email, &u.Mobile, &u.PasswordHash, &u.Disabled, &u.MustChangePassword, &u.CreatedAt}, extra...)
	err := row.Scan(dest...)
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
	created, err := scanUser(insertUser(ctx, db.Pool, u))
	if err != nil {
		return u, translateUser(err, u.Username)
	}
	return created, nil
}

type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func insertUser(ctx context.Context, q querier, u User) pgx.Row {
	return q.QueryRow(ctx, `INSERT INTO users (username, display_name, unit_code, roles, email, mobile, password_hash, must_change_password)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING `+userCols,
		u.Username, u.DisplayName, u.UnitCode, roleStrings(u.Roles), u.Email, u.Mobile, u.PasswordHash, u.MustChangePassword)
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
	for _, f := range [][2]string{{"username", u.Username}, {"display_name", u.DisplayName}, {"email", u.Email}, {"mobile", u.Mobile}, {"unit_code", u.UnitCode}} {
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
	UnitPrefix string     // users of units under this one
	Unit       string     // users of exactly this unit
	Query      string     // part of the username or display name
	Role       duban.Role // users holding this role
	// Status is "active" (enabled, not locked), "disabled" or "locked"
	// (a lockout after failed sign-ins running at Now).
	Status  string
	Now     time.Time
	AfterID int64
	Limit   int
}

// User statuses a list can be filtered by.
const (
	UserActive   = "active"
	UserDisabled = "disabled"
	UserLocked   = "locked"
)

// Users lists users matching f in id order, each with its lockout.
func (db *DB) Users(ctx context.Context, f UserFilter) ([]User, error) {
	var q query
	if f.UnitPrefix != "" {
		q.add("u.unit_code LIKE " + q.arg(likePrefix(f.UnitPrefix)))
	}
	if f.Unit != "" {
		q.add("u.unit_code = " + q.arg(f.Unit))
	}
	if f.Query != "" {
		p := q.arg("%" + strings.TrimSuffix(likePrefix(f.Query), "%") + "%")
		q.add("(u.username ILIKE " + p + " OR u.display_name ILIKE " + p + ")")
	}
	if f.Role != "" {
		q.add(q.arg(string(f.Role)) + " = ANY(u.roles)")
	}
	switch f.Status {
	case UserActive:
		q.add("NOT u.disabled AND (la.locked_until IS NULL OR la.locked_until <= " + q.arg(f.Now) + ")")
	case UserDisabled:
		q.add("u.disabled")
	case UserLocked:
		q.add("la.locked_until > " + q.arg(f.Now))
	}
	q.add("u.id > " + q.arg(f.AfterID))
	sql := `SELECT ` + prefixed("u.", userCols) + `, la.locked_until FROM users u
		LEFT JOIN login_attempts la ON la.username = lower(u.username)
		WHERE ` + q.sql() + ` ORDER BY u.id LIMIT ` + q.arg(limitOf(f.Limit))
	rows, err := db.Pool.Query(ctx, sql, q.args...)
	if err != nil {
		return nil, fmt.Errorf("users: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (User, error) {
		var until *time.Time
		u, err := scanUser(r, &until)
		if until != nil && until.After(f.Now) {
			u.LockedUntil = until
		}
		return u, err
	})
}

// UserLockedUntil is when the lockout of a user's username ends, if one
// runs at now.
func (db *DB) UserLockedUntil(ctx context.Context, username string, now time.Time) (*time.Time, error) {
	var until *time.Time
	err := db.Pool.QueryRow(ctx, `SELECT locked_until FROM login_attempts WHERE username = $1 AND locked_until > $2`, loginKey(username), now).Scan(&until)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	return until, err
}

// userAudit is what the audit log keeps of a user: never the password hash.
func userAudit(u User) map[string]any {
	return map[string]any{"id": u.ID, "username": u.Username, "display_name": u.DisplayName, "unit_code": u.UnitCode,
		"roles": u.Roles, "email": u.Email, "mobile": u.Mobile, "disabled": u.Disabled, "must_change_password": u.MustChangePassword}
}

// CreateUserAs stores a new user and audits it, in one transaction.
func (db *DB) CreateUserAs(ctx context.Context, u User, actor duban.Actor) (User, error) {
	if err := validUser(u); err != nil {
		return u, err
	}
	var created User
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		var err error
		created, err = scanUser(insertUser(ctx, tx, u))
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
	Mobile       *string
	Disabled     *bool
	PasswordHash *string
	// MustChangePassword goes with a new password: true when an
	// administrator set it, false when the user chose it.
	MustChangePassword *bool
	// Unlock clears failed sign-ins and any lockout.
	Unlock bool
	// Action names the audit row (user.update unless set; user.password
	// for one's own password).
	Action string
}

func pick(m map[string]any, keys ...string) map[string]any {
	out := map[string]any{}
	for _, k := range keys {
		if v, ok := m[k]; ok {
			out[k] = v
		}
	}
	return out
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
		if ch.Mobile != nil && *ch.Mobile != before.Mobile {
			next.Mobile, changed["mobile"] = *ch.Mobile, *ch.Mobile
		}
		if ch.Disabled != nil && *ch.Disabled != before.Disabled {
			next.Disabled, changed["disabled"] = *ch.Disabled, *ch.Disabled
		}
		if ch.PasswordHash != nil {
			next.PasswordHash, changed["password"] = *ch.PasswordHash, "changed"
		}
		if ch.MustChangePassword != nil && *ch.MustChangePassword != before.MustChangePassword {
			next.MustChangePassword, changed["must_change_password"] = *ch.MustChangePassword, *ch.MustChangePassword
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
		after, err = scanUser(tx.QueryRow(ctx, `UPDATE users SET display_name = $2, unit_code = $3, roles = $4, email = $5, disabled = $6, password_hash = $7,
			mobile = $8, must_change_password = $9
			WHERE id = $1 RETURNING `+userCols, id, next.DisplayName, next.UnitCode, roleStrings(next.Roles), next.Email, next.Disabled, next.PasswordHash,
			next.Mobile, next.MustChangePassword))
		if err != nil {
			return translate(err, "用户 "+before.Username)
		}
		if ch.PasswordHash != nil || (ch.Disabled != nil && *ch.Disabled) {
			if err := revokeUserSessions(ctx, tx, id, "user_changed"); err != nil {
				return err
			}
		}
		action := ch.Action
		if action == "" {
			action = "user.update"
			if actor.UserID == id && changed["password"] != nil && len(changed) == 1+len(pick(changed, "must_change_password")) {
				action = "user.password"
			}
		}
		return auditTx(ctx, tx, actor, action, after.UnitCode, "", map[string]any{"user_id": id, "username": before.Username, "changed": changed, "unit_before": before.UnitCode})
	})
	return after, err
}

// UsersByUsernames finds the users holding any of the usernames, whatever
// their case; the map is keyed by the lower-cased username.
func (db *DB) UsersByUsernames(ctx context.Context, usernames []string) (map[string]User, error) {
	keys := make([]string, len(usernames))
	for i, u := range usernames {
		keys[i] = strings.ToLower(u)
	}
	rows, err := db.Pool.Query(ctx, `SELECT `+userCols+` FROM users WHERE lower(username) = ANY($1)`, keys)
	if err != nil {
		return nil, fmt.Errorf("users by username: %w", err)
	}
	users, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (User, error) { return scanUser(r) })
	if err != nil {
		return nil, fmt.Errorf("users by username: %w", err)
	}
	out := make(map[string]User, len(users))
	for _, u := range users {
		out[strings.ToLower(u.Username)] = u
	}
	return out, nil
}

// UserImport is one import of accounts: users to create (with their
// password hashes) and existing users to update (by id: name, unit,
// roles, email, mobile), and what the audit row says of it.
type UserImport struct {
	Create []User
	Update []User
	Audit  map[string]any
}

// ImportUsersAs applies an import in one transaction, audited as one
// user.import row: every user is created or updated, or none. A username
// taken meanwhile (a race with another admin) fails the whole import.
func (db *DB) ImportUsersAs(ctx context.Context, imp UserImport, unitCode string, actor duban.Actor) error {
	for _, u := range append(append([]User(nil), imp.Create...), imp.Update...) {
		if u.PasswordHash == "" {
			u.PasswordHash = "-" // updates keep theirs
		}
		if err := validUser(u); err != nil {
			return err
		}
	}
	return pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		if len(imp.Update) > 0 {
			b := &pgx.Batch{}
			for _, u := range imp.Update {
				b.Queue(`UPDATE users SET display_name = $2, unit_code = $3, roles = $4, email = $5, mobile = $6 WHERE id = $1`,
					u.ID, u.DisplayName, u.UnitCode, roleStrings(u.Roles), u.Email, u.Mobile)
			}
			if err := tx.SendBatch(ctx, b).Close(); err != nil {
				return translate(err, "导入的账号")
			}
		}
		if len(imp.Create) > 0 {
			rows := make([][]any, len(imp.Create))
			for i, u := range imp.Create {
				rows[i] = []any{u.Username, u.DisplayName, u.UnitCode, roleStrings(u.Roles), u.Email, u.Mobile, u.PasswordHash, u.MustChangePassword}
			}
			_, err := tx.CopyFrom(ctx, pgx.Identifier{"users"},
				[]string{"username", "display_name", "unit_code", "roles", "email", "mobile", "password_hash", "must_change_password"}, pgx.CopyFromRows(rows))
			if err != nil {
				if duban.ErrorCode(translate(err, "")) == duban.ECONFLICT {
					return duban.Errorf(duban.ECONFLICT, "导入期间有用户名被其他账号占用，请重新校验后再导入")
				}
				return translate(err, "导入的账号")
			}
		}
		return auditTx(ctx, tx, actor, "user.import", unitCode, "", imp.Audit)
	})
}
