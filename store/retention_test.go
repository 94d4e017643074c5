package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/internal/testenv"
	"github.com/duban-dev/duban/store"
)

// retentionRows writes, for one person, rows on both sides of each age:
// what Prune may delete and what it must keep.
func retentionRows(t *testing.T, db *store.DB, now time.Time) (userID int64) {
	t.Helper()
	ctx := context.Background()
	u, err := db.CreateUser(ctx, store.User{Username: "retention", DisplayName: "保留期限", UnitCode: "430102", Roles: []duban.Role{duban.RoleOfficial}, PasswordHash: "x"})
	require.NoError(t, err)
	old, recent := now.AddDate(0, 0, -200), now.AddDate(0, 0, -1)
	exec := func(sql string, args ...any) {
		t.Helper()
		_, err := db.Pool.Exec(ctx, sql, args...)
		require.NoError(t, err)
	}
	// Inbox: 25 read long ago (go), 3 unread from long ago and 4 read
	// yesterday (stay).
	exec(`INSERT INTO inbox (user_id, instance_id, seq, kind, title, body, dedup_key, at, read_at)
		SELECT $1, 'i', g, 'reminder', 't', 'b', 'old-read-' || g, $2, $2 FROM generate_series(1, 25) g`, u.ID, old)
	exec(`INSERT INTO inbox (user_id, instance_id, seq, kind, title, body, dedup_key, at)
		SELECT $1, 'i', g, 'reminder', 't', 'b', 'old-unread-' || g, $2 FROM generate_series(1, 3) g`, u.ID, old)
	exec(`INSERT INTO inbox (user_id, instance_id, seq, kind, title, body, dedup_key, at, read_at)
		SELECT $1, 'i', g, 'reminder', 't', 'b', 'recent-read-' || g, $2, $2 FROM generate_series(1, 4) g`, u.ID, recent)
	// Deliveries: an old digest first (the lowest id), then its 12 items,
	// 13 old sent, 2 old failed, 1 old skipped (all go); 2 old pending, 1
	// old retrying and 1 old held (not finished), 3 sent yesterday (stay).
	exec(`INSERT INTO deliveries (dedup_key, user_id, channel, target, kind, title, body, event_at, status, created_at, updated_at)
		VALUES ('digest-old', $1, 'email', 'a@b.c', 'digest', 't', 'b', $2, 'sent', $2, $2)`, u.ID, old)
	for status, n := range map[string]int{"digested": 12, "sent": 13, "failed": 2, "skipped": 1, "pending": 2, "retrying": 1, "held": 1} {
		exec(`INSERT INTO deliveries (dedup_key, user_id, channel, target, instance_id, seq, kind, title, body, event_at, status, created_at, updated_at, digest_id)
			SELECT 'old-' || $3 || '-' || g, $1, 'email', 'a@b.c', 'i', g, 'reminder', 't', 'b', $2, $3, $2, $2,
				CASE WHEN $3 = 'digested' THEN (SELECT id FROM deliveries WHERE dedup_key = 'digest-old') END
			FROM generate_series(1, $4::int) g`, u.ID, old, status, n)
	}
	exec(`INSERT INTO deliveries (dedup_key, user_id, channel, target, instance_id, seq, kind, title, body, event_at, status, created_at, updated_at)
		SELECT 'recent-' || g, $1, 'email', 'a@b.c', 'i', g, 'reminder', 't', 'b', $2, 'sent', $2, $2 FROM generate_series(1, 3) g`, u.ID, recent)
	// Sessions: 3 expired and 1 revoked long ago, with refresh tokens (go);
	// 2 live and 1 expired yesterday (stay).
	exec(`INSERT INTO sessions (id, user_id, created_at, expires_at) SELECT 'expired-' || g, $1, $2, $2 FROM generate_series(1, 3) g`, u.ID, old)
	exec(`INSERT INTO sessions (id, user_id, created_at, expires_at, revoked_at) VALUES ('revoked', $1, $2, $3, $2)`, u.ID, old, now.AddDate(0, 0, 5))
	exec(`INSERT INTO sessions (id, user_id, expires_at) SELECT 'live-' || g, $1, $2 FROM generate_series(1, 2) g`, u.ID, now.AddDate(0, 0, 5))
	exec(`INSERT INTO sessions (id, user_id, created_at, expires_at) VALUES ('expired-yesterday', $1, $2, $2)`, u.ID, recent)
	exec(`INSERT INTO refresh_tokens (token_hash, session_id, created_at, expires_at) SELECT decode(md5(id), 'hex'), id, $1, $1 FROM sessions`, old)
	// A timeline and audit rows, all old: never deleted.
	exec(`INSERT INTO events (instance_id, seq, at, kind) SELECT 'i', g, $1, 'reminder' FROM generate_series(1, 5) g`, old)
	for i := range 3 {
		e, err := store.NewAuditEntry(duban.Actor{Name: "保留期限"}, "user.update", "430102", "", map[string]int{"n": i})
		require.NoError(t, err)
		_, err = db.AppendAudit(ctx, e)
		require.NoError(t, err)
	}
	return u.ID
}

func TestPruneDeletesOnlyWhatTheRetentionRulesLetGo(t *testing.T) {
	db := testenv.OpenDB(t)
	ctx := context.Background()
	now := time.Now()
	retentionRows(t, db, now)
	rules := store.Retention{ReadInbox: 180 * 24 * time.Hour, Deliveries: 90 * 24 * time.Hour, Sessions: 30 * 24 * time.Hour, Batch: 10}
	audit := count(t, db, `SELECT count(*) FROM audit_log`)
	events := count(t, db, `SELECT count(*) FROM events`)

	// A dry run counts and deletes nothing.
	dry := rules
	dry.DryRun = true
	res, err := db.Prune(ctx, dry, now)
	require.NoError(t, err)
	require.Equal(t, [3]int64{25, 29, 4}, [3]int64{res.Inbox, res.Deliveries, res.Sessions})
	require.Equal(t, 32, count(t, db, `SELECT count(*) FROM inbox`))
	require.Equal(t, 36, count(t, db, `SELECT count(*) FROM deliveries`))

	// Batches of ten: several statements per table, each short.
	res, err = db.Prune(ctx, rules, now)
	require.NoError(t, err)
	require.Equal(t, [3]int64{25, 29, 4}, [3]int64{res.Inbox, res.Deliveries, res.Sessions})
	require.GreaterOrEqual(t, res.Statements, 3+3+1)
	require.Equal(t, 3, count(t, db, `SELECT count(*) FROM inbox WHERE read_at IS NULL`))
	require.Equal(t, 4, count(t, db, `SELECT count(*) FROM inbox WHERE read_at IS NOT NULL`))
	require.Equal(t, []string{"held", "pending", "retrying", "sent"}, column(t, db, `SELECT DISTINCT status FROM deliveries ORDER BY 1`))
	require.Equal(t, 3, count(t, db, `SELECT count(*) FROM deliveries WHERE status = 'sent'`))
	require.Equal(t, []string{"expired-yesterday", "live-1", "live-2"}, column(t, db, `SELECT id FROM sessions ORDER BY id`))
	require.Equal(t, 3, count(t, db, `SELECT count(*) FROM refresh_tokens`), "tokens go with their sessions")
	require.Equal(t, audit, count(t, db, `SELECT count(*) FROM audit_log`), "audit rows are never deleted")
	require.Equal(t, events, count(t, db, `SELECT count(*) FROM events`), "timelines are never deleted")
	check, err := db.VerifyAudit(ctx)
	require.NoError(t, err)
	require.True(t, check.OK(), check.Problem)

	// Again: nothing left to delete. An age of zero keeps that kind.
	res, err = db.Prune(ctx, rules, now)
	require.NoError(t, err)
	require.Zero(t, res.Total())
	res, err = db.Prune(ctx, store.Retention{}, now.AddDate(10, 0, 0))
	require.NoError(t, err)
	require.Zero(t, res.Total())
}

func column(t *testing.T, db *store.DB, sql string) []string {
	t.Helper()
	rows, err := db.Pool.Query(context.Background(), sql)
	require.NoError(t, err)
	var out []string
	for rows.Next() {
		var s string
		require.NoError(t, rows.Scan(&s))
		out = append(out, s)
	}
	require.NoError(t, rows.Err())
	return out
}
