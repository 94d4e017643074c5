package duban

import "slices"

// A unit merged into another (乡镇合并): its open tasks follow it to the
// unit it joined. A task moves by its spec: wherever the merged unit was
// named (the responsible unit, an approval step, the extension decider, an
// escalation's recipients) the unit it joined is named instead.

// UnitTask is an open task of a merged unit, and the same task (plan year,
// template, period) of the unit it joined, if that unit has it: then the
// merged unit's is cancelled rather than moved.
type UnitTask struct {
	InstanceID string `json:"instance_id"`
	Duplicate  string `json:"duplicate,omitempty"`
}

// MoveUnit names to instead of from throughout the spec, and reports
// whether it named from at all.
func (s *TaskSpec) MoveUnit(from string, to Signer) bool {
	moved := false
	if s.UnitCode == from {
		s.UnitCode, s.UnitName = to.Unit, to.UnitName
		moved = true
	}
	if s.ExtensionUnit == from {
		s.ExtensionUnit = to.Unit
		moved = true
	}
	s.Approval = MoveUnitInChain(s.Approval, from, to, &moved)
	s.Escalation = moveInLadder(s.Escalation, from, to, &moved)
	return moved
}

// MoveUnitInChain returns a copy of chain with from replaced by to, and
// sets *moved when it named from.
func MoveUnitInChain(chain []ApprovalStep, from string, to Signer, moved *bool) []ApprovalStep {
	if chain == nil {
		return nil
	}
	out := slices.Clone(chain)
	for i := range out {
		st := &out[i]
		if st.Unit == from {
			st.Unit, st.UnitName = to.Unit, to.UnitName
			*moved = true
		}
		st.Signers = slices.Clone(st.Signers)
		for j := range st.Signers {
			if st.Signers[j].Unit == from {
				st.Signers[j].Unit, st.Signers[j].UnitName = to.Unit, to.UnitName
				*moved = true
			}
		}
		st.Escalation = moveInLadder(st.Escalation, from, to, moved)
	}
	return out
}

func moveInLadder(ladder []EscalationStep, from string, to Signer, moved *bool) []EscalationStep {
	if ladder == nil {
		return nil
	}
	out := slices.Clone(ladder)
	for i := range out {
		out[i].Notify = slices.Clone(out[i].Notify)
		for j := range out[i].Notify {
			if out[i].Notify[j].Unit == from {
				out[i].Notify[j].Unit = to.Unit
				*moved = true
			}
		}
	}
	return out
}
