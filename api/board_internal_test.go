package api

import (
	"testing"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/org"
	"github.com/duban-dev/duban/store"
)

func TestBoardLights(t *testing.T) {
	u := org.Unit{Code: "4301", Name: "长沙市", Level: duban.LevelCity}
	for _, c := range []struct {
		r    store.Rollup
		want string
	}{
		{store.Rollup{}, lightGrey},
		{store.Rollup{Total: 3, Cancelled: 3}, lightGrey},
		{store.Rollup{Total: 40}, lightGreen},
		{store.Rollup{Total: 40, Completed: 10}, lightGreen},
		{store.Rollup{Total: 40, Overdue: 3}, lightYellow},            // 7.5 %
		{store.Rollup{Total: 40, Overdue: 4}, lightRed},               // 10 %
		{store.Rollup{Total: 44, Cancelled: 4, Overdue: 4}, lightRed}, // 10 % of the 40 active
		{store.Rollup{Total: 2, Overdue: 1}, lightRed},
	} {
		if got := newRollupView(u, c.r).Light; got != c.want {
			t.Errorf("%+v: light %s, want %s", c.r, got, c.want)
		}
	}
}

func TestRankingOrder(t *testing.T) {
	mk := func(code string, total, completed, overdue int) rollupView {
		return newRollupView(org.Unit{Code: code}, store.Rollup{UnitCode: code, Total: total, Completed: completed, Overdue: overdue})
	}
	got := ranked([]rollupView{mk("a", 0, 0, 0), mk("b", 4, 1, 2), mk("c", 4, 2, 2), mk("d", 4, 1, 0), mk("e", 4, 2, 2)})
	var order []string
	var ranks []int
	for _, r := range got {
		order = append(order, r.Unit.Code)
		ranks = append(ranks, r.Rank)
	}
	want := []string{"c", "e", "d", "b", "a"}
	for i := range want {
		if order[i] != want[i] {
			t.Fatalf("order %v, want %v", order, want)
		}
	}
	if ranks[4] != 0 || ranks[0] != 1 || ranks[3] != 4 {
		t.Fatalf("ranks %v", ranks)
	}
}
