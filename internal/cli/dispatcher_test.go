package cli

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/config"
	"github.com/duban-dev/duban/notify"
	"github.com/duban-dev/duban/notify/providertest"
)

// suite is the four fakes under one address, as a development stack
// would run them.
func suite(t *testing.T) (*providertest.Suite, string) {
	s := &providertest.Suite{
		DingTalk: providertest.NewDingTalk("dingkey-hunan", "ding-secret", 3001234, 0),
		WeCom:    providertest.NewWeCom("ww0123456789abcdef", "wecom-secret", 1000002, 0),
		Aliyun:   providertest.NewAliyun("LTAI5tHunan", "aliyun-secret", "湖南省计生协", smsTemplates),
		Tencent: providertest.NewTencent("AKIDHunan", "tencent-secret", "1400123456", "湖南省计生协", map[string]string{
			"2000": "{1}：{2}，请登录督办系统查看。"}),
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return s, srv.URL
}

// smsTemplates are the Aliyun templates the fake suite knows (unused by
// the Tencent configuration below, but the fake wants them).
var smsTemplates = map[string]string{
	"SMS_480101": "${name}您好：「${task}」将于${due}到期，请及时办理。",
}

func TestPersonalChannelsFromConfigurationReachTheFakeSuite(t *testing.T) {
	s, base := suite(t)
	cfg := config.Default().Notify
	cfg.DingTalkApp = config.DingTalkApp{AppKey: "dingkey-hunan", AppSecret: "ding-secret", AgentID: 3001234, Endpoint: base + "/dingtalk"}
	cfg.WeComApp = config.WeComApp{CorpID: "ww0123456789abcdef", CorpSecret: "wecom-secret", AgentID: 1000002, Endpoint: base + "/wecom"}
	cfg.SMS = config.SMS{Provider: "tencent", AccessKeyID: "AKIDHunan", AccessKeySecret: "tencent-secret", SDKAppID: "1400123456",
		SignName: "湖南省计生协", Endpoint: base + "/tencent/", Templates: []config.SMSTemplate{{Kinds: []string{"*"}, Code: "2000", Params: []string{"kind", "name"}}}}
	d, err := NewDispatcher(nil, cfg, "https://duban.example")
	require.NoError(t, err)
	require.NotNil(t, d.DingTalk)
	require.NotNil(t, d.WeCom)
	require.NotNil(t, d.SMS)

	person := duban.Recipient{UserID: 7, Username: "furong-official", Name: "王芳", Prefs: duban.NotifyPrefs{UserID: 7, Mobile: "13800000000",
		DingTalkUserID: "wangfang01", WeComUserID: "WangFang", SMS: true}}
	for _, r := range d.Test(context.Background(), person) {
		if r.Channel == notify.ChannelDingTalk || r.Channel == notify.ChannelWeCom || r.Channel == notify.ChannelSMS {
			require.NoError(t, r.Err, r.Channel)
			require.Empty(t, r.Note, r.Channel)
		}
	}
	require.Len(t, s.Messages(), 3)
	require.Equal(t, "【湖南省计生协】测试消息：王芳，请登录督办系统查看。", s.Tencent.Messages()[0].Text)

	// What a developer opens in a browser, and what a browser test reads.
	resp, err := http.Get(base + "/")
	require.NoError(t, err)
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Contains(t, string(page), "已收到 3 条消息")
	require.Contains(t, string(page), "企业微信应用消息")
	resp, err = http.Get(base + "/messages")
	require.NoError(t, err)
	var listed []providertest.Message
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&listed))
	resp.Body.Close()
	require.Len(t, listed, 3)

	// A bad SMS setting leaves the SMS channel out and says why; the others work.
	cfg.SMS.Templates[0].Params = []string{"task=title"}
	d, err = NewDispatcher(nil, cfg, "")
	require.ErrorContains(t, err, `sms templates[0]: sms template param "task=title"`)
	require.Nil(t, d.SMS)
	require.NotNil(t, d.DingTalk)
}
