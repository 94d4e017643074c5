package score

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteText writes the score and its explanation as plain text, one line
// per reason, with the task and the events behind it.
func (s Score) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s（%s）截至 %s 考核得分：%s\n", s.Unit.Name, s.Unit.Code, s.AsOf, s.Total)
	c := s.Counts
	fmt.Fprintf(&b, "计分任务 %d 项：按期 %d，逾期办结 %d，逾期未办结 %d，尚未到期 %d；审批中暂按提交日期计 %d 项；撤销 %d 项不计入\n\n",
		c.Tasks, c.OnTime, c.Late, c.NotDone, c.NotYetDue, c.InApproval, c.Cancelled)
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "得分\t规则\t任务\t说明\t依据")
	for _, l := range s.Lines {
		task := l.TemplateID + " " + l.Title
		if l.Award != 0 {
			task = fmt.Sprintf("加减分 #%d", l.Award)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", l.Points.Signed(), l.Rule.Label(), strings.TrimSpace(task), l.Text, l.Basis())
	}
	fmt.Fprintf(tw, "%s\t合计\t\t\t\n", s.Total)
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Basis names the task and events (instance#seq) or the award behind a line.
func (l Line) Basis() string {
	if l.Award != 0 {
		return fmt.Sprintf("award#%d", l.Award)
	}
	if len(l.Events) == 0 {
		return l.Task
	}
	refs := make([]string, len(l.Events))
	for i, e := range l.Events {
		refs[i] = fmt.Sprintf("%s#%d", e.Instance, e.Seq)
	}
	return strings.Join(refs, " ")
}
