package draft

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/duban-dev/duban/org"
	"github.com/duban-dev/duban/plan"
)

// UsageError is a command line that cannot be run as given.
type UsageError string

func (e UsageError) Error() string { return string(e) }

// Usage is the command's synopsis.
const Usage = "usage: duban plan draft NOTICE [-o OUT.yaml] [--json] [--year YEAR] [--id PLAN_ID] [--base PLAN] [--score-against PLAN]"

// Command runs `duban plan draft`: it reads the notice, prints the
// sentence-by-sentence review (or the draft as JSON), writes the draft plan
// file when asked, after checking that it validates, and scores the draft
// against a hand-written plan when asked. PLAN is a plan file or the id of a
// shipped plan. A command line that cannot be run is a UsageError.
func Command(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("duban plan draft", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, Usage)
		fs.PrintDefaults()
	}
	out := fs.String("o", "", "write the draft plan (YAML) to this file")
	asJSON := fs.Bool("json", false, "print the draft (and the evaluation) as JSON instead of the review")
	year := fs.Int("year", 0, "plan year (default: read from the notice's title or number)")
	id := fs.String("id", "", "plan id (default: draft-YEAR)")
	base := fs.String("base", "", "plan whose defaults, approval chains and ladders the draft reuses (default: the newest shipped plan)")
	against := fs.String("score-against", "", "hand-written plan of the same notice to score the draft against")
	// Flags may come before or after the notice.
	var positional []string
	for rest := args; ; {
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil
			}
			return UsageError(err.Error())
		}
		if fs.NArg() == 0 {
			break
		}
		positional = append(positional, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	if len(positional) != 1 {
		return UsageError(Usage)
	}
	h := org.Hunan()
	opts := Options{Hierarchy: h, Year: *year, PlanID: *id}
	if *base != "" {
		p, err := loadPlan(*base, h)
		if err != nil {
			return err
		}
		opts.Base = p
	}
	name := positional[0]
	data, err := os.ReadFile(name)
	if err != nil {
		return fmt.Errorf("读取通知文件失败：%w", err)
	}
	d, err := FromFile(name, data, opts)
	if err != nil {
		return err
	}
	var eval *Evaluation
	if *against != "" {
		p, err := loadPlan(*against, h)
		if err != nil {
			return err
		}
		e := d.Evaluate(p)
		eval = &e
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if eval != nil {
			return enc.Encode(struct {
				Draft      *Draft      `json:"draft"`
				Evaluation *Evaluation `json:"evaluation"`
			}{d, eval})
		}
		return enc.Encode(d)
	}
	if err := d.WriteReview(stdout); err != nil {
		return err
	}
	if *out != "" {
		if err := d.WriteFile(*out, h); err != nil {
			return err
		}
		_, _, _, n := d.Counts()
		fmt.Fprintf(stdout, "\n计划草稿已写入 %s：%d 个任务模板，校验通过。请审核后用 duban plan import 导入。\n", *out, n)
	}
	if eval != nil {
		fmt.Fprintln(stdout)
		return eval.WriteReport(stdout, *against)
	}
	return nil
}

// WriteFile renders the draft, checks that it parses and validates as a
// plan against the hierarchy, and only then writes it.
func (d *Draft) WriteFile(path string, h *org.Hierarchy) error {
	data, err := d.YAML()
	if err != nil {
		return err
	}
	if _, err := plan.Parse(path, data, h); err != nil {
		return fmt.Errorf("草稿未通过计划校验，未写入 %s：\n%w", path, err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("写入计划草稿失败：%w", err)
	}
	return nil
}

// loadPlan reads a plan file, or a shipped plan by id.
func loadPlan(arg string, h *org.Hierarchy) (*plan.Plan, error) {
	if slices.Contains(plan.ShippedIDs(), arg) {
		p, _, err := plan.Shipped(arg)
		return p, err
	}
	p, _, err := plan.LoadFile(arg, h)
	if err != nil && !strings.HasSuffix(arg, ".yaml") && !strings.HasSuffix(arg, ".yml") {
		return nil, fmt.Errorf("%w（可用的内置计划：%s）", err, strings.Join(plan.ShippedIDs(), "、"))
	}
	return p, err
}
