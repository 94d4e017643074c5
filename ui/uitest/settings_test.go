package uitest_test

import (
	"context"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/api"
	"github.com/duban-dev/duban/notify"
	"github.com/duban-dev/duban/notify/mailcatcher"
	"github.com/duban-dev/duban/password"
	"github.com/duban-dev/duban/store"
)

// uiNotify is the notification setup of the test servers: email and
// DingTalk are configured, WeCom, SMS and work groups are not.
var uiNotify = api.NotifySetup{Email: true, DingTalk: true,
	DigestRoles: []duban.Role{duban.RoleApprover, duban.RoleSupervisor}, DigestHour: 8, QuietStart: 22, QuietEnd: 7}

// person adds a person of the test's own (no other test touches them).
func (f *fixture) person(t *testing.T, username, name, unit string, roles ...duban.Role) store.User {
	t.Helper()
	hash, err := password.Hash(pw)
	if err != nil {
		t.Fatal(err)
	}
	u, err := f.stack.DB.UpsertUser(context.Background(), store.User{Username: username, DisplayName: name, UnitCode: unit, Roles: roles, PasswordHash: hash})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestAPersonSetsTheirChannelsAndQuietHours: an official opens 设置 from
// the header, sees that WeCom and SMS are not configured (their boxes
// cannot be ticked), is told next to the field that a mobile number is
// wrong (nothing is stored), then sets an address, a DingTalk id, the
// channels of two kinds of notice and quiet hours, saves, and finds them
// saved after reloading the page.
func TestAPersonSetsTheirChannelsAndQuietHours(t *testing.T) {
	f := getFixture(t)
	srv := f.juneServer(t)
	u := f.person(t, "kaifu-settings", "开福区设置测试", "430105", duban.RoleOfficial)
	p := f.signIn(t, srv, u.Username)
	p.click("#nav-settings")
	p.waitText("#page-title", "设置")
	p.waitText("#channel-matrix thead", "未配置")
	if p.str(`String(document.querySelector('#ch-reminder-sms').disabled && document.querySelector('#ch-reminder-wecom').disabled && !document.querySelector('#ch-reminder-email').disabled)`) != "true" {
		t.Fatal("the channels the server has not configured can be ticked")
	}
	p.waitText("#channels-unavailable", "短信")
	p.shot("20-settings", "")

	p.fill("#set-email", "kaifu@example.org")
	p.fill("#set-mobile", "12345")
	p.click("#settings-save")
	p.waitText(`[data-field=mobile] .field-error`, "手机号")
	if r, err := f.stack.DB.Recipient(context.Background(), u.Username); err != nil || r.EmailAddress() != "" {
		t.Fatalf("a refused form stored something: %+v %v", r.Prefs, err)
	}

	p.fill("#set-mobile", "13800000005")
	p.fill("#set-dingtalk_userid", "kaifu-ding")
	p.click("#ch-reminder-email")
	p.click("#ch-overdue-email")
	p.click("#ch-overdue-dingtalk")
	p.setValue("#set-quiet_start", "21")
	p.setValue("#set-quiet_end", "8")
	p.click("#settings-save")
	p.waitText("#settings-status", "设置已保存")
	p.waitText("#settings-effective", "21:00–08:00")

	p.reload()
	p.waitText("#page-title", "设置")
	checked := p.str(`[...document.querySelectorAll('#channel-matrix input:checked')].map((e) => e.id).sort().join(' ')`)
	if checked != "ch-overdue-dingtalk ch-overdue-email ch-reminder-email" {
		t.Fatalf("after a reload the page shows %q ticked", checked)
	}
	if got := p.str(`document.querySelector('#set-quiet_start').value + '-' + document.querySelector('#set-quiet_end').value + ' ' + document.querySelector('#set-email').value`); got != "21-8 kaifu@example.org" {
		t.Fatalf("after a reload: %q", got)
	}
	r, err := f.stack.DB.Recipient(context.Background(), u.Username)
	if err != nil {
		t.Fatal(err)
	}
	if r.EmailAddress() != "kaifu@example.org" || r.Prefs.DingTalkUserID != "kaifu-ding" || *r.Prefs.QuietStart != 21 || len(r.Prefs.EmailKinds) != 2 {
		t.Fatalf("stored: %+v", r.Prefs)
	}
}

// TestAnAdminRetriesAFailedDelivery: a supervisor urges a task, and the
// official's email of that urge is refused by the mail server for good
// (550). The province's admin finds it in 投递记录 among the failed ones,
// presses 重试; the mail server takes mail again, the next tick of the
// dispatcher sends it, and the row says 已发送.
func TestAnAdminRetriesAFailedDelivery(t *testing.T) {
	f := getFixture(t)
	ctx := context.Background()
	srv := f.serve(t, "deliveries", duban.Clock{Scale: 1, VirtualEpoch: time.Date(2021, 6, 1, 9, 0, 0, 0, duban.Shanghai), RealEpoch: time.Now()}, "9.1")
	official := f.person(t, "yuelu-mail", "岳麓区邮件测试", "430104", duban.RoleOfficial)
	tok := srv.token(t, official.Username)
	srv.call(t, tok, "PUT", "/api/v1/me/settings", map[string]any{"email": "yuelu@example.org", "kinds": map[string][]string{"urged": {"email"}}})

	var refuse atomic.Bool
	refuse.Store(true)
	catcher, err := mailcatcher.Start("127.0.0.1:0", mailcatcher.Options{Refuse: func(mailcatcher.Message) error {
		if refuse.Load() {
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "mailbox unavailable"}
		}
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer catcher.Close()
	email, err := notify.NewEmail(notify.SMTPConfig{Addr: catcher.Addr(), From: "督办系统 <duban@example.org>", TLS: notify.TLSNone})
	if err != nil {
		t.Fatal(err)
	}
	// The dispatcher the worker would run (the test stack's worker sends
	// nothing beyond the inbox): here the test calls it when the workflow
	// would.
	d := &notify.Dispatcher{Store: f.stack.DB, Email: email, MaxAttempts: 3, PublicURL: srv.url}

	const task = "2021/9.1/430104"
	srv.call(t, srv.token(t, "changsha-supervisor"), "POST", "/api/v1/tasks/"+url.PathEscape(task)+"/urge", map[string]any{"note": "请尽快报送"},
		"Idempotency-Key", "ui-test-delivery-urge")
	var seq int64
	if err := f.stack.DB.Pool.QueryRow(ctx, `SELECT seq FROM deliveries WHERE user_id = $1 AND instance_id = $2 AND kind = 'urged'`, official.ID, task).Scan(&seq); err != nil {
		t.Fatalf("no email of the urge was queued: %v", err)
	}
	rep, err := d.DeliverTransition(ctx, task, seq)
	if err != nil || rep.Failed != 1 {
		t.Fatalf("the refused email did not fail: %+v %v", rep, err)
	}

	adm := f.signIn(t, srv, "hunan-admin")
	adm.click(`#nav-settings`)
	adm.click(`#settings-deliveries`)
	adm.waitText("#page-title", "投递记录")
	adm.setValue("#dl-status", "failed")
	adm.fill("#dl-user", official.Username)
	adm.clickText(".filters button", "应用")
	adm.waitText("table.deliveries tbody", "岳麓区邮件测试")
	adm.waitText("table.deliveries tbody", "550")
	adm.shot("21-deliveries-failed", "")

	refuse.Store(false)
	adm.clickText("table.deliveries tbody button", "重试")
	adm.waitText(".toast", "已重新排队")
	var status string
	if err := f.stack.DB.Pool.QueryRow(ctx, `SELECT status FROM deliveries WHERE user_id = $1 AND instance_id = $2 AND kind = 'urged'`, official.ID, task).Scan(&status); err != nil || status != "retrying" {
		t.Fatalf("after 重试 the delivery is %q (%v)", status, err)
	}
	// The digest workflow's next tick.
	if rep, err := d.DeliverDue(ctx, time.Now(), time.Minute, nil); err != nil || rep.Sent < 1 {
		t.Fatalf("the tick after the retry sent nothing: %+v %v", rep, err)
	}
	got := false
	for _, m := range catcher.Wait(1, 10*time.Second) {
		got = got || strings.Contains(strings.Join(m.To, ","), "yuelu@example.org")
	}
	if !got {
		t.Fatal("the retried email did not reach the mail server")
	}
	adm.goTo("#/deliveries?user=" + official.Username)
	adm.waitText("table.deliveries tbody", "已发送")
	adm.waitNoText("table.deliveries tbody", "发送失败")
	if n := countAudit(t, f, "delivery.retry"); n < 1 {
		t.Fatal("the retry was not audited")
	}
}

func countAudit(t *testing.T, f *fixture, action string) int {
	t.Helper()
	var n int
	if err := f.stack.DB.Pool.QueryRow(context.Background(), `SELECT count(*) FROM audit_log WHERE action = $1`, action).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
