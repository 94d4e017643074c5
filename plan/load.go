package plan

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/parser"

	"github.com/duban-dev/duban/org"
)

// ValidationError is one problem in a plan file, located at the YAML node of
// Field (or, for a missing field, at the mapping that should hold it).
type ValidationError struct {
	File    string `json:"file"`
	Line    int    `json:"line"`
	Column  int    `json:"column"`
	Field   string `json:"field,omitempty"` // e.g. sections[1].templates[3].due.date; indexes count from 0
	Message string `json:"message"`         // in Chinese, naming the bad value
}

// Error renders file:line:col: field: message.
func (e ValidationError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Column, e.Message)
	}
	return fmt.Sprintf("%s:%d:%d: %s: %s", e.File, e.Line, e.Column, e.Field, e.Message)
}

// ValidationErrors are every problem found in a plan file, in file order.
type ValidationErrors []ValidationError

// Error renders one error per line.
func (es ValidationErrors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Parse decodes a plan file strictly and validates it against the hierarchy.
// file names the file in error messages. On any problem it returns a nil plan
// and ValidationErrors listing all the problems it found, not just the first.
//
// The decoder walks goccy/go-yaml's AST itself instead of using its
// Unmarshal: that one stops at the first error, and converts scalars
// silently (year: "2021" becomes 2021, id: 2.10 becomes "2.1").
func Parse(file string, data []byte, h *org.Hierarchy) (*Plan, error) {
	astFile, err := parser.ParseBytes(data, 0, parser.AllowDuplicateMapKey())
	if err != nil {
		return nil, ValidationErrors{syntaxError(file, err)}
	}
	var docs int
	for _, d := range astFile.Docs {
		if d.Body != nil {
			docs++
		}
	}
	switch {
	case docs == 0:
		return nil, ValidationErrors{{File: file, Line: 1, Column: 1, Message: "计划文件为空"}}
	case docs > 1:
		second := astFile.Docs[1]
		line := 1
		if tk := second.Body.GetToken(); tk != nil {
			line = tk.Position.Line
		}
		return nil, ValidationErrors{{File: file, Line: line, Column: 1, Message: fmt.Sprintf("计划文件只能包含一个 YAML 文档，实有 %d 个", docs)}}
	}

	d := newDecoder(file)
	var p Plan
	d.decode("", astFile.Docs[0].Body, &p)
	v := &validator{d: d, p: &p, h: h}
	v.validate()

	errs := d.result()
	if len(errs) > 0 {
		return nil, errs
	}
	return &p, nil
}

// LoadFile reads a plan file and parses it.
func LoadFile(path string, h *org.Hierarchy) (*Plan, []byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read plan %s: %w", path, err)
	}
	p, err := Parse(path, data, h)
	if err != nil {
		return nil, data, err
	}
	return p, data, nil
}

func syntaxError(file string, err error) ValidationError {
	e := ValidationError{File: file, Line: 1, Column: 1, Message: "YAML 语法错误：" + err.Error()}
	var se *yaml.SyntaxError
	if errors.As(err, &se) {
		e.Message = "YAML 语法错误：" + se.Message
		if se.Token != nil && se.Token.Position != nil {
			e.Line, e.Column = se.Token.Position.Line, se.Token.Position.Column
		}
	}
	return e
}

// result returns the errors sorted by position, or nil.
func (d *decoder) result() ValidationErrors {
	if len(d.errs) == 0 {
		return nil
	}
	out := append(ValidationErrors(nil), d.errs...)
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Line != out[j].Line {
			return out[i].Line < out[j].Line
		}
		return out[i].Column < out[j].Column
	})
	return out
}
