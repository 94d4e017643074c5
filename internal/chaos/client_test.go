package chaos

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestTheClientRepeatsAFaultWithTheSameKeyOnTheOtherAPI: 503, 504 and a
// process gone are sent again with the same Idempotency-Key, to the API
// processes in turn, until one answers 2xx; a 409 to a repeat settles the
// decision (the task finished on an attempt whose answer was lost).
func TestTheClientRepeatsAFaultWithTheSameKeyOnTheOtherAPI(t *testing.T) {
	var mu sync.Mutex
	var keys, hosts []string
	answers := []int{503, 504, 200}
	next := 0
	handler := func(name string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			defer mu.Unlock()
			if r.URL.Path == "/api/v1/auth/login" {
				_, _ = w.Write([]byte(`{"access_token":"t"}`))
				return
			}
			keys = append(keys, r.Header.Get("Idempotency-Key"))
			hosts = append(hosts, name)
			w.WriteHeader(answers[next%len(answers)])
			next++
		}
	}
	a, b := httptest.NewServer(handler("a")), httptest.NewServer(handler("b"))
	defer a.Close()
	defer b.Close()
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close() // a process killed: connection refused
	c := newClient([]string{a.URL, gone.URL, b.URL}, "pw")
	ch := &chain{id: "2021/1.1/430102"}
	d := &decision{step: 1, key: "k-1"}
	if err := c.decide(context.Background(), ch, d, "someone", time.Minute); err != nil {
		t.Fatal(err)
	}
	if !d.ok || d.attempts != 4 {
		t.Fatalf("ok %v after %d attempts, want ok after 4 (503, refused, 504, 200)", d.ok, d.attempts)
	}
	for _, k := range keys {
		if k != "k-1" {
			t.Fatalf("keys sent %v, want k-1 every time", keys)
		}
	}
	if len(hosts) != 3 || hosts[0] == hosts[1] && hosts[1] == hosts[2] {
		t.Fatalf("answered by %v: want the processes in turn", hosts)
	}
	// The sign-in met the process gone too: one more retry.
	if c.retries.Load() != 4 || !c.succeededAfter(d.at.Add(-time.Millisecond)) {
		t.Fatalf("%d retries, want 4", c.retries.Load())
	}

	answers, next = []int{504, 409}, 0
	last := &decision{step: 3, key: "k-3"}
	if err := c.decide(context.Background(), ch, last, "someone", time.Minute); err != nil {
		t.Fatal(err)
	}
	if last.ok || !last.settled {
		t.Fatalf("a 409 to a repeat: ok %v settled %v, want settled", last.ok, last.settled)
	}
	// A 409 after attempts that never reached a process (refused) settles
	// nothing: the decision was refused.
	answers, next = []int{409}, 0
	for c.next.Load()%3 != 0 { // the next request goes to the process gone
		c.next.Add(1)
	}
	first := &decision{step: 2, key: "k-2"}
	if err := c.decide(context.Background(), ch, first, "someone", time.Minute); err == nil || first.settled {
		t.Fatalf("a 409 after a refused connection: settled %v, err %v; want an error", first.settled, err)
	}
}

// TestTheSharedServerIsFoundByItsPort: --restart-shared-postgres finds the
// local cluster on the database's port with pg_lsclusters (it is not
// restarted here: other tests use it).
func TestTheSharedServerIsFoundByItsPort(t *testing.T) {
	if _, err := exec.LookPath("pg_lsclusters"); err != nil {
		t.Skip("no pg_lsclusters")
	}
	out, err := exec.Command("pg_lsclusters", "-h").Output()
	if err != nil || !strings.Contains(string(out), " 5432 ") {
		t.Skip("no local cluster on 5432")
	}
	restart, how, err := sharedRestart("5432")
	if err != nil {
		t.Fatal(err)
	}
	if restart == nil || !strings.HasPrefix(how, "pg_ctlcluster --skip-systemctl-redirect ") || !strings.HasSuffix(how, " restart -m immediate") {
		t.Fatalf("how = %q", how)
	}
	if _, _, err := sharedRestart("1"); err == nil {
		t.Fatal("a port no cluster listens on: want an error")
	}
}
