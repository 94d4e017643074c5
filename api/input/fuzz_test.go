package input_test

import (
	"errors"
	"io"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/api/input"
)

// The shapes the API's requests are made of: single-line and multi-line
// texts, optional numbers, booleans and days, lists, nested objects.
type item struct {
	InstanceID string `json:"instance_id"`
	Step       *int   `json:"step"`
}

type request struct {
	Username string      `json:"username"`
	Note     string      `json:"note" text:"multiline"`
	Reason   string      `json:"reason" text:"multiline"`
	Value    *int        `json:"value"`
	Approve  *bool       `json:"approve"`
	NewDue   *input.Date `json:"new_due"`
	Year     int         `json:"year"`
	IDs      []int64     `json:"ids"`
	Roles    []string    `json:"roles"`
	Items    []item      `json:"items"`
	Name     *string     `json:"name"`
}

// hostile are the seeds: control characters, far dates, huge numbers,
// broken encodings.
var hostile = []string{
	`{"note":"a\u0000b"}`, `{"note":"\u001b[31m","value":1}`, `{"reason":"\u0007","approve":false}`,
	`{"new_due":"9999-12-31","reason":"x"}`, `{"new_due":"0001-01-01"}`, `{"new_due":"2021-02-30"}`,
	`{"value":99999999999999999999999}`, `{"value":1e308}`, `{"year":-9223372036854775808}`,
	`{"roles":["official\u0000"]}`, `{"username":"a\u0000"}`, `{"username":"\ud800"}`,
	"{\"name\":\"\xff\xfe\"}", `{"items":[{"instance_id":"x\u0000","step":1}]}`, `{"items":[{"stepp":1}]}`,
	`{"ids":[9223372036854775807,-1]}`, `{"name":"4301\u0085"}`, `{"name":"\u2028"}`,
	`{"note":"line one\nline two\ttabbed"}`, `{"username":"line\nbreak"}`,
	`{"note":"` + strings.Repeat("长", 3000) + `"}`, `[]`, `null`, `"x"`, `{"note":{"nested":"\u0000"}}`, `{"a":1}{}`,
}

// FuzzDecodeJSON: whatever the body, DecodeJSON answers with an input
// error (never anything else), and a body it accepts holds no NUL or other
// control character (but line breaks and tabs in multi-line fields) and no
// date outside Duban's range.
func FuzzDecodeJSON(f *testing.F) {
	for _, s := range hostile {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var req request
		err := input.DecodeJSON(body, &req)
		if err != nil {
			var ie *input.Error
			var de *duban.Error
			if !errors.As(err, &ie) && !errors.As(err, &de) {
				t.Fatalf("%q: not an input error: %v", body, err)
			}
			return
		}
		RequireClean(t, reflect.ValueOf(req), false, body)
	})
}

// RequireClean fails on a string holding a control character (a line
// break or tab only where multiline) and on a day outside the range. It
// does not trust the code under test.
func RequireClean(t *testing.T, v reflect.Value, multiline bool, body []byte) {
	t.Helper()
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			RequireClean(t, v.Elem(), multiline, body)
		}
	case reflect.String:
		for _, r := range v.String() {
			if multiline && (r == '\n' || r == '\r' || r == '\t') {
				continue
			}
			if r < 0x20 || (r >= 0x7f && r < 0xa0) || r == 0xFFFD {
				t.Fatalf("accepted %q holding U+%04X", body, r)
			}
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			RequireClean(t, v.Index(i), multiline, body)
		}
	case reflect.Struct:
		if d, ok := v.Interface().(input.Date); ok {
			if d.Before(duban.MinDate) || d.After(duban.MaxDate) {
				t.Fatalf("accepted %q with day %s", body, d.Time)
			}
			return
		}
		for i := 0; i < v.NumField(); i++ {
			RequireClean(t, v.Field(i), v.Type().Field(i).Tag.Get("text") == "multiline", body)
		}
	}
}

// FuzzQueryParameters drives the path and query checks and every query
// parameter parser: the answer is 200 or a 4xx problem, never a 5xx, and
// what is accepted is in range and free of control characters.
func FuzzQueryParameters(f *testing.F) {
	for _, seed := range [][2]string{
		{"/api/v1/tasks", "limit=50&from=2021-01-01&cursor="},
		{"/api/v1/tasks/%00", "plan=a%00b"},
		{"/api/v1/x%2500", "limit=99999999999999999999&year=-1"},
		{"/api/v1/tasks", "from=9999-12-31&to=0001-01-01T00:00:00Z"},
		{"/api/v1/tasks", "cursor=%ff%fe&after=%C0%80"},
		{"/api/v1/tasks", "overdue=maybe&level=%1b"},
		{"/api/v1/%e4%b8", "q=%E2%80%A8"},
		{"/api/v1/tasks", "cursor=WyIxOTk5LTAxLTAxVDAwOjAwOjAwWiIsIngiXQ&year=2021"},
		{"/api/v1/tasks", "cursor=WyIyMDIxLTAxLTAxVDAwOjAwOjAwWiIsIlx1MDAwMCJd"},
	} {
		f.Add(seed[0], seed[1])
	}
	app := fiber.New(fiber.Config{DisableStartupMessage: true, ErrorHandler: func(c *fiber.Ctx, err error) error {
		var ie *input.Error
		if errors.As(err, &ie) {
			return c.Status(422).SendString(ie.Message)
		}
		var fe *fiber.Error
		if errors.As(err, &fe) {
			return c.Status(fe.Code).SendString(fe.Message)
		}
		return c.Status(500).SendString(err.Error())
	}})
	app.Use(input.RefuseControl)
	app.Get("/*", func(c *fiber.Ctx) error {
		if _, err := input.Limit(c); err != nil {
			return err
		}
		for _, name := range []string{"from", "to"} {
			d, err := input.DateParam(c, name)
			if err != nil {
				return err
			}
			if d != nil && !duban.DateInRange(*d) {
				return c.Status(599).SendString("date out of range accepted")
			}
		}
		if _, _, err := input.IntParam(c, "year", 2000, 2100); err != nil {
			return err
		}
		if _, err := input.BoolParam(c, "overdue"); err != nil {
			return err
		}
		at, id, ok, err := input.Keyset(c.Query("cursor"))
		if err != nil {
			return err
		}
		if ok && (!duban.DateInRange(at) || duban.HasControl(id)) {
			return c.Status(599).SendString("bad cursor accepted")
		}
		if _, err := input.IDCursor(c.Query("after")); err != nil {
			return err
		}
		path, _ := url.PathUnescape(c.Params("*"))
		for _, v := range []string{c.Query("plan"), c.Query("level"), c.Query("q"), path} {
			if duban.HasControl(v) {
				return c.Status(599).SendString("control character accepted")
			}
		}
		return c.SendStatus(200)
	})
	f.Fuzz(func(t *testing.T, path, query string) {
		if !strings.HasPrefix(path, "/") || strings.ContainsAny(path, " ?#\r\n\x00") || strings.ContainsAny(query, " #\r\n\x00") {
			return // not a request line a client can send
		}
		target := path
		if query != "" {
			target += "?" + query
		}
		if _, err := url.ParseRequestURI(target); err != nil {
			return
		}
		req := httptest.NewRequest("GET", target, nil)
		res, err := app.Test(req, int((5 * time.Second).Milliseconds()))
		if err != nil {
			return // refused by the HTTP parser itself
		}
		if res.StatusCode >= 500 {
			b, _ := io.ReadAll(res.Body)
			t.Fatalf("GET %s answered %d: %s", target, res.StatusCode, b)
		}
	})
}
