package notify

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/duban-dev/duban"
)

// mobilePattern accepts a mainland mobile number (13800000000, optionally
// +86 or 86 in front) or another country's number in E.164 (+852…).
var mobilePattern = regexp.MustCompile(`^(?:(?:\+?86)?1[3-9]\d{9}|\+[1-9]\d{6,14})$`)

// ValidMobile reports whether s is a number SMS can go to.
func ValidMobile(s string) bool { return mobilePattern.MatchString(s) }

// CheckPrefs checks preferences before they are stored: hours, quiet
// hours given whole, a mobile number that SMS can use, and directory user
// ids that cannot address anyone else (DingTalk separates ids with ",",
// WeCom with "|"). The error is a duban.FieldError in Chinese.
func CheckPrefs(p Prefs) error {
	for _, h := range []*int{p.DigestHour, p.QuietStart, p.QuietEnd} {
		if h != nil && !validHour(*h) {
			return duban.FieldError("hour", "时刻应为 0–23 之间的整点")
		}
	}
	if (p.QuietStart == nil) != (p.QuietEnd == nil) {
		return duban.FieldError("quiet_hours", "免打扰时段须同时设置开始和结束")
	}
	if p.Mobile != "" && !ValidMobile(p.Mobile) {
		return duban.FieldError("mobile", "手机号 %q 格式不正确：应为 11 位手机号（如 13800000000），境外号码以 + 和国家代码开头", p.Mobile)
	}
	if p.SMS && p.Mobile == "" {
		return duban.FieldError("sms", "开启短信通知须先填写手机号")
	}
	if err := checkDirectoryID("dingtalk_userid", "钉钉 userid", p.DingTalkUserID); err != nil {
		return err
	}
	return checkDirectoryID("wecom_userid", "企业微信 UserID", p.WeComUserID)
}

func checkDirectoryID(field, label, id string) error {
	if id == "" {
		return nil
	}
	if utf8.RuneCountInString(id) > 64 || strings.ContainsAny(id, ",|") || strings.IndexFunc(id, unicode.IsSpace) >= 0 {
		return duban.FieldError(field, "%s %q 不正确：不超过 64 个字符，且不能含有空格、逗号或“|”", label, id)
	}
	return nil
}
