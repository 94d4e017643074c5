// Package message renders the notices a transition sends into the Chinese
// text people read in their inbox, email or work chat.
package message

import (
	"fmt"
	"time"

	"github.com/duban-dev/duban"
)

// Info is what a message says about the task and the transition.
type Info struct {
	InstanceID string
	Title      string
	UnitName   string
	Period     string // already in Chinese, e.g. 第一季度
	Due        time.Time
	Step       int
	StepCount  int
	Reason     string
	NewDue     *time.Time
	Offset     *duban.Offset
	Actor      string
	Note       string // an urge's note
	ToStep     int    // the step a return sent the task back to
	Person     string // who a step was handed to, or was named 承办人
	Mentioned  string // a comment's text, for an @mention
	DocNo      string // the 文号 of the plan change a notice carries out
}

// Message is a rendered notice.
type Message struct {
	Title string
	Body  string
	// Facts are the notice's values for SMS templates (see Facts).
	Facts map[string]string
}

func day(t time.Time) string { return t.In(duban.Shanghai).Format("2006年1月2日") }

func offsetText(o *duban.Offset) string {
	if o == nil {
		return ""
	}
	if o.Working {
		return fmt.Sprintf("%d个工作日", o.Days)
	}
	return fmt.Sprintf("%d天", o.Days)
}

// Render produces the title and body of a notice of the given kind, and
// its facts for SMS templates.
func Render(kind duban.EventKind, in Info) Message {
	m := render(kind, in)
	m.Facts = Facts(kind, in)
	return m
}

// Names of the facts an SMS template can take. Each is short, plain text
// without links (SMS providers refuse links in template variables).
const (
	FactTask   = "task"    // 任务名称, with its period: 出台改革方案（第一季度）
	FactUnit   = "unit"    // 单位名称: 芙蓉区
	FactDue    = "due"     // 截止日期: 2026年3月31日
	FactKind   = "kind"    // 事件: 到期提醒
	FactLeft   = "left"    // 剩余或逾期时长: 3个工作日
	FactStep   = "step"    // 审批步骤: 1/2
	FactNewDue = "new_due" // 申请或批准的新截止日期
	FactName   = "name"    // 收件人姓名 (added when sent)
	FactCount  = "count"   // 汇总条数 (a digest; added when sent)
)

// Facts are the short values of a notice that SMS templates take, by the
// names above. Free text people wrote (reasons) is left out: it may hold
// links or words a provider refuses.
func Facts(kind duban.EventKind, in Info) map[string]string {
	task := in.Title
	if in.Period != "" {
		task += "（" + in.Period + "）"
	}
	f := map[string]string{FactTask: task, FactUnit: in.UnitName, FactKind: kind.Label()}
	if !in.Due.IsZero() {
		f[FactDue] = day(in.Due)
	}
	if in.Offset != nil {
		f[FactLeft] = offsetText(in.Offset)
	}
	if in.StepCount > 0 {
		f[FactStep] = fmt.Sprintf("%d/%d", in.Step, in.StepCount)
	}
	if in.NewDue != nil {
		f[FactNewDue] = day(*in.NewDue)
	}
	return f
}

func render(kind duban.EventKind, in Info) Message {
	task := "「" + in.Title + "」"
	if in.Period != "" {
		task = "「" + in.Title + "（" + in.Period + "）」"
	}
	subject := in.UnitName + task
	switch kind {
	case duban.EventAssigned:
		return Message{Title: "新任务：" + in.Title, Body: fmt.Sprintf("%s已下达，截止日期 %s。", subject, day(in.Due))}
	case duban.EventReminder:
		return Message{Title: "到期提醒：" + in.Title, Body: fmt.Sprintf("%s将于 %s 到期（还剩%s），请及时办理并报送。", subject, day(in.Due), offsetText(in.Offset))}
	case duban.EventOverdue:
		return Message{Title: "已逾期：" + in.Title, Body: fmt.Sprintf("%s已超过截止日期 %s，请尽快办理。", subject, day(in.Due))}
	case duban.EventEscalated:
		return Message{Title: "逾期督办：" + in.Title, Body: fmt.Sprintf("%s已逾期%s（截止日期 %s），请督促办理。", subject, offsetText(in.Offset), day(in.Due))}
	case duban.EventSubmitted, duban.EventApproved:
		return Message{Title: "待审批：" + in.Title, Body: fmt.Sprintf("%s已提交，等待第 %d/%d 步审批。", subject, in.Step, in.StepCount)}
	case duban.EventRejected:
		return Message{Title: "被退回：" + in.Title, Body: fmt.Sprintf("%s被退回修改，理由：%s", subject, in.Reason)}
	case duban.EventCompleted:
		return Message{Title: "已办结：" + in.Title, Body: fmt.Sprintf("%s已通过全部审批，办结。", subject)}
	case duban.EventSLAReminder:
		return Message{Title: "审批提醒：" + in.Title, Body: fmt.Sprintf("%s第 %d 步审批还剩%s到期，请及时审批。", subject, in.Step, offsetText(in.Offset))}
	case duban.EventSLABreached:
		return Message{Title: "审批超时：" + in.Title, Body: fmt.Sprintf("%s第 %d 步审批已超过时限，请尽快审批。", subject, in.Step)}
	case duban.EventSLAEscalated:
		return Message{Title: "审批超时督办：" + in.Title, Body: fmt.Sprintf("%s第 %d 步审批已超时%s，请督促审批。", subject, in.Step, offsetText(in.Offset))}
	case duban.EventExtensionRequested:
		return Message{Title: "延期申请：" + in.Title, Body: fmt.Sprintf("%s申请延期至 %s，理由：%s", subject, dayPtr(in.NewDue), in.Reason)}
	case duban.EventExtensionGranted:
		return Message{Title: "同意延期：" + in.Title, Body: fmt.Sprintf("%s的延期申请已获同意，新的截止日期 %s。", subject, dayPtr(in.NewDue))}
	case duban.EventExtensionRefused:
		return Message{Title: "不同意延期：" + in.Title, Body: fmt.Sprintf("%s的延期申请未获同意，理由：%s", subject, in.Reason)}
	case duban.EventCancelled:
		if in.DocNo != "" {
			return Message{Title: "任务撤销：" + in.Title, Body: fmt.Sprintf("%s依据%s撤销，理由：%s", subject, in.DocNo, in.Reason)}
		}
		return Message{Title: "任务撤销：" + in.Title, Body: fmt.Sprintf("%s已被撤销，理由：%s", subject, in.Reason)}
	case duban.EventUnitMoved:
		return Message{Title: "单位合并：" + in.Title, Body: fmt.Sprintf("%s因单位合并转由本单位办理：%s", subject, in.Reason)}
	case duban.EventAmended:
		return Message{Title: "计划变更：" + in.Title, Body: fmt.Sprintf("%s依据%s变更：%s。理由：%s", subject, in.DocNo, in.Note, in.Reason)}
	case duban.EventUrged:
		body := fmt.Sprintf("%s收到%s的催办，截止日期 %s，请抓紧办理。", subject, in.Actor, day(in.Due))
		if in.Note != "" {
			body += "催办意见：" + in.Note
		}
		return Message{Title: "催办：" + in.Title, Body: body}
	case duban.EventWithdrawn:
		return Message{Title: "已撤回：" + in.Title, Body: fmt.Sprintf("%s的报送已由%s撤回，第 %d 步不再等待审批。", subject, in.Actor, in.Step)}
	case duban.EventReturned:
		return Message{Title: "退回重审：" + in.Title, Body: fmt.Sprintf("%s被退回到第 %d 步重新审批，理由：%s", subject, in.ToStep, in.Reason)}
	case duban.EventHandedOver:
		return Message{Title: "转交审批：" + in.Title, Body: fmt.Sprintf("%s第 %d 步审批已由%s转交，请审批。", subject, in.Step, in.Actor)}
	case duban.EventSignerAdded:
		return Message{Title: "加签审批：" + in.Title, Body: fmt.Sprintf("%s经%s加签，请审批第 %d 步，理由：%s", subject, in.Actor, in.Step, in.Reason)}
	case duban.EventAssigneeNamed:
		return Message{Title: "指定承办：" + in.Title, Body: fmt.Sprintf("%s已指定由%s承办，截止日期 %s。", subject, in.Person, day(in.Due))}
	case duban.EventCommented:
		return Message{Title: "讨论提及：" + in.Title, Body: fmt.Sprintf("%s在%s的讨论中提到了您：%s", in.Actor, subject, in.Mentioned)}
	}
	return Message{Title: kind.Label() + "：" + in.Title, Body: subject + kind.Label()}
}

func dayPtr(t *time.Time) string {
	if t == nil {
		return ""
	}
	return day(*t)
}
