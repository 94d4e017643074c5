package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/api"
	"github.com/duban-dev/duban/blob"
	"github.com/duban-dev/duban/engine"
	"github.com/duban-dev/duban/internal/testenv"
	"github.com/duban-dev/duban/password"
	"github.com/duban-dev/duban/plan"
	"github.com/duban-dev/duban/store"
)

// The tests share one stack: a fresh database, the embedded Temporal
// server with a worker, and a slice of the 2021 plan launched once —
// template 2.1 (reform plans, due 31 December, every city and county) and
// 8.1 (member day, due 29 May). Plan time starts on 1 June 2021 and runs at
// the real pace, so every 8.1 task is overdue from the start and no 2.1
// deadline or reminder comes near.
var (
	fixOnce sync.Once
	fix     *fixture
	fixErr  error
	fixDone []func()
)

const pw = "correct horse battery"

var jwtKey = []byte("test-signing-key-0123456789abcdef-0123456789")

type fixture struct {
	stack *testenv.Stack
	app   *api.App
	// metrics is the registry of app's metrics (apps newApp builds have their own).
	metrics *prometheus.Registry
	deps    api.Deps
	clock   duban.Clock

	mu      sync.Mutex
	baseURL string
	users   map[string]store.User
	tokens  map[string]string
}

func TestMain(m *testing.M) {
	code := m.Run()
	for i := len(fixDone) - 1; i >= 0; i-- {
		fixDone[i]()
	}
	os.Exit(code)
}

// getFixture starts the shared stack on first use.
func getFixture(t testing.TB) *fixture {
	t.Helper()
	fixOnce.Do(func() { fix, fixErr = setup([]string{"2.1", "8.1"}) })
	if fixErr != nil {
		t.Fatal(fixErr)
	}
	return fix
}

// A second stack, with the same people and the plan imported but nothing
// launched, for the tests that launch templates of their own or change
// units and plans: what they add would otherwise show in the shared
// fixture's lists, counts and scores, depending on the order tests run in.
var (
	isoOnce sync.Once
	iso     *fixture
	isoErr  error
)

// isolatedFixture starts the second stack on first use.
func isolatedFixture(t *testing.T) *fixture {
	t.Helper()
	isoOnce.Do(func() { iso, isoErr = setup(nil) })
	if isoErr != nil {
		t.Fatal(isoErr)
	}
	return iso
}

// testUsers are the people of the tests: username → unit, roles.
var testUsers = []struct {
	name  string
	unit  string
	roles []duban.Role
}{
	{"furong-official", "430102", []duban.Role{duban.RoleOfficial}},
	{"furong-approver", "430102", []duban.Role{duban.RoleApprover}},
	{"tianxin-official", "430103", []duban.Role{duban.RoleOfficial}},
	{"yuelu-official", "430104", []duban.Role{duban.RoleOfficial}},
	{"yuelu-approver", "430104", []duban.Role{duban.RoleApprover}},
	{"yuelu-approver2", "430104", []duban.Role{duban.RoleApprover}},
	{"kaifu-official", "430105", []duban.Role{duban.RoleOfficial}},
	{"kaifu-approver", "430105", []duban.Role{duban.RoleApprover}},
	{"yuhua-official", "430111", []duban.Role{duban.RoleOfficial}},
	{"yuhua-approver", "430111", []duban.Role{duban.RoleApprover}},
	{"wangcheng-official", "430112", []duban.Role{duban.RoleOfficial}},
	{"changsha-approver", "4301", []duban.Role{duban.RoleApprover}},
	{"changsha-admin", "4301", []duban.Role{duban.RoleAdmin}},
	{"changsha-supervisor", "4301", []duban.Role{duban.RoleSupervisor}},
	{"yueyang-supervisor", "4306", []duban.Role{duban.RoleSupervisor}},
	{"yueyang-admin", "4306", []duban.Role{duban.RoleAdmin}},
	{"yueyanglou-official", "430602", []duban.Role{duban.RoleOfficial}},
	{"hunan-approver", "43", []duban.Role{duban.RoleApprover}},
	{"hunan-supervisor", "43", []duban.Role{duban.RoleSupervisor}},
	{"hunan-admin", "43", []duban.Role{duban.RoleAdmin, duban.RoleSupervisor}},
}

// setup starts a stack with the test people and the shipped 2021 plan, and
// launches templates of it (none when empty).
func setup(templates []string) (*fixture, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	s, err := testenv.NewSharedStack(func(f func()) { fixDone = append(fixDone, f) })
	if err != nil {
		return nil, err
	}
	p, src, err := plan.Shipped("hunan-2021")
	if err != nil {
		return nil, err
	}
	if _, err := s.DB.ImportPlan(ctx, p, src, "test"); err != nil {
		return nil, err
	}
	hash, err := password.Hash(pw)
	if err != nil {
		return nil, err
	}
	f := &fixture{stack: s, users: map[string]store.User{}, tokens: map[string]string{}}
	for _, u := range testUsers {
		created, err := s.DB.CreateUser(ctx, store.User{Username: u.name, DisplayName: u.name, UnitCode: u.unit, Roles: u.roles, PasswordHash: hash})
		if err != nil {
			return nil, err
		}
		f.users[u.name] = created
	}
	f.clock = duban.Clock{Scale: 1, VirtualEpoch: time.Date(2021, 6, 1, 9, 0, 0, 0, duban.Shanghai), RealEpoch: time.Now()}
	if len(templates) > 0 {
		launchID, err := s.Engine.Launch(ctx, "hunan-2021", 2021, engine.LaunchOptions{Clock: f.clock, Templates: templates, BatchSize: 100, Concurrency: 16})
		if err != nil {
			return nil, err
		}
		if _, err := s.Engine.WaitLaunch(ctx, launchID); err != nil {
			return nil, err
		}
	}
	dir, err := os.MkdirTemp("", "duban-api-blobs-")
	if err != nil {
		return nil, err
	}
	fixDone = append(fixDone, func() { os.RemoveAll(dir) })
	blobs, err := blob.NewFS(dir)
	if err != nil {
		return nil, err
	}
	level := slog.LevelWarn
	if os.Getenv("DUBAN_TEST_LOG") != "" {
		level = slog.LevelDebug
	}
	f.deps = api.Deps{DB: s.DB, Engine: s.Engine, Blobs: blobs, Clock: f.clock, JWTKey: jwtKey,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})),
		Limits: api.Limits{LoginPerIPPerMinute: 10000, LoginPerAccountPerMinute: 10000},
		// Email, one work group and DingTalk are configured; WeCom and SMS are not.
		Notify: api.NotifySetup{Email: true, Webhooks: []string{"督办工作群"}, DingTalk: true,
			DigestRoles: []duban.Role{duban.RoleApprover, duban.RoleSupervisor}, DigestHour: 8, QuietStart: 22, QuietEnd: 7}}
	f.metrics = prometheus.NewRegistry()
	withMetrics := f.deps
	withMetrics.Registry = f.metrics
	if f.app, err = api.New(withMetrics); err != nil {
		return nil, err
	}
	fixDone = append(fixDone, func() { _ = f.app.Shutdown(context.Background()) })
	if !slices.Contains(templates, "8.1") {
		return f, nil
	}
	// Every 8.1 task turns overdue on its first workflow task; wait for them.
	deadline := time.Now().Add(90 * time.Second)
	for {
		var n int
		if err := s.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM instances WHERE template_id = '8.1' AND overdue_since IS NOT NULL`).Scan(&n); err != nil {
			return nil, err
		}
		if n == 148 {
			break
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("only %d of 148 member-day tasks overdue", n)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return f, nil
}

// token signs a user in (once) and returns their access token.
func (f *fixture) token(t *testing.T, username string) string {
	t.Helper()
	f.mu.Lock()
	tok, ok := f.tokens[username]
	f.mu.Unlock()
	if ok {
		return tok
	}
	res := f.do(t, "", "POST", "/api/v1/auth/login", jsonBody(map[string]string{"username": username, "password": pw}))
	require.Equal(t, 200, res.status, "login %s: %s", username, res.body)
	tok = res.json(t)["access_token"].(string)
	f.mu.Lock()
	f.tokens[username] = tok
	f.mu.Unlock()
	return tok
}

func (f *fixture) user(name string) store.User { return f.users[name] }

// body is a request body with its content type.
type body struct {
	contentType string
	data        []byte
}

func jsonBody(v any) *body {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return &body{"application/json", b}
}

func rawJSON(s string) *body { return &body{"application/json", []byte(s)} }

// multipartBody builds a form with fields and files (name → content).
func multipartBody(fields map[string][]string, files map[string][]byte) *body {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for k, vs := range fields {
		for _, v := range vs {
			_ = w.WriteField(k, v)
		}
	}
	for name, content := range files {
		fw, _ := w.CreateFormFile("file", name)
		_, _ = fw.Write(content)
	}
	_ = w.Close()
	return &body{w.FormDataContentType(), buf.Bytes()}
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(r.body, &m), "body: %s", r.body)
	return m
}

// problem checks a problem document and returns it.
func (r response) problem(t *testing.T, status int, code string) map[string]any {
	t.Helper()
	require.Equal(t, status, r.status, "body: %s", r.body)
	require.Equal(t, "application/problem+json; charset=utf-8", r.header.Get("Content-Type"))
	m := r.json(t)
	require.Equal(t, code, m["code"], "body: %s", r.body)
	require.EqualValues(t, status, m["status"])
	require.Equal(t, "urn:duban:problem:"+code, m["type"])
	require.NotEmpty(t, m["title"])
	return m
}

// do sends a request as the holder of token (none if empty).
func (f *fixture) do(t testing.TB, token, method, path string, b *body, headers ...string) response {
	t.Helper()
	return doApp(t, f.app, token, method, path, b, headers...)
}

func doApp(t testing.TB, app *api.App, token, method, path string, b *body, headers ...string) response {
	t.Helper()
	var rd io.Reader
	if b != nil {
		rd = bytes.NewReader(b.data)
	}
	req := httptest.NewRequest(method, path, rd)
	if b != nil {
		req.Header.Set("Content-Type", b.contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := app.Test(req, 60_000)
	require.NoError(t, err)
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return response{status: res.StatusCode, header: res.Header, body: data}
}

// as sends a request as a named user.
func (f *fixture) as(t *testing.T, username, method, path string, b *body, headers ...string) response {
	t.Helper()
	return f.do(t, f.token(t, username), method, path, b, headers...)
}

// taskPath is the API path of an instance (its id percent-encoded).
func taskPath(id string, rest ...string) string {
	p := "/api/v1/tasks/" + url.PathEscape(id)
	if len(rest) > 0 {
		p += "/" + strings.Join(rest, "/")
	}
	return p
}

// pdf is a tiny file that sniffs as a PDF.
func pdf(text string) []byte {
	return []byte("%PDF-1.4\n% " + text + "\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
}

func countRows(t *testing.T, db *store.DB, sql string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, db.Pool.QueryRow(context.Background(), sql, args...).Scan(&n))
	return n
}

// taskOf decodes an action response's task.
func taskOf(t *testing.T, r response) map[string]any {
	t.Helper()
	require.Equal(t, 200, r.status, "body: %s", r.body)
	task, ok := r.json(t)["task"].(map[string]any)
	require.True(t, ok, "body: %s", r.body)
	return task
}

// listen serves the app on a loopback port (once) for tests that need a
// real connection: event streams, oversized headers.
func (f *fixture) listen(t *testing.T) string {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.baseURL != "" {
		return f.baseURL
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = f.app.Listener(ln) }()
	f.baseURL = "http://" + ln.Addr().String()
	return f.baseURL
}

// newApp builds another app over the shared stack (other limits).
func newApp(t *testing.T, deps api.Deps) *api.App {
	t.Helper()
	app, err := api.New(deps)
	require.NoError(t, err)
	t.Cleanup(func() { _ = app.Shutdown(context.Background()) })
	return app
}
