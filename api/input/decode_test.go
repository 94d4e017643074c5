package input_test

import (
	"errors"
	"testing"

	"github.com/duban-dev/duban/api/input"
)

// A value of the wrong type deep in a list is named with its index, so a
// form with many rows can mark the right one.
func TestTypeErrorsNameTheListItem(t *testing.T) {
	type row struct {
		Target int   `json:"target"`
		Tags   []int `json:"tags"`
	}
	type req struct {
		Name string `json:"name"`
		Rows []row  `json:"rows"`
		Next *row   `json:"next"`
	}
	cases := map[string]string{
		`{"rows":[{"target":1},{"target":1e30}]}`:               "rows[1].target",
		`{"rows":[{"target":1},{"tags":[1,2]},{"target":"x"}]}`: "rows[2].target",
		`{"rows":[{"tags":[1,{"a":1}]}]}`:                       "rows[0].tags[1]",
		`{"name":"a","next":{"target":[1]}}`:                    "next.target",
		`{"name":7}`:                                            "name",
		`{"rows":[{"target":1}],"next":{"tags":"x"}}`:           "next.tags",
	}
	for body, want := range cases {
		var r req
		err := input.DecodeJSON([]byte(body), &r)
		var ie *input.Error
		if !errors.As(err, &ie) || len(ie.Fields) != 1 {
			t.Fatalf("%s: %v", body, err)
		}
		if got := ie.Fields[0].Field; got != want {
			t.Errorf("%s: field %q, want %q", body, got, want)
		}
	}
}
