package workflows

import (
	"math"
	"sort"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/calendar"
)

// waitForNextAlarm sleeps until the next alarm or until an update changes
// the state, then fires whatever alarms are due.
func (t *task) waitForNextAlarm() error {
	seen := t.dirty
	next, ok := t.nextAlarm()
	if !ok {
		return workflow.Await(t.ctx, func() bool { return t.dirty != seen || t.st.Status.Finished() })
	}
	if wait := next.Sub(t.now()); wait > 0 {
		woke, err := workflow.AwaitWithTimeout(t.ctx, t.in.Clock.Real(wait), func() bool { return t.dirty != seen || t.st.Status.Finished() })
		if err != nil || woke {
			return err
		}
	}
	return t.fireDueAlarms()
}

// activeAlarms are the alarms that apply in the current status: deadline
// alarms while the unit holds the task, step alarms while an approver does.
func (t *task) activeAlarms() []Alarm {
	switch t.st.Status {
	case duban.StatusAssigned, duban.StatusInProgress:
		return t.st.DeadlineAlarms
	case duban.StatusSubmitted:
		return t.st.StepAlarms
	}
	return nil
}

func (t *task) nextAlarm() (time.Time, bool) {
	for _, al := range t.activeAlarms() {
		if !al.Fired {
			return al.At, true
		}
	}
	return time.Time{}, false
}

// fireDueAlarms fires every active alarm whose time has come. When several
// of a kind are due at once (a worker that was down, a task back from
// approval), only the latest is sent: one "overdue" beats three stale reminders.
func (t *task) fireDueAlarms() error {
	for {
		if err := t.acquire(t.ctx); err != nil {
			return err
		}
		al, ok := t.nextDueAlarm()
		if !ok {
			t.release()
			return nil
		}
		// Firing yields to the activity; an update may change the status
		// meanwhile (before version 2), so the active list is looked up
		// afresh each round.
		err := t.commit(t.ctx, func() duban.Transition { return t.fire(al) })
		t.release()
		if err != nil && !refusedByStore(err) {
			return err
		}
	}
}

// nextDueAlarm marks the next due alarm fired and returns it. Stale alarms
// (a later one of the same kind is due too) are marked and skipped.
func (t *task) nextDueAlarm() (Alarm, bool) {
	now := t.now()
	alarms := t.activeAlarms()
	for i := range alarms {
		if alarms[i].Fired || alarms[i].At.After(now) {
			continue
		}
		alarms[i].Fired = true
		if i+1 < len(alarms) && !alarms[i+1].Fired && alarms[i+1].Kind == alarms[i].Kind && !alarms[i+1].At.After(now) {
			continue // stale: a later alarm of the same kind is due too
		}
		return alarms[i], true
	}
	return Alarm{}, false
}

// fire changes the state for an alarm and returns its transition.
func (t *task) fire(al Alarm) duban.Transition {
	status := t.st.Status
	// The event is dated when it was due, not when a busy server got to it.
	tr := duban.Transition{Kind: al.Kind, Actor: duban.System, From: status, To: status, At: al.At}
	unitPeople := []duban.Recipients{{Unit: t.spec.UnitCode, Roles: []duban.Role{duban.RoleOfficial}}}
	switch al.Kind {
	case duban.EventReminder:
		// Say the days really left: a reminder moved off a holiday is earlier
		// than its nominal offset. It goes to the 承办人 the unit named, if
		// any; the rest of the ladder to all its officials.
		off := duban.Offset{Days: int(math.Ceil(t.st.Due.Sub(al.At).Hours() / 24))}
		tr.Notices = []duban.Notice{{Kind: al.Kind, Recipients: t.holders(), Offset: &off}}
	case duban.EventOverdue:
		due := t.st.Due
		t.st.OverdueSince = &due
		tr.Notices = []duban.Notice{{Kind: al.Kind, Recipients: unitPeople, Urgent: true}}
	case duban.EventEscalated:
		step := t.spec.Escalation[al.Index]
		t.st.Escalation = al.Index + 1
		off := step.After
		tr.Notices = []duban.Notice{{Kind: al.Kind, Recipients: step.Notify, Urgent: true, Offset: &off}}
	case duban.EventSLAReminder, duban.EventSLABreached, duban.EventSLAEscalated:
		st := t.chain()[t.st.Step]
		tr.Step = t.st.Step + 1
		approvers := []duban.Recipients{{Unit: st.Unit, Roles: []duban.Role{duban.RoleApprover}}}
		switch al.Kind {
		case duban.EventSLAReminder:
			off := st.Reminders[al.Index]
			tr.Notices = []duban.Notice{{Kind: al.Kind, Recipients: approvers, Offset: &off}}
		case duban.EventSLABreached:
			tr.Notices = []duban.Notice{{Kind: al.Kind, Recipients: approvers, Urgent: true}}
		default:
			esc := st.Escalation[al.Index]
			off := esc.After
			tr.Notices = []duban.Notice{{Kind: al.Kind, Recipients: esc.Notify, Urgent: true, Offset: &off}}
		}
	}
	return tr
}

// ladder names the alarm kinds around one deadline: reminders before it,
// the moment it passes, the escalation steps after it. A task's deadline
// and an approval step's SLA are both ladders.
type ladder struct{ reminder, due, escalated duban.EventKind }

var (
	deadlineLadder = ladder{duban.EventReminder, duban.EventOverdue, duban.EventEscalated}
	stepLadder     = ladder{duban.EventSLAReminder, duban.EventSLABreached, duban.EventSLAEscalated}
)

// alarms builds the ladder's alarms around due, sorted. Reminders are moved
// off holidays to the previous working day when onWorkingDays is set. It
// reads the holiday calendar, so workflow code calls it only through a side
// effect.
func (l ladder) alarms(due time.Time, reminders []duban.Offset, onWorkingDays bool, escalation []duban.EscalationStep) []Alarm {
	var out []Alarm
	for i, off := range reminders {
		at := calendar.Before(due, off)
		if onWorkingDays {
			at = calendar.PreviousWorkingDay(at)
		}
		out = append(out, Alarm{At: at, Kind: l.reminder, Index: i})
	}
	out = append(out, Alarm{At: due, Kind: l.due})
	for i, step := range escalation {
		at := calendar.After(due, step.After)
		if !at.After(due) {
			// Day 0 of the ladder fires just after the deadline's own alarm.
			at = due.Add(time.Second)
		}
		out = append(out, Alarm{At: at, Kind: l.escalated, Index: i})
	}
	sortAlarms(out)
	return out
}

// DeadlineAlarms computes an instance's reminders before due, the overdue
// moment and the escalation ladder after it, sorted. It reads the holiday
// calendar, so workflow code calls it only through a side effect (or takes
// its result from the launcher, in TaskInput.Alarms).
func DeadlineAlarms(spec duban.TaskSpec, due time.Time) []Alarm {
	return deadlineLadder.alarms(due, spec.Reminders, spec.RemindersOnWorkingDays, spec.Escalation)
}

// deadlineAlarms computes the alarms of a deadline through a side effect,
// so that a later change to holiday data cannot alter a running history.
// Reminders already in the past at now are marked fired: a task assigned a
// week before its deadline gets no "30 days left" reminder.
func (t *task) deadlineAlarms(ctx workflow.Context, due, now time.Time) []Alarm {
	spec := t.spec
	var alarms []Alarm
	_ = workflow.SideEffect(ctx, func(workflow.Context) any { return DeadlineAlarms(spec, due) }).Get(&alarms)
	sortAlarms(alarms)
	return markPast(alarms, duban.EventReminder, now)
}

// stepAlarms computes an approval step's SLA end (the end of the day its
// SLA reaches), its reminders and its ladder, through a side effect.
// Reminders already past when the step starts are skipped.
func (t *task) stepAlarms(ctx workflow.Context, step int, start time.Time) (time.Time, []Alarm) {
	st := t.chain()[step]
	var res struct {
		Due    time.Time
		Alarms []Alarm
	}
	_ = workflow.SideEffect(ctx, func(workflow.Context) any {
		r := res
		r.Due = duban.DayEnd(calendar.After(start, st.SLA))
		r.Alarms = stepLadder.alarms(r.Due, st.Reminders, false, st.Escalation)
		return r
	}).Get(&res)
	sortAlarms(res.Alarms)
	return res.Due, markPast(res.Alarms, duban.EventSLAReminder, start)
}

// markPast marks the reminders of a kind at or before now as fired
// (skipped).
func markPast(alarms []Alarm, reminder duban.EventKind, now time.Time) []Alarm {
	for i := range alarms {
		if alarms[i].Kind == reminder && !alarms[i].At.After(now) {
			alarms[i].Fired = true
		}
	}
	return alarms
}

func sortAlarms(al []Alarm) {
	sort.SliceStable(al, func(i, j int) bool { return al[i].At.Before(al[j].At) })
}
