package org_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/org"
)

func TestHunanCounts(t *testing.T) {
	h := org.Hunan()
	require.Equal(t, "43", h.Root().Code)
	require.Equal(t, 14, h.CountAtLevel(duban.LevelCity))
	require.Equal(t, 134, h.CountAtLevel(duban.LevelCounty))
	require.Equal(t, 2008, h.CountAtLevel(duban.LevelTownship))
	cs, ok := h.Get("4301")
	require.True(t, ok)
	require.Equal(t, "长沙市", cs.Name)
	require.Len(t, h.Children("4301"), 9)
	p, ok := h.Parent("430102")
	require.True(t, ok)
	require.Equal(t, "4301", p.Code)
	require.Equal(t, "湖南省 长沙市 芙蓉区", h.Path("430102"))
	require.Equal(t, []string{"43", "4301", "430102"}, org.Ancestors("430102"))
	require.True(t, org.Contains("4301", "430102001"))
	require.False(t, org.Contains("4302", "430102"))
}

func TestNewRejectsBrokenHierarchies(t *testing.T) {
	_, err := org.New([]org.Unit{{Code: "43", Level: duban.LevelProvince}, {Code: "4301", Level: duban.LevelCity, ParentCode: "44"}})
	require.ErrorContains(t, err, "parent 44 does not exist")
	_, err = org.New([]org.Unit{{Code: "43", Level: duban.LevelProvince}, {Code: "4401", Level: duban.LevelCity, ParentCode: "43"}})
	require.ErrorContains(t, err, "prefix")
	_, err = org.New([]org.Unit{{Code: "430", Level: duban.LevelProvince}})
	require.ErrorContains(t, err, "code length")
}

func TestSyntheticVillagesAreStable(t *testing.T) {
	a, b := org.WithVillages(org.Hunan()), org.WithVillages(org.Hunan())
	n := a.CountAtLevel(duban.LevelVillage)
	require.Equal(t, n, b.CountAtLevel(duban.LevelVillage))
	require.InDelta(t, 24000, n, 1500, "about 24,000 villages")
	v := a.Children("430102001")
	require.GreaterOrEqual(t, len(v), 6)
	require.Equal(t, "430102001001", v[0].Code)
	require.Equal(t, duban.LevelVillage, v[0].Level)
	require.Equal(t, []string{"43", "4301", "430102", "430102001", "430102001001"}, org.Ancestors("430102001001"))
	t.Logf("%d synthetic villages", n)
}
