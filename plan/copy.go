package plan

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// copyDate is a date in a plan file (YYYY-MM-DD, as the format writes every
// date).
var copyDate = regexp.MustCompile(`\b(\d{4})-(\d{2})-(\d{2})\b`)

// CopyToYear rewrites a plan file for another year under a new id: the
// plan's id and year, the year in its title, and every date moved by the
// difference in years (29 February to the 28th where the new year has none).
// Comment lines stay as written (they quote the notice the plan was read
// from); one line at the top says where the copy came from. The result is
// a plan file to check and import like any other; the caller validates it.
func CopyToYear(src []byte, fromID string, fromYear int, toID string, toYear int) ([]byte, error) {
	if !planIDRE.MatchString(toID) {
		return nil, fmt.Errorf("plan id %q: want lower-case letters, digits and hyphens", toID)
	}
	delta := toYear - fromYear
	var out bytes.Buffer
	fmt.Fprintf(&out, "# 由计划 %s（%d 年）复制到 %d 年：日期顺延 %d 年，请逐项核对后导入、下达。\n", fromID, fromYear, toYear, delta)
	seen := map[string]bool{}
	for _, line := range strings.SplitAfter(string(src), "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "#") || trimmed == "" {
			out.WriteString(line)
			continue
		}
		switch key, _, _ := strings.Cut(line, ":"); key {
		case "plan":
			line, seen["plan"] = "plan: "+toID+"\n", true
		case "year":
			line, seen["year"] = "year: "+strconv.Itoa(toYear)+"\n", true
		case "title":
			line = strings.ReplaceAll(line, strconv.Itoa(fromYear), strconv.Itoa(toYear))
		}
		line = copyDate.ReplaceAllStringFunc(line, func(d string) string {
			t, err := time.Parse(time.DateOnly, d)
			if err != nil {
				return d
			}
			y, m, day := t.Year()+delta, t.Month(), t.Day()
			if m == time.February && day == 29 && time.Date(y, time.March, 0, 0, 0, 0, 0, time.UTC).Day() == 28 {
				day = 28
			}
			return time.Date(y, m, day, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
		})
		out.WriteString(line)
	}
	if !seen["plan"] || !seen["year"] {
		return nil, fmt.Errorf("the plan file has no top-level plan: or year: line")
	}
	return out.Bytes(), nil
}
