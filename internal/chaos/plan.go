package chaos

import (
	"fmt"
	"strings"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/org"
	"github.com/duban-dev/duban/store"
)

// PlanID is the plan the suite imports and launches.
const PlanID = "chaos-2021"

// planYear is its year; plan time runs from 1 June, far from any deadline,
// so no alarm adds a transition the suite did not ask for.
const planYear = 2021

// chain is one task driven through its approval chain: the county's
// official submits, its approver signs step 1, the city's step 2, the
// province's step 3 (the last, which completes the task).
type chain struct {
	id       string // instance id, 2021/1.N/county
	county   string
	city     string
	decision [4]*decision // submit, step 1, 2, 3
}

// actors of a chain's four decisions, in order.
func (c *chain) actors() [4]string {
	return [4]string{"c" + c.county + "-official", "c" + c.county + "-approver", "c" + c.city + "-approver", "c43-approver"}
}

// planFor writes a plan of enough templates for n chains over the
// province's counties: each template is a deadline for every county used,
// with the county chain (self, city, province), no evidence required.
// It returns the plan file and the chains, n of them.
func planFor(h *org.Hierarchy, n int) ([]byte, []*chain) {
	counties := h.AtLevel(duban.LevelCounty)
	used := counties
	if n < len(used) {
		used = used[:n]
	}
	templates := (n + len(used) - 1) / len(used)
	var b strings.Builder
	fmt.Fprintf(&b, "plan: %s\nyear: %d\ntitle: 故障演练计划\nsource: 故障演练（duban-dev chaos）\n", PlanID, planYear)
	b.WriteString(`defaults:
  reminders: [7d]
  escalation: ladder
  approval:
    county: county-chain
chains:
  county-chain:
    - {approver: self, sla: 60d}
    - {approver: city, sla: 60d}
    - {approver: province, sla: 60d}
ladders:
  ladder:
    - after: 0d
      notify:
        - {unit: self, roles: [official]}
sections:
  - id: "1"
    title: 故障演练
    templates:
`)
	codes := make([]string, len(used))
	for i, u := range used {
		codes[i] = `"` + u.Code + `"`
	}
	var chains []*chain
	for t := 1; t <= templates; t++ {
		fmt.Fprintf(&b, `      - id: "1.%d"
        title: 故障演练任务 %d
        quote: 故障演练任务 %d
        responsible: {units: [%s]}
        kind: deadline
        due: {date: 2021-12-31, basis: stated}
`, t, t, t, strings.Join(codes, ", "))
		for _, u := range used {
			if len(chains) == n {
				break
			}
			city, _ := h.Ancestor(u.Code, duban.LevelCity)
			chains = append(chains, &chain{id: fmt.Sprintf("%d/1.%d/%s", planYear, t, u.Code), county: u.Code, city: city.Code})
		}
	}
	return []byte(b.String()), chains
}

// people are the users the chains need: each county's official and
// approver, each city's approver, the province's approver.
func people(h *org.Hierarchy, chains []*chain) []store.User {
	seen := map[string]bool{}
	var out []store.User
	add := func(name, unit string, role duban.Role) {
		if seen[name] {
			return
		}
		seen[name] = true
		u, _ := h.Get(unit)
		label := map[duban.Role]string{duban.RoleOfficial: "承办人", duban.RoleApprover: "审核人"}[role]
		out = append(out, store.User{Username: name, DisplayName: "演练" + u.Name + label, UnitCode: unit, Roles: []duban.Role{role}})
	}
	for _, c := range chains {
		add("c"+c.county+"-official", c.county, duban.RoleOfficial)
		add("c"+c.county+"-approver", c.county, duban.RoleApprover)
		add("c"+c.city+"-approver", c.city, duban.RoleApprover)
	}
	add("c43-approver", "43", duban.RoleApprover)
	return out
}
