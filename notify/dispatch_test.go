package notify_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/stretchr/testify/require"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/internal/testenv"
	"github.com/duban-dev/duban/notify"
	"github.com/duban-dev/duban/notify/mailcatcher"
	"github.com/duban-dev/duban/store"
)

// fixture is a real database, a real SMTP server and a dispatcher whose
// clock the test sets.
type fixture struct {
	t       *testing.T
	ctx     context.Context
	db      *store.DB
	catcher *mailcatcher.Catcher
	d       *notify.Dispatcher
	now     time.Time
}

func newFixture(t *testing.T, opts mailcatcher.Options) *fixture {
	t.Parallel()
	f := &fixture{t: t, ctx: context.Background(), db: testenv.OpenDB(t), catcher: startCatcher(t, opts),
		now: time.Date(2026, 3, 2, 10, 0, 0, 0, duban.Shanghai)}
	email, err := notify.NewEmail(notify.SMTPConfig{Addr: f.catcher.Addr(), From: "湖南省计生协督办 <duban@hnjsx.example>", TLS: notify.TLSNone})
	require.NoError(t, err)
	f.d = &notify.Dispatcher{Store: f.db, Email: email, Webhooks: map[string]notify.Channel{}, Defaults: notify.Defaults{DigestRoles: []duban.Role{duban.RoleApprover, duban.RoleSupervisor}, DigestHour: 8},
		PublicURL: "https://duban.example/", MaxAttempts: 3, Now: func() time.Time { return f.now }}
	return f
}

func (f *fixture) user(username, unit, email string, roles ...duban.Role) store.User {
	f.t.Helper()
	u, err := f.db.CreateUser(f.ctx, store.User{Username: username, DisplayName: username, UnitCode: unit, Roles: roles, Email: email, PasswordHash: "x"})
	require.NoError(f.t, err)
	return u
}

func (f *fixture) prefs(p duban.NotifyPrefs) {
	f.t.Helper()
	require.NoError(f.t, f.db.SetPrefs(f.ctx, p))
}

func (f *fixture) hook(name, kind string, answers ...answer) *hook {
	h := newHook(f.t, answers...)
	w, err := notify.NewWebhook(notify.WebhookEndpoint{Name: name, Kind: kind, URL: h.URL + "/hook?key=k", Secret: "s"})
	require.NoError(f.t, err)
	f.d.Webhooks[name] = w
	return h
}

func taskSpec(id, unit, unitName string) duban.TaskSpec {
	return duban.TaskSpec{
		ID: id, PlanID: "notify-test", Year: 2026, TemplateID: id, Section: "2", Title: "出台改革方案 " + id, Quote: "推动市、县两级出台改革方案。",
		Kind: duban.KindDeadline, UnitCode: unit, UnitName: unitName, UnitLevel: duban.LevelCounty, Due: duban.EndOfDay(2026, 3, 31),
		Approval:      []duban.ApprovalStep{{Unit: "4301", UnitName: "长沙市", SLA: duban.Offset{Days: 5, Working: true}}},
		ExtensionUnit: "4301",
	}
}

// apply records a transition of spec whose notice (if to names a unit)
// reaches the roles there. seq 1 creates the instance row.
func (f *fixture) apply(s duban.TaskSpec, seq int64, kind duban.EventKind, urgent bool, to duban.Recipients) {
	f.t.Helper()
	tr := duban.Transition{InstanceID: s.ID, Seq: seq, At: f.now, Kind: kind, Actor: duban.System, From: duban.StatusSubmitted, To: duban.StatusSubmitted, Step: 1,
		Projection: duban.Projection{Status: duban.StatusSubmitted, Due: s.Due, Seq: seq, StepCount: 1, CurrentStep: 1, ApproverUnit: "4301"}}
	if seq == 1 {
		tr.Spec = &s
	}
	if to.Unit != "" {
		off := duban.Offset{Days: 2, Working: true}
		tr.Notices = []duban.Notice{{Kind: kind, Recipients: []duban.Recipients{to}, Urgent: urgent, Offset: &off}}
	}
	_, err := f.db.ApplyTransition(f.ctx, tr)
	require.NoError(f.t, err)
}

func (f *fixture) deliver(s duban.TaskSpec, seq int64) duban.DeliveryReport {
	f.t.Helper()
	rep, err := f.d.DeliverTransition(f.ctx, s.ID, seq)
	require.NoError(f.t, err)
	return rep
}

func (f *fixture) deliveries(filter store.DeliveryFilter) []duban.Delivery {
	f.t.Helper()
	ds, err := f.db.Deliveries(f.ctx, filter)
	require.NoError(f.t, err)
	return ds
}

func (f *fixture) inbox(user int64) []store.InboxItem {
	f.t.Helper()
	rows, err := f.db.Pool.Query(f.ctx, `SELECT `+store.InboxCols+` FROM inbox WHERE user_id = $1 ORDER BY id`, user)
	require.NoError(f.t, err)
	var out []store.InboxItem
	for rows.Next() {
		it, err := store.ScanInbox(rows)
		require.NoError(f.t, err)
		out = append(out, it)
	}
	require.NoError(f.t, rows.Err())
	return out
}

var official = func(unit string) duban.Recipients {
	return duban.Recipients{Unit: unit, Roles: []duban.Role{duban.RoleOfficial}}
}

func TestARetryAfterTheServerAcceptedSendsNothingTwice(t *testing.T) {
	f := newFixture(t, mailcatcher.Options{})
	u := f.user("furong-official", "430102", "wangfang@furong.example", duban.RoleOfficial)
	hk := f.hook("furong-group", notify.WebhookGeneric, answer{503, "busy"})
	f.prefs(duban.NotifyPrefs{UserID: u.ID, Webhook: "furong-group"})
	s := taskSpec("2026/2.1/430102", "430102", "芙蓉区")
	f.apply(s, 1, duban.EventAssigned, false, duban.Recipients{})
	f.apply(s, 2, duban.EventReminder, false, official("430102"))

	// First attempt: the mail server accepts the email; the webhook answers 503.
	rep := f.deliver(s, 2)
	require.Equal(t, 1, rep.Sent)
	require.Equal(t, 1, rep.Retrying)
	require.True(t, rep.Unfinished(), "the activity must fail so that Temporal retries it")
	require.Len(t, f.catcher.Messages(), 1)

	// The retry sends only what is left: the webhook; the email is not sent again.
	f.now = f.now.Add(5 * time.Second)
	rep = f.deliver(s, 2)
	require.Equal(t, duban.DeliveryReport{Sent: 1}, rep)
	// And a third run (a replayed or duplicated activity) sends nothing.
	rep = f.deliver(s, 2)
	require.Equal(t, duban.DeliveryReport{}, rep)

	msgs := f.catcher.Messages()
	require.Len(t, msgs, 1, "one email per dedup key")
	require.Equal(t, "到期提醒：出台改革方案 2026/2.1/430102", msgs[0].Subject)
	require.Equal(t, []string{"wangfang@furong.example"}, msgs[0].To)
	require.Contains(t, msgs[0].Text, "https://duban.example/#/tasks/2026%2F2.1%2F430102")
	require.Len(t, hk.got(), 2)
	require.Equal(t, "2026/2.1/430102#2#"+fmt.Sprint(u.ID)+"#webhook", hk.got()[1].Header.Get(notify.HeaderDelivery))

	ds := f.deliveries(store.DeliveryFilter{InstanceID: s.ID})
	require.Len(t, ds, 2)
	byChannel := map[string]duban.Delivery{}
	for _, d := range ds {
		byChannel[d.Channel] = d
		require.Equal(t, duban.DeliverySent, d.Status)
		require.NotNil(t, d.SentAt)
	}
	require.Equal(t, 1, byChannel["email"].Attempts)
	require.Equal(t, "wangfang@furong.example", byChannel["email"].Target)
	require.Equal(t, 2, byChannel["webhook"].Attempts)
	require.Equal(t, fmt.Sprintf("2026/2.1/430102#2#%d#email", u.ID), byChannel["email"].Key)
}

// TestACrashBetweenAcceptanceAndTheRecordResendsWithTheSameMessageID shows
// the one window exactly-once cannot close: the server accepted the
// message, and the process died before the row said so. The retry sends
// it again, with the same Message-ID, so that mail clients can fold it.
func TestACrashBetweenAcceptanceAndTheRecordResendsWithTheSameMessageID(t *testing.T) {
	f := newFixture(t, mailcatcher.Options{})
	f.user("furong-official", "430102", "wangfang@furong.example", duban.RoleOfficial)
	s := taskSpec("2026/2.1/430102", "430102", "芙蓉区")
	f.apply(s, 1, duban.EventAssigned, false, duban.Recipients{})
	f.apply(s, 2, duban.EventReminder, false, official("430102"))
	crashes := 1
	f.d.AfterAccept = func(duban.Delivery) error {
		if crashes > 0 {
			crashes--
			return errors.New("worker killed")
		}
		return nil
	}
	_, err := f.d.DeliverTransition(f.ctx, s.ID, 2)
	require.Error(t, err)
	// The lease of the dead attempt keeps a second one off until it lapses.
	rep := f.deliver(s, 2)
	require.Equal(t, 1, rep.Busy)
	f.now = f.now.Add(6 * time.Minute)
	rep = f.deliver(s, 2)
	require.Equal(t, 1, rep.Sent)
	msgs := f.catcher.Messages()
	require.Len(t, msgs, 2)
	require.Equal(t, msgs[0].MessageID, msgs[1].MessageID)
}

func TestConcurrentAttemptsSendOnce(t *testing.T) {
	f := newFixture(t, mailcatcher.Options{})
	f.user("furong-official", "430102", "wangfang@furong.example", duban.RoleOfficial)
	f.user("furong-official-2", "430102", "lisi@furong.example", duban.RoleOfficial)
	s := taskSpec("2026/2.1/430102", "430102", "芙蓉区")
	f.apply(s, 1, duban.EventAssigned, false, duban.Recipients{})
	f.apply(s, 2, duban.EventOverdue, true, official("430102"))
	var wg sync.WaitGroup
	reports := make([]duban.DeliveryReport, 4)
	errs := make([]error, 4)
	for i := range reports {
		wg.Add(1)
		go func() {
			defer wg.Done()
			reports[i], errs[i] = f.d.DeliverTransition(f.ctx, s.ID, 2)
		}()
	}
	wg.Wait()
	sent := 0
	for i, r := range reports {
		require.NoError(t, errs[i])
		sent += r.Sent
	}
	require.Equal(t, 2, sent)
	require.Len(t, f.catcher.Messages(), 2, "one email each for two people")
}

func TestFailuresFallBackToTheInboxAndAreReported(t *testing.T) {
	f := newFixture(t, mailcatcher.Options{Refuse: func(m mailcatcher.Message) error {
		if m.To[0] == "gone@furong.example" {
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "mailbox unavailable"}
		}
		return nil
	}})
	u := f.user("furong-official", "430102", "gone@furong.example", duban.RoleOfficial)
	f.hook("furong-group", notify.WebhookGeneric, answer{400, `{"error":"unknown hook"}`}, answer{400, `{"error":"unknown hook"}`})
	f.prefs(duban.NotifyPrefs{UserID: u.ID, Webhook: "furong-group"})
	s := taskSpec("2026/2.1/430102", "430102", "芙蓉区")
	f.apply(s, 1, duban.EventAssigned, false, duban.Recipients{})
	f.apply(s, 2, duban.EventReminder, false, official("430102"))
	f.apply(s, 3, duban.EventOverdue, true, official("430102"))

	rep := f.deliver(s, 2)
	require.Equal(t, 2, rep.Failed, "4xx from a webhook and 550 from SMTP are not retried")
	require.False(t, rep.Unfinished())
	require.Len(t, rep.Failures, 2)
	rep = f.deliver(s, 3)
	require.Equal(t, 2, rep.Failed)

	failed := f.deliveries(store.DeliveryFilter{Status: duban.DeliveryFailed})
	require.Len(t, failed, 4)
	for _, d := range failed {
		require.True(t, d.Fallback)
		require.Equal(t, 1, d.Attempts)
		switch d.Channel {
		case notify.ChannelEmail:
			require.Contains(t, d.LastError, "SMTP 550")
		case notify.ChannelWebhook:
			require.Contains(t, d.LastError, `HTTP 400 {"error":"unknown hook"}`)
		}
	}
	// Page through them, newest first.
	page := f.deliveries(store.DeliveryFilter{Status: duban.DeliveryFailed, Limit: 3})
	require.Len(t, page, 3)
	rest := f.deliveries(store.DeliveryFilter{Status: duban.DeliveryFailed, Before: page[2].ID})
	require.Len(t, rest, 1)
	require.Greater(t, page[0].ID, rest[0].ID)

	summary, err := f.db.DeliveryFailures(f.ctx, f.now.Add(-time.Hour))
	require.NoError(t, err)
	require.Len(t, summary, 2)
	for _, s := range summary {
		require.Equal(t, "furong-official", s.Username)
		require.Equal(t, 2, s.Failed)
	}

	// The person has every notice in the inbox, and one note per channel
	// saying it did not reach them there (not one per failure).
	var notes, notices []string
	for _, it := range f.inbox(u.ID) {
		if it.Kind == "delivery_failed" {
			notes = append(notes, it.Title)
			require.Contains(t, it.Body, "已保存在站内消息中")
		} else {
			notices = append(notices, it.Title)
		}
	}
	require.ElementsMatch(t, []string{"邮件未能送达：到期提醒：出台改革方案 2026/2.1/430102", "工作群消息未能送达：到期提醒：出台改革方案 2026/2.1/430102"}, notes)
	require.Len(t, notices, 2)
}

func TestAChannelThatKeepsFailingFallsBackAfterItsAttempts(t *testing.T) {
	f := newFixture(t, mailcatcher.Options{})
	u := f.user("furong-official", "430102", "", duban.RoleOfficial)
	f.hook("furong-group", notify.WebhookDingTalk, answer{502, ""}, answer{502, ""}, answer{502, ""})
	f.prefs(duban.NotifyPrefs{UserID: u.ID, Webhook: "furong-group"})
	s := taskSpec("2026/2.1/430102", "430102", "芙蓉区")
	f.apply(s, 1, duban.EventAssigned, false, duban.Recipients{})
	f.apply(s, 2, duban.EventReminder, false, official("430102"))
	for attempt := 1; attempt <= 2; attempt++ {
		rep := f.deliver(s, 2)
		require.Equal(t, 1, rep.Retrying, "attempt %d", attempt)
		d := f.deliveries(store.DeliveryFilter{InstanceID: s.ID})[0]
		require.Equal(t, duban.DeliveryRetrying, d.Status)
		require.Equal(t, attempt, d.Attempts)
		require.Contains(t, d.LastError, "HTTP 502")
	}
	rep := f.deliver(s, 2)
	require.Equal(t, 1, rep.Failed)
	d := f.deliveries(store.DeliveryFilter{InstanceID: s.ID})[0]
	require.Equal(t, duban.DeliveryFailed, d.Status)
	require.Equal(t, 3, d.Attempts)
	require.Contains(t, d.LastError, "多次重试仍失败")
	require.True(t, d.Fallback)
}

func TestTenRemindersForOneApproverMakeOneDigest(t *testing.T) {
	f := newFixture(t, mailcatcher.Options{})
	approver := f.user("changsha-approver", "4301", "zhangwei@changsha.example", duban.RoleApprover)
	approverOf := duban.Recipients{Unit: "4301", Roles: []duban.Role{duban.RoleApprover}}
	var specs []duban.TaskSpec
	for i := range 10 {
		s := taskSpec(fmt.Sprintf("2026/2.%d/4301%02d", i+1, i+2), fmt.Sprintf("4301%02d", i+2), "区县")
		specs = append(specs, s)
		f.apply(s, 1, duban.EventAssigned, false, duban.Recipients{})
		f.now = f.now.Add(20 * time.Minute) // through the working day
		f.apply(s, 2, duban.EventSLAReminder, false, approverOf)
		rep := f.deliver(s, 2)
		require.Equal(t, duban.DeliveryReport{Digest: 1}, rep, "held for the digest, not sent")
	}
	// An urgent notice does not wait for the digest.
	f.apply(specs[0], 3, duban.EventSLABreached, true, approverOf)
	require.Equal(t, 1, f.deliver(specs[0], 3).Sent)
	require.Len(t, f.catcher.Messages(), 1)

	// Approvers get theirs at 08:00 by default: nothing before.
	morning := time.Date(2026, 3, 3, 8, 0, 0, 0, duban.Shanghai)
	rep, err := f.d.DeliverDue(f.ctx, morning.Add(-time.Minute), 0, nil)
	require.NoError(t, err)
	require.Equal(t, duban.DeliveryReport{}, rep)
	rep, err = f.d.DeliverDue(f.ctx, morning, 0, nil)
	require.NoError(t, err)
	require.Equal(t, 1, rep.Digests)
	require.Equal(t, 1, rep.Sent)
	// The next tick, and a retried tick, send nothing more.
	for _, at := range []time.Time{morning, morning.Add(15 * time.Minute)} {
		rep, err = f.d.DeliverDue(f.ctx, at, 0, nil)
		require.NoError(t, err)
		require.Equal(t, duban.DeliveryReport{}, rep)
	}

	msgs := f.catcher.Messages()
	require.Len(t, msgs, 2)
	digest := msgs[1]
	require.Equal(t, []string{"zhangwei@changsha.example"}, digest.To)
	require.Equal(t, "督办每日汇总：10 条待办提醒（2026年3月3日）", digest.Subject)
	require.Contains(t, digest.Text, "10 条督办提醒")
	for i, s := range specs {
		require.Contains(t, digest.Text, fmt.Sprintf("%d. 审批提醒：%s", i+1, s.Title))
		require.Contains(t, digest.HTML, "https://duban.example/#/tasks/"+strings.ReplaceAll(s.ID, "/", "%2F"))
	}
	require.Equal(t, 10, strings.Count(digest.HTML, "<li "))
	require.Equal(t, fmt.Sprintf("digest#%d#email#2026-03-03T08", approver.ID), digest.Header.Get("X-Duban-Delivery"))

	items := f.deliveries(store.DeliveryFilter{Status: duban.DeliveryDigested})
	require.Len(t, items, 10)
	sent := f.deliveries(store.DeliveryFilter{UserID: approver.ID, Status: duban.DeliverySent})
	require.Len(t, sent, 2)
	var digestRow duban.Delivery
	for _, d := range sent {
		if d.Kind == notify.KindDigest {
			digestRow = d
		}
	}
	require.Equal(t, digest.Subject, digestRow.Title)
	for _, it := range items {
		require.Equal(t, digestRow.ID, *it.DigestID)
	}
}

func TestQuietHoursHoldNonUrgentMessagesUntilMorning(t *testing.T) {
	f := newFixture(t, mailcatcher.Options{})
	u := f.user("furong-official", "430102", "wangfang@furong.example", duban.RoleOfficial)
	start, end := 22, 7
	f.prefs(duban.NotifyPrefs{UserID: u.ID, QuietStart: &start, QuietEnd: &end})
	s := taskSpec("2026/2.1/430102", "430102", "芙蓉区")
	f.now = time.Date(2026, 3, 2, 23, 10, 0, 0, duban.Shanghai)
	f.apply(s, 1, duban.EventAssigned, false, duban.Recipients{})
	f.apply(s, 2, duban.EventReminder, false, official("430102"))
	f.apply(s, 3, duban.EventOverdue, true, official("430102"))
	require.Equal(t, duban.DeliveryReport{Held: 1}, f.deliver(s, 2))
	require.Equal(t, duban.DeliveryReport{Sent: 1}, f.deliver(s, 3), "urgent: sent at once")
	held := f.deliveries(store.DeliveryFilter{Status: duban.DeliveryHeld})
	require.Len(t, held, 1)
	require.True(t, held[0].NotBefore.Equal(time.Date(2026, 3, 3, 7, 0, 0, 0, duban.Shanghai)), "held until %v", held[0].NotBefore)

	rep, err := f.d.DeliverDue(f.ctx, time.Date(2026, 3, 3, 6, 45, 0, 0, duban.Shanghai), 0, nil)
	require.NoError(t, err)
	require.Equal(t, duban.DeliveryReport{}, rep)
	rep, err = f.d.DeliverDue(f.ctx, time.Date(2026, 3, 3, 7, 0, 0, 0, duban.Shanghai), 0, nil)
	require.NoError(t, err)
	require.Equal(t, duban.DeliveryReport{Sent: 1}, rep)
	msgs := f.catcher.Messages()
	require.Len(t, msgs, 2)
	require.Equal(t, "【紧急】已逾期：出台改革方案 2026/2.1/430102", msgs[0].Subject)
	require.Equal(t, "到期提醒：出台改革方案 2026/2.1/430102", msgs[1].Subject)
}

func TestPreferencesChooseChannelsPerEventKind(t *testing.T) {
	f := newFixture(t, mailcatcher.Options{})
	a := f.user("furong-a", "430102", "a@furong.example", duban.RoleOfficial)
	b := f.user("furong-b", "430102", "b@furong.example", duban.RoleOfficial)
	c := f.user("furong-c", "430102", "c@furong.example", duban.RoleOfficial)
	f.hook("furong-group", notify.WebhookWeCom)
	other := "b-private@furong.example"
	none := ""
	f.prefs(duban.NotifyPrefs{UserID: a.ID, EmailKinds: []duban.EventKind{duban.EventOverdue}, Webhook: "furong-group"})
	f.prefs(duban.NotifyPrefs{UserID: b.ID, Email: &other})
	f.prefs(duban.NotifyPrefs{UserID: c.ID, Email: &none})
	s := taskSpec("2026/2.1/430102", "430102", "芙蓉区")
	f.apply(s, 1, duban.EventAssigned, false, duban.Recipients{})
	f.apply(s, 2, duban.EventReminder, false, official("430102"))
	f.apply(s, 3, duban.EventOverdue, true, official("430102"))
	type row struct {
		User    int64
		Seq     int64
		Channel string
		Target  string
	}
	var got []row
	for _, d := range f.deliveries(store.DeliveryFilter{InstanceID: s.ID}) {
		got = append(got, row{d.UserID, d.Seq, d.Channel, d.Target})
	}
	require.ElementsMatch(t, []row{
		{a.ID, 2, "webhook", "furong-group"}, // a: reminders only in the group
		{a.ID, 3, "webhook", "furong-group"},
		{a.ID, 3, "email", "a@furong.example"}, // … and overdue by email too
		{b.ID, 2, "email", "b-private@furong.example"},
		{b.ID, 3, "email", "b-private@furong.example"},
		// c turned email off: the inbox only.
	}, got)
	// Every one of them still has the notices in the inbox.
	for _, u := range []store.User{a, b, c} {
		require.Len(t, f.inbox(u.ID), 2)
	}
}

func TestTheSweepSendsWhatNoWorkflowDelivered(t *testing.T) {
	f := newFixture(t, mailcatcher.Options{})
	f.user("furong-official", "430102", "wangfang@furong.example", duban.RoleOfficial)
	s := taskSpec("2026/2.1/430102", "430102", "芙蓉区")
	f.apply(s, 1, duban.EventAssigned, false, official("430102"))
	// Nobody ran DeliverTransition (a task workflow that predates delivery,
	// or one whose retries ran out). Soon after, the sweep leaves it alone…
	rep, err := f.d.DeliverDue(f.ctx, time.Now().Add(time.Minute), 0, nil)
	require.NoError(t, err)
	require.Equal(t, duban.DeliveryReport{}, rep)
	// … and once it is stale, sends it.
	rep, err = f.d.DeliverDue(f.ctx, time.Now().Add(time.Hour), 0, nil)
	require.NoError(t, err)
	require.Equal(t, duban.DeliveryReport{Sent: 1}, rep)
	require.Equal(t, "新任务：出台改革方案 2026/2.1/430102", f.catcher.Messages()[0].Subject)
}

func TestWithoutSMTPEmailIsSkippedQuietly(t *testing.T) {
	f := newFixture(t, mailcatcher.Options{})
	f.d.Email = nil
	u := f.user("furong-official", "430102", "wangfang@furong.example", duban.RoleOfficial)
	s := taskSpec("2026/2.1/430102", "430102", "芙蓉区")
	f.apply(s, 1, duban.EventAssigned, false, official("430102"))
	require.Equal(t, duban.DeliveryReport{Skipped: 1}, f.deliver(s, 1))
	d := f.deliveries(store.DeliveryFilter{UserID: u.ID})[0]
	require.Equal(t, duban.DeliverySkipped, d.Status)
	require.Contains(t, d.LastError, "smtp")
	require.Len(t, f.inbox(u.ID), 1, "no failure note: email is simply not set up here")
}

func TestAFailingDigestIsRetriedOncePerTick(t *testing.T) {
	refusals := 1
	var mu sync.Mutex
	f := newFixture(t, mailcatcher.Options{Refuse: func(mailcatcher.Message) error {
		mu.Lock()
		defer mu.Unlock()
		if refusals > 0 {
			refusals--
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try later"}
		}
		return nil
	}})
	f.user("changsha-supervisor", "4301", "s@changsha.example", duban.RoleSupervisor)
	s := taskSpec("2026/2.1/430102", "430102", "芙蓉区")
	f.apply(s, 1, duban.EventAssigned, false, duban.Recipients{})
	f.apply(s, 2, duban.EventSLAReminder, false, duban.Recipients{Unit: "4301", Roles: []duban.Role{duban.RoleSupervisor}})
	require.Equal(t, duban.DeliveryReport{Digest: 1}, f.deliver(s, 2))
	morning := time.Date(2026, 3, 3, 8, 0, 0, 0, duban.Shanghai)
	rep, err := f.d.DeliverDue(f.ctx, morning, 0, nil)
	require.NoError(t, err)
	require.Equal(t, duban.DeliveryReport{Digests: 1, Retrying: 1}, rep, "one attempt per tick, not a burst")
	rep, err = f.d.DeliverDue(f.ctx, morning.Add(15*time.Minute), 0, nil)
	require.NoError(t, err)
	require.Equal(t, duban.DeliveryReport{Sent: 1}, rep)
	require.Len(t, f.catcher.Messages(), 1)
	require.Equal(t, "督办每日汇总：1 条待办提醒（2026年3月3日）", f.catcher.Messages()[0].Subject)
}
