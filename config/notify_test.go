package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/duban-dev/duban/config"
)

func TestNotifySettingsFromFileAndEnvironmentWithSecretsMasked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "duban.yaml")
	require.NoError(t, os.WriteFile(path, []byte(`
public_url: https://duban.hnjsx.example
notify:
  smtp:
    addr: smtp.hnjsx.example:587
    username: duban
    password: file-password
    from: 湖南省计生协督办 <duban@hnjsx.example>
    tls: starttls
  webhooks:
    - name: changsha-group
      kind: dingtalk
      url: https://oapi.dingtalk.com/robot/send?access_token=tok-changsha
      secret: SECchangsha
  digest_hour: 9
  quiet_hours: 22-7
  tick_interval: 10m
`), 0o600))
	t.Setenv("DUBAN_SMTP_PASSWORD", "env-password")
	cfg, err := config.Load(path)
	require.NoError(t, err)
	n := cfg.Notify
	require.Equal(t, "smtp.hnjsx.example:587", n.SMTP.Addr)
	require.Equal(t, "env-password", n.SMTP.Password, "the environment wins")
	require.Equal(t, "starttls", n.SMTP.TLS)
	require.Equal(t, 30*time.Second, n.SMTP.Timeout, "defaults stay")
	require.Equal(t, 9, n.DigestHour)
	require.Equal(t, "22-7", n.QuietHours)
	require.Equal(t, 10*time.Minute, n.TickInterval)
	require.Equal(t, "approver,supervisor", n.DigestRoles)
	require.Equal(t, 8, n.MaxAttempts)
	require.Len(t, n.Webhooks, 1)
	require.Equal(t, "SECchangsha", n.Webhooks[0].Secret)

	// The environment can replace the webhook list with JSON.
	t.Setenv("DUBAN_WEBHOOKS", `[{"name":"furong-group","kind":"wecom","url":"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=KEY-furong"},
		{"name":"ops","kind":"generic","url":"https://ops.example/hooks/duban","secret":"whsec-ops"}]`)
	cfg, err = config.Load(path)
	require.NoError(t, err)
	require.Len(t, cfg.Notify.Webhooks, 2)
	require.Equal(t, "wecom", cfg.Notify.Webhooks[0].Kind)
	require.Equal(t, "whsec-ops", cfg.Notify.Webhooks[1].Secret)

	printed := strings.Join(cfg.Masked(), "\n")
	for _, secret := range []string{"env-password", "KEY-furong", "whsec-ops"} {
		require.NotContains(t, printed, secret)
	}
	require.Contains(t, printed, "notify.smtp.password = ******")
	require.Contains(t, printed, "notify.webhooks[0].url = https://qyapi.weixin.qq.com/cgi-bin/webhook/send?******")
	require.Contains(t, printed, "notify.webhooks[1].secret = ******")
	require.Contains(t, printed, "notify.smtp.username = duban")

	t.Setenv("DUBAN_WEBHOOKS", `{"name": "not a list"}`)
	_, err = config.Load(path)
	require.ErrorContains(t, err, "DUBAN_WEBHOOKS")
}
