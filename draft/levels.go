package draft

import (
	"regexp"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/org"
)

// mentionKind is how a piece of text names who is meant.
type mentionKind int

const (
	mentionLevels      mentionKind = iota + 1 // 市州, 县级, 市、县两级 …
	mentionSubordinate                        // 各级, 各地: the levels below the issuer
	mentionArea                               // 全省, 全市: the issuer's whole area
	mentionUp                                 // 县以上: from a level up to below the issuer
	mentionUnit                               // a unit by name: 岳阳市
)

// mention is one place in a clause that names levels or units.
type mention struct {
	start, end   int // byte offsets in the clause
	text         string
	kind         mentionKind
	levels       []duban.Level
	units        []org.Unit
	distributive bool // 每个 / 各 / 所有 / 全部 before it
	grassroots   bool // 基层
}

// levelWords name one level each, longest first where they overlap.
var levelWords = []struct {
	word  string
	level duban.Level
	alone bool // means the level without an org word after it
}{
	{"省级", duban.LevelProvince, true},
	{"市州", duban.LevelCity, true}, {"市（州）", duban.LevelCity, true}, {"市(州)", duban.LevelCity, true},
	{"地市", duban.LevelCity, true}, {"设区市", duban.LevelCity, true}, {"市级", duban.LevelCity, true},
	{"县市区", duban.LevelCounty, true}, {"县（市、区）", duban.LevelCounty, true}, {"县(市、区)", duban.LevelCounty, true},
	{"县（市区）", duban.LevelCounty, true}, {"县(市区)", duban.LevelCounty, true}, {"县区", duban.LevelCounty, true},
	{"区县", duban.LevelCounty, true}, {"县级", duban.LevelCounty, true}, {"市县区", duban.LevelCounty, true},
	{"乡镇（街道）", duban.LevelTownship, true}, {"乡镇(街道)", duban.LevelTownship, true}, {"乡镇", duban.LevelTownship, true},
	{"街道", duban.LevelTownship, true}, {"乡级", duban.LevelTownship, true},
	{"村（社区）", duban.LevelVillage, true}, {"村(社区)", duban.LevelVillage, true}, {"村（居）", duban.LevelVillage, true},
	{"村(居)", duban.LevelVillage, true}, {"村级", duban.LevelVillage, true},
	// Single characters name a level only before an org word (县计生协, 省协会).
	{"省", duban.LevelProvince, false}, {"市", duban.LevelCity, false}, {"县", duban.LevelCounty, false},
	{"乡", duban.LevelTownship, false}, {"村", duban.LevelVillage, false}, {"社区", duban.LevelVillage, false},
}

var singleLevel = map[string]duban.Level{
	"省": duban.LevelProvince, "市州": duban.LevelCity, "市": duban.LevelCity, "县市区": duban.LevelCounty,
	"县区": duban.LevelCounty, "县": duban.LevelCounty, "乡镇": duban.LevelTownship, "乡": duban.LevelTownship,
	"村": duban.LevelVillage,
}

var (
	levelAtom = `(?:省|市州|市|县市区|县区|县|乡镇|乡|村)(?:[（(][^）)，。]{1,8}[）)])?`
	// 省、市、县、乡四级; 市、县两级; 乡、村.
	enumRE = regexp.MustCompile(levelAtom + `(?:[、和及与]` + levelAtom + `)+(?:两|三|四|五)?级?`)
	// 乡村两级; 省市县三级.
	compactRE = regexp.MustCompile(`(?:省|市|县|乡|村){2,5}(?:两|三|四|五)级`)
	// 县以上, 县级以上, 市州以下.
	rangeRE   = regexp.MustCompile(`(省|市州|市|县市区|县|乡镇|乡)(级)?(以上|以下)`)
	atomCodes = regexp.MustCompile(`省|市州|县市区|县区|乡镇|市|县|乡|村`)
)

// findMentions lists the mentions in a masked clause (quoted names blanked),
// earliest first, without overlaps.
func (a *analyzer) findMentions(s string) []mention {
	var found []mention
	add := func(m mention) {
		for _, o := range found {
			if m.start < o.end && o.start < m.end {
				return
			}
		}
		found = append(found, m)
	}
	for _, loc := range enumRE.FindAllStringIndex(s, -1) {
		add(mention{start: loc[0], end: loc[1], kind: mentionLevels, levels: atomsLevels(s[loc[0]:loc[1]])})
	}
	for _, loc := range compactRE.FindAllStringIndex(s, -1) {
		add(mention{start: loc[0], end: loc[1], kind: mentionLevels, levels: atomsLevels(s[loc[0]:loc[1]])})
	}
	for _, m := range rangeRE.FindAllStringSubmatchIndex(s, -1) {
		l := singleLevel[s[m[2]:m[3]]]
		mm := mention{start: m[0], end: m[1], kind: mentionUp, levels: []duban.Level{l}}
		if s[m[6]:m[7]] == "以下" {
			mm.kind = mentionLevels
			for _, x := range duban.Levels {
				if x.Depth() >= l.Depth() && slices.Contains(responsibleLevels, x) {
					mm.levels = append(mm.levels, x)
				}
			}
		}
		add(mm)
	}
	for _, u := range a.unitNames {
		for from := 0; ; {
			i := strings.Index(s[from:], u.Name)
			if i < 0 {
				break
			}
			at := from + i
			add(mention{start: at, end: at + len(u.Name), kind: mentionUnit, units: []org.Unit{u}})
			from = at + len(u.Name)
		}
	}
	for _, w := range []struct {
		word string
		kind mentionKind
	}{{"全省各级", mentionSubordinate}, {"各级", mentionSubordinate}, {"各地", mentionSubordinate},
		{"全省", mentionArea}, {"全市", mentionArea}, {"全州", mentionArea}, {"全县", mentionArea}, {"全区", mentionArea}} {
		for _, i := range indexAll(s, w.word) {
			if r, _ := utf8.DecodeLastRuneInString(s[:i]); strings.HasPrefix(w.word, "全") && strings.ContainsRune("健完安齐周保成顾两万十", r) {
				continue // 健全县级…: 全 belongs to the word before
			}
			add(mention{start: i, end: i + len(w.word), kind: w.kind})
		}
	}
	for _, i := range indexAll(s, "基层") {
		// 基层 names the grassroots associations only before an org word
		// (基层计生协); 基层群众, 联系基层 name no one to act.
		if prefixIn(s[i+len("基层"):], orgWords) == "" {
			continue
		}
		add(mention{start: i, end: i + len("基层"), kind: mentionLevels, levels: []duban.Level{duban.LevelTownship}, grassroots: true})
	}
	self := ""
	if a.d != nil && a.d.Issuer.Name != "" {
		r, _ := utf8.DecodeLastRuneInString(a.d.Issuer.Name)
		self = string(r)
	}
	for _, lw := range levelWords {
		for _, i := range indexAll(s, lw.word) {
			end := i + len(lw.word)
			if !lw.alone {
				if w := prefixIn(s[end:], orgWords); w == "" {
					continue
				}
				if lw.word == self {
					// 市计生协 in the notice of 浏阳市 (a county-level city) or of
					// 岳阳市 is the issuer itself.
					add(mention{start: i, end: end, kind: mentionUnit, units: []org.Unit{a.d.Issuer}})
					continue
				}
			}
			add(mention{start: i, end: end, kind: mentionLevels, levels: []duban.Level{lw.level}})
		}
	}
	sort.Slice(found, func(i, j int) bool { return found[i].start < found[j].start })
	for i := range found {
		m := &found[i]
		m.text = s[m.start:m.end]
		before := s[:m.start]
		for _, q := range []string{"每一个", "每个", "所有", "全部", "各个", "每", "各"} {
			if strings.HasSuffix(before, q) {
				m.distributive = true
				m.start -= len(q)
				m.text = s[m.start:m.end]
				break
			}
		}
	}
	return found
}

func atomsLevels(s string) []duban.Level {
	// Drop bracketed glosses first: 乡镇(街道) is one level.
	s = regexp.MustCompile(`[（(][^）)]*[）)]`).ReplaceAllString(s, "")
	var out []duban.Level
	for _, w := range atomCodes.FindAllString(s, -1) {
		l := singleLevel[w]
		if !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	return out
}

func indexAll(s, w string) []int {
	var out []int
	for from := 0; ; {
		i := strings.Index(s[from:], w)
		if i < 0 {
			return out
		}
		out = append(out, from+i)
		from += i + len(w)
	}
}

// prefixIn returns the longest word of words that s starts with.
func prefixIn(s string, words []string) string {
	best := ""
	for _, w := range words {
		if strings.HasPrefix(s, w) && len(w) > len(best) {
			best = w
		}
	}
	return best
}

// responsibleLevels can carry an obligation (villages are not in the
// hierarchy: they can only be covered by a ratio).
var responsibleLevels = []duban.Level{duban.LevelProvince, duban.LevelCity, duban.LevelCounty, duban.LevelTownship}

// below returns the level n rungs below l, or "" past the townships.
func below(l duban.Level, n int) duban.Level {
	d := l.Depth() + n
	if d < 0 || d >= len(duban.Levels) {
		return ""
	}
	return duban.Levels[d]
}

// sortLevels orders levels from the top down and drops duplicates.
func sortLevels(ls []duban.Level) []duban.Level {
	out := slices.Clone(ls)
	sort.Slice(out, func(i, j int) bool { return out[i].Depth() < out[j].Depth() })
	return slices.Compact(out)
}
