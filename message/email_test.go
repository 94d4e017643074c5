package message_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/message"
)

func TestEmailBodiesEscapeWhatPeopleWrote(t *testing.T) {
	m := message.Mail{Name: "王芳", Title: "被退回：出台改革方案", KindLabel: "退回修改",
		Body: `芙蓉区「出台改革方案」被退回修改，理由：缺少<script>alert(1)</script>纪要`, Link: "https://duban.example/#/tasks/2021%2F2.1%2F430102"}
	text, html, err := message.RenderEmail(m)
	require.NoError(t, err)
	require.Contains(t, text, "理由：缺少<script>alert(1)</script>纪要", "plain text is plain")
	require.NotContains(t, html, "<script>")
	require.Contains(t, html, "&lt;script&gt;")
	require.Contains(t, html, `href="https://duban.example/#/tasks/2021%2F2.1%2F430102"`)
	require.Contains(t, text, "王芳，您好")
}

func TestDigestListsEveryItem(t *testing.T) {
	m := message.Mail{Name: "张伟", Title: message.DigestTitle(3, time.Date(2026, 3, 3, 8, 0, 0, 0, duban.Shanghai)), Body: message.DigestIntro(3)}
	for i := range 3 {
		m.Items = append(m.Items, message.MailItem{Title: "审批提醒：任务" + string(rune('A'+i)), Body: "第 1 步审批还剩2个工作日到期", Link: "https://duban.example/#/tasks/" + string(rune('a'+i))})
	}
	m.Items[2].Urgent = true
	text, html, err := message.RenderEmail(m)
	require.NoError(t, err)
	require.Equal(t, "督办每日汇总：3 条待办提醒（2026年3月3日）", m.Title)
	require.Contains(t, text, "1. 审批提醒：任务A")
	require.Contains(t, text, "3. 【紧急】审批提醒：任务C")
	require.Contains(t, text, "https://duban.example/#/tasks/b")
	require.Equal(t, 3, strings.Count(html, "<li "))
}

func TestChatMarkdownCannotBeHijackedByTitles(t *testing.T) {
	md := message.RenderChat(message.Mail{Title: "# [点我](https://evil.example)", Body: "正文\n### 标题", Link: "https://duban.example/#/tasks/x"}, "", 4000)
	require.NotContains(t, md, "[点我](https://evil.example)")
	require.Contains(t, md, "＃ ［点我］(https://evil.example)")
	require.Contains(t, md, "[查看任务](https://duban.example/#/tasks/x)")
	require.True(t, strings.HasPrefix(md, "#### ＃"), md)
	require.NotContains(t, md, "\n###", "a newline in the body cannot start a heading")
}

func TestUndeliveredNoteSaysWhereTheMessageIs(t *testing.T) {
	n := message.Undelivered("email", "a@b.example", "到期提醒：出台改革方案", "SMTP 550 mailbox unavailable")
	require.Equal(t, "邮件未能送达：到期提醒：出台改革方案", n.Title)
	require.Contains(t, n.Body, "a@b.example")
	require.Contains(t, n.Body, "SMTP 550")
	require.Contains(t, n.Body, "已保存在站内消息中")
}
