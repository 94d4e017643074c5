package input

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/duban-dev/duban"
)

// RefuseControl refuses a request whose path (as handlers unescape it) or
// query holds a control character or invalid UTF-8, before any handler or
// query sees it: PostgreSQL refuses NUL, and no id, code or filter has one.
func RefuseControl(c *fiber.Ctx) error {
	raw := string(c.Request().URI().PathOriginal())
	if p, err := url.PathUnescape(raw); err == nil && duban.HasControl(p) {
		return Invalid("请求路径无效", FieldError{Field: "path", Message: "路径包含控制字符或无效编码"})
	}
	var errs []FieldError
	c.Request().URI().QueryArgs().VisitAll(func(k, v []byte) {
		key := string(k)
		switch {
		case duban.HasControl(key):
			errs = append(errs, FieldError{Field: "query", Message: "参数名包含控制字符或无效编码"})
		case duban.HasControl(string(v)):
			errs = append(errs, FieldError{Field: key, Message: "参数包含控制字符或无效编码"})
		}
	})
	if len(errs) > 0 {
		return Invalid("查询参数无效", errs...)
	}
	return c.Next()
}

// Keyset reads an opaque (time, id) cursor; ok is false when absent.
func Keyset(c string) (at time.Time, id string, ok bool, err error) {
	if c == "" {
		return time.Time{}, "", false, nil
	}
	bad := Invalid("分页游标无效", FieldError{Field: "cursor", Message: "分页游标无效，请从第一页重新开始"})
	if len(c) > 512 {
		return time.Time{}, "", false, bad
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return time.Time{}, "", false, bad
	}
	var parts []string
	if json.Unmarshal(b, &parts) != nil || len(parts) != 2 {
		return time.Time{}, "", false, bad
	}
	t, err := time.Parse(time.RFC3339Nano, parts[0])
	if err != nil || !duban.DateInRange(t) || duban.HasControl(parts[1]) || len(parts[1]) > 200 {
		return time.Time{}, "", false, bad
	}
	return t, parts[1], true, nil
}

// IDCursor reads a numeric cursor (an id); 0 when absent.
func IDCursor(c string) (int64, error) {
	if c == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(c, 10, 64)
	if err != nil || n <= 0 {
		return 0, Invalid("分页游标无效", FieldError{Field: "cursor", Message: "分页游标无效，请从第一页重新开始"})
	}
	return n, nil
}

// Limit reads ?limit= (1–200, default 50).
func Limit(c *fiber.Ctx) (int, error) {
	v := c.Query("limit")
	if v == "" {
		return 50, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 200 {
		return 0, Invalid("参数有误", FieldError{Field: "limit", Message: "每页条数应为 1 到 200 的整数"})
	}
	return n, nil
}

// BoolParam reads ?name=true|false; nil when absent.
func BoolParam(c *fiber.Ctx, name string) (*bool, error) {
	v := c.Query(name)
	if v == "" {
		return nil, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return nil, Invalid("参数有误", FieldError{Field: name, Message: "应为 true 或 false"})
	}
	return &b, nil
}

// IntParam reads ?name= as an integer within [min, max]; ok is false when
// absent.
func IntParam(c *fiber.Ctx, name string, min, max int) (int, bool, error) {
	v := c.Query(name)
	if v == "" {
		return 0, false, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < min || n > max {
		return 0, false, Invalid("参数有误", FieldError{Field: name, Message: fmt.Sprintf("应为 %d 到 %d 的整数", min, max)})
	}
	return n, true, nil
}

// DateParam reads a day (YYYY-MM-DD, the start of that day in Shanghai)
// or an RFC 3339 instant.
func DateParam(c *fiber.Ctx, name string) (*time.Time, error) {
	v := c.Query(name)
	if v == "" {
		return nil, nil
	}
	t, err := time.ParseInLocation("2006-01-02", v, duban.Shanghai)
	if err != nil {
		t, err = time.Parse(time.RFC3339, v)
	}
	if err != nil {
		return nil, Invalid("参数有误", FieldError{Field: name, Message: "日期格式应为 YYYY-MM-DD 或 RFC 3339 时间"})
	}
	if !duban.DateInRange(t) {
		return nil, Invalid("参数有误", FieldError{Field: name, Message: duban.DateRangeProblem()})
	}
	return &t, nil
}
