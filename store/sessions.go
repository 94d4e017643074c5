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

// NewSession is a sign-in to record with its first refresh token.
type NewSession struct {
	ID         string
	UserID     int64
	TokenHash  []byte // sha256 of the refresh token
	ClientIP   string
	UserAgent  string
	Now        time.Time
	RefreshTTL time.Duration // how long one refresh token is good for
	SessionTTL time.Duration // how long the session lasts however often refreshed
}

// CreateSession stores a session and its first refresh token.
func (db *DB) CreateSession(ctx context.Context, s NewSession) error {
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO sessions (id, user_id, created_at, last_used_at, expires_at, client_ip, user_agent)
			VALUES ($1, $2, $3, $3, $4, $5, $6)`, s.ID, s.UserID, s.Now, s.Now.Add(s.SessionTTL), s.ClientIP, truncate(s.UserAgent, 300)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO refresh_tokens (token_hash, session_id, created_at, expires_at) VALUES ($1, $2, $3, $4)`,
			s.TokenHash, s.ID, s.Now, s.Now.Add(s.RefreshTTL))
		return err
	})
	if err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	return nil
}

// RefreshOutcome says what became of a presented refresh token.
type RefreshOutcome int

// Outcomes of RotateRefreshToken.
const (
	RefreshRotated RefreshOutcome = iota // good: a new token replaces it
	RefreshUnknown                       // never issued (or long purged)
	RefreshReused                        // used before: the session is now revoked
	RefreshExpired                       // the token or its session has expired
	RefreshRevoked                       // its session was revoked (logout, reuse, disabled user)
)

// Rotation is the result of presenting a refresh token.
type Rotation struct {
	Outcome   RefreshOutcome
	SessionID string
	UserID    int64
}

// RotateRefreshToken spends the token with hash old and, if it was good,
// issues newHash in its place, all under a row lock so that two concurrent
// uses of one token cannot both succeed. Presenting a token already spent
// revokes its whole session: either its owner or a thief has the newer one,
// and we cannot tell which.
func (db *DB) RotateRefreshToken(ctx context.Context, old, newHash []byte, now time.Time, ttl time.Duration) (Rotation, error) {
	var r Rotation
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		var (
			usedAt, revokedAt    *time.Time
			expiresAt, sessionTo time.Time
			disabled             bool
		)
		err := tx.QueryRow(ctx, `SELECT t.session_id, s.user_id, t.used_at, t.expires_at, s.expires_at, s.revoked_at, u.disabled
			FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id JOIN users u ON u.id = s.user_id
			WHERE t.token_hash = $1 FOR UPDATE OF t, s`, old).
			Scan(&r.SessionID, &r.UserID, &usedAt, &expiresAt, &sessionTo, &revokedAt, &disabled)
		if errors.Is(err, pgx.ErrNoRows) {
			r.Outcome = RefreshUnknown
			return nil
		}
		if err != nil {
			return err
		}
		switch {
		case revokedAt != nil:
			r.Outcome = RefreshRevoked
			return nil
		case usedAt != nil:
			r.Outcome = RefreshReused
			_, err := tx.Exec(ctx, `UPDATE sessions SET revoked_at = $2, revoked_reason = 'refresh_token_reused' WHERE id = $1`, r.SessionID, now)
			return err
		case disabled:
			r.Outcome = RefreshRevoked
			_, err := tx.Exec(ctx, `UPDATE sessions SET revoked_at = $2, revoked_reason = 'user_disabled' WHERE id = $1`, r.SessionID, now)
			return err
		case !now.Before(expiresAt) || !now.Before(sessionTo):
			r.Outcome = RefreshExpired
			return nil
		}
		r.Outcome = RefreshRotated
		if _, err := tx.Exec(ctx, `UPDATE refresh_tokens SET used_at = $2 WHERE token_hash = $1`, old, now); err != nil {
			return err
		}
		expires := now.Add(ttl)
		if expires.After(sessionTo) {
			expires = sessionTo
		}
		if _, err := tx.Exec(ctx, `INSERT INTO refresh_tokens (token_hash, session_id, created_at, expires_at) VALUES ($1, $2, $3, $4)`,
			newHash, r.SessionID, now, expires); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE sessions SET last_used_at = $2 WHERE id = $1`, r.SessionID, now)
		return err
	})
	if err != nil {
		return r, fmt.Errorf("rotate refresh token: %w", err)
	}
	return r, nil
}

// RevokeSession ends a session (logout). Revoking twice is harmless.
func (db *DB) RevokeSession(ctx context.Context, id, reason string, now time.Time) error {
	_, err := db.Pool.Exec(ctx, `UPDATE sessions SET revoked_at = $2, revoked_reason = $3 WHERE id = $1 AND revoked_at IS NULL`, id, now, reason)
	if err != nil {
		return fmt.Errorf("revoke session: %w", err)
	}
	return nil
}

func revokeUserSessions(ctx context.Context, tx pgx.Tx, userID int64, reason string) error {
	_, err := tx.Exec(ctx, `UPDATE sessions SET revoked_at = now(), revoked_reason = $2 WHERE user_id = $1 AND revoked_at IS NULL`, userID, reason)
	return err
}

// SessionUser returns the user of a live session: the session exists, is
// not revoked or expired, belongs to userID, and the user is not disabled.
// Anything else is unauthorized.
func (db *DB) SessionUser(ctx context.Context, userID int64, sessionID string, now time.Time) (User, error) {
	row := db.Pool.QueryRow(ctx, `SELECT `+prefixed("u.", userCols)+` FROM users u JOIN sessions s ON s.user_id = u.id
		WHERE u.id = $1 AND s.id = $2 AND s.revoked_at IS NULL AND s.expires_at > $3 AND NOT u.disabled`, userID, sessionID, now)
	u, err := scanUser(row)
	if errors.Is(err, pgx.ErrNoRows) {
		return u, duban.Errorf(duban.EUNAUTHORIZED, "登录已失效，请重新登录")
	}
	if err != nil {
		return u, fmt.Errorf("session user: %w", err)
	}
	return u, nil
}

// LoginLock is the lockout state of one username.
type LoginLock struct {
	Failures    int
	LockedUntil *time.Time
}

// Locked reports whether sign-in is refused at now.
func (l LoginLock) Locked(now time.Time) bool {
	return l.LockedUntil != nil && now.Before(*l.LockedUntil)
}

// staleReservation is how long a reserved password check may stay
// unfinished before its reservation counts as a failure (a check takes a
// fraction of a second; only a process that died mid-check leaves one).
const staleReservation = time.Minute

// BeginLogin reserves one password check for a username, in the same
// locked step as the lockout test: the check counts as a failure until
// FinishLogin or ClearLoginFailures says otherwise. So however many
// attempts arrive at once, at most max passwords are checked before the
// lock answers. A lock that has run out starts the count again. It reports
// whether the check may go ahead, and the state after the reservation:
// refused with LockedUntil set, the account is locked; refused without, the
// allowance is spent by checks still in flight, which lock the account only
// if they fail (so many correct sign-ins at once never lock it; the caller
// asks to try again in a moment).
func (db *DB) BeginLogin(ctx context.Context, username string, now time.Time, max int, lockFor time.Duration) (LoginLock, bool, error) {
	var (
		l  LoginLock
		ok bool
	)
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		key := loginKey(username)
		// One statement makes the row or locks the one there: a separate
		// insert and select let a concurrent successful sign-in delete the
		// row between them (ClearLoginFailures), and the select found none.
		var reserved *time.Time
		if err := tx.QueryRow(ctx, `INSERT INTO login_attempts (username) VALUES ($1)
				ON CONFLICT (username) DO UPDATE SET username = EXCLUDED.username
				RETURNING failures, locked_until, reserved_at`, key).Scan(&l.Failures, &l.LockedUntil, &reserved); err != nil {
			return err
		}
		if l.Locked(now) {
			return nil
		}
		if l.LockedUntil != nil {
			l = LoginLock{} // the lock ran out
		}
		if l.Failures >= max {
			// Checks in flight (or failures) have spent the allowance:
			// refuse this one unchecked. Failures lock the account in
			// FinishLogin; a success clears the count. Reservations a
			// minute old whose checks never finished lock it here.
			if reserved != nil && now.Sub(*reserved) < staleReservation {
				return nil
			}
			until := now.Add(lockFor)
			l.LockedUntil = &until
		} else {
			l.Failures++
			ok = true
		}
		_, err := tx.Exec(ctx, `UPDATE login_attempts SET failures = $2, locked_until = $3, reserved_at = CASE WHEN $4 THEN $5 ELSE reserved_at END
			WHERE username = $1`, key, l.Failures, l.LockedUntil, ok, now)
		return err
	})
	if err != nil {
		return l, false, fmt.Errorf("begin login: %w", err)
	}
	return l, ok, nil
}

// FinishLogin records that a check reserved by BeginLogin failed: the
// failure was already counted; once there are max of them the username is
// locked for lockFor.
func (db *DB) FinishLogin(ctx context.Context, username string, now time.Time, max int, lockFor time.Duration) (LoginLock, error) {
	var l LoginLock
	err := db.Pool.QueryRow(ctx, `UPDATE login_attempts SET last_failure_at = $2,
			locked_until = CASE WHEN failures >= $3 AND (locked_until IS NULL OR locked_until <= $2) THEN $4 ELSE locked_until END
		WHERE username = $1 RETURNING failures, locked_until`,
		loginKey(username), now, max, now.Add(lockFor)).Scan(&l.Failures, &l.LockedUntil)
	if errors.Is(err, pgx.ErrNoRows) {
		// Cleared meanwhile by a successful sign-in: nothing to count.
		return LoginLock{}, nil
	}
	if err != nil {
		return l, fmt.Errorf("finish login: %w", err)
	}
	return l, nil
}

// ClearLoginFailures forgets failures after a successful sign-in.
func (db *DB) ClearLoginFailures(ctx context.Context, username string) error {
	_, err := db.Pool.Exec(ctx, `DELETE FROM login_attempts WHERE username = $1`, loginKey(username))
	return err
}

func loginKey(username string) string { return strings.ToLower(strings.TrimSpace(username)) }
