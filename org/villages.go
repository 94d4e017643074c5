package org

import (
	"fmt"
	"hash/fnv"

	"github.com/duban-dev/duban"
)

// VillagesPerTownship is the average number of synthetic villages per
// township: Hunan has about 24,000 villages (村/社区) under 2,008 townships.
const VillagesPerTownship = 12

// WithVillages returns a copy of the hierarchy with synthetic villages under
// every township, for benchmarks and scale tests only. Codes are stable:
// township code + a three-digit number; each township gets between 6 and 18
// villages, chosen by a hash of its code, so the whole province has about
// 24,000.
func WithVillages(h *Hierarchy) *Hierarchy {
	units := h.All()
	for _, t := range h.AtLevel(duban.LevelTownship) {
		for i := 1; i <= villageCount(t.Code); i++ {
			units = append(units, Unit{
				Code:       fmt.Sprintf("%s%03d", t.Code, i),
				Name:       fmt.Sprintf("%s第%d村", t.Name, i),
				Level:      duban.LevelVillage,
				ParentCode: t.Code,
			})
		}
	}
	out, err := New(units)
	if err != nil {
		panic("synthetic villages: " + err.Error())
	}
	return out
}

func villageCount(township string) int {
	f := fnv.New32a()
	f.Write([]byte(township))
	return VillagesPerTownship - 6 + int(f.Sum32()%13)
}
