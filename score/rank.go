package score

import (
	"fmt"
	"slices"
	"strings"

	"github.com/duban-dev/duban/plan"
)

// Ranked is one unit's place in a ranking.
type Ranked struct {
	Rank  int   `json:"rank"`
	Tied  bool  `json:"tied,omitempty"` // shares its rank with another unit
	Score Score `json:"score"`
}

// RankText is the place in Chinese: "第 2 名" or "并列第 2 名".
func (r Ranked) RankText() string {
	if r.Tied {
		return fmt.Sprintf("并列第 %d 名", r.Rank)
	}
	return fmt.Sprintf("第 %d 名", r.Rank)
}

// Ranking is the units under a parent, best score first.
type Ranking struct {
	PlanID    string    `json:"plan_id"`
	PlanTitle string    `json:"plan_title"`
	Year      int       `json:"year"`
	Parent    Unit      `json:"parent"`
	AsOf      plan.Date `json:"as_of"`
	Rows      []Ranked  `json:"rows"`
	// TieRule states how equal scores are ranked.
	TieRule string `json:"tie_rule"`
}

// TieRule is how Rank treats equal scores.
const TieRule = "得分相同的单位名次并列（如两个并列第 2 名，下一名为第 4 名），并列单位按区划代码排列。"

// Rank orders scores best first. Equal totals share a rank (standard
// competition ranking: 1, 2, 2, 4) and are listed by unit code; each tied
// row says so.
func Rank(scores []Score) []Ranked {
	ss := slices.Clone(scores)
	slices.SortStableFunc(ss, func(a, b Score) int {
		if a.Total != b.Total {
			if a.Total > b.Total {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Unit.Code, b.Unit.Code)
	})
	out := make([]Ranked, len(ss))
	for i, s := range ss {
		out[i] = Ranked{Rank: i + 1, Score: s}
		if i > 0 && s.Total == ss[i-1].Total {
			out[i].Rank = out[i-1].Rank
			out[i].Tied, out[i-1].Tied = true, true
		}
	}
	return out
}
