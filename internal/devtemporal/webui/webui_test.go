package webui_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/duban-dev/duban/internal/devtemporal"
	"github.com/duban-dev/duban/internal/devtemporal/webui"
)

// TestTheWebUIServesItsPagesAndReadsTheEmbeddedServer starts an embedded
// Temporal server and its Web UI, then reads the UI's index page, one of
// its embedded assets and its API (the namespaces, read from the server
// through the UI server's gateway).
func TestTheWebUIServesItsPagesAndReadsTheEmbeddedServer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv, err := devtemporal.Start(ctx, devtemporal.Options{Namespace: "duban-ui"})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	ui, err := webui.Start(webui.Options{Addr: "127.0.0.1:0", Temporal: srv.HostPort(), Namespace: srv.Namespace()})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := ui.Stop(); err != nil {
			t.Errorf("stop: %v", err)
		}
	}()

	get := func(path string) (string, http.Header) {
		t.Helper()
		res, err := http.Get(ui.URL() + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, res.StatusCode, body)
		}
		return string(body), res.Header
	}

	index, h := get("/")
	if !strings.Contains(h.Get("Content-Type"), "text/html") || !strings.Contains(index, "<html") {
		t.Errorf("GET /: want the UI's HTML page, got %s: %.200s", h.Get("Content-Type"), index)
	}
	// A deep link, as Duban's task page makes, is the same page (the UI
	// routes in the browser).
	if page, _ := get("/namespaces/duban-ui/workflows/some-task"); !strings.Contains(page, "<html") {
		t.Errorf("deep link: want the UI's HTML page, got %.200s", page)
	}
	if icon, _ := get("/favicon.ico"); len(icon) == 0 {
		t.Error("GET /favicon.ico: empty; the assets are not embedded")
	}

	body, _ := get("/api/v1/namespaces")
	var list struct {
		Namespaces []struct {
			NamespaceInfo struct{ Name string } `json:"namespaceInfo"`
		} `json:"namespaces"`
	}
	if err := json.Unmarshal([]byte(body), &list); err != nil {
		t.Fatalf("namespaces: %v in %.300s", err, body)
	}
	var names []string
	for _, n := range list.Namespaces {
		names = append(names, n.NamespaceInfo.Name)
	}
	if !strings.Contains(strings.Join(names, ","), "duban-ui") {
		t.Errorf("namespaces through the UI: %v, want duban-ui among them", names)
	}
}

// TestAnAddressInUseIsAnError: the UI server's own Start would end the
// process; here the caller hears of it.
func TestAnAddressInUseIsAnError(t *testing.T) {
	first, err := webui.Start(webui.Options{Addr: "127.0.0.1:0", Temporal: "127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	defer first.Stop()
	if _, err := webui.Start(webui.Options{Addr: first.Addr(), Temporal: "127.0.0.1:1"}); err == nil {
		t.Fatal("a second UI on the same address started")
	}
}
