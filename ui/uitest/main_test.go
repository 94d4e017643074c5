// Package uitest drives the web UI in headless Chromium against the real
// server: api.New with the embedded UI over a real PostgreSQL database and
// an embedded Temporal server with a worker (internal/testenv). The tests
// sign people in, click and type as they would, assert what they see, and
// capture each page at desktop and phone width; with DUBAN_SCREENSHOTS=1
// they write the captures to docs/screenshots.
//
// Chromium is Debian's `chromium` (deploy/dev/test-deps.sh installs it);
// DUBAN_CHROMIUM overrides the path. Without a browser the tests fail: they
// are not skipped.
package uitest_test

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
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/api"
	"github.com/duban-dev/duban/blob"
	"github.com/duban-dev/duban/engine"
	"github.com/duban-dev/duban/internal/testenv"
	"github.com/duban-dev/duban/password"
	"github.com/duban-dev/duban/plan"
	"github.com/duban-dev/duban/store"
	"github.com/duban-dev/duban/ui"
)

const pw = "correct horse battery"

var jwtKey = []byte("ui-test-signing-key-0123456789abcdef-0123")

// The people of the tests. Display names are what the pages show.
var people = []struct {
	username, name, unit string
	roles                []duban.Role
}{
	{"furong-official", "芙蓉区承办人", "430102", []duban.Role{duban.RoleOfficial}},
	{"furong-approver", "芙蓉区审核人", "430102", []duban.Role{duban.RoleApprover}},
	{"changsha-approver", "长沙市审核人", "4301", []duban.Role{duban.RoleApprover}},
	{"changsha-supervisor", "长沙市督查人", "4301", []duban.Role{duban.RoleSupervisor}},
	{"changsha-admin", "长沙市管理员", "4301", []duban.Role{duban.RoleAdmin}},
	{"hunan-approver", "省计生协审核人", "43", []duban.Role{duban.RoleApprover}},
	{"hunan-admin", "省计生协管理员", "43", []duban.Role{duban.RoleAdmin, duban.RoleSupervisor}},
	{"lockme", "锁定测试", "430103", []duban.Role{duban.RoleOfficial}},
	// 湘潭市 (4303) is where the everyday actions are tried: no other test
	// touches it.
	{"xiangtan-approver", "湘潭市审核人", "4303", []duban.Role{duban.RoleApprover}},
	{"yuhu-official", "雨湖区承办人", "430302", []duban.Role{duban.RoleOfficial}},
	{"yuhu-approver", "雨湖区审核人", "430302", []duban.Role{duban.RoleApprover}},
	{"xiangtanxian-official", "湘潭县承办人", "430321", []duban.Role{duban.RoleOfficial}},
	{"xiangtanxian-approver", "湘潭县审核人", "430321", []duban.Role{duban.RoleApprover}},
	{"xiangxiang-official", "湘乡市承办人", "430381", []duban.Role{duban.RoleOfficial}},
	{"xiangxiang-approver", "湘乡市审核人", "430381", []duban.Role{duban.RoleApprover}},
	{"xiangxiang-approver2", "湘乡市副会长", "430381", []duban.Role{duban.RoleApprover}},
	{"yuetang-official", "岳塘区承办人", "430304", []duban.Role{duban.RoleOfficial}},
}

var (
	fixOnce  sync.Once
	fix      *fixture
	fixErr   error
	cleanups []func()
)

func TestMain(m *testing.M) {
	code := m.Run()
	for i := len(cleanups) - 1; i >= 0; i-- {
		cleanups[i]()
	}
	os.Exit(code)
}

// fixture is shared by the tests: one stack, one browser, the plan
// imported, the people created; servers are started on demand, one per
// plan clock.
type fixture struct {
	stack   *testenv.Stack
	blobs   blob.Store
	browser context.Context
	shots   string

	mu      sync.Mutex
	servers map[string]*server
}

// server is the app on a loopback port, with the plan clock its API uses.
type server struct {
	url   string
	clock duban.Clock
}

func getFixture(t *testing.T) *fixture {
	t.Helper()
	fixOnce.Do(func() { fix, fixErr = setup() })
	if fixErr != nil {
		t.Fatal(fixErr)
	}
	return fix
}

// chromiumPath finds the browser; its absence is a failure with the way to
// fix it.
func chromiumPath() (string, error) {
	if p := os.Getenv("DUBAN_CHROMIUM"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("DUBAN_CHROMIUM=%s: %w", p, err)
		}
		return p, nil
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("no Chromium found for the browser tests: install Debian's chromium (`apt-get install chromium`, as deploy/dev/test-deps.sh does) or set DUBAN_CHROMIUM to a Chromium or Chrome binary")
}

func setup() (*fixture, error) {
	chromium, err := chromiumPath()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	s, err := testenv.NewSharedStack(func(f func()) { cleanups = append(cleanups, f) })
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
	for _, u := range people {
		if _, err := s.DB.CreateUser(ctx, store.User{Username: u.username, DisplayName: u.name, UnitCode: u.unit, Roles: u.roles, PasswordHash: hash}); err != nil {
			return nil, fmt.Errorf("user %s: %w", u.username, err)
		}
	}
	dir, err := os.MkdirTemp("", "duban-ui-blobs-")
	if err != nil {
		return nil, err
	}
	cleanups = append(cleanups, func() { os.RemoveAll(dir) })
	blobs, err := blob.NewFS(dir)
	if err != nil {
		return nil, err
	}
	// Screenshots are written only when asked, so that a test run leaves
	// the checkout as it was: DUBAN_SCREENSHOTS=1 writes them to
	// docs/screenshots, DUBAN_SCREENSHOTS=DIR to DIR. Either way every page
	// is shown and captured at both widths.
	shots := os.Getenv("DUBAN_SCREENSHOTS")
	switch shots {
	case "", "0":
		shots = ""
	case "1":
		shots = filepath.Join("..", "..", "docs", "screenshots")
	}
	if shots != "" {
		if err := os.MkdirAll(shots, 0o755); err != nil {
			return nil, err
		}
	}
	f := &fixture{stack: s, blobs: blobs, shots: shots, servers: map[string]*server{}}
	if f.browser, err = startBrowser(chromium); err != nil {
		return nil, err
	}
	return f, nil
}

// startBrowser starts one headless Chromium for the package. The flags keep
// it from reaching for the network (these machines have none) and from
// slowing down tabs that are not in front.
func startBrowser(path string) (context.Context, error) {
	profile, err := os.MkdirTemp("", "duban-ui-chromium-")
	if err != nil {
		return nil, err
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1366, 900),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-features", "Translate,OptimizationHints,MediaRouter,DialMediaRouteProvider,AutofillServerCommunication"),
		chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-backgrounding-occluded-windows", true),
		chromedp.Flag("disable-renderer-backgrounding", true),
		chromedp.Flag("metrics-recording-only", true),
		chromedp.Flag("password-store", "basic"),
		chromedp.Flag("lang", "zh-CN"),
		chromedp.Flag("font-render-hinting", "none"),
		chromedp.Env("TZ=Asia/Shanghai", "LANG=C.UTF-8", "LC_ALL=C.UTF-8", "LANGUAGE=zh_CN:zh"),
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	browser, cancelBrowser := chromedp.NewContext(alloc)
	cleanups = append(cleanups, func() {
		cancelBrowser()
		cancelAlloc()
		for range 50 { // Chromium's children may still write there for a moment
			if os.RemoveAll(profile) == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	// The first run starts the browser, which lives as long as the context
	// of that run: the package's, not a timeout's.
	if err := chromedp.Do(browser); err != nil {
		return nil, fmt.Errorf("start Chromium (%s): %w", path, err)
	}
	return browser, nil
}

// serve starts (once per name) the app with the UI over the shared stack,
// on the given plan clock, and launches the plan's templates for 2021 on
// the same clock.
func (f *fixture) serve(t *testing.T, name string, clock duban.Clock, templates ...string) *server {
	t.Helper()
	return f.serveWith(t, name, clock, f.stack.Engine, templates...)
}

// serveWith is serve with an engine of the test's own (other timeouts).
func (f *fixture) serveWith(t *testing.T, name string, clock duban.Clock, eng *engine.Engine, templates ...string) *server {
	t.Helper()
	return f.serveUI(t, name, clock, eng, api.TemporalUI{}, templates...)
}

// serveUI is serveWith naming Temporal's Web UI to the API.
func (f *fixture) serveUI(t *testing.T, name string, clock duban.Clock, eng *engine.Engine, temporalUI api.TemporalUI, templates ...string) *server {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if s, ok := f.servers[name]; ok {
		return s
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	level := slog.LevelError
	if os.Getenv("DUBAN_TEST_LOG") != "" {
		level = slog.LevelDebug
	}
	app, err := api.New(api.Deps{DB: f.stack.DB, Engine: eng, Blobs: f.blobs, Clock: clock, JWTKey: jwtKey,
		Logger:     slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})),
		Static:     ui.Handler(),
		Limits:     api.Limits{LoginPerIPPerMinute: 10000, LoginPerAccountPerMinute: 10000},
		Notify:     uiNotify,
		TemporalUI: temporalUI})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = app.Listener(ln) }()
	cleanups = append(cleanups, func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = app.Shutdown(sctx)
	})
	if len(templates) > 0 {
		id, err := f.stack.Engine.Launch(ctx, "hunan-2021", 2021, engine.LaunchOptions{Clock: clock, Templates: templates, BatchSize: 200, Concurrency: 16})
		if err != nil {
			t.Fatalf("launch %v: %v", templates, err)
		}
		if _, err := f.stack.Engine.WaitLaunch(ctx, id); err != nil {
			t.Fatalf("launch %v: %v", templates, err)
		}
	}
	s := &server{url: "http://" + ln.Addr().String(), clock: clock}
	f.servers[name] = s
	return s
}

// memberDayServer runs plan time 288× faster from two hours before the
// member day's deadline (29 May), with the member day (8.1) launched:
// about 25 seconds after it starts, every 8.1 task is overdue.
func (f *fixture) memberDayServer(t *testing.T) (*server, time.Time) {
	due := time.Date(2021, 5, 29, 23, 59, 59, 0, duban.Shanghai)
	const scale = 288
	clock := duban.Clock{Scale: scale, VirtualEpoch: due.Add(-2 * time.Hour), RealEpoch: time.Now()}
	srv := f.serve(t, "member-day", clock, "8.1")
	return srv, srv.clock.RealEpoch.Add(srv.clock.Real(2 * time.Hour))
}

// juneServer is plan time from 1 June 2021 at the real pace, with the
// reform plans (2.1) and the filing mechanism (2.3) launched: due 31
// December, evidence required, a three-step chain for counties.
func (f *fixture) juneServer(t *testing.T) *server {
	return f.serve(t, "june", duban.Clock{Scale: 1, VirtualEpoch: time.Date(2021, 6, 1, 9, 0, 0, 0, duban.Shanghai), RealEpoch: time.Now()}, "2.1", "2.3")
}

// --- the API, called directly to arrange what a test does not click ---

func (s *server) call(t *testing.T, token, method, path string, body any, headers ...string) map[string]any {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 300 {
		t.Fatalf("%s %s: %d %s", method, path, res.StatusCode, data)
	}
	out := map[string]any{}
	_ = json.Unmarshal(data, &out)
	return out
}

// callStatus sends a request and returns its status, for refusals.
func (s *server) callStatus(t *testing.T, token, method, path string, body any) int {
	t.Helper()
	b, _ := json.Marshal(body)
	req, err := http.NewRequest(method, s.url+path, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// submitWithFile submits a task with one evidence file (multipart), as an
// official's office would without the UI.
func (s *server) submitWithFile(t *testing.T, token, id, note, name string, content []byte) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	_ = w.WriteField("note", note)
	fw, _ := w.CreateFormFile("file", name)
	_, _ = fw.Write(content)
	_ = w.Close()
	req, _ := http.NewRequest("POST", s.url+"/api/v1/tasks/"+url.PathEscape(id)+"/submit", &buf)
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Idempotency-Key", "ui-test-submit-"+strings.ReplaceAll(id, "/", "-"))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		data, _ := io.ReadAll(res.Body)
		t.Fatalf("submit %s: %d %s", id, res.StatusCode, data)
	}
}

func (s *server) token(t *testing.T, username string) string {
	t.Helper()
	r := s.call(t, "", "POST", "/api/v1/auth/login", map[string]string{"username": username, "password": pw})
	return r["access_token"].(string)
}

// pdf is a small file that the server recognises as a PDF.
func pdf(text string) []byte {
	return []byte("%PDF-1.4\n% " + text + "\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
}
