package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/plan"
	"github.com/duban-dev/duban/score/report"
	"github.com/duban-dev/duban/store"
)

// scoreFlags are the flags the score commands share.
type scoreFlags struct {
	cfg    *string
	planID *string
	year   *int
	unit   *string
	asOf   *string
}

func newScoreFlags(fs *flag.FlagSet) scoreFlags {
	return scoreFlags{
		cfg:    ConfigFlag(fs),
		planID: fs.String("plan", "", "plan id (default: the latest plan launched)"),
		year:   fs.Int("year", 0, "year the plan was launched onto (default: the latest)"),
		unit:   fs.String("unit", "", "unit code"),
		asOf:   fs.String("as-of", "", "day to score as of, YYYY-MM-DD (default: today in plan time)"),
	}
}

// open connects to the store and resolves the plan year and the day.
func (f scoreFlags) open(ctx context.Context, env *Env) (*store.DB, store.PlanYear, plan.Date, error) {
	cfg, err := env.LoadConfig(*f.cfg)
	if err != nil {
		return nil, store.PlanYear{}, plan.Date{}, err
	}
	db, err := OpenStore(ctx, cfg)
	if err != nil {
		return nil, store.PlanYear{}, plan.Date{}, err
	}
	py := store.PlanYear{PlanID: *f.planID, Year: *f.year}
	if py.PlanID == "" || py.Year == 0 {
		years, err := db.PlanYears(ctx)
		if err != nil {
			db.Close()
			return nil, py, plan.Date{}, err
		}
		for _, y := range years {
			if (py.PlanID == "" || y.PlanID == py.PlanID) && (py.Year == 0 || y.Year == py.Year) {
				py = y
				break
			}
		}
		if py.PlanID == "" || py.Year == 0 {
			db.Close()
			return nil, py, plan.Date{}, UsageError{"尚无已下达的计划：请用 --plan 和 --year 指定"}
		}
	}
	var day plan.Date
	if *f.asOf == "" {
		clock, err := db.PlanClock(ctx)
		if err != nil {
			db.Close()
			return nil, py, day, err
		}
		day = plan.Today(clock, time.Now())
	} else if day, err = plan.ParseDate(*f.asOf); err != nil {
		db.Close()
		return nil, py, day, UsageError{"--as-of: " + err.Error()}
	}
	return db, py, day, nil
}

func scoreSnapshot(ctx context.Context, env *Env, args []string) error {
	fs := NewFlags(env, "score snapshot")
	cfgPath := ConfigFlag(fs)
	dayFlag := fs.String("day", "", "plan day to file the snapshot under, YYYY-MM-DD (default: today in plan time)")
	if err := Parse(fs, args); err != nil {
		return err
	}
	cfg, err := env.LoadConfig(*cfgPath)
	if err != nil {
		return err
	}
	db, err := OpenStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	var day plan.Date
	if *dayFlag != "" {
		if day, err = plan.ParseDate(*dayFlag); err != nil {
			return UsageError{"--day: " + err.Error()}
		}
	} else {
		clock, err := db.PlanClock(ctx)
		if err != nil {
			return err
		}
		day = plan.Today(clock, time.Now())
	}
	n, err := db.TakeSnapshot(ctx, day)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "已记录 %s 的统计快照：%d 个单位\n", day, n)
	return nil
}

func scoreShow(ctx context.Context, env *Env, args []string) error {
	fs := NewFlags(env, "score show")
	f := newScoreFlags(fs)
	asJSON := fs.Bool("json", false, "print the score and its lines as JSON")
	pdfPath := fs.String("pdf", "", "also write the unit's 考核通报 to this PDF file")
	if err := Parse(fs, args); err != nil {
		return err
	}
	if *f.unit == "" {
		return UsageError{"usage: duban score show --unit CODE [--as-of YYYY-MM-DD] [--plan ID] [--year N] [--json] [--pdf FILE]"}
	}
	db, py, day, err := f.open(ctx, env)
	if err != nil {
		return err
	}
	defer db.Close()
	level, ok := duban.LevelOfCode(*f.unit)
	if !ok {
		return UsageError{fmt.Sprintf("--unit %q: 不是有效的区划代码", *f.unit)}
	}
	p, scores, err := db.ScoreUnits(ctx, store.RecordQuery{PlanID: py.PlanID, Year: py.Year, Under: *f.unit, Levels: []duban.Level{level}, AsOf: day})
	if err != nil {
		return err
	}
	if len(scores) == 0 {
		return fmt.Errorf("单位 %s 不存在", *f.unit)
	}
	s := scores[0]
	if *pdfPath != "" {
		if err := writeFile(*pdfPath, func(w *os.File) error { return report.UnitPDF(w, p.Title, s, nil) }); err != nil {
			return err
		}
	}
	if *asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(s)
	}
	fmt.Fprintf(env.Stdout, "%s（%d 年）\n", p.Title, py.Year)
	return s.WriteText(env.Stdout)
}

func scoreRank(ctx context.Context, env *Env, args []string) error {
	fs := NewFlags(env, "score rank")
	f := newScoreFlags(fs)
	xlsxPath := fs.String("xlsx", "", "write the ranking and every line to this Excel file")
	pdfPath := fs.String("pdf", "", "write the 考核通报 of the units under --unit to this PDF file")
	if err := Parse(fs, args); err != nil {
		return err
	}
	if *f.unit == "" {
		return UsageError{"usage: duban score rank --unit PARENT [--as-of YYYY-MM-DD] [--plan ID] [--year N] [--xlsx FILE] [--pdf FILE]"}
	}
	db, py, day, err := f.open(ctx, env)
	if err != nil {
		return err
	}
	defer db.Close()
	start := time.Now()
	r, err := db.RankChildren(ctx, py.PlanID, py.Year, *f.unit, day)
	if err != nil {
		return err
	}
	took := time.Since(start)
	fmt.Fprintf(env.Stdout, "%s　%s所属 %d 个单位考核排名（截至 %s）\n", r.PlanTitle, r.Parent.Name, len(r.Rows), r.AsOf)
	for _, row := range r.Rows {
		fmt.Fprintf(env.Stdout, "%-8s %-10s %8s 分\n", row.RankText(), row.Score.Unit.Name, row.Score.Total)
	}
	fmt.Fprintf(env.Stdout, "名次说明：%s\n（计算用时 %s）\n", r.TieRule, took.Round(time.Millisecond))
	if *xlsxPath != "" {
		if err := writeFile(*xlsxPath, func(w *os.File) error { return report.RankingXLSX(w, r) }); err != nil {
			return err
		}
	}
	if *pdfPath != "" {
		if err := writeFile(*pdfPath, func(w *os.File) error { return report.RankingPDF(w, r) }); err != nil {
			return err
		}
	}
	return nil
}

// writeFile writes a report to path, removing it if writing fails.
func writeFile(path string, write func(*os.File) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	err = write(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(path)
		return errors.Join(fmt.Errorf("write %s", path), err)
	}
	return nil
}
