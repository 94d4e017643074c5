package api

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/store"
)

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }

// validator is implemented by request bodies that check themselves after
// decoding: required fields, ranges.
type validator interface{ validate() error }

// decodeJSON reads a JSON request body strictly into v: the content type
// must be JSON, the body a single value within the size limit, every field
// known and of the right type; then v validates itself. Every failure is a
// problem document naming what is wrong.
func (s *server) decodeJSON(c *fiber.Ctx, v any) error {
	mt, _, err := mime.ParseMediaType(c.Get(fiber.HeaderContentType))
	if err != nil || (mt != fiber.MIMEApplicationJSON && !strings.HasSuffix(mt, "+json")) {
		return apiError(codeMediaType, "请求体须为 JSON（Content-Type: application/json）")
	}
	body := c.Body()
	if len(body) > s.lim.JSONLimit {
		return apiError(codeTooLarge, "请求体超过 %d 字节", s.lim.JSONLimit)
	}
	return decodeJSONBytes(body, v)
}

func decodeJSONBytes(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return malformed("请求体为空，应为 JSON 对象")
	}
	// Unknown fields are found first, all of them, with their paths.
	var raw json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		return jsonProblem(body, err)
	}
	if unknown := unknownFields(raw, reflect.TypeOf(v), ""); len(unknown) > 0 {
		return invalid("请求包含未知字段", unknown...)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		return jsonProblem(body, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return malformed("JSON 值之后还有多余内容")
	}
	if val, ok := v.(validator); ok {
		return val.validate()
	}
	return nil
}

func jsonProblem(body []byte, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return malformed(fmt.Sprintf("JSON 语法错误（第 %d 字节附近）", syn.Offset))
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return malformed("JSON 不完整")
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return invalid("请求体应为 JSON 对象", fieldError{Field: "", Message: "应为 JSON 对象"})
		}
		return invalid("字段类型错误", fieldError{Field: field, Message: "应为" + jsonTypeName(typ.Type)})
	}
	var de *duban.Error
	if errors.As(err, &de) {
		return err
	}
	// A field's own UnmarshalJSON (a date) refused the value.
	return malformed("JSON 内容无法解析")
}

func jsonTypeName(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == reflect.TypeOf(time.Time{}) || t == reflect.TypeOf(date{}) {
		return "日期字符串（YYYY-MM-DD）"
	}
	switch t.Kind() {
	case reflect.Bool:
		return "布尔值（true 或 false）"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "整数"
	case reflect.Float32, reflect.Float64:
		return "数字"
	case reflect.String:
		return "字符串"
	case reflect.Slice, reflect.Array:
		return "数组"
	case reflect.Struct, reflect.Map:
		return "对象"
	}
	return t.String()
}

// unknownFields walks raw JSON against a Go type and returns every object
// key the type has no field for.
func unknownFields(raw json.RawMessage, t reflect.Type, path string) []fieldError {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		if t == reflect.TypeOf(time.Time{}) || t == reflect.TypeOf(date{}) {
			return nil
		}
		var obj map[string]json.RawMessage
		if json.Unmarshal(raw, &obj) != nil {
			return nil // not an object: the decoder reports the type
		}
		fields := jsonFields(t)
		var out []fieldError
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			ft, ok := fields[k]
			name := join(path, k)
			if !ok {
				out = append(out, fieldError{Field: name, Message: "未知字段"})
				continue
			}
			out = append(out, unknownFields(obj[k], ft, name)...)
		}
		return out
	case reflect.Slice:
		var arr []json.RawMessage
		if json.Unmarshal(raw, &arr) != nil {
			return nil
		}
		var out []fieldError
		for i, el := range arr {
			out = append(out, unknownFields(el, t.Elem(), path+"["+strconv.Itoa(i)+"]")...)
		}
		return out
	}
	return nil
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}

// date is a calendar day in a request, "2021-12-31".
type date struct{ time.Time }

func (d *date) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return &json.UnmarshalTypeError{Value: "non-string", Type: reflect.TypeOf(date{})}
	}
	t, err := time.ParseInLocation("2006-01-02", s, duban.Shanghai)
	if err != nil {
		// The decoder adds the field's path to a type error.
		return &json.UnmarshalTypeError{Value: "string", Type: reflect.TypeOf(date{})}
	}
	d.Time = t
	return nil
}

// list is a page of a keyset-paginated list.
type list[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

func page[T any](items []T, limit int, cursorOf func(T) string) list[T] {
	out := list[T]{Items: items}
	if len(items) > limit {
		out.Items = items[:limit]
		next := cursorOf(items[limit-1])
		out.NextCursor = &next
	}
	if out.Items == nil {
		out.Items = []T{}
	}
	return out
}

// keysetCursor encodes a (time, id) position opaquely.
func keysetCursor(at time.Time, id string) string {
	b, _ := json.Marshal([]string{at.UTC().Format(time.RFC3339Nano), id})
	return base64.RawURLEncoding.EncodeToString(b)
}

func parseKeyset(c string) (*store.Keyset, error) {
	if c == "" {
		return nil, nil
	}
	bad := invalid("分页游标无效", fieldError{Field: "cursor", Message: "分页游标无效，请从第一页重新开始"})
	if len(c) > 512 {
		return nil, bad
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return nil, bad
	}
	var parts []string
	if json.Unmarshal(b, &parts) != nil || len(parts) != 2 {
		return nil, bad
	}
	t, err := time.Parse(time.RFC3339Nano, parts[0])
	if err != nil {
		return nil, bad
	}
	return &store.Keyset{At: t, ID: parts[1]}, nil
}

func idCursor(id int64) string { return strconv.FormatInt(id, 10) }

func parseIDCursor(c string) (int64, error) {
	if c == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(c, 10, 64)
	if err != nil || n <= 0 {
		return 0, invalid("分页游标无效", fieldError{Field: "cursor", Message: "分页游标无效，请从第一页重新开始"})
	}
	return n, nil
}

// limitParam reads ?limit= (1–200, default 50).
func limitParam(c *fiber.Ctx) (int, error) {
	v := c.Query("limit")
	if v == "" {
		return 50, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 200 {
		return 0, invalid("参数有误", fieldError{Field: "limit", Message: "每页条数应为 1 到 200 的整数"})
	}
	return n, nil
}

func boolParam(c *fiber.Ctx, name string) (*bool, error) {
	v := c.Query(name)
	if v == "" {
		return nil, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return nil, invalid("参数有误", fieldError{Field: name, Message: "应为 true 或 false"})
	}
	return &b, nil
}

func intParam(c *fiber.Ctx, name string, min, max int) (int, bool, error) {
	v := c.Query(name)
	if v == "" {
		return 0, false, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < min || n > max {
		return 0, false, invalid("参数有误", fieldError{Field: name, Message: fmt.Sprintf("应为 %d 到 %d 的整数", min, max)})
	}
	return n, true, nil
}

// dateParam reads a day (YYYY-MM-DD, the start of that day in Shanghai)
// or an RFC 3339 instant.
func dateParam(c *fiber.Ctx, name string) (*time.Time, error) {
	v := c.Query(name)
	if v == "" {
		return nil, nil
	}
	if t, err := time.ParseInLocation("2006-01-02", v, duban.Shanghai); err == nil {
		return &t, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return &t, nil
	}
	return nil, invalid("参数有误", fieldError{Field: name, Message: "日期格式应为 YYYY-MM-DD 或 RFC 3339 时间"})
}
