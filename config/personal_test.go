package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/duban-dev/duban/config"
)

func TestPersonalChannelSettingsWithSecretsMasked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "duban.yaml")
	require.NoError(t, os.WriteFile(path, []byte(`
notify:
  dingtalk_app:
    app_key: dingkey-hunan
    app_secret: file-ding-secret
    agent_id: 3001234
  wecom_app:
    corp_id: ww0123456789abcdef
    corp_secret: file-wecom-secret
    agent_id: 1000002
    endpoint: http://127.0.0.1:9300/wecom
  sms:
    provider: aliyun
    access_key_id: LTAI5tHunan
    access_key_secret: file-sms-secret
    sign_name: 湖南省计生协
    templates:
      - kinds: [reminder]
        code: SMS_480101
        params: [name, task, due]
      - kinds: [overdue, escalated]
        code: SMS_480102
        params: [name, task=task, due=due]
`), 0o600))
	t.Setenv("DUBAN_DINGTALK_APP_SECRET", "env-ding-secret")
	t.Setenv("DUBAN_SMS_TEMPLATES", `[{"kinds":["*"],"code":"SMS_480100","params":["kind","task"]}]`)
	t.Setenv("DUBAN_SMS_MAX_PARAM_CHARS", "20")
	cfg, err := config.Load(path)
	require.NoError(t, err)
	n := cfg.Notify
	require.Equal(t, config.DingTalkApp{AppKey: "dingkey-hunan", AppSecret: "env-ding-secret", AgentID: 3001234}, n.DingTalkApp)
	require.Equal(t, 1000002, n.WeComApp.AgentID)
	require.Equal(t, "http://127.0.0.1:9300/wecom", n.WeComApp.Endpoint)
	require.Equal(t, "aliyun", n.SMS.Provider)
	require.Equal(t, []config.SMSTemplate{{Kinds: []string{"*"}, Code: "SMS_480100", Params: []string{"kind", "task"}}}, n.SMS.Templates,
		"the environment replaces the list")
	require.Equal(t, 20, n.SMS.MaxParamChars)

	printed := strings.Join(cfg.Masked(), "\n")
	for _, secret := range []string{"env-ding-secret", "file-ding-secret", "file-wecom-secret", "file-sms-secret"} {
		require.NotContains(t, printed, secret)
	}
	require.Contains(t, printed, "notify.dingtalk_app.app_secret = ******")
	require.Contains(t, printed, "notify.wecom_app.corp_secret = ******")
	require.Contains(t, printed, "notify.sms.access_key_secret = ******")
	require.Contains(t, printed, "notify.sms.access_key_id = LTAI5tHunan")
	require.Contains(t, printed, "notify.sms.templates[0].code = SMS_480100")

	t.Setenv("DUBAN_DINGTALK_AGENT_ID", "agent-one")
	_, err = config.Load(path)
	require.ErrorContains(t, err, "DUBAN_DINGTALK_AGENT_ID")
}
