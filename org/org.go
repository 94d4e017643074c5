// Package org holds the administrative hierarchy: units, their parents and
// children, and subtree questions answered by code prefix.
package org

import (
	"bytes"
	_ "embed"
	"encoding/csv"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/duban-dev/duban"
)

//go:embed data/hunan-divisions.csv
var hunanCSV []byte

// Unit is one org unit (a family planning association at one division).
type Unit struct {
	Code       string      `json:"code"`
	Name       string      `json:"name"`
	Level      duban.Level `json:"level"`
	ParentCode string      `json:"parent_code,omitempty"`
}

// IsZone reports whether a code is a development or management zone
// (经济技术开发区、高新区、管理区、示范区): a county-level code whose fifth
// digit is 7 (43xx7x), as the national division codes number them.
func IsZone(code string) bool {
	return len(code) == duban.LevelCounty.CodeLength() && code[4] == '7'
}

// Hierarchy is an immutable tree of units, indexed by code.
type Hierarchy struct {
	units    map[string]*Unit
	children map[string][]string
	root     string
	byLevel  map[duban.Level][]string
}

// Hunan returns the shipped hierarchy of Hunan province (1 province,
// 14 cities, 134 county-level units, 2008 townships).
func Hunan() *Hierarchy {
	h, err := Load(bytes.NewReader(hunanCSV))
	if err != nil {
		panic("embedded division data is invalid: " + err.Error())
	}
	return h
}

// Load reads a CSV with the columns code,name,level,parent_code.
func Load(r io.Reader) (*Hierarchy, error) {
	cr := csv.NewReader(r)
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("read header: %w", err)
	}
	want := []string{"code", "name", "level", "parent_code"}
	if strings.Join(header, ",") != strings.Join(want, ",") {
		return nil, fmt.Errorf("header is %q, want %q", strings.Join(header, ","), strings.Join(want, ","))
	}
	var units []Unit
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		line, _ := cr.FieldPos(0)
		u := Unit{Code: rec[0], Name: rec[1], Level: duban.Level(rec[2]), ParentCode: rec[3]}
		if !u.Level.Valid() {
			return nil, fmt.Errorf("line %d: unknown level %q", line, rec[2])
		}
		units = append(units, u)
	}
	return New(units)
}

// New builds a hierarchy and checks it: unique codes, codes whose length fits
// the level, parents that exist one level up and prefix their children.
func New(units []Unit) (*Hierarchy, error) {
	h := &Hierarchy{
		units:    make(map[string]*Unit, len(units)),
		children: make(map[string][]string),
		byLevel:  make(map[duban.Level][]string),
	}
	for i := range units {
		u := units[i]
		if _, dup := h.units[u.Code]; dup {
			return nil, fmt.Errorf("unit %s appears twice", u.Code)
		}
		if len(u.Code) != u.Level.CodeLength() {
			return nil, fmt.Errorf("unit %s: code length %d does not fit level %s", u.Code, len(u.Code), u.Level)
		}
		h.units[u.Code] = &u
	}
	for _, u := range h.units {
		if u.ParentCode == "" {
			if h.root != "" {
				return nil, fmt.Errorf("two roots: %s and %s", h.root, u.Code)
			}
			h.root = u.Code
			continue
		}
		p, ok := h.units[u.ParentCode]
		if !ok {
			return nil, fmt.Errorf("unit %s: parent %s does not exist", u.Code, u.ParentCode)
		}
		if p.Level.Depth()+1 != u.Level.Depth() || !strings.HasPrefix(u.Code, p.Code) {
			return nil, fmt.Errorf("unit %s: parent %s is not one level up with a prefix code", u.Code, p.Code)
		}
		h.children[p.Code] = append(h.children[p.Code], u.Code)
	}
	if h.root == "" {
		return nil, fmt.Errorf("no root unit")
	}
	for code, u := range h.units {
		h.byLevel[u.Level] = append(h.byLevel[u.Level], code)
	}
	for _, list := range h.children {
		sort.Strings(list)
	}
	for _, list := range h.byLevel {
		sort.Strings(list)
	}
	return h, nil
}

// Root is the top unit (the province).
func (h *Hierarchy) Root() Unit { return *h.units[h.root] }

// Len is the number of units.
func (h *Hierarchy) Len() int { return len(h.units) }

// Get returns the unit with the code.
func (h *Hierarchy) Get(code string) (Unit, bool) {
	u, ok := h.units[code]
	if !ok {
		return Unit{}, false
	}
	return *u, true
}

// Parent returns the unit above, if any.
func (h *Hierarchy) Parent(code string) (Unit, bool) {
	u, ok := h.units[code]
	if !ok || u.ParentCode == "" {
		return Unit{}, false
	}
	return h.Get(u.ParentCode)
}

// Children returns the units directly below, sorted by code.
func (h *Hierarchy) Children(code string) []Unit {
	out := make([]Unit, 0, len(h.children[code]))
	for _, c := range h.children[code] {
		out = append(out, *h.units[c])
	}
	return out
}

// AtLevel returns every unit at a level, sorted by code.
func (h *Hierarchy) AtLevel(l duban.Level) []Unit {
	out := make([]Unit, 0, len(h.byLevel[l]))
	for _, c := range h.byLevel[l] {
		out = append(out, *h.units[c])
	}
	return out
}

// CountAtLevel returns how many units sit at a level.
func (h *Hierarchy) CountAtLevel(l duban.Level) int { return len(h.byLevel[l]) }

// CountBelow returns how many units at level l lie under code.
func (h *Hierarchy) CountBelow(code string, l duban.Level) int {
	// Codes at a level are sorted, and a subtree is a prefix range.
	codes := h.byLevel[l]
	lo := sort.SearchStrings(codes, code)
	hi := sort.SearchStrings(codes, code+"\xff")
	return hi - lo
}

// Ancestor returns the unit at level l above (or equal to) code.
func (h *Hierarchy) Ancestor(code string, l duban.Level) (Unit, bool) {
	n := l.CodeLength()
	if n == 0 || n > len(code) {
		return Unit{}, false
	}
	return h.Get(code[:n])
}

// Ancestors returns the codes from the root down to and including code.
func Ancestors(code string) []string {
	var out []string
	for _, l := range duban.Levels {
		n := l.CodeLength()
		if n > len(code) {
			break
		}
		out = append(out, code[:n])
	}
	return out
}

// Contains reports whether unit is within the subtree of scope (or is it).
func Contains(scope, unit string) bool { return strings.HasPrefix(unit, scope) }

// Path returns the names from the root to the unit, joined, e.g. "湖南省 长沙市 芙蓉区".
func (h *Hierarchy) Path(code string) string {
	var names []string
	for _, c := range Ancestors(code) {
		if u, ok := h.units[c]; ok {
			names = append(names, u.Name)
		}
	}
	return strings.Join(names, " ")
}

// All returns every unit from the top down, then by code.
func (h *Hierarchy) All() []Unit {
	out := make([]Unit, 0, len(h.units))
	for _, l := range duban.Levels {
		out = append(out, h.AtLevel(l)...)
	}
	return out
}
