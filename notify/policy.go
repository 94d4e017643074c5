package notify

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/duban-dev/duban"
)

// Defaults are the deployment's preferences for people who have not set
// their own.
type Defaults struct {
	// DigestRoles get a daily digest unless they opt out (the configuration
	// names approvers and supervisors, who hear about many units' tasks).
	DigestRoles []duban.Role
	DigestHour  int
	// QuietStart and QuietEnd are hours; equal means no quiet time.
	QuietStart, QuietEnd int
}

// ParseDefaults reads the configured defaults: roles "approver,supervisor"
// (or "none"), an hour, and quiet hours "22-7" (or "").
func ParseDefaults(roles string, digestHour int, quiet string) (Defaults, error) {
	d := Defaults{DigestHour: digestHour}
	if !validHour(digestHour) {
		return Defaults{}, fmt.Errorf("digest_hour %d: want 0–23", digestHour)
	}
	if r := strings.TrimSpace(roles); r != "" && r != "none" {
		for _, s := range strings.Split(r, ",") {
			role := duban.Role(strings.TrimSpace(s))
			if !role.Valid() {
				return Defaults{}, fmt.Errorf("digest_roles: unknown role %q", s)
			}
			d.DigestRoles = append(d.DigestRoles, role)
		}
	}
	if q := strings.TrimSpace(quiet); q != "" && q != "none" {
		from, to, ok := strings.Cut(q, "-")
		a, err1 := strconv.Atoi(strings.TrimSpace(from))
		b, err2 := strconv.Atoi(strings.TrimSpace(to))
		if !ok || err1 != nil || err2 != nil || !validHour(a) || !validHour(b) {
			return d, fmt.Errorf("quiet_hours %q: want two hours such as 22-7", quiet)
		}
		d.QuietStart, d.QuietEnd = a, b
	}
	return d, nil
}

// Policy is what applies to one person, defaults filled in. All hours are
// Asia/Shanghai wall-clock hours of real time (never the demo plan clock).
type Policy struct {
	Digest     bool `json:"digest"`
	DigestHour int  `json:"digest_hour"`
	QuietStart int  `json:"quiet_start"`
	QuietEnd   int  `json:"quiet_end"`
}

// PolicyFor fills a person's preferences in with the defaults.
func (d Defaults) PolicyFor(r duban.Recipient) Policy {
	p := Policy{DigestHour: d.DigestHour, QuietStart: d.QuietStart, QuietEnd: d.QuietEnd}
	for _, role := range r.Roles {
		if slices.Contains(d.DigestRoles, role) {
			p.Digest = true
		}
	}
	if r.Prefs.Digest != nil {
		p.Digest = *r.Prefs.Digest
	}
	if h := r.Prefs.DigestHour; h != nil && validHour(*h) {
		p.DigestHour = *h
	}
	if r.Prefs.QuietStart != nil && r.Prefs.QuietEnd != nil && validHour(*r.Prefs.QuietStart) && validHour(*r.Prefs.QuietEnd) {
		p.QuietStart, p.QuietEnd = *r.Prefs.QuietStart, *r.Prefs.QuietEnd
	}
	return p
}

func validHour(h int) bool { return h >= 0 && h <= 23 }

// InQuiet reports whether t falls in the quiet hours [QuietStart, QuietEnd),
// which may wrap past midnight (22–7).
func (p Policy) InQuiet(t time.Time) bool {
	if p.QuietStart == p.QuietEnd {
		return false
	}
	h := t.In(duban.Shanghai).Hour()
	if p.QuietStart < p.QuietEnd {
		return h >= p.QuietStart && h < p.QuietEnd
	}
	return h >= p.QuietStart || h < p.QuietEnd
}

// QuietEndAfter is when the quiet time containing t ends.
func (p Policy) QuietEndAfter(t time.Time) time.Time {
	return nextHour(t, p.QuietEnd)
}

// NextDigest is the digest slot a notice arriving at t goes into: the next
// DigestHour:00 strictly after t.
func (p Policy) NextDigest(t time.Time) time.Time {
	return nextHour(t, p.DigestHour)
}

// nextHour is the first hour:00 in Shanghai strictly after t.
func nextHour(t time.Time, hour int) time.Time {
	l := t.In(duban.Shanghai)
	at := time.Date(l.Year(), l.Month(), l.Day(), hour, 0, 0, 0, duban.Shanghai)
	if !at.After(l) {
		at = at.AddDate(0, 0, 1)
	}
	return at
}
