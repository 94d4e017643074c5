package worker_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/activities"
	"github.com/duban-dev/duban/engine"
	"github.com/duban-dev/duban/internal/testenv"
	"github.com/duban-dev/duban/notify"
	"github.com/duban-dev/duban/notify/mailcatcher"
	"github.com/duban-dev/duban/plan"
	"github.com/duban-dev/duban/store"
	"github.com/duban-dev/duban/worker"
	"github.com/duban-dev/duban/workflows"
)

type silent struct{}

func (silent) Debug(string, ...interface{}) {}
func (silent) Info(string, ...interface{})  {}
func (silent) Warn(string, ...interface{})  {}
func (silent) Error(string, ...interface{}) {}

// TestRemindersReachPeopleByEmailAndWebhookOnce runs the reminders plan on
// the embedded Temporal server with a real SMTP server and a webhook that
// fails once: every notice reaches each person once per channel, the
// webhook's 503 is retried by Temporal, and nothing is left undelivered.
func TestRemindersReachPeopleByEmailAndWebhookOnce(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	db := testenv.OpenDB(t)
	srv := testenv.Temporal(t)
	c, err := client.Dial(client.Options{HostPort: srv.HostPort(), Namespace: srv.Namespace(), Logger: silent{}})
	require.NoError(t, err)
	defer c.Close()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	tq := "notify-" + hex.EncodeToString(b)
	prefix := tq + "/"

	catcher, err := mailcatcher.Start("127.0.0.1:0", mailcatcher.Options{})
	require.NoError(t, err)
	defer catcher.Close()
	var (
		mu      sync.Mutex
		posts   []string
		refused bool
	)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		posts = append(posts, r.Header.Get(notify.HeaderDelivery))
		if !refused {
			refused = true
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer hook.Close()
	email, err := notify.NewEmail(notify.SMTPConfig{Addr: catcher.Addr(), From: "湖南省计生协督办 <duban@hnjsx.example>", TLS: notify.TLSNone})
	require.NoError(t, err)
	group, err := notify.NewWebhook(notify.WebhookEndpoint{Name: "furong-group", Kind: notify.WebhookGeneric, URL: hook.URL, Secret: "s"})
	require.NoError(t, err)
	acts := &activities.Activities{
		Store:    db,
		Starter:  worker.Starter{Client: c, TaskQueue: tq, IDPrefix: prefix},
		Notifier: &notify.Dispatcher{Store: db, Email: email, Webhooks: map[string]notify.Channel{"furong-group": group}, Defaults: notify.Defaults{DigestRoles: []duban.Role{duban.RoleApprover, duban.RoleSupervisor}, DigestHour: 8}, PublicURL: "http://127.0.0.1:8080", MaxAttempts: 8},
	}
	w, err := worker.New(c, acts, worker.Options{TaskQueue: tq})
	require.NoError(t, err)
	require.NoError(t, w.Start())
	defer w.Stop()
	eng := &engine.Engine{Client: c, TaskQueue: tq, IDPrefix: prefix}

	// The digest workflow starts once, however often it is asked to.
	require.NoError(t, worker.StartDigest(ctx, c, tq, prefix, time.Minute))
	require.NoError(t, worker.StartDigest(ctx, c, tq, prefix, time.Minute))
	desc, err := c.DescribeWorkflowExecution(ctx, prefix+workflows.DigestWorkflowID, "")
	require.NoError(t, err)
	require.Equal(t, "Running", desc.GetWorkflowExecutionInfo().GetStatus().String())
	defer func() {
		_ = c.TerminateWorkflow(context.Background(), prefix+workflows.DigestWorkflowID, "", "test over")
	}()

	h, err := db.Hierarchy(ctx)
	require.NoError(t, err)
	p, src, err := plan.LoadFile("testdata/reminders.yaml", h)
	require.NoError(t, err)
	_, err = db.ImportPlan(ctx, p, src, "test")
	require.NoError(t, err)
	mk := func(username, unit, mail string, roles ...duban.Role) store.User {
		u, err := db.CreateUser(ctx, store.User{Username: username, DisplayName: username, UnitCode: unit, Roles: roles, Email: mail, PasswordHash: "x"})
		require.NoError(t, err)
		return u
	}
	official := mk("furong-official", "430102", "official@furong.example", duban.RoleOfficial)
	require.NoError(t, db.SetPrefs(ctx, duban.NotifyPrefs{UserID: official.ID, Webhook: "furong-group"}))
	mk("furong-head", "430102", "head@furong.example", duban.RoleApprover, duban.RoleSupervisor)
	mk("changsha-supervisor", "4301", "supervisor@changsha.example", duban.RoleSupervisor)
	mk("hunan-supervisor", "43", "supervisor@hunan.example", duban.RoleSupervisor)

	clock := duban.Clock{Scale: 43200, VirtualEpoch: time.Date(2021, 3, 6, 12, 0, 0, 0, duban.Shanghai), RealEpoch: time.Now()}
	launchID, err := eng.Launch(ctx, "reminders-test", 2021, engine.LaunchOptions{Clock: clock})
	require.NoError(t, err)
	_, err = eng.WaitLaunch(ctx, launchID)
	require.NoError(t, err)

	id := "2021/2.1/430102"
	require.Eventually(t, func() bool {
		row, err := db.Instance(ctx, id)
		return err == nil && row.Escalation == 3
	}, 90*time.Second, 200*time.Millisecond)

	// The official: assigned, three reminders, overdue, escalation day 0.
	// The head (approver and supervisor: digest by default) hears only the
	// urgent escalation, at once; then the city's and the province's
	// supervisors. Nine emails.
	if !assert.Eventually(t, func() bool { return len(catcher.Messages()) >= 9 }, 60*time.Second, 200*time.Millisecond) {
		for _, m := range catcher.Messages() {
			t.Log(m.To, m.Subject)
		}
		all, _ := db.Deliveries(ctx, store.DeliveryFilter{Limit: 100})
		for _, d := range all {
			t.Log(d.Key, d.Status, d.Attempts, d.LastError)
		}
		t.FailNow()
	}
	require.Eventually(t, func() bool {
		open, err := db.Deliveries(ctx, store.DeliveryFilter{Status: duban.DeliveryRetrying})
		require.NoError(t, err)
		pending, err := db.Deliveries(ctx, store.DeliveryFilter{Status: duban.DeliveryPending})
		require.NoError(t, err)
		return len(open)+len(pending) == 0
	}, 60*time.Second, 200*time.Millisecond)
	time.Sleep(500 * time.Millisecond) // nothing more should arrive
	msgs := catcher.Messages()
	require.Len(t, msgs, 9)
	subjects := map[string][]string{}
	ids := map[string]bool{}
	for _, m := range msgs {
		subjects[m.To[0]] = append(subjects[m.To[0]], m.Subject)
		require.False(t, ids[m.MessageID], "message %s sent twice", m.MessageID)
		ids[m.MessageID] = true
	}
	// Overdue and day 0 of the ladder are a plan second apart and go out
	// from separate deliveries: their order of arrival is not fixed.
	require.ElementsMatch(t, []string{"新任务：出台改革方案", "到期提醒：出台改革方案", "到期提醒：出台改革方案", "到期提醒：出台改革方案",
		"【紧急】已逾期：出台改革方案", "【紧急】逾期督办：出台改革方案"}, subjects["official@furong.example"])
	require.Equal(t, []string{"【紧急】逾期督办：出台改革方案"}, subjects["head@furong.example"])
	require.Equal(t, []string{"【紧急】逾期督办：出台改革方案"}, subjects["supervisor@changsha.example"])
	require.Equal(t, []string{"【紧急】逾期督办：出台改革方案"}, subjects["supervisor@hunan.example"])

	// The webhook: six notices, the first refused with 503 and retried.
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, posts, 7)
	distinct := map[string]int{}
	for _, k := range posts {
		distinct[k]++
	}
	require.Len(t, distinct, 6)
	sent, err := db.Deliveries(ctx, store.DeliveryFilter{Status: duban.DeliverySent, Limit: 100})
	require.NoError(t, err)
	require.Len(t, sent, 15)

	// The history the new code wrote (delivery coroutines, version marker)
	// replays deterministically.
	iter := c.GetWorkflowHistory(ctx, eng.WorkflowID(id), "", false, 0)
	var hist historypb.History
	for iter.HasNext() {
		e, err := iter.Next()
		require.NoError(t, err)
		hist.Events = append(hist.Events, e)
	}
	replayer := sdkworker.NewWorkflowReplayer()
	replayer.RegisterWorkflowWithOptions(workflows.TaskWorkflow, workflow.RegisterOptions{Name: "TaskWorkflow"})
	require.NoError(t, replayer.ReplayWorkflowHistory(nil, &hist))
}
