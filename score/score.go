// Package score computes the year's 考核: each unit's score from the plan's
// scoring rules and the unit's record (its task instances and their timeline
// events, the bonus awards it received) as of a date, explained line by
// line. It is pure and deterministic: the same rules, record and date give
// the same score, whenever and wherever it is computed, and events after the
// date are ignored, so a score can be recomputed as of any day of the year.
package score

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/plan"
)

// ReturnKinds are the event kinds that send a task back to its unit. A
// return to an earlier approval step (returned) is the approvers' matter
// and costs the unit nothing.
var ReturnKinds = []duban.EventKind{duban.EventRejected}

// Kinds are the event kinds a score reads; a store loads only these.
var Kinds = []duban.EventKind{
	duban.EventProgress, duban.EventSubmitted, duban.EventRejected, duban.EventCompleted,
	duban.EventExtensionGranted, duban.EventUrged, duban.EventCancelled,
}

// Unit is who is scored.
type Unit struct {
	Code   string      `json:"code"`
	Name   string      `json:"name"`
	Level  duban.Level `json:"level"`
	Parent string      `json:"parent,omitempty"`
}

// Task is one task instance of a unit, as a score needs it.
type Task struct {
	ID         string       `json:"id"`
	TemplateID string       `json:"template_id"`
	Section    string       `json:"section"`
	Title      string       `json:"title"`
	Period     string       `json:"period,omitempty"`
	Kind       duban.Kind   `json:"kind"`
	Due        time.Time    `json:"due"`              // the deadline the task was launched with
	Target     int          `json:"target,omitempty"` // count kind
	Ratio      *duban.Ratio `json:"ratio,omitempty"`  // ratio kind
	Events     []Event      `json:"events"`           // of the kinds in Kinds, in sequence order
}

// Event is one timeline event of a task.
type Event struct {
	Seq  int64           `json:"seq"`
	At   time.Time       `json:"at"`
	Kind duban.EventKind `json:"kind"`
	To   duban.Status    `json:"to,omitempty"`
	// NewDue is the deadline an extension granted.
	NewDue *time.Time `json:"new_due,omitempty"`
	// Progress reported with a progress or submitted event, when HasProgress.
	Progress     int  `json:"progress,omitempty"`
	ProgressBase int  `json:"progress_base,omitempty"`
	HasProgress  bool `json:"has_progress,omitempty"`
}

// Award is a bonus item given to a unit by a supervisor.
type Award struct {
	ID        int64       `json:"id"`
	BonusID   string      `json:"bonus_id"`
	Points    plan.Points `json:"points"`
	Reason    string      `json:"reason"`
	AwardedBy string      `json:"awarded_by"` // the supervisor's name
	At        time.Time   `json:"at"`         // plan time of the award
}

// Record is everything a unit's score is computed from.
type Record struct {
	Unit   Unit    `json:"unit"`
	Tasks  []Task  `json:"tasks"`
	Awards []Award `json:"awards"`
}

// Rule names a line's rule.
type Rule string

// Rules a line can come from.
const (
	RuleOnTime     Rule = "on_time"     // done by the deadline
	RuleLate       Rule = "late"        // done late, in a band
	RuleNotDone    Rule = "not_done"    // past the deadline, not done
	RulePercent    Rule = "percent"     // the share of the target reached
	RuleYesNo      Rule = "yes_no"      // done or not, however late
	RuleNotYetDue  Rule = "not_yet_due" // neither done nor due: not scored yet
	RuleCancelled  Rule = "cancelled"   // cancelled: not scored
	RuleExtension  Rule = "extension"   // extensions granted
	RuleReturned   Rule = "returned"    // sent back to the unit
	RuleUrged      Rule = "urged"       // urged
	RuleScale      Rule = "scale"       // task points scaled to the full mark
	RuleBonus      Rule = "bonus"       // a bonus item awarded
	RuleBonusLimit Rule = "bonus_limit" // an award beyond the item's yearly cap
)

// Label is the rule's Chinese name.
func (r Rule) Label() string {
	switch r {
	case RuleOnTime:
		return "按期办结"
	case RuleLate:
		return "逾期办结"
	case RuleNotDone:
		return "逾期未办结"
	case RulePercent:
		return "按完成比例计分"
	case RuleYesNo:
		return "按是否完成计分"
	case RuleNotYetDue:
		return "尚未到期"
	case RuleCancelled:
		return "已撤销"
	case RuleExtension:
		return "批准延期"
	case RuleReturned:
		return "退回修改"
	case RuleUrged:
		return "被催办"
	case RuleScale:
		return "折算"
	case RuleBonus:
		return "加减分项"
	case RuleBonusLimit:
		return "超出全年上限"
	}
	return string(r)
}

// EventRef points at one timeline event.
type EventRef struct {
	Instance string          `json:"instance"`
	Seq      int64           `json:"seq"`
	Kind     duban.EventKind `json:"kind"`
	At       time.Time       `json:"at"`
}

// Line is one reason for points: the rule, the points, and the task and
// events (or the award) behind them. A score's lines add up to it.
type Line struct {
	Rule   Rule        `json:"rule"`
	Points plan.Points `json:"points"`
	// Text explains the line in Chinese.
	Text       string     `json:"text"`
	Task       string     `json:"task,omitempty"` // instance id
	TemplateID string     `json:"template_id,omitempty"`
	Title      string     `json:"title,omitempty"`
	Events     []EventRef `json:"events,omitempty"`
	Award      int64      `json:"award,omitempty"` // award id
}

// Score is a unit's score as of a day, with its explanation.
type Score struct {
	Unit  Unit        `json:"unit"`
	AsOf  plan.Date   `json:"as_of"`
	Total plan.Points `json:"total"`
	Lines []Line      `json:"lines"`

	// Earned and Attainable are the task outcome points before scaling: what
	// the tasks scored so far earned, and what they could have.
	Earned     plan.Points `json:"earned"`
	Attainable plan.Points `json:"attainable"`
	Counts     Counts      `json:"counts"`
}

// Counts are how the unit's tasks stood on the day.
type Counts struct {
	Tasks      int `json:"tasks"`       // not cancelled
	OnTime     int `json:"on_time"`     // done by the deadline
	Late       int `json:"late"`        // done after it
	NotDone    int `json:"not_done"`    // past the deadline, not done
	InApproval int `json:"in_approval"` // past the deadline, submitted, not yet approved
	NotYetDue  int `json:"not_yet_due"`
	Cancelled  int `json:"cancelled"`
	Returned   int `json:"returned"`
	Urged      int `json:"urged"`
	Extensions int `json:"extensions"`
}

// ErrNoRules is returned for a plan without a scoring block.
var ErrNoRules = errors.New("计划未设置考核规则（scoring）")

// Compute scores one unit as of the end of day asOf (23:59:59 Asia/Shanghai).
func Compute(rules *plan.Scoring, rec Record, asOf plan.Date) (Score, error) {
	if rules == nil {
		return Score{}, ErrNoRules
	}
	cutoff := asOf.EndOfDay()
	s := Score{Unit: rec.Unit, AsOf: asOf}
	tasks := slices.Clone(rec.Tasks)
	slices.SortFunc(tasks, compareTasks)
	for _, t := range tasks {
		s.task(rules, t, cutoff)
	}
	if rules.Full > 0 && s.Attainable > 0 {
		scaled := rules.Full.Scale(int64(s.Earned), int64(s.Attainable))
		s.add(Line{Rule: RuleScale, Points: scaled - s.Earned,
			Text: fmt.Sprintf("任务得分折算为 %s 分制：%s ÷ %s × %s = %s", rules.Full.Short(), s.Earned, s.Attainable, rules.Full.Short(), scaled)})
	}
	s.awards(rules, rec.Awards, cutoff)
	return s, nil
}

// ComputeAll scores each record.
func ComputeAll(rules *plan.Scoring, recs []Record, asOf plan.Date) ([]Score, error) {
	out := make([]Score, 0, len(recs))
	for _, r := range recs {
		s, err := Compute(rules, r, asOf)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

func (s *Score) add(l Line) {
	s.Lines = append(s.Lines, l)
	s.Total += l.Points
}

// taskState is a task as it stood at the cutoff.
type taskState struct {
	events     []Event // at or before the cutoff
	due        time.Time
	cancelled  *Event
	completed  *Event
	submitted  *Event // the latest submission
	status     duban.Status
	progress   *Event // the latest report of progress
	extensions []Event
	returns    []Event
	urges      []Event
}

func stateAt(t Task, cutoff time.Time) taskState {
	st := taskState{due: t.Due, status: duban.StatusAssigned}
	for _, e := range t.Events {
		if !e.At.After(cutoff) {
			st.events = append(st.events, e)
		}
	}
	for i := range st.events {
		e := &st.events[i]
		if e.To != "" {
			st.status = e.To
		}
		switch {
		case e.Kind == duban.EventCancelled:
			st.cancelled = e
		case e.Kind == duban.EventCompleted:
			st.completed = e
		case e.Kind == duban.EventSubmitted:
			st.submitted = e
		case e.Kind == duban.EventExtensionGranted:
			st.extensions = append(st.extensions, *e)
			if e.NewDue != nil {
				st.due = *e.NewDue
			}
		case e.Kind == duban.EventUrged:
			st.urges = append(st.urges, *e)
		case slices.Contains(ReturnKinds, e.Kind):
			st.returns = append(st.returns, *e)
		}
		if e.HasProgress {
			st.progress = e
		}
	}
	return st
}

func ref(t Task, es ...Event) []EventRef {
	out := make([]EventRef, 0, len(es))
	for _, e := range es {
		out = append(out, EventRef{Instance: t.ID, Seq: e.Seq, Kind: e.Kind, At: e.At})
	}
	return out
}

// daysLate counts calendar days (Asia/Shanghai) from the deadline's day to
// the day of at; 0 when at is not after the deadline.
func daysLate(at, due time.Time) int {
	if !at.After(due) {
		return 0
	}
	return dayNumber(at) - dayNumber(due)
}

func dayNumber(t time.Time) int {
	y, m, d := t.In(duban.Shanghai).Date()
	return int(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

func dateText(t time.Time) string { return t.In(duban.Shanghai).Format("2006-01-02") }

// task adds the lines of one task.
func (s *Score) task(rules *plan.Scoring, t Task, cutoff time.Time) {
	st := stateAt(t, cutoff)
	base := Line{Task: t.ID, TemplateID: t.TemplateID, Title: taskTitle(t)}
	line := func(r Rule, p plan.Points, text string, es ...Event) {
		l := base
		l.Rule, l.Points, l.Text, l.Events = r, p, text, ref(t, es...)
		s.add(l)
	}
	if st.cancelled != nil {
		s.Counts.Cancelled++
		line(RuleCancelled, 0, fmt.Sprintf("%s 撤销，不计入考核", dateText(st.cancelled.At)), *st.cancelled)
		return
	}
	s.Counts.Tasks++
	weight := rules.Weight(t.Section, t.TemplateID)
	attainable := rules.OnTime.Times(weight)
	weighted := func(p plan.Points) (plan.Points, string) {
		w := p.Times(weight)
		if weight == 100 {
			return w, p.Short() + " 分"
		}
		return w, fmt.Sprintf("%s 分 × 权重 %s", p.Short(), weight.Short())
	}
	dueText := dateText(st.due) + " 到期"
	if !st.due.Equal(t.Due) {
		dueText = fmt.Sprintf("原定 %s 到期，延期至 %s", dateText(t.Due), dateText(st.due))
	}
	percent := slices.Contains(rules.Percent, t.TemplateID)
	yesNo := slices.Contains(rules.YesNo, t.TemplateID)

	// When the unit finished its part: the submission that was approved,
	// or, waiting on an approver past the deadline, the one waiting.
	var doneAt *Event
	provisional := false
	switch {
	case st.completed != nil:
		doneAt = st.completed
		if st.submitted != nil && st.submitted.Seq < st.completed.Seq {
			doneAt = st.submitted
		}
	case st.status == duban.StatusSubmitted && st.submitted != nil && cutoff.After(st.due):
		doneAt, provisional = st.submitted, true
	}
	evidence := func() []Event {
		var es []Event
		if doneAt != nil {
			es = append(es, *doneAt)
		}
		if st.completed != nil && st.completed != doneAt {
			es = append(es, *st.completed)
		}
		return es
	}
	note := ""
	if provisional {
		note = "（审批中，暂按提交日期计）"
		s.Counts.InApproval++
	}
	switch {
	case doneAt == nil && !cutoff.After(st.due):
		s.Counts.NotYetDue++
		line(RuleNotYetDue, 0, dueText+"，尚未到期，暂不计分")
	case doneAt == nil && percent:
		s.Attainable += attainable
		s.Counts.NotDone++
		p, text := percentPoints(rules, t, st, weight, cutoff)
		s.Earned += p
		var es []Event
		if st.progress != nil {
			es = append(es, *st.progress)
		}
		line(RulePercent, p, text, es...)
	case doneAt == nil:
		s.Attainable += attainable
		s.Counts.NotDone++
		p, how := weighted(rules.NotDone)
		s.Earned += p
		line(RuleNotDone, p, fmt.Sprintf("%s，截至 %s 逾期 %d 天未办结：%s", dueText, dateText(cutoff), daysLate(cutoff, st.due), how))
	default:
		s.Attainable += attainable
		late := daysLate(doneAt.At, st.due)
		if late == 0 {
			s.Counts.OnTime++
		} else {
			s.Counts.Late++
		}
		when := fmt.Sprintf("%s，%s 提交%s", dueText, dateText(doneAt.At), note)
		switch {
		case percent || yesNo:
			rule := RuleYesNo
			if percent {
				rule = RulePercent
			}
			p, how := weighted(rules.OnTime)
			s.Earned += p
			line(rule, p, fmt.Sprintf("%s，已完成（%s，不论早晚）：%s", when, rule.Label(), how), evidence()...)
		case late == 0:
			p, how := weighted(rules.OnTime)
			s.Earned += p
			line(RuleOnTime, p, fmt.Sprintf("%s，按期：%s", when, how), evidence()...)
		default:
			band, _ := rules.LateBandFor(late)
			p, how := weighted(band.Points)
			s.Earned += p
			line(RuleLate, p, fmt.Sprintf("%s，逾期 %d 天（%s档）：%s", when, late, band.Days.Label("天"), how), evidence()...)
		}
	}

	if n := len(st.extensions); n > 0 {
		s.Counts.Extensions += n
		line(RuleExtension, rules.Extension*plan.Points(n), fmt.Sprintf("批准延期 %d 次，每次 %s 分", n, rules.Extension.Short()), st.extensions...)
	}
	if n := len(st.returns); n > 0 {
		s.Counts.Returned += n
		if p, text := countPoints(rules.Returned, n, "退回修改"); rules.Returned.Set() {
			line(RuleReturned, p, text, st.returns...)
		}
	}
	if n := len(st.urges); n > 0 {
		s.Counts.Urged += n
		if p, text := countPoints(rules.Urged, n, "被催办"); rules.Urged.Set() {
			line(RuleUrged, p, text, st.urges...)
		}
	}
}

func countPoints(c plan.CountRule, n int, what string) (plan.Points, string) {
	p, band := c.Points(n)
	if band != nil {
		return p, fmt.Sprintf("%s %d 次（%s档）：%s 分", what, n, band.Times.Label("次"), p.Short())
	}
	return p, fmt.Sprintf("%s %d 次，每次 %s 分", what, n, c.Each.Short())
}

// percentPoints scores a count or ratio task past its deadline by the share
// of its target the latest report reached.
func percentPoints(rules *plan.Scoring, t Task, st taskState, weight plan.Points, cutoff time.Time) (plan.Points, string) {
	value, base := 0, 0
	if st.progress != nil {
		value, base = st.progress.Progress, st.progress.ProgressBase
	}
	// need/den is the amount that meets the target: the target itself for a
	// count, num/den of the base for a ratio.
	var got, need int64
	var target string
	switch {
	case t.Kind == duban.KindRatio && t.Ratio != nil:
		if base == 0 {
			base = t.Ratio.Base
		}
		got, need = int64(value)*int64(t.Ratio.Den), int64(t.Ratio.Num)*int64(base)
		target = fmt.Sprintf("目标 %d/%d，已完成 %d/%d", t.Ratio.Num, t.Ratio.Den, value, base)
	default:
		goal := t.Target
		if goal == 0 {
			goal = base
		}
		got, need = int64(value), int64(goal)
		target = fmt.Sprintf("目标 %d，已完成 %d", goal, value)
	}
	how := fmt.Sprintf("%s 到期，截至 %s 未达标（%s）", dateText(st.due), dateText(cutoff), target)
	if got <= 0 || need <= 0 {
		p := rules.NotDone.Times(weight)
		return p, fmt.Sprintf("%s，达成 0%%：按未完成计 %s 分", how, p.Short())
	}
	if got > need {
		got = need
	}
	p := rules.OnTime.Times(weight).Scale(got, need)
	pct := float64(got) * 100 / float64(need)
	return p, fmt.Sprintf("%s，达成目标的 %s%%：%s 分 × %s%%", how, strconv.FormatFloat(pct, 'f', 1, 64), rules.OnTime.Times(weight).Short(), strconv.FormatFloat(pct, 'f', 1, 64))
}

// awards adds the bonus lines, each item capped at its yearly maximum.
func (s *Score) awards(rules *plan.Scoring, awards []Award, cutoff time.Time) {
	as := slices.Clone(awards)
	slices.SortFunc(as, func(a, b Award) int {
		if c := a.At.Compare(b.At); c != 0 {
			return c
		}
		return int(a.ID - b.ID)
	})
	sums := map[string]plan.Points{}
	for _, a := range as {
		if a.At.After(cutoff) {
			continue
		}
		item, ok := rules.BonusItem(a.BonusID)
		l := Line{Rule: RuleBonus, Award: a.ID}
		by := fmt.Sprintf("%s %s 授予，理由：%s", dateText(a.At), a.AwardedBy, a.Reason)
		if !ok {
			l.Text = fmt.Sprintf("加减分项 %q 已不在考核规则中，不计分（%s）", a.BonusID, by)
			s.add(l)
			continue
		}
		p := a.Points
		if item.Max != 0 {
			room := item.Max - sums[a.BonusID]
			if (item.Max > 0 && p > room) || (item.Max < 0 && p < room) {
				p = room
			}
		}
		sums[a.BonusID] += p
		l.Points = p
		l.Text = fmt.Sprintf("%s %s 分（%s）", item.Title, a.Points.Signed(), by)
		if p != a.Points {
			l.Rule = RuleBonusLimit
			l.Text = fmt.Sprintf("%s %s 分，超出全年上限 %s 分，计 %s 分（%s）", item.Title, a.Points.Signed(), item.Max.Short(), p.Short(), by)
		}
		s.add(l)
	}
}

func taskTitle(t Task) string {
	if t.Period == "" {
		return t.Title
	}
	return t.Title + "（" + plan.PeriodLabel(t.Period) + "）"
}

// compareTasks orders tasks as the plan does: by section and template
// number, then period, then id.
func compareTasks(a, b Task) int {
	if c := compareNumbered(a.TemplateID, b.TemplateID); c != 0 {
		return c
	}
	if c := strings.Compare(a.Period, b.Period); c != 0 {
		return c
	}
	return strings.Compare(a.ID, b.ID)
}

// compareNumbered compares dotted numbers ("2.10" after "2.9").
func compareNumbered(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) && i < len(bs); i++ {
		x, errx := strconv.Atoi(as[i])
		y, erry := strconv.Atoi(bs[i])
		if errx == nil && erry == nil {
			if x != y {
				return x - y
			}
			continue
		}
		if c := strings.Compare(as[i], bs[i]); c != 0 {
			return c
		}
	}
	return len(as) - len(bs)
}

// CheckAward says whether a supervisor may award points for a bonus item:
// the item exists, and the points have its sign and at most its size.
func CheckAward(rules *plan.Scoring, bonusID string, points plan.Points) error {
	if rules == nil {
		return duban.FieldError("bonus_id", "计划未设置考核规则，不能加分")
	}
	item, ok := rules.BonusItem(bonusID)
	if !ok {
		ids := make([]string, len(rules.Bonus))
		for i, b := range rules.Bonus {
			ids[i] = b.ID + "（" + b.Title + "）"
		}
		return duban.FieldError("bonus_id", "加减分项 %q 不存在（可用：%s）", bonusID, strings.Join(ids, "、"))
	}
	switch {
	case points == 0:
		return duban.FieldError("points", "分值不能为 0")
	case (points > 0) != (item.Points > 0):
		return duban.FieldError("points", "“%s”的分值应为%s", item.Title, map[bool]string{true: "正数（加分）", false: "负数（扣分）"}[item.Points > 0])
	case abs(points) > abs(item.Points):
		return duban.FieldError("points", "“%s”每次至多 %s 分，不能给 %s 分", item.Title, item.Points.Short(), points.Short())
	}
	return nil
}

func abs(p plan.Points) plan.Points {
	if p < 0 {
		return -p
	}
	return p
}
