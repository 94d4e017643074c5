package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/config"
	"github.com/duban-dev/duban/message"
	"github.com/duban-dev/duban/notify"
	"github.com/duban-dev/duban/store"
	"github.com/duban-dev/duban/worker"
)

// newNotifier builds the dispatcher the activities use. A configuration
// error leaves out the channel concerned; startNotify reports it.
func newNotifier(cfg config.Config, db *store.DB) *notify.Dispatcher {
	d, _ := NewDispatcher(db, cfg.Notify, cfg.PublicURL)
	return d
}

// StartNotify reports the notification setup and starts the digest and
// rollup-snapshot workflows (idempotently: they have fixed ids). `duban
// worker` and `duban-dev dev` call it once their worker runs.
func StartNotify(ctx context.Context, env *Env, cfg config.Config, c client.Client) error {
	d, err := NewDispatcher(nil, cfg.Notify, cfg.PublicURL)
	if err != nil {
		env.Log.Error("notification settings are partly unusable", "err", err)
	}
	hooks := make([]string, 0, len(d.Webhooks))
	for name := range d.Webhooks {
		hooks = append(hooks, name)
	}
	env.Log.Info("notifications", "email", cfg.Notify.SMTP.Addr != "" && d.Email != nil, "smtp", cfg.Notify.SMTP.Addr,
		"webhooks", strings.Join(hooks, ","), "dingtalk_app", d.DingTalk != nil, "wecom_app", d.WeCom != nil, "sms", d.SMS != nil,
		"digest_roles", cfg.Notify.DigestRoles, "digest_hour", cfg.Notify.DigestHour)
	return errors.Join(worker.StartDigest(ctx, c, cfg.Temporal.TaskQueue, cfg.Temporal.WorkflowIDPrefix, cfg.Notify.TickInterval),
		worker.StartSnapshot(ctx, c, cfg.Temporal.TaskQueue, cfg.Temporal.WorkflowIDPrefix))
}

func notifyTest(ctx context.Context, env *Env, args []string) error {
	fs := NewFlags(env, "notify test")
	cfgPath := ConfigFlag(fs)
	to := fs.String("to", "", "username to send the test message to")
	if err := Parse(fs, args); err != nil {
		return err
	}
	if *to == "" {
		return UsageError{"usage: duban notify test --to USERNAME"}
	}
	cfg, db, err := env.openStore(ctx, *cfgPath)
	if err != nil {
		return err
	}
	defer db.Close()
	d, cfgErr := NewDispatcher(db, cfg.Notify, cfg.PublicURL)
	if cfgErr != nil {
		fmt.Fprintf(env.Stdout, "配置有误（相关渠道不可用）：%v\n", cfgErr)
	}
	person, err := db.Recipient(ctx, *to)
	if err != nil {
		return err
	}
	now := time.Now()
	fmt.Fprintf(env.Stdout, "向 %s（%s，%s）发送测试消息：\n", person.Name, person.Username, person.UnitCode)
	tw := tabwriter.NewWriter(env.Stdout, 2, 2, 2, ' ', 0)
	note := message.TestNotice(person.Name, now)
	inboxErr := db.AddInboxNote(ctx, person.UserID, "test#"+person.Username+"#"+now.Format("20060102T150405.000"), note.Title, note.Body, now)
	fmt.Fprintf(tw, "  站内消息\t\t%s\n", outcome(inboxErr, ""))
	failed := inboxErr != nil
	for _, r := range d.Test(ctx, person) {
		label := map[string]string{notify.ChannelEmail: "邮件", notify.ChannelWebhook: "工作群", notify.ChannelDingTalk: "钉钉工作通知",
			notify.ChannelWeCom: "企业微信应用消息", notify.ChannelSMS: "短信"}[r.Channel]
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", label, r.Target, outcome(r.Err, r.Note))
		failed = failed || r.Err != nil
	}
	tw.Flush()
	if failed {
		return fmt.Errorf("some channels failed")
	}
	return nil
}

func outcome(err error, note string) string {
	switch {
	case err != nil:
		return "失败：" + err.Error()
	case note != "":
		return "未发送：" + note
	}
	return "已发送"
}

func notifyPrefs(ctx context.Context, env *Env, args []string) error {
	fs := NewFlags(env, "notify prefs")
	cfgPath := ConfigFlag(fs)
	user := fs.String("user", "", "username")
	email := fs.String("email", "", `email address for notifications; "off" for none; "account" for the account's`)
	emailKinds := fs.String("email-kinds", "", `event kinds to email, comma-separated (e.g. overdue,escalated); "all"`)
	webhook := fs.String("webhook", "", `webhook endpoint name from the configuration; "off" for none`)
	webhookKinds := fs.String("webhook-kinds", "", `event kinds for the webhook; "all"`)
	mobile := fs.String("mobile", "", `mobile number @-mentioned in DingTalk groups and used for SMS; "off" to clear`)
	dingtalk := fs.String("dingtalk", "", `DingTalk userid for 工作通知; "off" for none`)
	dingtalkKinds := fs.String("dingtalk-kinds", "", `event kinds for DingTalk 工作通知; "all"`)
	wecom := fs.String("wecom", "", `WeCom UserID for 应用消息; "off" for none`)
	wecomKinds := fs.String("wecom-kinds", "", `event kinds for WeCom 应用消息; "all"`)
	sms := fs.String("sms", "", `on or off: text messages to the mobile number`)
	smsKinds := fs.String("sms-kinds", "", `event kinds for SMS, e.g. overdue,escalated; "all"`)
	digest := fs.String("digest", "", `on, off, or default (on for approvers and supervisors)`)
	digestHour := fs.Int("digest-hour", -1, "hour of the daily digest, 0–23 (Asia/Shanghai)")
	quiet := fs.String("quiet", "", `quiet hours such as 22-7; "off" for none; "default"`)
	if err := Parse(fs, args); err != nil {
		return err
	}
	if *user == "" {
		return UsageError{"usage: duban notify prefs --user USERNAME [--email …] [--digest on|off] [--quiet 22-7] …"}
	}
	cfg, db, err := env.openStore(ctx, *cfgPath)
	if err != nil {
		return err
	}
	defer db.Close()
	person, err := db.Recipient(ctx, *user)
	if err != nil {
		return err
	}
	p := person.Prefs
	changed := false
	set := func(flagName string) bool {
		found := false
		fs.Visit(func(f *flag.Flag) { found = found || f.Name == flagName })
		changed = changed || found
		return found
	}
	if set("email") {
		switch *email {
		case "account":
			p.Email = nil
		case "off":
			none := ""
			p.Email = &none
		default:
			e := *email
			p.Email = &e
		}
	}
	if set("email-kinds") {
		p.EmailKinds, err = parseKinds(*emailKinds)
		if err != nil {
			return err
		}
	}
	if set("webhook") {
		p.Webhook = strings.TrimSpace(*webhook)
		if p.Webhook == "off" {
			p.Webhook = ""
		}
	}
	if set("webhook-kinds") {
		p.WebhookKinds, err = parseKinds(*webhookKinds)
		if err != nil {
			return err
		}
	}
	if set("mobile") {
		p.Mobile = *mobile
		if p.Mobile == "off" {
			p.Mobile = ""
		}
	}
	for _, id := range []struct {
		flag string
		val  *string
		to   *string
	}{{"dingtalk", dingtalk, &p.DingTalkUserID}, {"wecom", wecom, &p.WeComUserID}} {
		if set(id.flag) {
			*id.to = strings.TrimSpace(*id.val)
			if *id.to == "off" {
				*id.to = ""
			}
		}
	}
	for _, k := range []struct {
		flag string
		val  *string
		to   *[]duban.EventKind
	}{{"dingtalk-kinds", dingtalkKinds, &p.DingTalkKinds}, {"wecom-kinds", wecomKinds, &p.WeComKinds}, {"sms-kinds", smsKinds, &p.SMSKinds}} {
		if set(k.flag) {
			if *k.to, err = parseKinds(*k.val); err != nil {
				return err
			}
		}
	}
	if set("sms") {
		if *sms != "on" && *sms != "off" {
			return UsageError{"--sms: on or off"}
		}
		p.SMS = *sms == "on"
	}
	if set("digest") {
		switch *digest {
		case "on", "off":
			on := *digest == "on"
			p.Digest = &on
		case "default":
			p.Digest = nil
		default:
			return UsageError{"--digest: on, off or default"}
		}
	}
	if set("digest-hour") {
		h := *digestHour
		p.DigestHour = &h
	}
	if set("quiet") {
		switch *quiet {
		case "default":
			p.QuietStart, p.QuietEnd = nil, nil
		case "off":
			zero := 0
			p.QuietStart, p.QuietEnd = &zero, &zero
		default:
			d, err := notify.ParseDefaults("", 0, *quiet)
			if err != nil {
				return UsageError{"--quiet: " + err.Error()}
			}
			p.QuietStart, p.QuietEnd = &d.QuietStart, &d.QuietEnd
		}
	}
	if changed {
		if err := db.SetPrefs(ctx, p); err != nil {
			return err
		}
		person.Prefs = p
	}
	defaults, _ := notify.ParseDefaults(cfg.Notify.DigestRoles, cfg.Notify.DigestHour, cfg.Notify.QuietHours)
	pol := defaults.PolicyFor(person)
	fmt.Fprintf(env.Stdout, "%s（%s，%s）的通知设置：\n", person.Name, person.Username, person.UnitCode)
	fmt.Fprintf(env.Stdout, "  站内消息：全部\n")
	fmt.Fprintf(env.Stdout, "  邮件：%s（%s）\n", orNone(person.EmailAddress()), kindsText(p.EmailKinds))
	fmt.Fprintf(env.Stdout, "  工作群：%s（%s）\n", orNone(p.Webhook), kindsText(p.WebhookKinds))
	if p.Mobile != "" {
		fmt.Fprintf(env.Stdout, "  手机号：%s\n", p.Mobile)
	}
	fmt.Fprintf(env.Stdout, "  钉钉工作通知：%s（%s）\n", orNone(p.DingTalkUserID), kindsText(p.DingTalkKinds))
	fmt.Fprintf(env.Stdout, "  企业微信应用消息：%s（%s）\n", orNone(p.WeComUserID), kindsText(p.WeComKinds))
	if p.SMS {
		fmt.Fprintf(env.Stdout, "  短信：%s（%s）\n", p.Mobile, kindsText(p.SMSKinds))
	} else {
		fmt.Fprintf(env.Stdout, "  短信：关\n")
	}
	if pol.Digest {
		fmt.Fprintf(env.Stdout, "  每日汇总：开，每天 %02d:00（非紧急消息并入汇总）\n", pol.DigestHour)
	} else {
		fmt.Fprintf(env.Stdout, "  每日汇总：关（逐条发送）\n")
	}
	if pol.QuietStart != pol.QuietEnd {
		fmt.Fprintf(env.Stdout, "  免打扰：%02d:00–%02d:00（非紧急消息顺延）\n", pol.QuietStart, pol.QuietEnd)
	} else {
		fmt.Fprintf(env.Stdout, "  免打扰：无\n")
	}
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "无"
	}
	return s
}

func kindsText(ks []duban.EventKind) string {
	if ks == nil {
		return "全部事件"
	}
	if len(ks) == 0 {
		return "不发送"
	}
	labels := make([]string, len(ks))
	for i, k := range ks {
		labels[i] = k.Label()
	}
	return strings.Join(labels, "、")
}

func parseKinds(s string) ([]duban.EventKind, error) {
	s = strings.TrimSpace(s)
	if s == "all" || s == "" {
		return nil, nil
	}
	if s == "none" {
		return []duban.EventKind{}, nil
	}
	var out []duban.EventKind
	for _, part := range strings.Split(s, ",") {
		k := duban.EventKind(strings.TrimSpace(part))
		if k.Label() == string(k) {
			return nil, UsageError{fmt.Sprintf("unknown event kind %q", part)}
		}
		out = append(out, k)
	}
	return out, nil
}

func notifyList(ctx context.Context, env *Env, args []string) error {
	fs := NewFlags(env, "notify list")
	cfgPath := ConfigFlag(fs)
	status := fs.String("status", "", "only this status: pending, retrying, held, digest, digested, sent, failed, skipped")
	user := fs.String("user", "", "only this username")
	instance := fs.String("instance", "", "only this task instance id")
	limit := fs.Int("limit", 50, "how many, newest first")
	before := fs.Int64("before", 0, "page: only ids below this")
	failures := fs.Bool("failures", false, "instead: the channels that failed in the last 7 days, per person")
	if err := Parse(fs, args); err != nil {
		return err
	}
	_, db, err := env.openStore(ctx, *cfgPath)
	if err != nil {
		return err
	}
	defer db.Close()
	tw := tabwriter.NewWriter(env.Stdout, 2, 2, 2, ' ', 0)
	defer tw.Flush()
	if *failures {
		rows, err := db.DeliveryFailures(ctx, time.Now().AddDate(0, 0, -7))
		if err != nil {
			return err
		}
		fmt.Fprintln(tw, "用户\t单位\t渠道\t目标\t失败次数\t最近\t原因")
		for _, r := range rows {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\n", r.Username, r.UnitCode, r.Channel, r.Target, r.Failed, r.LastAt.In(duban.Shanghai).Format("01-02 15:04"), r.LastError)
		}
		return nil
	}
	f := store.DeliveryFilter{Status: duban.DeliveryStatus(*status), InstanceID: *instance, Limit: *limit, Before: *before}
	if *user != "" {
		u, err := db.UserByUsername(ctx, *user)
		if err != nil {
			return err
		}
		f.UserID = u.ID
	}
	ds, err := db.Deliveries(ctx, f)
	if err != nil {
		return err
	}
	fmt.Fprintln(tw, "id\t状态\t渠道\t目标\t标题\t尝试\t更新\t原因")
	for _, d := range ds {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", strconv.FormatInt(d.ID, 10), d.Status.Label(), d.Channel, d.Target, d.Title, d.Attempts,
			d.UpdatedAt.In(duban.Shanghai).Format("01-02 15:04"), d.LastError)
	}
	return nil
}
