package duban

import (
	"fmt"
	"time"
	"unicode"
	"unicode/utf8"
)

// Limits on what a person may type, shared by the API's request checks and
// the workflow's validators: what passes both can always be stored.
const (
	MaxNoteLength   = 2000 // progress and submission notes, in characters
	MaxReasonLength = 1000 // reasons for a return, an extension, a cancellation
	MaxNameLength   = 120  // names of people, units and files
	// MaxCount bounds counts and bases (trainings held, villages covered):
	// far above any real figure, far below what a 32-bit column holds.
	MaxCount = 1_000_000
	// MaxEvidence bounds the files one task may carry over its whole life.
	MaxEvidence = 200
	// MaxExtensionDays bounds how far one extension may move a deadline.
	MaxExtensionDays = 366
	// MaxApprovalSteps bounds an approval chain.
	MaxApprovalSteps = 20
)

// Dates Duban accepts anywhere: a plan year, a deadline, an extension, a
// filter. Outside them a date is a typing error, and some (past 9999) could
// not even be encoded.
var (
	MinDate = time.Date(2000, 1, 1, 0, 0, 0, 0, Shanghai)
	MaxDate = EndOfDay(2100, 12, 31)
)

// DateInRange reports whether t lies within MinDate and MaxDate.
func DateInRange(t time.Time) bool { return !t.Before(MinDate) && !t.After(MaxDate) }

// DateRangeProblem is the message for a date outside the range.
func DateRangeProblem() string {
	return fmt.Sprintf("日期应在 %s 到 %s 之间", MinDate.Format("2006-01-02"), MaxDate.Format("2006-01-02"))
}

// TextProblem says what is wrong with a text a person typed, or "" when it
// is fine: invalid UTF-8, a control character (a multi-line text may hold
// line breaks and tabs; nothing may hold NUL), or more than max characters
// (max ≤ 0: no limit). PostgreSQL refuses NUL in text and JSON, so a text
// that passes can always be written.
func TextProblem(s string, max int, multiline bool) string {
	if !utf8.ValidString(s) {
		return "包含无效的字符编码"
	}
	for _, r := range s {
		if r == utf8.RuneError {
			return "包含无效的字符编码"
		}
		if multiline && (r == '\n' || r == '\r' || r == '\t') {
			continue
		}
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || (r >= 0xFFFE && r <= 0xFFFF) {
			if r == 0 {
				return "包含空字符（NUL），请删除后重试"
			}
			return fmt.Sprintf("包含控制字符（U+%04X），请删除后重试", r)
		}
	}
	if max > 0 && utf8.RuneCountInString(s) > max {
		return fmt.Sprintf("最多 %d 个字", max)
	}
	return ""
}

// HasControl reports whether s holds a control character or invalid UTF-8:
// what no single-line value (an id, a code, a username, a filter) may hold.
func HasControl(s string) bool { return TextProblem(s, 0, false) != "" }
