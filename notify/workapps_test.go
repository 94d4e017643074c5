package notify_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/message"
	"github.com/duban-dev/duban/notify"
	"github.com/duban-dev/duban/notify/providertest"
)

// clock is a time the test moves; fakes and channels can share one or
// each have their own.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, duban.Shanghai)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// personalNotice is a reminder for 王芳 with the addresses of every
// personal channel.
func personalNotice() notify.Message {
	in := message.Info{InstanceID: "2026/2.1/430102", Title: "出台改革方案", UnitName: "芙蓉区", Due: duban.EndOfDay(2026, 3, 31),
		Offset: &duban.Offset{Days: 7}}
	text := message.Render(duban.EventReminder, in)
	return notify.Message{
		Key:  "2026/2.1/430102#4#7#dingtalk",
		To:   notify.Address{UserID: 7, Name: "王芳", Mobile: "13800000000", DingTalkUserID: "wangfang01", WeComUserID: "WangFang"},
		Kind: duban.EventReminder, Title: text.Title, Body: text.Body, Facts: text.Facts,
		Link: "https://duban.example/#/tasks/2026%2F2.1%2F430102", InstanceID: "2026/2.1/430102", At: duban.EndOfDay(2026, 3, 24),
	}
}

func serve(t *testing.T, h http.Handler) string {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

func dingTalk(t *testing.T, c *clock) (*providertest.DingTalk, *notify.DingTalkApp) {
	t.Helper()
	fake := providertest.NewDingTalk("dingkey-furong", "dingsecret-0123456789", 3001234, 0)
	fake.Now = c.Now
	ch, err := notify.NewDingTalkApp(notify.DingTalkAppConfig{AppKey: "dingkey-furong", AppSecret: "dingsecret-0123456789", AgentID: 3001234,
		Endpoint: serve(t, fake), Now: c.Now})
	require.NoError(t, err)
	return fake, ch
}

func weCom(t *testing.T, fakeClock, clientClock *clock) (*providertest.WeCom, *notify.WeComApp) {
	t.Helper()
	fake := providertest.NewWeCom("ww0123456789abcdef", "wecom-secret-0123456789", 1000002, 0)
	fake.Now = fakeClock.Now
	ch, err := notify.NewWeComApp(notify.WeComAppConfig{CorpID: "ww0123456789abcdef", CorpSecret: "wecom-secret-0123456789", AgentID: 1000002,
		Endpoint: serve(t, fake) + "/", Now: clientClock.Now})
	require.NoError(t, err)
	return fake, ch
}

func TestDingTalkWorkNoticeTakesOneTokenAndSendsMarkdownToTheUser(t *testing.T) {
	c := newClock()
	fake, ch := dingTalk(t, c)
	m := personalNotice()
	require.NoError(t, ch.Send(context.Background(), m))
	urgent := m
	urgent.Urgent, urgent.Kind, urgent.Title = true, duban.EventOverdue, "已逾期：出台改革方案"
	require.NoError(t, ch.Send(context.Background(), urgent))
	require.Equal(t, 1, fake.TokenCalls(), "the token is cached")

	got := fake.Messages()
	require.Len(t, got, 2)
	require.Equal(t, "wangfang01", got[0].To)
	require.Equal(t, 3001234, got[0].AgentID)
	require.Equal(t, "markdown", got[0].MsgType)
	require.Equal(t, "到期提醒：出台改革方案", got[0].Title)
	require.Contains(t, got[0].Text, "芙蓉区「出台改革方案」将于 2026年3月31日 到期（还剩7天）")
	require.Contains(t, got[0].Text, "[查看任务](https://duban.example/#/tasks/2026%2F2.1%2F430102)")
	require.Equal(t, "【紧急】已逾期：出台改革方案", got[1].Title)
	var body map[string]any
	require.NoError(t, json.Unmarshal(got[0].Body, &body))
	require.Equal(t, float64(3001234), body["agent_id"], "agent_id is a number")
	require.Equal(t, "wangfang01", body["userid_list"], "userid_list is a comma-separated string")
}

func TestDingTalkTokenIsRenewedBeforeItExpires(t *testing.T) {
	c := newClock()
	fake, ch := dingTalk(t, c)
	ctx := context.Background()
	require.NoError(t, ch.Send(ctx, personalNotice()))
	c.Add(6800 * time.Second)
	require.NoError(t, ch.Send(ctx, personalNotice()))
	require.Equal(t, 1, fake.TokenCalls(), "well within its 7200 s")
	c.Add(150 * time.Second) // 6950 s: less than five minutes left
	require.NoError(t, ch.Send(ctx, personalNotice()))
	require.Equal(t, 2, fake.TokenCalls(), "renewed early")
	require.Equal(t, 3, fake.Requests(), "no send was refused for its token")
	// DingTalk extends a token asked for again within its life, so the
	// renewed token is good for another 7200 s.
	c.Add(6800 * time.Second)
	require.NoError(t, ch.Send(ctx, personalNotice()))
	require.Equal(t, 2, fake.TokenCalls())
	require.Equal(t, 4, fake.Requests())
}

func TestARevokedTokenIsReplacedAndTheSendTriedOnceMore(t *testing.T) {
	c := newClock()
	fake, ch := dingTalk(t, c)
	ctx := context.Background()
	require.NoError(t, ch.Send(ctx, personalNotice()))
	fake.RevokeTokens() // DingTalk answers the cached token with 40014
	second := personalNotice()
	second.Title = "到期提醒：出台改革方案（再次提醒）"
	require.NoError(t, ch.Send(ctx, second))
	require.Equal(t, 2, fake.TokenCalls())
	require.Equal(t, 3, fake.Requests(), "the refused send and its retry")
	require.Len(t, fake.Messages(), 2)

	// A token refused again right after renewal is not retried in a loop:
	// the delivery is retried later.
	fake.FailNext(40014, "不合法的access_token")
	fake.FailNext(40014, "不合法的access_token")
	err := ch.Send(ctx, personalNotice())
	require.Error(t, err)
	require.False(t, notify.IsPermanent(err))
	require.Contains(t, err.Error(), "仍被拒绝")
	require.Equal(t, 5, fake.Requests())
}

func TestDingTalkErrorsAreClassified(t *testing.T) {
	c := newClock()
	fake, ch := dingTalk(t, c)
	ctx := context.Background()
	for _, tc := range []struct {
		code      int
		msg       string
		permanent bool
		want      string
	}{
		{90018, "当前企业调用该接口超过每秒调用次数上限", false, "errcode 90018"},
		{90002, "您的服务器调用钉钉开放平台当前接口的所有请求都被暂时禁用了", false, "errcode 90002"},
		{-1, "系统繁忙", false, "errcode -1"},
		{33012, "无效的USERID", true, "userid 无效"},
		{60020, "访问ip不在白名单之中", true, "白名单"},
	} {
		fake.FailNext(tc.code, tc.msg)
		err := ch.Send(ctx, personalNotice())
		require.Error(t, err, tc.code)
		require.Equal(t, tc.permanent, notify.IsPermanent(err), "errcode %d: %v", tc.code, err)
		require.Contains(t, err.Error(), tc.want)
	}
	fake.FailNextHTTP(http.StatusBadGateway)
	err := ch.Send(ctx, personalNotice())
	require.False(t, notify.IsPermanent(err))
	require.Contains(t, err.Error(), "HTTP 502")
	require.Empty(t, fake.Messages())

	// A message the fake checks and refuses: the agent is not this app's.
	other, err := notify.NewDingTalkApp(notify.DingTalkAppConfig{AppKey: "dingkey-furong", AppSecret: "dingsecret-0123456789", AgentID: 999,
		Endpoint: serve(t, fake), Now: c.Now})
	require.NoError(t, err)
	err = other.Send(ctx, personalNotice())
	require.True(t, notify.IsPermanent(err))
	require.Contains(t, err.Error(), "agent_id")
}

func TestWrongAppCredentialsArePermanentAndNeverShown(t *testing.T) {
	c := newClock()
	fake, _ := dingTalk(t, c)
	ch, err := notify.NewDingTalkApp(notify.DingTalkAppConfig{AppKey: "dingkey-furong", AppSecret: "wrong-secret-xyz", AgentID: 3001234,
		Endpoint: serve(t, fake), Now: c.Now})
	require.NoError(t, err)
	err = ch.Send(context.Background(), personalNotice())
	require.True(t, notify.IsPermanent(err))
	require.Contains(t, err.Error(), "获取 access_token 失败（errcode 40089")
	require.NotContains(t, err.Error(), "wrong-secret-xyz")

	// Nobody listening: temporary, and the URL in the error keeps no query.
	dead, err := notify.NewWeComApp(notify.WeComAppConfig{CorpID: "ww01", CorpSecret: "dead-secret-xyz", AgentID: 1, Endpoint: "http://127.0.0.1:1"})
	require.NoError(t, err)
	err = dead.Send(context.Background(), personalNotice())
	require.False(t, notify.IsPermanent(err))
	require.NotContains(t, err.Error(), "dead-secret-xyz")
}

func TestDingTalkDropsTheSameContentToAPersonTheSameDay(t *testing.T) {
	c := newClock()
	fake, ch := dingTalk(t, c)
	// DingTalk delivers a given content to a person once a day: the resend
	// of a crash between acceptance and the sent mark is dropped.
	require.NoError(t, ch.Send(context.Background(), personalNotice()))
	require.NoError(t, ch.Send(context.Background(), personalNotice()))
	require.Len(t, fake.Messages(), 1)
	_, forbidden := fake.SendResult(2)
	require.Equal(t, []string{"wangfang01"}, forbidden)
}

func TestDingTalkAcceptsAnUnknownUserAndReportsItInTheSendResult(t *testing.T) {
	c := newClock()
	fake, ch := dingTalk(t, c)
	fake.Users = []string{"lisi02"}
	// The API is asynchronous: an unknown userid is accepted (errcode 0)
	// and shows up later in getsendresult's invalid_user_id_list. The
	// delivery counts as sent; see docs/notifications.md.
	require.NoError(t, ch.Send(context.Background(), personalNotice()))
	require.Empty(t, fake.Messages())
	invalid, _ := fake.SendResult(1)
	require.Equal(t, []string{"wangfang01"}, invalid)
}

func TestWeComAppMessageGoesToTheUserWithDuplicateCheck(t *testing.T) {
	c := newClock()
	fake, ch := weCom(t, c, c)
	ctx := context.Background()
	m := personalNotice()
	require.NoError(t, ch.Send(ctx, m))
	got := fake.Messages()
	require.Len(t, got, 1)
	require.Equal(t, "WangFang", got[0].To)
	require.Equal(t, 1000002, got[0].AgentID)
	require.Equal(t, "markdown", got[0].MsgType)
	require.True(t, strings.HasPrefix(got[0].Text, "#### 到期提醒：出台改革方案\n\n"), got[0].Text)
	require.Contains(t, got[0].Text, "[查看任务](https://duban.example/#/tasks/2026%2F2.1%2F430102)")
	var body map[string]any
	require.NoError(t, json.Unmarshal(got[0].Body, &body))
	require.Equal(t, float64(1000002), body["agentid"])
	require.Equal(t, float64(1), body["enable_duplicate_check"])

	// The resend of a crash between acceptance and the sent mark: WeCom
	// drops the copy.
	require.NoError(t, ch.Send(ctx, m))
	require.Len(t, fake.Messages(), 1)
	require.Equal(t, 1, fake.Duplicates())
	require.Equal(t, 1, fake.TokenCalls())
}

func TestWeComExpiredTokenIsRenewedAndErrcodesClassified(t *testing.T) {
	server, client := newClock(), newClock()
	fake, ch := weCom(t, server, client)
	ctx := context.Background()
	m := personalNotice()
	require.NoError(t, ch.Send(ctx, m))
	// WeCom's clock runs past the token's life while ours thinks it good:
	// 42001, a new token, one more try.
	server.Add(7300 * time.Second)
	m.Title = "到期提醒：出台改革方案（第二次）"
	require.NoError(t, ch.Send(ctx, m))
	require.Equal(t, 2, fake.TokenCalls())
	require.Equal(t, 3, fake.Requests())
	require.Len(t, fake.Messages(), 2)

	for _, tc := range []struct {
		code      int
		msg       string
		permanent bool
		want      string
	}{
		{45009, "api freq out of limit", false, "暂时无法发送"},
		{45033, "api concurrent out of limit", false, "暂时无法发送"},
		{-1, "system busy", false, "暂时无法发送"},
		{60020, "not allow to access from your ip", true, "可信 IP"},
		{48002, "api forbidden", true, "接口权限"},
	} {
		fake.FailNext(tc.code, tc.msg)
		err := ch.Send(ctx, m)
		require.Error(t, err)
		require.Equal(t, tc.permanent, notify.IsPermanent(err), "errcode %d: %v", tc.code, err)
		require.Contains(t, err.Error(), tc.want)
	}

	// A UserID outside the app's range: permanent, said in Chinese.
	fake.Users = []string{"LiSi"}
	err := ch.Send(ctx, m)
	require.True(t, notify.IsPermanent(err))
	require.Contains(t, err.Error(), "UserID 不存在或不在应用可见范围内（errcode 81013")
	// Wrong corp secret: permanent.
	bad, err := notify.NewWeComApp(notify.WeComAppConfig{CorpID: "ww0123456789abcdef", CorpSecret: "nope", AgentID: 1000002,
		Endpoint: serve(t, fake)})
	require.NoError(t, err)
	err = bad.Send(ctx, m)
	require.True(t, notify.IsPermanent(err))
	require.Contains(t, err.Error(), "errcode 40001")
}

func TestPersonalChannelsNeedTheirSettings(t *testing.T) {
	_, err := notify.NewDingTalkApp(notify.DingTalkAppConfig{AppKey: "k", AgentID: 1})
	require.ErrorContains(t, err, "app_secret")
	_, err = notify.NewWeComApp(notify.WeComAppConfig{CorpID: "ww", CorpSecret: "s"})
	require.ErrorContains(t, err, "agent_id")
	_, err = notify.NewWeComApp(notify.WeComAppConfig{CorpID: "ww", CorpSecret: "s", AgentID: 1, Endpoint: "qyapi.weixin.qq.com"})
	require.ErrorContains(t, err, "endpoint")
	c := newClock()
	_, ch := dingTalk(t, c)
	m := personalNotice()
	m.To.DingTalkUserID = ""
	require.True(t, notify.IsPermanent(ch.Send(context.Background(), m)))
}

func TestConcurrentSendsShareOneTokenFetch(t *testing.T) {
	c := newClock()
	fake, ch := dingTalk(t, c)
	var wg sync.WaitGroup
	errs := make([]error, 16)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m := personalNotice()
			m.Title = fmt.Sprintf("到期提醒：出台改革方案（%d）", i)
			errs[i] = ch.Send(context.Background(), m)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	require.Equal(t, 1, fake.TokenCalls())
	require.Len(t, fake.Messages(), 16)
}
