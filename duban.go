// Package duban holds the domain types every other package shares: unit
// levels, roles, instance statuses, actors and the application error. It
// imports no driver, so workflows, the store and the API can all use it.
package duban

import (
	"errors"
	"fmt"
	"time"
)

// Level is a rung of the administrative hierarchy.
type Level string

// Levels from the top down. Village exists only for synthetic scale data.
const (
	LevelProvince Level = "province"
	LevelCity     Level = "city"
	LevelCounty   Level = "county"
	LevelTownship Level = "township"
	LevelVillage  Level = "village"
)

// Levels lists every level from the top down.
var Levels = []Level{LevelProvince, LevelCity, LevelCounty, LevelTownship, LevelVillage}

// Depth is 0 for the province, 1 for a city, and so on; -1 if unknown.
func (l Level) Depth() int {
	for i, v := range Levels {
		if v == l {
			return i
		}
	}
	return -1
}

// Valid reports whether l is a known level.
func (l Level) Valid() bool { return l.Depth() >= 0 }

// Label is the Chinese name of the level.
func (l Level) Label() string {
	switch l {
	case LevelProvince:
		return "省级"
	case LevelCity:
		return "市级"
	case LevelCounty:
		return "县级"
	case LevelTownship:
		return "乡镇级"
	case LevelVillage:
		return "村级"
	}
	return string(l)
}

// CodeLength is the length of a division code at each level.
func (l Level) CodeLength() int {
	switch l {
	case LevelProvince:
		return 2
	case LevelCity:
		return 4
	case LevelCounty:
		return 6
	case LevelTownship:
		return 9
	case LevelVillage:
		return 12
	}
	return 0
}

// LevelOfCode derives the level from the length of a division code.
func LevelOfCode(code string) (Level, bool) {
	for _, l := range Levels {
		if l.CodeLength() == len(code) {
			return l, true
		}
	}
	return "", false
}

// ParentCode is the code of the unit directly above code ("" for the
// province or a code of no known level).
func ParentCode(code string) string {
	l, ok := LevelOfCode(code)
	if !ok || l.Depth() == 0 {
		return ""
	}
	return code[:Levels[l.Depth()-1].CodeLength()]
}

// Role is what a user may do at their unit.
type Role string

// Roles.
const (
	RoleOfficial   Role = "official"
	RoleApprover   Role = "approver"
	RoleSupervisor Role = "supervisor"
	RoleAdmin      Role = "admin"
)

// Roles lists every role.
var Roles = []Role{RoleOfficial, RoleApprover, RoleSupervisor, RoleAdmin}

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	for _, v := range Roles {
		if v == r {
			return true
		}
	}
	return false
}

// Label is the Chinese name of the role.
func (r Role) Label() string {
	switch r {
	case RoleOfficial:
		return "承办人"
	case RoleApprover:
		return "审核人"
	case RoleSupervisor:
		return "督查人"
	case RoleAdmin:
		return "管理员"
	}
	return string(r)
}

// Status is where a task instance stands in its lifecycle.
type Status string

// Statuses.
const (
	StatusAssigned   Status = "assigned"
	StatusInProgress Status = "in_progress"
	StatusSubmitted  Status = "submitted" // waiting on an approval step
	StatusCompleted  Status = "completed"
	StatusCancelled  Status = "cancelled"
)

// Finished reports whether no further work or decision is possible.
func (s Status) Finished() bool { return s == StatusCompleted || s == StatusCancelled }

// Label is the Chinese name of the status.
func (s Status) Label() string {
	switch s {
	case StatusAssigned:
		return "已下达"
	case StatusInProgress:
		return "办理中"
	case StatusSubmitted:
		return "审批中"
	case StatusCompleted:
		return "已办结"
	case StatusCancelled:
		return "已撤销"
	}
	return string(s)
}

// Actor is who asks for a change: a signed-in user, or the system itself.
type Actor struct {
	UserID   int64  `json:"user_id"`
	Name     string `json:"name"`
	UnitCode string `json:"unit_code"`
	Roles    []Role `json:"roles"`
	// OnBehalfOf is the approver who delegated their approvals to this
	// actor for a while (委托); the API sets it only for a delegation in
	// force.
	OnBehalfOf *Actor `json:"on_behalf_of,omitempty"`
}

// Person is the actor as a person.
func (a Actor) Person() Person { return Person{UserID: a.UserID, Name: a.Name, UnitCode: a.UnitCode} }

// Signature is who signs as an approver: the actor, or the approver they
// act for.
func (a Actor) Signature() Actor {
	if a.OnBehalfOf != nil {
		return *a.OnBehalfOf
	}
	return a
}

// Has reports whether the actor holds role r.
func (a Actor) Has(r Role) bool {
	for _, v := range a.Roles {
		if v == r {
			return true
		}
	}
	return false
}

// System is the actor for transitions the workflow makes on its own (timers).
var System = Actor{Name: "系统"}

// Shanghai is the time zone every date in Duban is read in.
var Shanghai = mustLoadShanghai()

func mustLoadShanghai() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		// The zone database may be missing on minimal hosts; China has no DST
		// since 1991, so a fixed zone gives the same wall clock.
		return time.FixedZone("CST", 8*3600)
	}
	return loc
}

// EndOfDay is 23:59:59 local time on the given date: when a deadline day ends.
func EndOfDay(year int, month time.Month, day int) time.Time {
	return time.Date(year, month, day, 23, 59, 59, 0, Shanghai)
}

// Error codes. The HTTP layer maps each to one status.
const (
	ECONFLICT     = "conflict"
	EINTERNAL     = "internal"
	EINVALID      = "invalid"
	ENOTFOUND     = "not_found"
	EFORBIDDEN    = "forbidden"
	EUNAUTHORIZED = "unauthorized"
	ETOOMANY      = "too_many_requests"
	// EUNAVAILABLE: a service Duban depends on (Temporal) does not answer;
	// ETIMEOUT: it did not finish in time. Both are faults, not refusals:
	// the same request, retried (with its Idempotency-Key), is safe.
	EUNAVAILABLE = "unavailable"
	ETIMEOUT     = "timeout"
)

// Error is an application error whose Message is safe to show to a user
// (in Chinese). Field optionally names the input that is wrong.
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s (%s)", e.Code, e.Message, e.Field)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Errorf builds an application error.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldError builds an invalid-input error naming the field.
func FieldError(field, format string, args ...any) *Error {
	return &Error{Code: EINVALID, Field: field, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of an application error, or EINTERNAL.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-facing message of an application error, or a
// generic one that reveals nothing internal.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "服务器内部错误"
}
