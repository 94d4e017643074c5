package duban_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/duban-dev/duban"
)

func TestTextProblemNamesWhatIsWrong(t *testing.T) {
	for _, c := range []struct {
		text      string
		max       int
		multiline bool
		want      string
	}{
		{"已起草方案", 10, false, ""},
		{"第一稿\n第二稿\t待审\r\n", 0, true, ""},
		{"第一稿\n第二稿", 0, false, "U+000A"},
		{"a\x00b", 0, true, "NUL"},
		{"\x1b[31m", 0, true, "U+001B"},
		{"next\u0085line", 0, true, "U+0085"},
		{"para\u2029graph", 0, true, "U+2029"},
		{"\xff\xfe", 0, true, "编码"},
		{"\ufffd", 0, true, "编码"},
		{strings.Repeat("长", 11), 10, false, "最多 10 个字"},
		{strings.Repeat("长", 10), 10, false, ""},
	} {
		got := duban.TextProblem(c.text, c.max, c.multiline)
		if c.want == "" {
			require.Empty(t, got, "%q", c.text)
		} else {
			require.Contains(t, got, c.want, "%q", c.text)
		}
	}
	require.True(t, duban.HasControl("4301\x00"))
	require.False(t, duban.HasControl("2021/2.1/430102"))
}

func TestDatesAreBounded(t *testing.T) {
	require.True(t, duban.DateInRange(duban.EndOfDay(2021, 12, 31)))
	require.True(t, duban.DateInRange(duban.EndOfDay(2100, 12, 31)))
	require.False(t, duban.DateInRange(duban.EndOfDay(2101, 1, 1)))
	require.False(t, duban.DateInRange(duban.EndOfDay(9999, 12, 31)))
	require.False(t, duban.DateInRange(time.Date(1999, 12, 31, 23, 59, 59, 0, duban.Shanghai)))
}
