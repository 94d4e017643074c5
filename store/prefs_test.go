package store_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/internal/testenv"
	"github.com/duban-dev/duban/store"
)

func TestPersonalChannelAddressesAreStoredAndChecked(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testenv.OpenDB(t)
	u, err := db.CreateUser(ctx, store.User{Username: "yuelu-official", DisplayName: "李明", UnitCode: "430104",
		Roles: []duban.Role{duban.RoleOfficial}, Email: "liming@yuelu.example", PasswordHash: "x"})
	require.NoError(t, err)

	// Nothing set: every personal channel is off.
	r, err := db.Recipient(ctx, "yuelu-official")
	require.NoError(t, err)
	require.Equal(t, duban.NotifyPrefs{UserID: u.ID}, r.Prefs)

	p := duban.NotifyPrefs{UserID: u.ID, Mobile: "13812345678", DingTalkUserID: "liming-0731", WeComUserID: "LiMing",
		WeComKinds: []duban.EventKind{duban.EventOverdue, duban.EventEscalated}, SMS: true, SMSKinds: []duban.EventKind{}}
	require.NoError(t, db.SetPrefs(ctx, p))
	r, err = db.Recipient(ctx, "yuelu-official")
	require.NoError(t, err)
	require.Equal(t, p, r.Prefs, "SMSKinds {} (no kind) stays apart from nil (every kind)")
	require.Nil(t, r.Prefs.DingTalkKinds)
	byID, err := db.Recipients(ctx, []int64{u.ID})
	require.NoError(t, err)
	require.Equal(t, p, byID[u.ID].Prefs)

	for _, tc := range []struct {
		change func(*duban.NotifyPrefs)
		field  string
		text   string
	}{
		{func(p *duban.NotifyPrefs) { p.Mobile = "0731-8888" }, "mobile", "手机号"},
		{func(p *duban.NotifyPrefs) { p.Mobile = "" }, "sms", "开启短信通知须先填写手机号"},
		{func(p *duban.NotifyPrefs) { p.WeComUserID = "LiMing|ZhangWei" }, "wecom_userid", "企业微信 UserID"},
		{func(p *duban.NotifyPrefs) { p.DingTalkUserID = "liming,zhangwei" }, "dingtalk_userid", "钉钉 userid"},
		{func(p *duban.NotifyPrefs) { p.DingTalkUserID = "li ming" }, "dingtalk_userid", "不能含有空格"},
	} {
		bad := p
		tc.change(&bad)
		err := db.SetPrefs(ctx, bad)
		var de *duban.Error
		require.ErrorAs(t, err, &de)
		require.Equal(t, duban.EINVALID, de.Code)
		require.Equal(t, tc.field, de.Field)
		require.Contains(t, de.Message, tc.text)
	}
	// Refused changes stored nothing.
	r, err = db.Recipient(ctx, "yuelu-official")
	require.NoError(t, err)
	require.Equal(t, p, r.Prefs)

	// International numbers in E.164 are accepted.
	p.Mobile = "+85291234567"
	require.NoError(t, db.SetPrefs(ctx, p))
}
