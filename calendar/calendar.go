// Package calendar knows China's working days: weekends, statutory holidays
// and the weekend make-up working days (调休) the State Council publishes each
// year. Holiday data comes from github.com/6tail/lunar-go, which tracks the
// published notices; the tests pin the years the shipped plans cover.
package calendar

import (
	"fmt"
	"time"

	"github.com/6tail/lunar-go/HolidayUtil"

	"github.com/duban-dev/duban"
)

// IsWorkingDay reports whether the date (read in Asia/Shanghai) is a working
// day: a weekday that is not a holiday, or a weekend day made a working day.
func IsWorkingDay(t time.Time) bool {
	t = t.In(duban.Shanghai)
	if h := HolidayUtil.GetHolidayByYmd(t.Year(), int(t.Month()), t.Day()); h != nil {
		return h.IsWork()
	}
	wd := t.Weekday()
	return wd != time.Saturday && wd != time.Sunday
}

// HolidayName returns the holiday a date belongs to (off or make-up day), or "".
func HolidayName(t time.Time) string {
	t = t.In(duban.Shanghai)
	if h := HolidayUtil.GetHolidayByYmd(t.Year(), int(t.Month()), t.Day()); h != nil {
		return h.GetName()
	}
	return ""
}

// AddWorkingDays moves t by n working days (n may be negative), keeping the
// time of day. Zero returns t unchanged even on a holiday.
func AddWorkingDays(t time.Time, n int) time.Time {
	step := 1
	if n < 0 {
		step, n = -1, -n
	}
	t = t.In(duban.Shanghai)
	for n > 0 {
		t = t.AddDate(0, 0, step)
		if IsWorkingDay(t) {
			n--
		}
	}
	return t
}

// PreviousWorkingDay returns t if it falls on a working day, else the same
// time of day on the last working day before it.
func PreviousWorkingDay(t time.Time) time.Time {
	t = t.In(duban.Shanghai)
	for !IsWorkingDay(t) {
		t = t.AddDate(0, 0, -1)
	}
	return t
}

// FormatOffset renders an offset the way plan files write it: "3d" or "5wd".
func FormatOffset(o duban.Offset) string {
	if o.Working {
		return fmt.Sprintf("%dwd", o.Days)
	}
	return fmt.Sprintf("%dd", o.Days)
}

// After returns t moved forward by the offset.
func After(t time.Time, o duban.Offset) time.Time {
	if o.Working {
		return AddWorkingDays(t, o.Days)
	}
	return t.In(duban.Shanghai).AddDate(0, 0, o.Days)
}

// Before returns t moved back by the offset.
func Before(t time.Time, o duban.Offset) time.Time {
	if o.Working {
		return AddWorkingDays(t, -o.Days)
	}
	return t.In(duban.Shanghai).AddDate(0, 0, -o.Days)
}

// Covers reports whether the holiday data knows the year: the State
// Council publishes each year's schedule around November of the year
// before, and a year the library has no entry for would silently count
// every weekday as a working day (Spring Festival included).
func Covers(year int) bool {
	return HolidayUtil.GetHolidaysByYear(year).Len() > 0
}
