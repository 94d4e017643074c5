package calendar_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/6tail/lunar-go/HolidayUtil"
	"github.com/stretchr/testify/require"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/calendar"
)

func day(y int, m time.Month, d int) time.Time {
	return time.Date(y, m, d, 0, 0, 0, 0, duban.Shanghai)
}

// TestFestivalDates pins the lunar festivals and 清明 of three years to the
// dates printed on the calendars of those years.
func TestFestivalDates(t *testing.T) {
	want := map[int]map[string]time.Time{
		2021: {"除夕": day(2021, 2, 11), "春节": day(2021, 2, 12), "元宵节": day(2021, 2, 26), "清明节": day(2021, 4, 4),
			"母亲节": day(2021, 5, 9), "端午节": day(2021, 6, 14), "中秋节": day(2021, 9, 21), "重阳节": day(2021, 10, 14)},
		2022: {"除夕": day(2022, 1, 31), "春节": day(2022, 2, 1), "元宵节": day(2022, 2, 15), "清明节": day(2022, 4, 5),
			"母亲节": day(2022, 5, 8), "端午节": day(2022, 6, 3), "中秋节": day(2022, 9, 10), "重阳节": day(2022, 10, 4)},
		2026: {"除夕": day(2026, 2, 16), "春节": day(2026, 2, 17), "元宵节": day(2026, 3, 3), "清明节": day(2026, 4, 5),
			"母亲节": day(2026, 5, 10), "端午节": day(2026, 6, 19), "中秋节": day(2026, 9, 25), "重阳节": day(2026, 10, 18)},
	}
	for year, days := range want {
		for name, w := range days {
			got, ok := calendar.FestivalDate(name, year)
			require.True(t, ok, name)
			require.True(t, got.Equal(w), "%s %d: got %s, want %s", name, year, got.Format(time.DateOnly), w.Format(time.DateOnly))
		}
		for name, w := range map[string]time.Time{"元旦": day(year, 1, 1), "劳动节": day(year, 5, 1), "儿童节": day(year, 6, 1), "国庆节": day(year, 10, 1)} {
			got, _ := calendar.FestivalDate(name, year)
			require.True(t, got.Equal(w), "%s %d", name, year)
		}
	}
	_, ok := calendar.FestivalDate("端午", 2021)
	require.False(t, ok, "only the full names are known")
	require.Contains(t, calendar.Festivals(), "中秋节")
}

// TestFestivalsAgreeWithTheHolidaySchedule: where a festival is a statutory
// holiday, the State Council's schedule (as github.com/6tail/lunar-go
// records it) names the festival's own day as the holiday's target; that
// date must be the one FestivalDate computes. (Before 2016 the library's
// data names 除夕 as the target of 2010's 春节 and 4 October as that of
// 2014's and 2015's 国庆节: quirks of the data, not of the dates.)
func TestFestivalsAgreeWithTheHolidaySchedule(t *testing.T) {
	names := map[string]string{"春节": "春节", "清明节": "清明节", "劳动节": "劳动节", "端午节": "端午节", "中秋节": "中秋节", "国庆节": "国庆节"}
	checked := 0
	for year := 2016; year <= 2026; year++ {
		for h := HolidayUtil.GetHolidaysByYear(year).Front(); h != nil; h = h.Next() {
			hol := h.Value.(*HolidayUtil.Holiday)
			name, ok := names[hol.GetName()]
			if !ok || hol.IsWork() {
				continue
			}
			target, err := time.ParseInLocation(time.DateOnly, hol.GetTarget(), duban.Shanghai)
			require.NoError(t, err)
			if target.Year() != year {
				continue
			}
			got, _ := calendar.FestivalDate(name, year)
			require.True(t, got.Equal(target), "%s %d: computed %s, the schedule says %s", name, year, got.Format(time.DateOnly), hol.GetTarget())
			checked++
		}
	}
	require.Greater(t, checked, 200, "the schedule's holiday days were checked")
}

func TestNextFestival(t *testing.T) {
	for _, c := range []struct {
		name string
		from time.Time
		want time.Time
	}{
		{"春节", day(2021, 1, 1), day(2021, 2, 12)},
		{"春节", day(2021, 2, 12), day(2021, 2, 12)}, // the day itself
		{"春节", day(2021, 2, 13), day(2022, 2, 1)},
		{"春节", day(2021, 3, 1).Add(15 * time.Hour), day(2022, 2, 1)},
		{"中秋节", day(2021, 3, 1), day(2021, 9, 21)},
	} {
		got, ok := calendar.NextFestival(c.name, c.from)
		require.True(t, ok)
		require.True(t, got.Equal(c.want), fmt.Sprintf("%s from %s: got %s", c.name, c.from, got))
	}
	_, ok := calendar.NextFestival("圣诞节", day(2021, 1, 1))
	require.False(t, ok)
}
