package api

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/api/input"
)

// requestTypes are every JSON body the API decodes. A new request type
// belongs here, so the fuzzer drives it too.
func requestTypes() []any {
	return []any{
		new(progressRequest), new(submitRequest), new(decisionRequest), new(extensionRequest),
		new(extensionDecisionRequest), new(cancelRequest), new(launchRequest), new(unitRequest),
		new(unitPatch), new(userRequest), new(userPatch), new(bulkRequest), new(loginRequest),
		new(refreshRequest), new(passwordChange), new(markReadRequest),
	}
}

// hostile are the seeds: control characters, far dates, huge numbers,
// broken encodings, in the fields the requests have.
var hostile = []string{
	`{"note":"a\u0000b"}`, `{"note":"\u001b[31m","value":1}`, `{"reason":"\u0007","approve":false,"step":1}`,
	`{"new_due":"9999-12-31","reason":"x"}`, `{"new_due":"0001-01-01","reason":"x"}`, `{"new_due":"2021-02-30","reason":"x"}`,
	`{"value":99999999999999999999999,"base":-1}`, `{"value":1e308}`, `{"step":-9223372036854775808,"approve":true}`,
	`{"year":2147483648,"templates":["2.1\u0000"]}`, `{"username":"a\u0000","password":"p"}`, `{"username":"\ud800","password":"\udfff"}`,
	"{\"display_name\":\"\xff\xfe\",\"roles\":[\"official\"]}", `{"items":[{"instance_id":"x\u0000","step":1}]}`,
	`{"ids":[9223372036854775807,-1]}`, `{"code":"4301\u0085","name":"x","parent_code":"43"}`, `{"name":"\u2028"}`,
	`{"refresh_token":"\u0000"}`, `{"current_password":"x","new_password":"\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000"}`,
	`{"note":"` + strings.Repeat("长", 3000) + `"}`, `[]`, `null`, `"x"`, `{"note":{"nested":"\u0000"}}`,
}

// FuzzDecodeRequests drives every JSON decoder of the API: whatever the
// body, the answer is a problem a client can act on (never an internal
// error), and an accepted body holds no control character and no far date.
// `go test` runs its seeds; fuzzing it builds the whole API test binary
// (with the embedded Temporal server) instrumented, which takes long, so
// `make test` fuzzes the decoder itself in package input instead.
func FuzzDecodeRequests(f *testing.F) {
	for _, s := range hostile {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, v := range requestTypes() {
			err := decodeJSONBytes(body, v)
			if err != nil {
				var inv *input.Error
				var de *duban.Error
				if !errors.As(err, &inv) && !errors.As(err, &de) {
					t.Fatalf("%T: %q gave an internal error: %v", v, body, err)
				}
				if de != nil && de.Code == duban.EINTERNAL {
					t.Fatalf("%T: %q gave an internal error: %v", v, body, err)
				}
				continue
			}
			requireClean(t, reflect.ValueOf(v), body)
		}
	})
}

// requireClean fails on any string holding NUL (or any control character
// other than a line break or tab) and any date outside the range, in a
// value a decoder accepted. It does not trust checkValues.
func requireClean(t *testing.T, v reflect.Value, body []byte) {
	t.Helper()
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			requireClean(t, v.Elem(), body)
		}
	case reflect.String:
		for _, r := range v.String() {
			if r == 0 || (r < 0x20 && r != '\n' && r != '\r' && r != '\t') || (r >= 0x7f && r < 0xa0) {
				t.Fatalf("accepted %q holding U+%04X", body, r)
			}
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			requireClean(t, v.Index(i), body)
		}
	case reflect.Struct:
		if d, ok := v.Interface().(input.Date); ok {
			if !d.IsZero() && !duban.DateInRange(d.Time) {
				t.Fatalf("accepted %q with date %s", body, d.Time)
			}
			return
		}
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				requireClean(t, v.Field(i), body)
			}
		}
	}
}
