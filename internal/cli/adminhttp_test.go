package cli

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/duban-dev/duban/config"
	"github.com/duban-dev/duban/internal/testenv"
)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestServeKeepsMetricsOnTheAdminAddress runs the API as `duban serve`
// does, over a real database and Temporal: the public address answers the
// probes but serves no metrics; the admin address serves the API's metrics
// (the request just made among them) with the Go runtime's, and the probes.
func TestServeKeepsMetricsOnTheAdminAddress(t *testing.T) {
	ctx := context.Background()
	stack := testenv.NewStack(t)
	env := &Env{Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	cfg := config.Default()
	cfg.HTTPAddr = freeAddr(t)
	cfg.DataDir = t.TempDir()
	cfg.JWTKey = strings.Repeat("k", 32)
	reg := prometheus.NewRegistry()
	stop, err := StartAPI(ctx, env, cfg, APIDeps{DB: stack.DB, Engine: stack.Engine, Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	admin, err := StartAdmin(env, "127.0.0.1:0", reg, Readiness(stack.DB, stack.Engine))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Stop()

	public := "http://" + cfg.HTTPAddr
	if code, body := get(t, public+"/readyz"); code != 200 {
		t.Fatalf("public /readyz: %d %s", code, body)
	}
	// The web UI answers every other path; what it serves is no metric.
	if _, body := get(t, public+"/metrics"); strings.Contains(body, "duban_http_requests_total") || strings.Contains(body, "go_goroutines") {
		t.Errorf("the public address serves metrics: %.200s", body)
	}
	code, metrics := get(t, "http://"+admin.Addr()+"/metrics")
	if code != 200 {
		t.Fatalf("admin /metrics: %d", code)
	}
	for _, want := range []string{`duban_http_requests_total{method="GET",route="/readyz",status="200"}`, "go_goroutines", "process_resident_memory_bytes"} {
		if !strings.Contains(metrics, want) {
			t.Errorf("admin /metrics has no %s", want)
		}
	}
	if code, body := get(t, "http://"+admin.Addr()+"/readyz"); code != 200 || body != "ready\n" {
		t.Errorf("admin /readyz: %d %q", code, body)
	}
	if code, _ := get(t, "http://"+admin.Addr()+"/healthz"); code != 200 {
		t.Errorf("admin /healthz: %d", code)
	}
}

func TestAdminReadinessSaysWhatIsDown(t *testing.T) {
	env := &Env{Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	admin, err := StartAdmin(env, "127.0.0.1:0", prometheus.NewRegistry(), func(context.Context) error { return errors.New("postgres: connection refused") })
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Stop()
	code, body := get(t, "http://"+admin.Addr()+"/readyz")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "postgres: connection refused") {
		t.Errorf("/readyz: %d %q, want 503 naming postgres", code, body)
	}
	if code, _ := get(t, "http://"+admin.Addr()+"/healthz"); code != 200 {
		t.Errorf("/healthz while not ready: %d, want 200 (the process runs)", code)
	}

	// No admin address: nothing is served, and stopping is harmless.
	off, err := StartAdmin(env, "", prometheus.NewRegistry(), nil)
	if err != nil || off != nil {
		t.Fatalf("StartAdmin without an address: %v, %v", off, err)
	}
	off.Stop()
}
