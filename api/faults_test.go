package api_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/api"
	"github.com/duban-dev/duban/blob"
	"github.com/duban-dev/duban/engine"
	"github.com/duban-dev/duban/internal/testenv"
	"github.com/duban-dev/duban/password"
	"github.com/duban-dev/duban/plan"
	"github.com/duban-dev/duban/store"
)

// TestAFaultAnswersAsAFault: while no worker runs, an action's Update does
// not complete in time: the API answers 504 with Retry-After and a Chinese
// message, never 500. Once a worker is back, the same request (the same
// Idempotency-Key) returns the result, decided once.
func TestAFaultAnswersAsAFault(t *testing.T) {
	ctx := context.Background()
	s := testenv.NewStack(t)
	p, src, err := plan.Shipped("hunan-2021")
	require.NoError(t, err)
	_, err = s.DB.ImportPlan(ctx, p, src, "test")
	require.NoError(t, err)
	clock := duban.Clock{Scale: 1, VirtualEpoch: time.Date(2021, 6, 1, 9, 0, 0, 0, duban.Shanghai), RealEpoch: time.Now()}
	lid, err := s.Engine.Launch(ctx, "hunan-2021", 2021, engine.LaunchOptions{Clock: clock, Templates: []string{"2.1"}})
	require.NoError(t, err)
	_, err = s.Engine.WaitLaunch(ctx, lid)
	require.NoError(t, err)
	hash, err := password.Hash(pw)
	require.NoError(t, err)
	_, err = s.DB.CreateUser(ctx, store.User{Username: "fault-official", DisplayName: "故障测试", UnitCode: "430102", Roles: []duban.Role{duban.RoleOfficial}, PasswordHash: hash})
	require.NoError(t, err)

	eng := *s.Engine
	eng.UpdateTimeout = 2 * time.Second
	blobs, err := blob.NewFS(t.TempDir())
	require.NoError(t, err)
	app := newApp(t, api.Deps{DB: s.DB, Engine: &eng, Blobs: blobs, Clock: clock, JWTKey: jwtKey, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Limits: api.Limits{LoginPerIPPerMinute: 10000, LoginPerAccountPerMinute: 10000}})
	res := doApp(t, app, "", "POST", "/api/v1/auth/login", jsonBody(map[string]string{"username": "fault-official", "password": pw}))
	require.Equal(t, 200, res.status, "%s", res.body)
	tok := res.json(t)["access_token"].(string)
	id := "2021/2.1/430102"
	report := func() response {
		return doApp(t, app, tok, "POST", taskPath(id, "progress"), jsonBody(map[string]any{"note": "故障期间的报告"}), "Idempotency-Key", "fault-1")
	}

	s.StopWorker()
	start := time.Now()
	res = report()
	took := time.Since(start)
	p504 := res.problem(t, 504, "timeout")
	require.Contains(t, p504["detail"], "重试不会重复办理")
	retry, err := strconv.Atoi(res.header.Get("Retry-After"))
	require.NoError(t, err)
	require.Positive(t, retry)
	require.Less(t, took, 10*time.Second, "the answer comes at the Update's timeout, not the request's")

	s.StartWorker(t)
	deadline := time.Now().Add(30 * time.Second)
	for {
		res = report()
		if res.status == 200 || time.Now().After(deadline) {
			break
		}
		require.Contains(t, []int{503, 504}, res.status, "%s", res.body)
		time.Sleep(500 * time.Millisecond)
	}
	require.Equal(t, 200, res.status, "%s", res.body)
	require.Equal(t, 1, countRows(t, s.DB, `SELECT count(*) FROM events WHERE instance_id = $1 AND kind = 'progress'`, id), "decided once")
}

// TestTemporalUnreachableAnswers503: an engine whose Temporal frontend
// does not answer gives 503 with Retry-After.
func TestTemporalUnreachableAnswers503(t *testing.T) {
	f := getFixture(t)
	c, err := client.NewLazyClient(client.Options{HostPort: "127.0.0.1:1", Namespace: "default"})
	require.NoError(t, err)
	t.Cleanup(c.Close)
	deps := f.deps
	deps.Engine = &engine.Engine{Client: c, UpdateTimeout: 3 * time.Second}
	app := newApp(t, deps)
	res := doApp(t, app, f.token(t, "furong-approver"), "POST", taskPath("2021/2.1/430102", "decision"), jsonBody(map[string]any{"step": 1, "approve": true}))
	require.Contains(t, []int{503, 504}, res.status, "%s", res.body)
	require.NotEmpty(t, res.header.Get("Retry-After"))
	require.NotEqual(t, 500, res.status)
	require.Equal(t, 503, doApp(t, app, "", "GET", "/readyz", nil).status)
}

// TestDatabaseUnreachableAnswers503: while PostgreSQL cannot be reached
// (restarting, down), requests answer 503 with Retry-After and a Chinese
// message that says a repeat is safe — never 500.
func TestDatabaseUnreachableAnswers503(t *testing.T) {
	f := getFixture(t)
	pool, err := pgxpool.New(context.Background(), "postgres://postgres@127.0.0.1:1/duban?sslmode=disable&connect_timeout=2")
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	deps := f.deps
	deps.DB = &store.DB{Pool: pool}
	app := newApp(t, deps)
	tok := f.token(t, "furong-approver")
	for _, req := range []struct{ method, path string }{
		{"GET", "/api/v1/tasks"},
		{"GET", taskPath("2021/2.1/430102")},
		{"POST", taskPath("2021/2.1/430102", "decision")},
	} {
		res := doApp(t, app, tok, req.method, req.path, jsonBody(map[string]any{"step": 1, "approve": true}), "Idempotency-Key", "db-down-1")
		p := res.problem(t, 503, "unavailable")
		require.Contains(t, p["detail"], "数据库暂时不可用", "%s %s", req.method, req.path)
		require.NotEmpty(t, res.header.Get("Retry-After"))
	}
	require.Equal(t, 503, doApp(t, app, "", "GET", "/readyz", nil).status)
}

func TestStoreUnavailableTellsAFaultFromARefusal(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{&pgconn.PgError{Code: "57P01"}, true}, // admin shutdown (a restart)
		{&pgconn.PgError{Code: "57P03"}, true}, // starting up
		{&pgconn.PgError{Code: "08006"}, true}, // connection failure
		{&pgconn.PgError{Code: "23505"}, false},
		{&pgconn.PgError{Code: "22P02"}, false},
		{syscall.ECONNREFUSED, true},
		{errors.New("something else"), false},
		{nil, false},
	} {
		require.Equal(t, tc.want, store.Unavailable(tc.err), "%v", tc.err)
	}
}
