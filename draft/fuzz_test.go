package draft_test

import (
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/duban-dev/duban/draft"
	"github.com/duban-dev/duban/plan"
)

var fixtures = []string{"testdata/yueyang-2023.txt", "testdata/liuyang-2022.md", "testdata/redcross-2024.txt"}

// checkAnyInput: an input either drafts, with every offset inside the text
// and a plan that validates, or is refused with an error.
func checkAnyInput(t *testing.T, name string, data []byte) {
	t.Helper()
	d, err := draft.FromFile(name, data, draft.Options{Hierarchy: hunan, Year: 2024})
	if err != nil {
		return
	}
	n := len([]rune(d.Text))
	for _, s := range d.Sentences {
		if s.Start < 0 || s.End > n || s.Start > s.End {
			t.Fatalf("sentence %d offsets %d–%d outside the text (%d)", s.Index, s.Start, s.End, n)
		}
	}
	y, err := d.YAML()
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Proposals()) > 0 {
		if _, err := plan.Parse("any.yaml", y, hunan); err != nil {
			t.Fatalf("drafted plan does not validate: %v\n%s", err, y)
		}
	}
}

func FuzzDraft(f *testing.F) {
	for _, name := range fixtures {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(name, data)
	}
	f.Add("x.txt", []byte("2022年工作要点\n一、\n（一）。\n1．\n“《（\n各：\n"))
	f.Fuzz(checkAnyInput)
}

// Mangled notices (cut, spliced, bytes changed, markers and level words
// repeated) never panic, hang, or give a plan that does not validate.
func TestMangledNotices(t *testing.T) {
	rng := rand.New(rand.NewPCG(2021, 14))
	pieces := []string{"“", "”", "《", "（", "一、", "（二）", "3．", "各县市区计生协", "县以上", "每季度", "三分之一以上的村", "于6月底前", "。", "，", "\n", "全省", "各级", "岳阳市", "\xff", "# "}
	var sources [][]byte
	for _, name := range fixtures {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		sources = append(sources, data)
	}
	start := time.Now()
	for i := 0; i < 150; i++ {
		b := append([]byte(nil), sources[rng.IntN(len(sources))]...)
		for k := rng.IntN(8); k >= 0; k-- {
			switch rng.IntN(4) {
			case 0: // cut
				a := rng.IntN(len(b) + 1)
				b = b[:a]
			case 1: // insert a piece, sometimes many times
				a := rng.IntN(len(b) + 1)
				p := strings.Repeat(pieces[rng.IntN(len(pieces))], 1+rng.IntN(3)*rng.IntN(200))
				b = append(b[:a:a], append([]byte(p), b[a:]...)...)
			case 2: // change a byte
				if len(b) > 0 {
					b[rng.IntN(len(b))] = byte(rng.IntN(256))
				}
			case 3: // splice another notice in
				o := sources[rng.IntN(len(sources))]
				a, c := rng.IntN(len(b)+1), rng.IntN(len(o)+1)
				b = append(b[:a:a], o[c:]...)
			}
		}
		checkAnyInput(t, []string{"n.txt", "n.md"}[i%2], b)
	}
	if el := time.Since(start); el > 60*time.Second {
		t.Errorf("150 mangled notices took %s", el)
	}
}
