package plan

import (
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/duban-dev/duban"
)

// Offset is a duban.Offset written as "3d" (calendar days) or "5wd" (working days).
type Offset duban.Offset

var offsetRE = regexp.MustCompile(`^(\d{1,3})(d|wd)$`)

// ParseOffset reads "3d" or "5wd".
func ParseOffset(s string) (Offset, error) {
	m := offsetRE.FindStringSubmatch(s)
	if m == nil {
		return Offset{}, fmt.Errorf("偏移量 %q 无效：应写作天数加 d（自然日）或 wd（工作日），如 3d、5wd", s)
	}
	n, _ := strconv.Atoi(m[1])
	return Offset{Days: n, Working: m[2] == "wd"}, nil
}

// String renders the offset as written.
func (o Offset) String() string {
	if o.Working {
		return fmt.Sprintf("%dwd", o.Days)
	}
	return fmt.Sprintf("%dd", o.Days)
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (o *Offset) UnmarshalText(b []byte) error {
	v, err := ParseOffset(string(b))
	if err != nil {
		return err
	}
	*o = v
	return nil
}

// MarshalText implements encoding.TextMarshaler.
func (o Offset) MarshalText() ([]byte, error) { return []byte(o.String()), nil }

// Duban converts to the domain type.
func (o Offset) Duban() duban.Offset { return duban.Offset(o) }

// Date is a calendar day written YYYY-MM-DD.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// ParseDate reads YYYY-MM-DD and rejects days that do not exist.
func ParseDate(s string) (Date, error) {
	t, err := time.ParseInLocation("2006-01-02", s, duban.Shanghai)
	if err != nil {
		return Date{}, fmt.Errorf("日期 %q 无效：应为存在的日期，格式 YYYY-MM-DD", s)
	}
	return Date{t.Year(), t.Month(), t.Day()}, nil
}

// IsZero reports whether the date is unset.
func (d Date) IsZero() bool { return d.Year == 0 }

// String renders YYYY-MM-DD.
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day)
}

// UnmarshalText implements encoding.TextUnmarshaler. Empty text is the zero
// date, which is how MarshalText writes it (a recurring template has none).
func (d *Date) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*d = Date{}
		return nil
	}
	v, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// MarshalText implements encoding.TextMarshaler.
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// InYear moves the date into another year, keeping month and day (29 Feb
// becomes 28 Feb in a common year).
func (d Date) InYear(year int) Date {
	if d.Month == time.February && d.Day == 29 {
		if time.Date(year, time.February, 29, 0, 0, 0, 0, time.UTC).Month() != time.February {
			return Date{year, time.February, 28}
		}
	}
	return Date{year, d.Month, d.Day}
}

// EndOfDay is 23:59:59 Asia/Shanghai on the date: when the deadline ends.
func (d Date) EndOfDay() time.Time { return duban.EndOfDay(d.Year, d.Month, d.Day) }
