package calendar_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/calendar"
	"github.com/duban-dev/duban/org"
	"github.com/duban-dev/duban/plan"
)

func date(y int, m time.Month, d int) time.Time {
	return time.Date(y, m, d, 9, 0, 0, 0, duban.Shanghai)
}

func TestNationalDay2021(t *testing.T) {
	for d := 1; d <= 7; d++ {
		require.False(t, calendar.IsWorkingDay(date(2021, 10, d)), "2021-10-%02d is a holiday", d)
		require.Equal(t, "国庆节", calendar.HolidayName(date(2021, 10, d)))
	}
	// The make-up working days (调休): a Sunday before and a Saturday after.
	require.Equal(t, time.Sunday, date(2021, 9, 26).Weekday())
	require.True(t, calendar.IsWorkingDay(date(2021, 9, 26)))
	require.Equal(t, time.Saturday, date(2021, 10, 9).Weekday())
	require.True(t, calendar.IsWorkingDay(date(2021, 10, 9)))
	require.True(t, calendar.IsWorkingDay(date(2021, 10, 8)))
	require.False(t, calendar.IsWorkingDay(date(2021, 10, 10)), "an ordinary Sunday")
	require.True(t, calendar.IsWorkingDay(date(2021, 9, 30)))
}

// Test2026AsPublished checks 2026 against the holiday schedule the State
// Council published for it in November 2025.
func Test2026AsPublished(t *testing.T) {
	off := map[string][][2]int{
		"元旦节": {{1, 1}, {1, 2}, {1, 3}},
		"春节":  {{2, 15}, {2, 16}, {2, 17}, {2, 18}, {2, 19}, {2, 20}, {2, 21}, {2, 22}, {2, 23}},
		"清明节": {{4, 4}, {4, 5}, {4, 6}},
		"劳动节": {{5, 1}, {5, 2}, {5, 3}, {5, 4}, {5, 5}},
		"端午节": {{6, 19}, {6, 20}, {6, 21}},
		"中秋节": {{9, 25}, {9, 26}, {9, 27}},
		"国庆节": {{10, 1}, {10, 2}, {10, 3}, {10, 4}, {10, 5}, {10, 6}, {10, 7}},
	}
	worked := [][2]int{{1, 4}, {2, 14}, {2, 28}, {5, 9}, {9, 20}, {10, 10}}
	holidays := 0
	for name, days := range off {
		for _, md := range days {
			d := date(2026, time.Month(md[0]), md[1])
			require.False(t, calendar.IsWorkingDay(d), "%s is %s", d.Format("2006-01-02"), name)
			require.Contains(t, calendar.HolidayName(d), name[:3], d.Format("2006-01-02"))
			holidays++
		}
	}
	require.Equal(t, 33, holidays)
	for _, md := range worked {
		d := date(2026, time.Month(md[0]), md[1])
		wd := d.Weekday()
		require.True(t, wd == time.Saturday || wd == time.Sunday, "%s is a weekend day made a working day", d.Format("2006-01-02"))
		require.True(t, calendar.IsWorkingDay(d), "%s is worked (调休)", d.Format("2006-01-02"))
	}
	// Every other day of 2026 is an ordinary weekday or weekend.
	listed := map[string]bool{}
	for _, days := range off {
		for _, md := range days {
			listed[date(2026, time.Month(md[0]), md[1]).Format("01-02")] = true
		}
	}
	for _, md := range worked {
		listed[date(2026, time.Month(md[0]), md[1]).Format("01-02")] = true
	}
	for d := date(2026, 1, 1); d.Year() == 2026; d = d.AddDate(0, 0, 1) {
		if listed[d.Format("01-02")] {
			continue
		}
		weekday := d.Weekday() != time.Saturday && d.Weekday() != time.Sunday
		require.Equal(t, weekday, calendar.IsWorkingDay(d), d.Format("2006-01-02 Mon"))
	}
}

func TestFiveWorkingDaysAcrossNationalDay(t *testing.T) {
	five := duban.Offset{Days: 5, Working: true}
	// Thursday 30 September 2021: then 8 (Fri), 9 (Sat, make-up), 11, 12, 13 October.
	from := duban.EndOfDay(2021, 9, 30)
	require.True(t, calendar.After(from, five).Equal(duban.EndOfDay(2021, 10, 13)), "got %v", calendar.After(from, five))
	// And back: five working days before 13 October is 30 September.
	require.True(t, calendar.Before(duban.EndOfDay(2021, 10, 13), five).Equal(from))
	// Calendar days ignore holidays.
	require.True(t, calendar.After(from, duban.Offset{Days: 5}).Equal(duban.EndOfDay(2021, 10, 5)))
	// Across the 2026 National Day week, whose make-up Saturday is 10 October.
	got := calendar.After(duban.EndOfDay(2026, 9, 30), five)
	require.True(t, got.Equal(duban.EndOfDay(2026, 10, 13)), "2026: got %v", got) // 8, 9, 10 (Sat), 12, 13
}

func TestAddWorkingDaysKeepsTheTimeOfDay(t *testing.T) {
	at := time.Date(2021, 9, 30, 15, 30, 0, 0, duban.Shanghai)
	got := calendar.AddWorkingDays(at, 1)
	require.Equal(t, time.Date(2021, 10, 8, 15, 30, 0, 0, duban.Shanghai), got)
	require.Equal(t, at, calendar.AddWorkingDays(at, 0))
	holiday := date(2021, 10, 3)
	require.Equal(t, holiday, calendar.AddWorkingDays(holiday, 0), "zero stays put, even on a holiday")
	require.Equal(t, date(2021, 9, 30), calendar.AddWorkingDays(holiday, -1))
}

func TestPreviousWorkingDay(t *testing.T) {
	require.Equal(t, date(2021, 9, 30), calendar.PreviousWorkingDay(date(2021, 10, 7)))
	require.Equal(t, date(2021, 10, 9), calendar.PreviousWorkingDay(date(2021, 10, 9)), "a make-up Saturday is a working day")
	require.Equal(t, date(2021, 10, 9), calendar.PreviousWorkingDay(date(2021, 10, 10)))
	// 2026 Spring Festival: 15–23 February off, 14 February (Sat) worked.
	require.Equal(t, date(2026, 2, 14), calendar.PreviousWorkingDay(date(2026, 2, 20)))
	require.Equal(t, date(2026, 2, 13), calendar.PreviousWorkingDay(date(2026, 2, 13)))
}

// TestHolidayDataCoversEveryYearThePlansTouch fails loudly when the holiday
// library has no data for a year a shipped plan reaches: its own year, and
// the current year, which `duban-dev dev` launches it onto, from the earliest
// reminder to the last escalation step. The fix is to upgrade
// github.com/6tail/lunar-go once the State Council has published the year.
func TestHolidayDataCoversEveryYearThePlansTouch(t *testing.T) {
	require.False(t, calendar.Covers(1990), "a year without data must be detected")
	for _, id := range plan.ShippedIDs() {
		p, _, err := plan.Shipped(id)
		require.NoError(t, err)
		for _, year := range []int{p.Year, time.Now().In(duban.Shanghai).Year()} {
			specs, err := plan.Expand(p, org.Hunan(), year)
			require.NoError(t, err)
			require.NotEmpty(t, specs)
			// Working days are at most twice as long as calendar days plus a
			// Spring Festival: a generous bound of how far each instance reaches.
			first, last := year, year
			for _, s := range specs {
				back, ahead := 0, 0
				for _, r := range s.Reminders {
					back = max(back, r.Days)
				}
				for _, e := range s.Escalation {
					ahead = max(ahead, e.After.Days)
				}
				for _, a := range s.Approval {
					ahead += a.SLA.Days
				}
				first = min(first, s.Due.AddDate(0, 0, -2*back-14).Year())
				last = max(last, s.Due.AddDate(0, 0, 2*ahead+14).Year())
			}
			for y := first; y <= last; y++ {
				require.True(t, calendar.Covers(y),
					"plan %s launched onto %d reaches %d, for which github.com/6tail/lunar-go has no holidays: upgrade it (or the calendar would treat every weekday of %d as a working day)", id, year, y, y)
			}
		}
	}
}
