package notify

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/duban-dev/duban"
)

// ParseDefaults reads the configured defaults: roles "approver,supervisor"
// (or "none"), an hour, and quiet hours "22-7" (or "").
func ParseDefaults(roles string, digestHour int, quiet string) (Defaults, error) {
	d := Defaults{DigestHour: digestHour}
	if !validHour(digestHour) {
		return StandardDefaults(), fmt.Errorf("digest_hour %d: want 0–23", digestHour)
	}
	if r := strings.TrimSpace(roles); r != "" && r != "none" {
		for _, s := range strings.Split(r, ",") {
			role := duban.Role(strings.TrimSpace(s))
			if !role.Valid() {
				return StandardDefaults(), fmt.Errorf("digest_roles: unknown role %q", s)
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
