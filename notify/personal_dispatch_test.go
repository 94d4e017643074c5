package notify_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/notify"
	"github.com/duban-dev/duban/notify/mailcatcher"
	"github.com/duban-dev/duban/notify/providertest"
	"github.com/duban-dev/duban/store"
)

// personal gives the fixture's dispatcher the three personal channels,
// each talking to its fake provider.
type personal struct {
	ding  *providertest.DingTalk
	wecom *providertest.WeCom
	sms   *providertest.Aliyun
}

func (f *fixture) personal() personal {
	c := newClock() // the providers' clocks; the dispatcher keeps f.now
	ding, dingCh := dingTalk(f.t, c)
	wecom, wecomCh := weCom(f.t, c, c)
	sms, smsCh := aliyun(f.t, c)
	f.d.DingTalk, f.d.WeCom, f.d.SMS = dingCh, wecomCh, smsCh
	return personal{ding, wecom, sms}
}

func TestPersonalChannelsDeliverEachNoticeToThePersonsIDs(t *testing.T) {
	f := newFixture(t, mailcatcher.Options{})
	p := f.personal()
	u := f.user("furong-official", "430102", "", duban.RoleOfficial)
	f.prefs(duban.NotifyPrefs{UserID: u.ID, Mobile: "13800000000", DingTalkUserID: "wangfang01", WeComUserID: "WangFang",
		SMS: true, SMSKinds: []duban.EventKind{duban.EventOverdue}})
	s := taskSpec("2026/2.1/430102", "430102", "芙蓉区")
	f.apply(s, 1, duban.EventAssigned, false, duban.Recipients{})
	f.apply(s, 2, duban.EventReminder, false, official("430102"))
	f.apply(s, 3, duban.EventOverdue, true, official("430102"))

	type row struct {
		Seq     int64
		Channel string
		Target  string
	}
	var rows []row
	for _, d := range f.deliveries(store.DeliveryFilter{InstanceID: s.ID}) {
		rows = append(rows, row{d.Seq, d.Channel, d.Target})
		if d.Channel == notify.ChannelSMS {
			require.Equal(t, "出台改革方案 2026/2.1/430102", d.Facts["task"])
			require.Equal(t, "2026年3月31日", d.Facts["due"])
		} else {
			require.Nil(t, d.Facts, "only SMS rows keep facts")
		}
	}
	require.ElementsMatch(t, []row{
		{2, "dingtalk", "wangfang01"}, {2, "wecom", "WangFang"}, // SMS only for overdue
		{3, "dingtalk", "wangfang01"}, {3, "wecom", "WangFang"}, {3, "sms", "13800000000"},
	}, rows)

	require.Equal(t, duban.DeliveryReport{Sent: 2}, f.deliver(s, 2))
	require.Equal(t, duban.DeliveryReport{Sent: 3}, f.deliver(s, 3))
	require.Equal(t, duban.DeliveryReport{}, f.deliver(s, 3), "a retried activity sends nothing twice")

	ding := p.ding.Messages()
	require.Len(t, ding, 2)
	require.Equal(t, "到期提醒：出台改革方案 2026/2.1/430102", ding[0].Title)
	require.Equal(t, "【紧急】已逾期：出台改革方案 2026/2.1/430102", ding[1].Title)
	require.Contains(t, ding[0].Text, "https://duban.example/#/tasks/2026%2F2.1%2F430102")
	wecom := p.wecom.Messages()
	require.Len(t, wecom, 2)
	require.Equal(t, "WangFang", wecom[1].To)
	require.Contains(t, wecom[1].Text, "#### 【紧急】已逾期：出台改革方案 2026/2.1/430102")
	sms := p.sms.Messages()
	require.Len(t, sms, 1)
	require.Equal(t, "【湖南省计生协】furong-official您好：「出台改革方案 2026/2.1/430102」已超过截止日期2026年3月31日，请尽快办理。", sms[0].Text)
	require.Equal(t, fmt.Sprintf("2026/2.1/430102#3#%d#sms", u.ID), sms[0].Ref)
	for _, d := range f.deliveries(store.DeliveryFilter{InstanceID: s.ID}) {
		require.Equal(t, duban.DeliverySent, d.Status, d.Key)
	}

	// `duban notify test` reaches the same channels; SMS has no template
	// for a test message and says so.
	person, err := f.db.Recipient(f.ctx, "furong-official")
	require.NoError(t, err)
	results := map[string]notify.TestResult{}
	for _, r := range f.d.Test(f.ctx, person) {
		results[r.Channel] = r
	}
	require.NoError(t, results["dingtalk"].Err)
	require.NoError(t, results["wecom"].Err)
	require.Equal(t, "wangfang01", results["dingtalk"].Target)
	require.Contains(t, results["sms"].Note, "未为「测试消息」配置短信模板")
	require.Len(t, p.ding.Messages(), 3)
	require.Equal(t, "测试消息：督办系统通知设置", p.ding.Messages()[2].Title)
}

func TestPersonalChannelFailuresRetryFallBackOrSkip(t *testing.T) {
	f := newFixture(t, mailcatcher.Options{})
	p := f.personal()
	f.d.DingTalk = nil // this deployment has no DingTalk app
	u := f.user("furong-official", "430102", "", duban.RoleOfficial)
	f.prefs(duban.NotifyPrefs{UserID: u.ID, Mobile: "+8613800000000", DingTalkUserID: "wangfang01", WeComUserID: "WangFang", SMS: true})
	p.wecom.Users = []string{"LiSi"} // WangFang left the app's visible range
	s := taskSpec("2026/2.1/430102", "430102", "芙蓉区")
	f.apply(s, 1, duban.EventAssigned, false, duban.Recipients{})
	f.apply(s, 2, duban.EventOverdue, true, official("430102"))
	f.apply(s, 3, duban.EventSubmitted, false, official("430102"))

	p.sms.FailNext(200, "isv.BUSINESS_LIMIT_CONTROL", "触发分钟级流控Permits:1")
	rep := f.deliver(s, 2)
	require.Equal(t, 1, rep.Skipped, "no DingTalk app")
	require.Equal(t, 1, rep.Failed, "WeCom: unknown user")
	require.Equal(t, 1, rep.Retrying, "SMS: flow control")
	require.True(t, rep.Unfinished())
	f.now = f.now.Add(time.Minute)
	require.Equal(t, duban.DeliveryReport{Sent: 1}, f.deliver(s, 2))
	require.Len(t, p.sms.Messages(), 1)
	require.Equal(t, "13800000000", p.sms.Messages()[0].To, "+86 is dropped for Aliyun")

	byChannel := map[string]duban.Delivery{}
	for _, d := range f.deliveries(store.DeliveryFilter{InstanceID: s.ID}) {
		if d.Seq == 2 {
			byChannel[d.Channel] = d
		}
	}
	require.Equal(t, duban.DeliverySkipped, byChannel["dingtalk"].Status)
	require.Equal(t, "未配置钉钉工作通知（notify.dingtalk_app）", byChannel["dingtalk"].LastError)
	require.Equal(t, duban.DeliveryFailed, byChannel["wecom"].Status)
	require.Contains(t, byChannel["wecom"].LastError, "UserID 不存在或不在应用可见范围内")
	require.True(t, byChannel["wecom"].Fallback)
	require.Equal(t, duban.DeliverySent, byChannel["sms"].Status)
	require.Equal(t, 2, byChannel["sms"].Attempts)

	var notes []string
	for _, it := range f.inbox(u.ID) {
		if it.Kind == "delivery_failed" {
			notes = append(notes, it.Title)
		}
	}
	require.Equal(t, []string{"企业微信应用消息未能送达：已逾期：出台改革方案 2026/2.1/430102"}, notes)

	// 提交审批 has no SMS template here: skipped, nobody is told.
	rep = f.deliver(s, 3)
	require.Equal(t, 2, rep.Skipped) // DingTalk and SMS
	for _, d := range f.deliveries(store.DeliveryFilter{InstanceID: s.ID, Channel: notify.ChannelSMS}) {
		if d.Seq == 3 {
			require.Equal(t, duban.DeliverySkipped, d.Status)
			require.Equal(t, "未为「提交审批」配置短信模板（notify.sms.templates）", d.LastError)
		}
	}
}

func TestAnApproversSMSDigestCountsTheItems(t *testing.T) {
	f := newFixture(t, mailcatcher.Options{})
	p := f.personal()
	approver := f.user("changsha-approver", "4301", "", duban.RoleApprover)
	f.prefs(duban.NotifyPrefs{UserID: approver.ID, Mobile: "13900000000", SMS: true})
	approverOf := duban.Recipients{Unit: "4301", Roles: []duban.Role{duban.RoleApprover}}
	for i := range 3 {
		s := taskSpec(fmt.Sprintf("2026/2.%d/4301%02d", i+1, i+2), fmt.Sprintf("4301%02d", i+2), "区县")
		f.apply(s, 1, duban.EventAssigned, false, duban.Recipients{})
		f.apply(s, 2, duban.EventSLAReminder, false, approverOf)
		require.Equal(t, duban.DeliveryReport{Digest: 1}, f.deliver(s, 2))
	}
	rep, err := f.d.DeliverDue(f.ctx, time.Date(2026, 3, 3, 8, 0, 0, 0, duban.Shanghai), 0, nil)
	require.NoError(t, err)
	require.Equal(t, duban.DeliveryReport{Digests: 1, Sent: 1}, rep)
	require.Len(t, p.sms.Messages(), 1)
	require.Equal(t, "【湖南省计生协】changsha-approver您好：您有3条督办提醒待处理，请登录督办系统查看。", p.sms.Messages()[0].Text)
	require.Equal(t, fmt.Sprintf("digest#%d#sms#2026-03-03T08", approver.ID), p.sms.Messages()[0].Ref)
}
