package cli

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/internal/testenv"
	"github.com/duban-dev/duban/store"
)

// TestPrune runs `duban prune --dry-run`, then `duban prune`, with the
// session age from the environment: the dry run counts and keeps, the run
// deletes the inbox row read a year ago and the session ended 40 days ago,
// and nothing else; a second run finds nothing.
func TestPrune(t *testing.T) {
	ctx := context.Background()
	db := testenv.OpenDB(t)
	t.Setenv("DATABASE_URL", db.Pool.Config().ConnString())
	t.Setenv("DUBAN_RETENTION_SESSION_AGE", "720h")
	u, err := db.CreateUser(ctx, store.User{Username: "prune", DisplayName: "清理", UnitCode: "430102", Roles: []duban.Role{duban.RoleOfficial}, PasswordHash: "x"})
	if err != nil {
		t.Fatal(err)
	}
	yearAgo, now := time.Now().AddDate(-1, 0, 0), time.Now()
	if _, err := db.Pool.Exec(ctx, `INSERT INTO inbox (user_id, instance_id, seq, kind, title, body, dedup_key, at, read_at)
		VALUES ($1, 'i', 1, 'reminder', 't', 'b', 'old', $2, $2), ($1, 'i', 2, 'reminder', 't', 'b', 'new', $3, $3), ($1, 'i', 3, 'reminder', 't', 'b', 'unread', $2, NULL)`,
		u.ID, yearAgo, now); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool.Exec(ctx, `INSERT INTO sessions (id, user_id, expires_at) VALUES ('ended', $1, $2), ('live', $1, $3)`,
		u.ID, now.AddDate(0, 0, -40), now.AddDate(0, 0, 3)); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) string {
		t.Helper()
		var out bytes.Buffer
		env := &Env{Stdout: &out, Stderr: &out, Stdin: strings.NewReader(""), Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
		if err := Run(ctx, env, Production(), append([]string{"prune"}, args...)); err != nil {
			t.Fatalf("prune %v: %v\n%s", args, err, out.String())
		}
		return out.String()
	}
	rows := func() (inbox, sessions int) {
		t.Helper()
		if err := db.Pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM inbox), (SELECT count(*) FROM sessions)`).Scan(&inbox, &sessions); err != nil {
			t.Fatal(err)
		}
		return inbox, sessions
	}
	out := run("--dry-run")
	if !strings.Contains(out, "试运行") || !strings.Contains(out, "已读站内消息（超过 180 天）：1 条") || !strings.Contains(out, "已结束的登录会话（超过 30 天）：1 条") {
		t.Fatalf("dry run said:\n%s", out)
	}
	if i, s := rows(); i != 3 || s != 2 {
		t.Fatalf("the dry run deleted: %d inbox rows, %d sessions left", i, s)
	}
	out = run()
	if !strings.Contains(out, "已删除") || !strings.Contains(out, "审计记录和办理时间线不删除") {
		t.Fatalf("prune said:\n%s", out)
	}
	if i, s := rows(); i != 2 || s != 1 {
		t.Fatalf("after prune: %d inbox rows, %d sessions left; want 2 and 1", i, s)
	}
	if out := run(); !strings.Contains(out, "：0 条") || strings.Contains(out, "：1 条") {
		t.Fatalf("a second run said:\n%s", out)
	}
}
