package uitest_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/duban-dev/duban/api"
	"github.com/duban-dev/duban/internal/devtemporal/webui"
	"github.com/duban-dev/duban/internal/testenv"
)

// TestAdminsOpenTheTaskInTemporalsWebUI: with Temporal's Web UI running
// beside the embedded server (as `duban-dev dev` runs it), an admin's task
// page links to the task's workflow there, and the link answers with the
// UI's page; an official's page of the same task has no such link.
func TestAdminsOpenTheTaskInTemporalsWebUI(t *testing.T) {
	f := getFixture(t)
	june := f.juneServer(t) // launches 芙蓉区's reform task
	tsrv := testenv.Temporal(t)
	ui, err := webui.Start(webui.Options{Addr: "127.0.0.1:0", Temporal: tsrv.HostPort(), Namespace: tsrv.Namespace()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ui.Stop() })
	srv := f.serveUI(t, "temporal-ui", june.clock, f.stack.Engine, api.TemporalUI{URL: ui.URL() + "/", Namespace: tsrv.Namespace()})

	adm := f.signIn(t, srv, "hunan-admin")
	adm.goTo("#/tasks/" + escape(reformTask))
	adm.waitText("#task-workflow", "在 Temporal 中查看流程")
	href := adm.str(`document.getElementById('task-workflow').href`)
	want := ui.URL() + "/namespaces/" + tsrv.Namespace() + "/workflows/" + escape(f.stack.Engine.WorkflowID(reformTask))
	if href != want {
		t.Fatalf("the link goes to %s, want %s", href, want)
	}
	if target := adm.str(`document.getElementById('task-workflow').target`); target != "_blank" {
		t.Errorf("the link opens in %q, want a new tab", target)
	}
	c := http.Client{Timeout: 10 * time.Second}
	res, err := c.Get(href)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), "<html") {
		t.Fatalf("GET %s: %d %.200s", href, res.StatusCode, body)
	}

	off := f.signIn(t, srv, "furong-official")
	off.goTo("#/tasks/" + escape(reformTask))
	off.waitJS("the task page", `document.getElementById('task-status')`)
	off.settled()
	if n := off.str(`String(document.querySelectorAll('#task-workflow').length)`); n != "0" {
		t.Fatalf("an official's task page links to Temporal (%s links)", n)
	}
	if me := srv.call(t, srv.token(t, "furong-official"), "GET", "/api/v1/me", nil); me["temporal_ui"] != nil {
		t.Fatalf("/me tells an official where Temporal's UI is: %v", me["temporal_ui"])
	}
}
