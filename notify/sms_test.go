package notify_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/notify"
	"github.com/duban-dev/duban/notify/providertest"
)

// The examples in the providers' signature documentation, computed here.
func TestAliyunSignatureMatchesTheDocumentedExamples(t *testing.T) {
	sendSms := url.Values{
		"AccessKeyId": {"testId"}, "Action": {"SendSms"}, "Format": {"XML"}, "OutId": {"123"}, "PhoneNumbers": {"15300000001"},
		"RegionId": {"cn-hangzhou"}, "SignName": {"阿里云短信测试专用"}, "SignatureMethod": {"HMAC-SHA1"},
		"SignatureNonce": {"45e25e9b-0a6f-4070-8c85-2956eda1b466"}, "SignatureVersion": {"1.0"}, "TemplateCode": {"SMS_71390007"},
		"TemplateParam": {`{"customer":"test"}`}, "Timestamp": {"2017-07-12T02:42:19Z"}, "Version": {"2017-05-25"},
	}
	require.Equal(t, "zJDF+Lrzhj/ThnlvIToysFRq6t4=", notify.AliyunSignature(http.MethodGet, sendSms, "testSecret"))
	describeRegions := url.Values{
		"Format": {"XML"}, "AccessKeyId": {"testid"}, "Action": {"DescribeRegions"}, "SignatureMethod": {"HMAC-SHA1"},
		"SignatureNonce": {"3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"}, "SignatureVersion": {"1.0"}, "Version": {"2014-05-26"},
		"Timestamp": {"2016-02-23T12:46:24Z"},
	}
	require.Equal(t, "OLeaidS1JvxuMvnyHOwuJ+uX5qY=", notify.AliyunSignature(http.MethodGet, describeRegions, "testsecret"))

	// The fake verifies independently: the documented request, signature
	// included, passes it (at the documented time).
	fake := providertest.NewAliyun("testId", "testSecret", "阿里云短信测试专用", map[string]string{"SMS_71390007": "尊敬的${customer}，您好。"})
	fake.Now = func() time.Time { return time.Date(2017, 7, 12, 2, 45, 0, 0, time.UTC) }
	sendSms.Set("Signature", "zJDF+Lrzhj/ThnlvIToysFRq6t4=")
	resp, err := http.Get(serve(t, fake) + "/?" + sendSms.Encode())
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Len(t, fake.Messages(), 1)
	require.Equal(t, "【阿里云短信测试专用】尊敬的test，您好。", fake.Messages()[0].Text)
}

func TestTC3SignatureMatchesTheDocumentedExample(t *testing.T) {
	payload := `{"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}`
	sig := notify.TC3Signature("Gu5t9xGARNpq86cd98joQYCN3EXAMPLE", "cvm", "/", "cvm.tencentcloudapi.com", "application/json; charset=utf-8",
		[]byte(payload), 1551113065)
	require.Equal(t, "72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168", sig)
}

var smsTemplates = map[string]string{
	"SMS_480101": "${name}您好：「${task}」将于${due}到期，请及时办理。",
	"SMS_480102": "${name}您好：「${task}」已超过截止日期${due}，请尽快办理。",
	"SMS_480109": "${name}您好：您有${count}条督办提醒待处理，请登录督办系统查看。",
}

func smsConfig(provider, endpoint string, c *clock) notify.SMSConfig {
	params := func(specs ...string) []notify.SMSParam {
		p, err := notify.ParseSMSParams(specs)
		if err != nil {
			panic(err)
		}
		return p
	}
	cfg := notify.SMSConfig{Provider: provider, SignName: "湖南省计生协", Endpoint: endpoint, Now: c.Now,
		Templates: []notify.SMSTemplate{
			{Kinds: []string{"reminder"}, Code: "SMS_480101", Params: params("name", "task", "due")},
			{Kinds: []string{"overdue", "escalated"}, Code: "SMS_480102", Params: params("name", "task=task", "due=due")},
			{Kinds: []string{"digest"}, Code: "SMS_480109", Params: params("name", "count")},
		}}
	switch provider {
	case notify.SMSAliyun:
		cfg.AccessKeyID, cfg.AccessKeySecret = "LTAI5tDubanTest", "aliyun-secret-0123456789"
	case notify.SMSTencent:
		cfg.AccessKeyID, cfg.AccessKeySecret, cfg.SDKAppID = "AKIDdubanTest", "tencent-secret-0123456789", "1400123456"
		cfg.Templates[0].Code, cfg.Templates[1].Code, cfg.Templates[2].Code = "2001", "2002", "2009"
	}
	return cfg
}

func aliyun(t *testing.T, c *clock) (*providertest.Aliyun, *notify.SMS) {
	t.Helper()
	fake := providertest.NewAliyun("LTAI5tDubanTest", "aliyun-secret-0123456789", "湖南省计生协", smsTemplates)
	fake.Now = c.Now
	ch, err := notify.NewSMS(smsConfig(notify.SMSAliyun, serve(t, fake)+"/", c))
	require.NoError(t, err)
	return fake, ch
}

func tencent(t *testing.T, c *clock) (*providertest.Tencent, *notify.SMS) {
	t.Helper()
	fake := providertest.NewTencent("AKIDdubanTest", "tencent-secret-0123456789", "1400123456", "湖南省计生协", map[string]string{
		"2001": "{1}您好：「{2}」将于{3}到期，请及时办理。",
		"2002": "{1}您好：「{2}」已超过截止日期{3}，请尽快办理。",
		"2009": "{1}您好：您有{2}条督办提醒待处理，请登录督办系统查看。",
	})
	fake.Now = c.Now
	ch, err := notify.NewSMS(smsConfig(notify.SMSTencent, serve(t, fake), c))
	require.NoError(t, err)
	return fake, ch
}

func smsNotice() notify.Message {
	m := personalNotice()
	m.Key = "2026/2.1/430102#4#7#sms"
	return m
}

func TestAliyunSMSFillsTheTemplateFromTheNotice(t *testing.T) {
	c := newClock()
	fake, ch := aliyun(t, c)
	require.NoError(t, ch.Send(context.Background(), smsNotice()))
	got := fake.Messages()
	require.Len(t, got, 1)
	require.Equal(t, "13800000000", got[0].To)
	require.Equal(t, "【湖南省计生协】王芳您好：「出台改革方案」将于2026年3月31日到期，请及时办理。", got[0].Text)
	require.Equal(t, map[string]string{"name": "王芳", "task": "出台改革方案", "due": "2026年3月31日"}, got[0].Vars)
	require.Equal(t, "2026/2.1/430102#4#7#sms", got[0].Ref, "OutId is the delivery's key")

	// A long title is cut to the provider's 35 characters; a link is dropped.
	m := smsNotice()
	m.Kind = duban.EventOverdue
	m.Facts = map[string]string{"task": "关于进一步加强基层计划生育协会规范化建设和推进会议精神全面落实情况的专题调研报告 https://example.org/x", "due": "2026年3月31日"}
	require.NoError(t, ch.Send(context.Background(), m))
	task := fake.Messages()[1].Vars["task"]
	require.Len(t, []rune(task), 35)
	require.True(t, strings.HasSuffix(task, "…"))
	require.NotContains(t, fake.Messages()[1].Text, "http")

	// A digest says how many items it holds.
	d := smsNotice()
	d.Kind, d.Facts, d.Items = notify.KindDigest, nil, make([]notify.Item, 10)
	require.NoError(t, ch.Send(context.Background(), d))
	require.Equal(t, "【湖南省计生协】王芳您好：您有10条督办提醒待处理，请登录督办系统查看。", fake.Messages()[2].Text)
}

func TestAliyunSMSFailuresAreClassified(t *testing.T) {
	c := newClock()
	fake, ch := aliyun(t, c)
	ctx := context.Background()
	for _, tc := range []struct {
		status    int
		code, msg string
		permanent bool
	}{
		{200, "isv.AMOUNT_NOT_ENOUGH", "账户余额不足", true},
		{200, "isv.DAY_LIMIT_CONTROL", "触发日发送限额", true},
		{200, "isp.SYSTEM_ERROR", "系统错误", false},
		{400, "Throttling.User", "Request was denied due to user flow control.", false},
		{503, "ServiceUnavailable", "The request has failed due to a temporary failure of the server.", false},
		{403, "Forbidden.RAM", "User not authorized to operate on the specified resource.", true},
	} {
		fake.FailNext(tc.status, tc.code, tc.msg)
		err := ch.Send(ctx, smsNotice())
		require.Error(t, err)
		require.Equal(t, tc.permanent, notify.IsPermanent(err), "%s: %v", tc.code, err)
		require.Contains(t, err.Error(), "阿里云短信: "+tc.code)
	}
	// Flow control per number: one a minute.
	fake.PerNumberPerMinute = 1
	require.NoError(t, ch.Send(ctx, smsNotice()))
	err := ch.Send(ctx, smsNotice())
	require.False(t, notify.IsPermanent(err))
	require.Contains(t, err.Error(), "isv.BUSINESS_LIMIT_CONTROL")
	c.Add(time.Minute)
	require.NoError(t, ch.Send(ctx, smsNotice()))

	// The fake checks what the real service checks.
	bad := smsConfig(notify.SMSAliyun, serve(t, fake), c)
	bad.AccessKeySecret = "not-the-secret"
	wrong, err := notify.NewSMS(bad)
	require.NoError(t, err)
	err = wrong.Send(ctx, smsNotice())
	require.True(t, notify.IsPermanent(err))
	require.Contains(t, err.Error(), "SignatureDoesNotMatch")
	require.NotContains(t, err.Error(), "not-the-secret")

	late := newClock()
	late.Add(-20 * time.Minute)
	skewed, err := notify.NewSMS(smsConfig(notify.SMSAliyun, serve(t, fake), late))
	require.NoError(t, err)
	err = skewed.Send(ctx, smsNotice())
	require.True(t, notify.IsPermanent(err))
	require.Contains(t, err.Error(), "InvalidTimeStamp.Expired")

	unknown := smsConfig(notify.SMSAliyun, serve(t, fake), c)
	unknown.Templates[0].Code = "SMS_000000"
	stale, err := notify.NewSMS(unknown)
	require.NoError(t, err)
	err = stale.Send(ctx, smsNotice())
	require.True(t, notify.IsPermanent(err))
	require.Contains(t, err.Error(), "isv.SMS_TEMPLATE_ILLEGAL")
}

func TestTencentSMSFillsTheTemplateInOrder(t *testing.T) {
	c := newClock()
	fake, ch := tencent(t, c)
	require.NoError(t, ch.Send(context.Background(), smsNotice()))
	got := fake.Messages()
	require.Len(t, got, 1)
	require.Equal(t, "+8613800000000", got[0].To, "mainland numbers get +86")
	require.Equal(t, []string{"王芳", "出台改革方案", "2026年3月31日"}, got[0].Params)
	require.Equal(t, "【湖南省计生协】王芳您好：「出台改革方案」将于2026年3月31日到期，请及时办理。", got[0].Text)
	require.Equal(t, "2026/2.1/430102#4#7#sms", got[0].Ref, "SessionContext is the delivery's key")

	// Tencent allows 12 characters a variable by default.
	m := smsNotice()
	m.Facts = map[string]string{"task": "推动市、县两级出台计划生育协会改革方案", "due": "2026年3月31日"}
	require.NoError(t, ch.Send(context.Background(), m))
	require.Equal(t, "推动市、县两级出台计划…", fake.Messages()[1].Params[1])
}

func TestTencentSMSFailuresAreClassified(t *testing.T) {
	c := newClock()
	fake, ch := tencent(t, c)
	ctx := context.Background()
	for _, tc := range []struct {
		code      string
		number    bool
		permanent bool
	}{
		{"LimitExceeded.PhoneNumberOneHourLimit", true, false},
		{"LimitExceeded.PhoneNumberDailyLimit", true, true},
		{"FailedOperation.InsufficientBalanceInSmsPackage", true, true},
		{"InternalError.Timeout", false, false},
		{"RequestLimitExceeded", false, false},
		{"FailedOperation.ContainSensitiveWord", false, true},
	} {
		if tc.number {
			fake.FailNextNumber(tc.code, "…")
		} else {
			fake.FailNext(tc.code, "…")
		}
		err := ch.Send(ctx, smsNotice())
		require.Error(t, err)
		require.Equal(t, tc.permanent, notify.IsPermanent(err), "%s: %v", tc.code, err)
		require.Contains(t, err.Error(), "腾讯云短信: "+tc.code)
	}
	fake.PerNumberPer30s = 1
	require.NoError(t, ch.Send(ctx, smsNotice()))
	err := ch.Send(ctx, smsNotice())
	require.False(t, notify.IsPermanent(err))
	require.Contains(t, err.Error(), "LimitExceeded.PhoneNumberThirtySecondLimit")

	// Signature checks: a wrong key, a clock five minutes off.
	bad := smsConfig(notify.SMSTencent, serve(t, fake), c)
	bad.AccessKeySecret = "not-the-key"
	wrong, err := notify.NewSMS(bad)
	require.NoError(t, err)
	err = wrong.Send(ctx, smsNotice())
	require.True(t, notify.IsPermanent(err))
	require.Contains(t, err.Error(), "AuthFailure.SignatureFailure")
	late := newClock()
	late.Add(-6 * time.Minute)
	skewed, err := notify.NewSMS(smsConfig(notify.SMSTencent, serve(t, fake), late))
	require.NoError(t, err)
	require.ErrorContains(t, skewed.Send(ctx, smsNotice()), "AuthFailure.SignatureExpire")
}

func TestSMSWithoutATemplateForTheKindIsNotConfigured(t *testing.T) {
	c := newClock()
	fake, ch := aliyun(t, c)
	m := smsNotice()
	m.Kind = duban.EventSubmitted
	err := ch.Send(context.Background(), m)
	require.True(t, notify.IsNotConfigured(err))
	require.Contains(t, err.Error(), "未为「")
	m = smsNotice()
	m.To.Mobile = "0731-12345678"
	require.True(t, notify.IsPermanent(ch.Send(context.Background(), m)))
	require.Zero(t, fake.Requests(), "nothing reached the provider")

	_, err = notify.ParseSMSParams([]string{"task=title"})
	require.ErrorContains(t, err, "fact one of")
	cfg := smsConfig(notify.SMSAliyun, "http://127.0.0.1:1", c)
	cfg.Templates[1].Kinds = []string{"reminder"}
	_, err = notify.NewSMS(cfg)
	require.ErrorContains(t, err, `kind "reminder" has a template already`)
	cfg = smsConfig(notify.SMSTencent, "http://127.0.0.1:1", c)
	cfg.SDKAppID = ""
	_, err = notify.NewSMS(cfg)
	require.ErrorContains(t, err, "sdk_app_id")
}
