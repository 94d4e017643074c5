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
}

// Message is a rendered notice.
type Message struct {
	Title string
	Body  string
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

// Render produces the title and body of a notice of the given kind.
func Render(kind duban.EventKind, in Info) Message {
	task := "「" + in.Title + "」"
	if in.Period != "" {
		task = "「" + in.Title + "（" + in.Period + "）」"
	}
	subject := in.UnitName + task
	switch kind {
	case duban.EventAssigned:
		return Message{"新任务：" + in.Title, fmt.Sprintf("%s已下达，截止日期 %s。", subject, day(in.Due))}
	case duban.EventReminder:
		return Message{"到期提醒：" + in.Title, fmt.Sprintf("%s将于 %s 到期（还剩%s），请及时办理并报送。", subject, day(in.Due), offsetText(in.Offset))}
	case duban.EventOverdue:
		return Message{"已逾期：" + in.Title, fmt.Sprintf("%s已超过截止日期 %s，请尽快办理。", subject, day(in.Due))}
	case duban.EventEscalated:
		return Message{"逾期督办：" + in.Title, fmt.Sprintf("%s已逾期%s（截止日期 %s），请督促办理。", subject, offsetText(in.Offset), day(in.Due))}
	case duban.EventSubmitted, duban.EventApproved:
		return Message{"待审批：" + in.Title, fmt.Sprintf("%s已提交，等待第 %d/%d 步审批。", subject, in.Step, in.StepCount)}
	case duban.EventRejected:
		return Message{"被退回：" + in.Title, fmt.Sprintf("%s被退回修改，理由：%s", subject, in.Reason)}
	case duban.EventCompleted:
		return Message{"已办结：" + in.Title, fmt.Sprintf("%s已通过全部审批，办结。", subject)}
	case duban.EventSLAReminder:
		return Message{"审批提醒：" + in.Title, fmt.Sprintf("%s第 %d 步审批还剩%s到期，请及时审批。", subject, in.Step, offsetText(in.Offset))}
	case duban.EventSLABreached:
		return Message{"审批超时：" + in.Title, fmt.Sprintf("%s第 %d 步审批已超过时限，请尽快审批。", subject, in.Step)}
	case duban.EventSLAEscalated:
		return Message{"审批超时督办：" + in.Title, fmt.Sprintf("%s第 %d 步审批已超时%s，请督促审批。", subject, in.Step, offsetText(in.Offset))}
	case duban.EventExtensionRequested:
		return Message{"延期申请：" + in.Title, fmt.Sprintf("%s申请延期至 %s，理由：%s", subject, dayPtr(in.NewDue), in.Reason)}
	case duban.EventExtensionGranted:
		return Message{"同意延期：" + in.Title, fmt.Sprintf("%s的延期申请已获同意，新的截止日期 %s。", subject, dayPtr(in.NewDue))}
	case duban.EventExtensionRefused:
		return Message{"不同意延期：" + in.Title, fmt.Sprintf("%s的延期申请未获同意，理由：%s", subject, in.Reason)}
	case duban.EventCancelled:
		return Message{"任务撤销：" + in.Title, fmt.Sprintf("%s已被撤销，理由：%s", subject, in.Reason)}
	}
	return Message{kind.Label() + "：" + in.Title, subject + kind.Label()}
}

func dayPtr(t *time.Time) string {
	if t == nil {
		return ""
	}
	return day(*t)
}
