// Package input reads what a client sends the API and says precisely what
// is wrong with it: strict JSON bodies, path and query parameters, and the
// field-level errors the API turns into problem documents. It holds the
// rules every request shares (no control characters anywhere, dates within
// Duban's range, bounded numbers); each request type adds its own.
//
// It depends on fiber and the domain only, so its fuzz tests build and run
// in seconds.
package input

import (
	"fmt"

	"github.com/duban-dev/duban"
)

// CodeMalformed is the problem code of a body that is not JSON at all
// (400); every other input error is duban.EINVALID (422) unless a caller
// chooses another code.
const CodeMalformed = "malformed_json"

// FieldError names one wrong input. Line and Column locate it in an
// uploaded file (a plan).
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
	Line    int    `json:"line,omitempty"`
	Column  int    `json:"column,omitempty"`
}

// Error is an input failure naming one or more fields.
type Error struct {
	Code    string // duban.EINVALID, CodeMalformed, or another problem code
	Message string
	Fields  []FieldError
}

func (e *Error) Error() string { return fmt.Sprintf("%s: %s %v", e.Code, e.Message, e.Fields) }

// Invalid is a 422 naming the fields that are wrong.
func Invalid(message string, fields ...FieldError) error {
	return &Error{Code: duban.EINVALID, Message: message, Fields: fields}
}

// Malformed is a 400: the body could not be read at all.
func Malformed(message string) error {
	return &Error{Code: CodeMalformed, Message: message}
}
