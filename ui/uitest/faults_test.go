package uitest_test

import (
	"context"
	"net/url"
	"testing"
	"time"
)

// While no worker runs, an official's progress report does not complete
// in time: the API answers 504 with Retry-After, the page says it is
// retrying, and retries with the same Idempotency-Key; the worker comes
// back and the report is recorded once.
func TestTheUIRetriesThroughAWorkerOutage(t *testing.T) {
	f := getFixture(t)
	june := f.juneServer(t) // launches the tasks on the shared clock
	eng := *f.stack.Engine
	eng.UpdateTimeout = 2 * time.Second
	srv := f.serveWith(t, "june-short-updates", june.clock, &eng)
	id := "2021/2.1/430304" // 岳塘区: no other test touches it

	off := f.signIn(t, srv, "yuetang-official")
	off.goTo("#/tasks/" + url.PathEscape(id))
	off.fill("#form-progress textarea", "故障期间报告的进展")

	f.stack.StopWorker()
	restarted := false
	defer func() {
		if !restarted {
			f.stack.RestartWorker()
		}
	}()
	off.click("#form-progress button[type=submit]")
	off.waitText(".toast", "自动重试")
	time.Sleep(3 * time.Second)
	f.stack.RestartWorker()
	restarted = true
	off.waitText(".timeline", "故障期间报告的进展")
	off.waitText(".toast", "进展已报告")

	var n int
	if err := f.stack.DB.Pool.QueryRow(context.Background(), `SELECT count(*) FROM events WHERE instance_id = $1 AND kind = 'progress'`, id).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("%d progress events, want exactly 1", n)
	}

}
