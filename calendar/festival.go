package calendar

import (
	"time"

	lunar "github.com/6tail/lunar-go/calendar"

	"github.com/duban-dev/duban"
)

// festival says how to find a named day in a Gregorian year.
type festival struct {
	name string
	// key is the festival's name in ASCII, for identifiers: a task
	// instance's id is its workflow's id, which Temporal carries in gRPC
	// headers, and those take printable ASCII only.
	key string
	// on returns the day in the year (month, day).
	on func(year int) (time.Month, int)
}

// lunarDay is a day of the Chinese lunar calendar, found in the Gregorian
// year it falls in: every festival below lies in the lunar year that begins
// in the same Gregorian year (春节 falls between 21 January and 20 February).
func lunarDay(month, day int) func(int) (time.Month, int) {
	return func(year int) (time.Month, int) {
		s := lunar.NewLunarFromYmd(year, month, day).GetSolar()
		return time.Month(s.GetMonth()), s.GetDay()
	}
}

func solarDay(month time.Month, day int) func(int) (time.Month, int) {
	return func(int) (time.Month, int) { return month, day }
}

// festivals are the named days a plan can schedule by, listed roughly in
// calendar order. The lunar ones and 清明 (a solar term) move from year to year.
var festivals = []festival{
	{"元旦", "yuandan", solarDay(time.January, 1)},
	{"除夕", "chuxi", func(year int) (time.Month, int) {
		m, d := lunarDay(1, 1)(year)
		t := time.Date(year, m, d-1, 0, 0, 0, 0, time.UTC)
		return t.Month(), t.Day()
	}},
	{"春节", "chunjie", lunarDay(1, 1)},
	{"元宵节", "yuanxiao", lunarDay(1, 15)},
	{"妇女节", "funv", solarDay(time.March, 8)},
	{"清明节", "qingming", func(year int) (time.Month, int) {
		// The solar term 清明 falls between 3 and 6 April.
		for d := 3; d <= 6; d++ {
			if lunar.NewLunarFromDate(time.Date(year, time.April, d, 12, 0, 0, 0, time.UTC)).GetJieQi() == "清明" {
				return time.April, d
			}
		}
		return time.April, 5
	}},
	{"劳动节", "laodong", solarDay(time.May, 1)},
	{"母亲节", "muqin", func(year int) (time.Month, int) {
		// The second Sunday of May.
		first := time.Date(year, time.May, 1, 0, 0, 0, 0, time.UTC).Weekday()
		return time.May, 1 + (7-int(first))%7 + 7
	}},
	{"儿童节", "ertong", solarDay(time.June, 1)},
	{"端午节", "duanwu", lunarDay(5, 5)},
	{"中秋节", "zhongqiu", lunarDay(8, 15)},
	{"国庆节", "guoqing", solarDay(time.October, 1)},
	{"重阳节", "chongyang", lunarDay(9, 9)},
}

// Festivals lists the names FestivalDate knows, roughly in calendar order.
func Festivals() []string {
	out := make([]string, len(festivals))
	for i, f := range festivals {
		out[i] = f.name
	}
	return out
}

// FestivalKey returns the ASCII key of a named festival (春节 → chunjie),
// or false for a name it does not know.
func FestivalKey(name string) (string, bool) {
	for _, f := range festivals {
		if f.name == name {
			return f.key, true
		}
	}
	return "", false
}

// FestivalDate returns the day (midnight, Asia/Shanghai) a named festival
// falls on in a Gregorian year, or false for a name it does not know. The
// lunar festivals are converted with github.com/6tail/lunar-go, which
// computes the lunar calendar for any year (unlike the holiday schedule,
// which exists only once the State Council has published it).
func FestivalDate(name string, year int) (time.Time, bool) {
	for _, f := range festivals {
		if f.name == name {
			m, d := f.on(year)
			return time.Date(year, m, d, 0, 0, 0, 0, duban.Shanghai), true
		}
	}
	return time.Time{}, false
}

// NextFestival returns the first day on or after from (read in
// Asia/Shanghai) that the named festival falls on, or false for an unknown name.
func NextFestival(name string, from time.Time) (time.Time, bool) {
	from = from.In(duban.Shanghai)
	start := time.Date(from.Year(), from.Month(), from.Day(), 0, 0, 0, 0, duban.Shanghai)
	day, ok := FestivalDate(name, from.Year())
	if !ok {
		return time.Time{}, false
	}
	if day.Before(start) {
		day, _ = FestivalDate(name, from.Year()+1)
	}
	return day, true
}
