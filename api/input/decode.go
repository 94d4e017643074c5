package input

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/duban-dev/duban"
)

// DecodeJSON reads a JSON body strictly into v: a single value, every field
// known and of the right type, no string holding a control character (a
// field tagged `text:"multiline"` may hold line breaks and tabs) and no
// date outside Duban's range. Every failure names what is wrong.
func DecodeJSON(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return Malformed("请求体为空，应为 JSON 对象")
	}
	// Unknown fields are found first, all of them, with their paths.
	var raw json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		return jsonProblem(body, err)
	}
	if unknown := unknownFields(raw, reflect.TypeOf(v), ""); len(unknown) > 0 {
		return Invalid("请求包含未知字段", unknown...)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		return jsonProblem(body, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Malformed("JSON 值之后还有多余内容")
	}
	// What no field may hold, whatever the request: control characters
	// (NUL above all, which PostgreSQL refuses) and far dates.
	if errs := CheckValues(reflect.ValueOf(v), ""); len(errs) > 0 {
		return Invalid("请求包含无效内容", errs...)
	}
	return nil
}

func jsonProblem(body []byte, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return Malformed(fmt.Sprintf("JSON 语法错误（第 %d 字节附近）", syn.Offset))
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return Malformed("JSON 不完整")
	case errors.As(err, &typ):
		field := typ.Field
		// The decoder names the field without array indexes
		// ("items.step"); the path at the error's offset has them.
		if at := pathAt(body, typ.Offset); at != "" && indexRE.ReplaceAllString(at, "") == field {
			field = at
		}
		if field == "" {
			return Invalid("请求体应为 JSON 对象", FieldError{Field: "", Message: "应为 JSON 对象"})
		}
		return Invalid("字段类型错误", FieldError{Field: field, Message: "应为" + jsonTypeName(typ.Type)})
	}
	var de *duban.Error
	if errors.As(err, &de) {
		return err
	}
	// A field's own UnmarshalJSON (a date) refused the value.
	return Malformed("JSON 内容无法解析")
}

// pathAt names the value of body that ends at (or, for an object or array,
// starts just before) byte offset off, with array indexes:
// "proposals[1].target". It returns "" when body cannot be walked there.
func pathAt(body []byte, off int64) string {
	type frame struct {
		array   bool
		index   int
		key     string
		wantKey bool
	}
	var stack []frame
	path := func() string {
		var b strings.Builder
		for _, f := range stack {
			switch {
			case f.array:
				b.WriteString("[" + strconv.Itoa(f.index) + "]")
			case f.key != "":
				if b.Len() > 0 {
					b.WriteByte('.')
				}
				b.WriteString(f.key)
			}
		}
		return b.String()
	}
	valueStarts := func() {
		if n := len(stack); n > 0 && stack[n-1].array {
			stack[n-1].index++
		}
	}
	valueEnds := func() {
		if n := len(stack); n > 0 && !stack[n-1].array {
			stack[n-1].wantKey = true
		}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	for {
		tok, err := dec.Token()
		if err != nil {
			return ""
		}
		if d, ok := tok.(json.Delim); ok {
			switch d {
			case '{', '[':
				valueStarts()
				if dec.InputOffset() >= off {
					return path()
				}
				stack = append(stack, frame{array: d == '[', index: -1, wantKey: d == '{'})
			case '}', ']':
				if len(stack) == 0 {
					return ""
				}
				stack = stack[:len(stack)-1]
				valueEnds()
			}
			continue
		}
		if n := len(stack); n > 0 && !stack[n-1].array && stack[n-1].wantKey {
			stack[n-1].key, _ = tok.(string)
			stack[n-1].wantKey = false
			continue
		}
		valueStarts()
		if dec.InputOffset() >= off {
			return path()
		}
		valueEnds()
	}
}

var indexRE = regexp.MustCompile(`\[\d+\]`)

func jsonTypeName(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == reflect.TypeOf(time.Time{}) || t == reflect.TypeOf(Date{}) {
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
func unknownFields(raw json.RawMessage, t reflect.Type, path string) []FieldError {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		if t == reflect.TypeOf(time.Time{}) || t == reflect.TypeOf(Date{}) {
			return nil
		}
		var obj map[string]json.RawMessage
		if json.Unmarshal(raw, &obj) != nil {
			return nil // not an object: the decoder reports the type
		}
		fields := jsonFields(t)
		var out []FieldError
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			i, ok := fields[k]
			name := join(path, k)
			if !ok {
				out = append(out, FieldError{Field: name, Message: "未知字段"})
				continue
			}
			out = append(out, unknownFields(obj[k], t.Field(i).Type, name)...)
		}
		return out
	case reflect.Slice:
		var arr []json.RawMessage
		if json.Unmarshal(raw, &arr) != nil {
			return nil
		}
		var out []FieldError
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

// jsonFields maps the JSON names of a struct's fields to their indexes.
func jsonFields(t reflect.Type) map[string]int {
	out := map[string]int{}
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
		out[name] = i
	}
	return out
}

// CheckValues walks a decoded request and names every string that holds a
// control character or invalid UTF-8, and every date outside Duban's range.
// A string field tagged `text:"multiline"` may hold line breaks and tabs.
func CheckValues(v reflect.Value, path string) []FieldError {
	return checkValue(v, path, false)
}

func checkValue(v reflect.Value, path string, multiline bool) []FieldError {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return checkValue(v.Elem(), path, multiline)
	case reflect.String:
		if msg := duban.TextProblem(v.String(), 0, multiline); msg != "" {
			return []FieldError{{Field: path, Message: msg}}
		}
	case reflect.Slice, reflect.Array:
		var out []FieldError
		for i := 0; i < v.Len(); i++ {
			out = append(out, checkValue(v.Index(i), path+"["+strconv.Itoa(i)+"]", multiline)...)
		}
		return out
	case reflect.Map:
		var out []FieldError
		iter := v.MapRange()
		for iter.Next() {
			k := iter.Key()
			name := join(path, fmt.Sprint(k.Interface()))
			if k.Kind() == reflect.String && duban.HasControl(k.String()) {
				out = append(out, FieldError{Field: path, Message: "字段名包含控制字符"})
				continue
			}
			out = append(out, checkValue(iter.Value(), name, multiline)...)
		}
		return out
	case reflect.Struct:
		switch t := v.Interface().(type) {
		case Date:
			return checkDate(t.Time, path)
		case time.Time:
			return checkDate(t, path)
		}
		var out []FieldError
		fields := jsonFields(v.Type())
		names := make([]string, 0, len(fields))
		for name := range fields {
			names = append(names, name)
		}
		slices.SortFunc(names, func(a, b string) int { return fields[a] - fields[b] })
		for _, name := range names {
			i := fields[name]
			multiline := v.Type().Field(i).Tag.Get("text") == "multiline"
			out = append(out, checkValue(v.Field(i), join(path, name), multiline)...)
		}
		return out
	}
	return nil
}

func checkDate(t time.Time, path string) []FieldError {
	if t.IsZero() || duban.DateInRange(t) {
		return nil
	}
	return []FieldError{{Field: path, Message: duban.DateRangeProblem()}}
}

// Date is a calendar day in a request, "2021-12-31", read in Asia/Shanghai.
type Date struct{ time.Time }

func (d *Date) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return &json.UnmarshalTypeError{Value: "non-string", Type: reflect.TypeOf(Date{})}
	}
	t, err := time.ParseInLocation("2006-01-02", s, duban.Shanghai)
	if err != nil {
		// The decoder adds the field's path to a type error.
		return &json.UnmarshalTypeError{Value: "string", Type: reflect.TypeOf(Date{})}
	}
	d.Time = t
	return nil
}
