package score_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/plan"
	"github.com/duban-dev/duban/score"
)

// rules uses every rule: weights by section and template, three late bands,
// a negative not-done, extension, returns by the time, urges in bands, a
// percent item, a yes/no item and two bonus items, one capped.
func rules() *plan.Scoring {
	return &plan.Scoring{
		Weights: plan.Weights{Sections: map[string]plan.Points{"2": 150}, Templates: map[string]plan.Points{"2.1": 200}},
		OnTime:  1000,
		Late: []plan.LateBand{
			{Days: plan.Range{Min: 1, Max: 7}, Points: 800},
			{Days: plan.Range{Min: 8, Max: 30}, Points: 600},
			{Days: plan.Range{Min: 31}, Points: 400},
		},
		NotDone:   -200,
		Extension: -50,
		Returned:  plan.CountRule{Each: -50},
		Urged: plan.CountRule{Bands: []plan.CountBand{
			{Times: plan.Range{Min: 1, Max: 1}, Points: 0},
			{Times: plan.Range{Min: 2, Max: 3}, Points: -100},
			{Times: plan.Range{Min: 4}, Points: -200},
		}},
		Percent: []string{"2.13"},
		YesNo:   []string{"8.1"},
		Bonus: []plan.Bonus{
			{ID: "promotion", Title: "经验被省级推广", Points: 200, Max: 400},
			{ID: "criticism", Title: "被省级通报批评", Points: -200},
		},
	}
}

func day(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s+" 10:00", duban.Shanghai)
	if err != nil {
		panic(err)
	}
	return t
}

func date(s string) plan.Date {
	d, err := plan.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

func endOf(s string) time.Time { return date(s).EndOfDay() }

// year builds a task with events; each event is "kind@YYYY-MM-DD".
func task(id, section string, kind duban.Kind, due string, events ...score.Event) score.Task {
	for i := range events {
		events[i].Seq = int64(i + 2) // seq 1 is the assignment
	}
	return score.Task{ID: "2021/" + id + "/430102", TemplateID: id, Section: section, Title: "任务 " + id, Kind: kind, Due: endOf(due), Events: events}
}

func ev(kind duban.EventKind, at string) score.Event {
	e := score.Event{Kind: kind, At: day(at)}
	switch kind {
	case duban.EventSubmitted:
		e.To = duban.StatusSubmitted
	case duban.EventRejected, duban.EventReturned:
		e.To = duban.StatusInProgress
	case duban.EventCompleted:
		e.To = duban.StatusCompleted
	case duban.EventCancelled:
		e.To = duban.StatusCancelled
	}
	return e
}

func extension(at, newDue string) score.Event {
	e := ev(duban.EventExtensionGranted, at)
	d := endOf(newDue)
	e.NewDue = &d
	return e
}

func progress(at string, value, base int) score.Event {
	e := ev(duban.EventProgress, at)
	e.To = duban.StatusInProgress
	e.Progress, e.ProgressBase, e.HasProgress = value, base, true
	return e
}

// furong is a constructed year of 芙蓉区, one task per case.
func furong() score.Record {
	ratio := &duban.Ratio{Num: 1, Den: 3, Of: duban.LevelVillage}
	tasks := []score.Task{
		// Submitted in time, sent back once, submitted again in time and
		// approved after the deadline: on time (weight 2), one return.
		task("2.1", "2", duban.KindDeadline, "2021-12-31",
			ev(duban.EventSubmitted, "2021-12-20"), ev(duban.EventRejected, "2021-12-22"),
			ev(duban.EventSubmitted, "2021-12-28"), ev(duban.EventCompleted, "2022-01-05")),
		// Submitted 4 days late: band 1–7 (8 × 1.5).
		task("2.2", "2", duban.KindDeadline, "2021-12-31",
			ev(duban.EventSubmitted, "2022-01-04"), ev(duban.EventCompleted, "2022-01-06")),
		// Extended to 31 January and done before it: on time, one extension.
		task("2.3", "2", duban.KindDeadline, "2021-12-31",
			ev(duban.EventExtensionGranted, "2021-12-15"), ev(duban.EventSubmitted, "2022-01-20"), ev(duban.EventCompleted, "2022-01-21")),
		// Never done, urged twice: not done (−2 × 1.5), urges in band 2–3.
		task("2.12", "2", duban.KindCount, "2021-12-31",
			ev(duban.EventUrged, "2021-12-10"), ev(duban.EventUrged, "2022-01-03")),
		// A third of villages wanted, 30 of 120 covered: 75 % of 15.
		task("2.13", "2", duban.KindRatio, "2021-12-31", progress("2021-11-01", 10, 120), progress("2021-12-20", 30, 120)),
		// 20 days late: band 8–30.
		task("3.2", "3", duban.KindDeadline, "2021-12-31", ev(duban.EventSubmitted, "2022-01-20"), ev(duban.EventCompleted, "2022-01-22")),
		// 45 days late: band 31+.
		task("3.3", "3", duban.KindDeadline, "2021-12-31", ev(duban.EventSubmitted, "2022-02-14"), ev(duban.EventCompleted, "2022-02-16")),
		// The member-day event, a yes/no item: done 12 days late still scores in full.
		task("8.1", "8", duban.KindEvent, "2021-05-29", ev(duban.EventSubmitted, "2021-06-10"), ev(duban.EventCompleted, "2021-06-11")),
		// Cancelled after an urge: not counted at all.
		task("6.1", "6", duban.KindDeadline, "2021-12-31", ev(duban.EventUrged, "2021-05-01"), ev(duban.EventCancelled, "2021-06-01")),
		// Submitted in time and still with the approver: on time, provisionally.
		task("9.1", "9", duban.KindDeadline, "2021-12-31", ev(duban.EventSubmitted, "2021-12-30")),
		// Done early.
		task("9.2", "9", duban.KindDeadline, "2021-12-31", ev(duban.EventSubmitted, "2021-11-15"), ev(duban.EventCompleted, "2021-11-16")),
		// Done on time after five urges (band 4+), and sent back to the
		// unit once.
		task("4.1", "4", duban.KindCount, "2021-12-31",
			ev(duban.EventUrged, "2021-03-01"), ev(duban.EventUrged, "2021-04-01"), ev(duban.EventUrged, "2021-05-01"),
			ev(duban.EventUrged, "2021-06-01"), ev(duban.EventUrged, "2021-07-01"),
			ev(duban.EventSubmitted, "2021-11-01"), ev(duban.EventRejected, "2021-11-03"),
			ev(duban.EventSubmitted, "2021-11-20"), ev(duban.EventCompleted, "2021-11-25")),
	}
	tasks[2].Events[0] = extension("2021-12-15", "2022-01-31")
	tasks[2].Events[0].Seq = 2
	tasks[4].Ratio = ratio
	tasks[3].Target = 1
	tasks[11].Target = 1
	return score.Record{
		Unit:  score.Unit{Code: "430102", Name: "芙蓉区", Level: duban.LevelCounty, Parent: "4301"},
		Tasks: tasks,
		Awards: []score.Award{
			{ID: 1, BonusID: "promotion", Points: 200, Reason: "经验在全省推广", AwardedBy: "省督查人", At: day("2021-09-01")},
			{ID: 2, BonusID: "criticism", Points: -200, Reason: "通报批评", AwardedBy: "省督查人", At: day("2021-10-01")},
			{ID: 3, BonusID: "promotion", Points: 200, Reason: "再次推广", AwardedBy: "省督查人", At: day("2021-11-01")},
			{ID: 4, BonusID: "promotion", Points: 150, Reason: "第三次推广", AwardedBy: "省督查人", At: day("2021-12-01")},
			{ID: 5, BonusID: "promotion", Points: 200, Reason: "次年的推广", AwardedBy: "省督查人", At: day("2022-03-01")},
		},
	}
}

type want struct {
	rule   score.Rule
	points plan.Points
	events []int64 // seqs
}

func lineKey(l score.Line) string {
	if l.Award != 0 {
		return fmt.Sprintf("award %d", l.Award)
	}
	return l.TemplateID + " " + string(l.Rule)
}

func compute(t *testing.T, r *plan.Scoring, rec score.Record, asOf string) score.Score {
	t.Helper()
	s, err := score.Compute(r, rec, date(asOf))
	if err != nil {
		t.Fatal(err)
	}
	checkAddsUp(t, s)
	return s
}

// checkAddsUp is the property every score keeps: its lines add up to it,
// and no line rests on an event after the day.
func checkAddsUp(t *testing.T, s score.Score) {
	t.Helper()
	var sum plan.Points
	cutoff := s.AsOf.EndOfDay()
	for _, l := range s.Lines {
		sum += l.Points
		for _, e := range l.Events {
			if e.At.After(cutoff) {
				t.Errorf("as of %s, line %q rests on event %s#%d of %s", s.AsOf, l.Text, e.Instance, e.Seq, e.At)
			}
			if e.Instance != l.Task {
				t.Errorf("line about %s cites an event of %s", l.Task, e.Instance)
			}
		}
		if l.Text == "" {
			t.Errorf("line %+v has no explanation", l)
		}
	}
	if sum != s.Total {
		t.Errorf("as of %s the lines add up to %s, the score is %s", s.AsOf, sum, s.Total)
	}
}

func checkLines(t *testing.T, s score.Score, wants map[string]want) {
	t.Helper()
	got := map[string]score.Line{}
	for _, l := range s.Lines {
		k := lineKey(l)
		if _, dup := got[k]; dup {
			t.Errorf("two lines %s", k)
		}
		got[k] = l
	}
	for k, w := range wants {
		l, ok := got[k]
		if !ok {
			t.Errorf("no line %s", k)
			continue
		}
		if l.Rule != w.rule || l.Points != w.points {
			t.Errorf("%s: %s %s (%s), want %s %s", k, l.Rule, l.Points, l.Text, w.rule, w.points)
		}
		if w.events != nil {
			var seqs []int64
			for _, e := range l.Events {
				seqs = append(seqs, e.Seq)
			}
			if fmt.Sprint(seqs) != fmt.Sprint(w.events) {
				t.Errorf("%s rests on events %v, want %v", k, seqs, w.events)
			}
		}
		delete(got, k)
	}
	for k, l := range got {
		t.Errorf("unexpected line %s: %s %s", k, l.Points, l.Text)
	}
}

// At the end of February every task has its outcome.
func TestScoreAtYearEnd(t *testing.T) {
	s := compute(t, rules(), furong(), "2022-02-28")
	checkLines(t, s, map[string]want{
		"2.1 on_time":   {score.RuleOnTime, 2000, []int64{4, 5}}, // the approved submission, the completion
		"2.1 returned":  {score.RuleReturned, -50, []int64{3}},
		"2.2 late":      {score.RuleLate, 1200, []int64{2, 3}},
		"2.3 on_time":   {score.RuleOnTime, 1500, []int64{3, 4}},
		"2.3 extension": {score.RuleExtension, -50, []int64{2}},
		"2.12 not_done": {score.RuleNotDone, -300, nil},
		"2.12 urged":    {score.RuleUrged, -100, []int64{2, 3}},
		"2.13 percent":  {score.RulePercent, 1125, []int64{3}},
		"3.2 late":      {score.RuleLate, 600, nil},
		"3.3 late":      {score.RuleLate, 400, nil},
		"4.1 on_time":   {score.RuleOnTime, 1000, []int64{9, 10}},
		"4.1 urged":     {score.RuleUrged, -200, []int64{2, 3, 4, 5, 6}},
		"4.1 returned":  {score.RuleReturned, -50, []int64{8}},
		"6.1 cancelled": {score.RuleCancelled, 0, []int64{3}},
		"8.1 yes_no":    {score.RuleYesNo, 1000, nil},
		"9.1 on_time":   {score.RuleOnTime, 1000, []int64{2}},
		"9.2 on_time":   {score.RuleOnTime, 1000, nil},
		"award 1":       {score.RuleBonus, 200, nil},
		"award 2":       {score.RuleBonus, -200, nil},
		"award 3":       {score.RuleBonus, 200, nil},
		"award 4":       {score.RuleBonusLimit, 0, nil},
	})
	if s.Total != 10275 {
		t.Errorf("total %s, want 102.75 (105.25 earned, 4.5 deducted, 2 awarded)", s.Total)
	}
	if s.Earned != 10525 || s.Attainable != 14000 {
		t.Errorf("earned %s of %s, want 105.25 of 140", s.Earned, s.Attainable)
	}
	c := s.Counts
	if c.Tasks != 11 || c.Cancelled != 1 || c.OnTime != 5 || c.Late != 4 || c.NotDone != 2 || c.InApproval != 1 || c.NotYetDue != 0 {
		t.Errorf("counts %+v", c)
	}
	for _, l := range s.Lines {
		if l.TemplateID == "9.1" && !strings.Contains(l.Text, "审批中") {
			t.Errorf("a provisional line does not say so: %s", l.Text)
		}
		if l.Rule == score.RuleLate && l.TemplateID == "3.3" && !strings.Contains(l.Text, "逾期 45 天") {
			t.Errorf("late line does not say how late: %s", l.Text)
		}
	}
}

// In early January the later outcomes are not known yet: what is past due
// is not done, what was extended is not yet due, events after the day count
// for nothing.
func TestScoreAsOfEarlyJanuary(t *testing.T) {
	s := compute(t, rules(), furong(), "2022-01-04")
	checkLines(t, s, map[string]want{
		"2.1 on_time":     {score.RuleOnTime, 2000, []int64{4}}, // with the approver: provisional
		"2.1 returned":    {score.RuleReturned, -50, nil},
		"2.2 late":        {score.RuleLate, 1200, []int64{2}}, // submitted that day, approval pending
		"2.3 not_yet_due": {score.RuleNotYetDue, 0, nil},
		"2.3 extension":   {score.RuleExtension, -50, nil},
		"2.12 not_done":   {score.RuleNotDone, -300, nil},
		"2.12 urged":      {score.RuleUrged, -100, nil},
		"2.13 percent":    {score.RulePercent, 1125, nil},
		"3.2 not_done":    {score.RuleNotDone, -200, nil},
		"3.3 not_done":    {score.RuleNotDone, -200, nil},
		"4.1 on_time":     {score.RuleOnTime, 1000, nil},
		"4.1 urged":       {score.RuleUrged, -200, nil},
		"4.1 returned":    {score.RuleReturned, -50, nil},
		"6.1 cancelled":   {score.RuleCancelled, 0, nil},
		"8.1 yes_no":      {score.RuleYesNo, 1000, nil},
		"9.1 on_time":     {score.RuleOnTime, 1000, nil},
		"9.2 on_time":     {score.RuleOnTime, 1000, nil},
		"award 1":         {score.RuleBonus, 200, nil},
		"award 2":         {score.RuleBonus, -200, nil},
		"award 3":         {score.RuleBonus, 200, nil},
		"award 4":         {score.RuleBonusLimit, 0, nil},
	})
}

// In mid-year nearly everything is not yet due; the cancelled task still
// counted before it was cancelled.
func TestScoreMidYear(t *testing.T) {
	s := compute(t, rules(), furong(), "2021-05-31")
	got := map[string]score.Rule{}
	for _, l := range s.Lines {
		if l.Award == 0 {
			got[lineKey(l)] = l.Rule
		}
	}
	if got["8.1 not_done"] != score.RuleNotDone {
		t.Errorf("the member day passed on 29 May undone: lines %v", got)
	}
	if got["6.1 not_yet_due"] != score.RuleNotYetDue || got["6.1 urged"] != score.RuleUrged {
		t.Errorf("before its cancellation 6.1 is an open task, urged once: lines %v", got)
	}
	if got["2.1 not_yet_due"] != score.RuleNotYetDue {
		t.Errorf("2.1 is not yet due in May: %v", got)
	}
	if s.Counts.NotYetDue != 11 || s.Counts.NotDone != 1 {
		t.Errorf("counts %+v", s.Counts)
	}
	if s.Attainable != 1000 || s.Earned != -200 {
		t.Errorf("only the member day is scored: earned %s of %s", s.Earned, s.Attainable)
	}
}

// Every day of the year and beyond: the lines add up, and the score is the
// same when computed twice or from shuffled input.
func TestScoreEveryDayAddsUp(t *testing.T) {
	r := rules()
	full := rules()
	full.Full = 10000
	rec := furong()
	rev := furong()
	for i, j := 0, len(rev.Tasks)-1; i < j; i, j = i+1, j-1 {
		rev.Tasks[i], rev.Tasks[j] = rev.Tasks[j], rev.Tasks[i]
	}
	rev.Awards[0], rev.Awards[3] = rev.Awards[3], rev.Awards[0]
	for d := date("2021-01-01").EndOfDay(); d.Before(endOf("2022-03-31")); d = d.AddDate(0, 0, 1) {
		asOf := plan.Date{Year: d.Year(), Month: d.Month(), Day: d.Day()}
		for _, rs := range []*plan.Scoring{r, full} {
			a, err := score.Compute(rs, rec, asOf)
			if err != nil {
				t.Fatal(err)
			}
			checkAddsUp(t, a)
			b, _ := score.Compute(rs, rev, asOf)
			if a.Total != b.Total || len(a.Lines) != len(b.Lines) {
				t.Fatalf("as of %s the order of the input changed the score: %s vs %s", asOf, a.Total, b.Total)
			}
			for i := range a.Lines {
				if a.Lines[i].Text != b.Lines[i].Text {
					t.Fatalf("as of %s line %d differs:\n%s\n%s", asOf, i, a.Lines[i].Text, b.Lines[i].Text)
				}
			}
		}
	}
}

// With a full mark the task points are scaled over the tasks scored so far;
// deductions and bonuses come on top.
func TestScoreScaledToFullMark(t *testing.T) {
	r := rules()
	r.Full = 10000
	s := compute(t, r, furong(), "2022-02-28")
	var scale *score.Line
	for i, l := range s.Lines {
		if l.Rule == score.RuleScale {
			scale = &s.Lines[i]
		}
	}
	// 105.25 of 140 attainable → 75.18 of 100.
	if scale == nil || scale.Points != 7518-10525 {
		t.Fatalf("scale line %+v", scale)
	}
	if s.Total != 7518-450+200 {
		t.Errorf("total %s, want 72.68 (75.18 − 4.5 + 2)", s.Total)
	}
	// Before anything is due there is nothing to scale.
	early := compute(t, r, furong(), "2021-02-01")
	for _, l := range early.Lines {
		if l.Rule == score.RuleScale {
			t.Errorf("scaled with nothing due: %s", l.Text)
		}
	}
}

// A return to an earlier approval step is the approvers' matter: the
// unit loses nothing for it.
func TestReturnToStepCostsNothing(t *testing.T) {
	rec := furong()
	rec.Awards = nil
	rec.Tasks = []score.Task{task("9.2", "9", duban.KindDeadline, "2021-12-31",
		ev(duban.EventSubmitted, "2021-11-15"), ev(duban.EventApproved, "2021-11-16"), ev(duban.EventReturned, "2021-11-17"),
		ev(duban.EventApproved, "2021-11-18"), ev(duban.EventCompleted, "2021-11-19"))}
	s := compute(t, rules(), rec, "2022-02-28")
	for _, l := range s.Lines {
		if l.Rule == score.RuleReturned {
			t.Errorf("a return between approval steps was deducted: %s %s", l.Points, l.Text)
		}
	}
	if len(s.Lines) == 0 {
		t.Fatal("no lines")
	}
}

func TestScoreWithoutRules(t *testing.T) {
	if _, err := score.Compute(nil, furong(), date("2021-12-31")); err != score.ErrNoRules {
		t.Errorf("no rules: %v", err)
	}
}

func TestRankTies(t *testing.T) {
	mk := func(code string, total plan.Points) score.Score {
		return score.Score{Unit: score.Unit{Code: code, Name: code}, Total: total}
	}
	got := score.Rank([]score.Score{mk("4305", 8000), mk("4302", 9000), mk("4304", 9000), mk("4301", 9500), mk("4303", 7000)})
	var text []string
	for _, r := range got {
		text = append(text, r.Score.Unit.Code+":"+r.RankText())
	}
	want := "4301:第 1 名 4302:并列第 2 名 4304:并列第 2 名 4305:第 4 名 4303:第 5 名"
	if strings.Join(text, " ") != want {
		t.Errorf("ranking %s\nwant    %s", strings.Join(text, " "), want)
	}
}

func TestCheckAward(t *testing.T) {
	r := rules()
	for _, c := range []struct {
		id     string
		points plan.Points
		field  string
	}{
		{"promotion", 200, ""},
		{"promotion", 150, ""},
		{"promotion", 250, "points"},
		{"promotion", -100, "points"},
		{"criticism", -200, ""},
		{"criticism", 100, "points"},
		{"nope", 100, "bonus_id"},
		{"promotion", 0, "points"},
	} {
		err := score.CheckAward(r, c.id, c.points)
		var field string
		if e, ok := err.(*duban.Error); ok {
			field = e.Field
		}
		if field != c.field || (c.field == "") != (err == nil) {
			t.Errorf("award %s %s: %v, want an error on %q", c.id, c.points, err, c.field)
		}
	}
}

func TestWriteText(t *testing.T) {
	s := compute(t, rules(), furong(), "2022-02-28")
	var b strings.Builder
	if err := s.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"芙蓉区（430102）截至 2022-02-28 考核得分：102.75", "2021/2.1/430102#4", "award#4", "超出全年上限", "逾期 45 天"} {
		if !strings.Contains(out, want) {
			t.Errorf("text lacks %q:\n%s", want, out)
		}
	}
	if testing.Verbose() {
		t.Log("\n" + out)
	}
}
