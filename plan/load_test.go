package plan_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/duban-dev/duban/org"
	"github.com/duban-dev/duban/plan"
)

var hunan = org.Hunan()

// parseFile parses a test file and returns the plan and its validation errors.
func parseFile(t *testing.T, path string) (*plan.Plan, plan.ValidationErrors) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return parse(t, path, data)
}

func parse(t *testing.T, name string, data []byte) (*plan.Plan, plan.ValidationErrors) {
	t.Helper()
	p, err := plan.Parse(name, data, hunan)
	if err == nil {
		if p == nil {
			t.Fatal("Parse returned neither a plan nor an error")
		}
		return p, nil
	}
	var verrs plan.ValidationErrors
	if !errors.As(err, &verrs) {
		t.Fatalf("Parse error is %T, want plan.ValidationErrors: %v", err, err)
	}
	if p != nil {
		t.Errorf("Parse returned a plan along with %d errors; an invalid plan must yield none", len(verrs))
	}
	return nil, verrs
}

func TestParseValid(t *testing.T) {
	p, errs := parseFile(t, "testdata/valid.yaml")
	if errs != nil {
		t.Fatalf("valid plan rejected:\n%v", errs)
	}
	if p.ID != "test-2021" || p.Year != 2021 || len(p.Templates()) != 3 {
		t.Errorf("got plan %q year %d with %d templates", p.ID, p.Year, len(p.Templates()))
	}
	tmpl := p.Sections[0].Templates[1]
	if tmpl.Ratio == nil || *tmpl.Ratio != (plan.Ratio{Num: 1, Den: 3, Of: "village"}) {
		t.Errorf("ratio of 2.2 = %+v", tmpl.Ratio)
	}
	if got := p.Sections[0].Templates[2].Due.Grace; got != (plan.Offset{Days: 10}) {
		t.Errorf("grace of 2.3 = %v, want 10d", got)
	}
}

// Each broken file has one problem; the error must name its line and field,
// and no other error may be reported alongside it.
func TestParseBroken(t *testing.T) {
	tests := []struct {
		file  string
		line  int
		field string
		msg   string // part of the message
	}{
		{"bad-date.yaml", 44, "sections[0].templates[0].due.date", `日期 "2021-02-30" 无效`},
		{"unknown-level.yaml", 42, "sections[0].templates[0].responsible.levels[1]", `未知层级 "prefecture"`},
		{"chain-backwards.yaml", 25, "chains.backwards[1].approver", "逐级向上"},
		{"chain-city-unit.yaml", 22, "chains.county-three-level[2].approver", "不能用于市级单位"},
		{"duplicate-template-id.yaml", 55, "sections[0].templates[2].id", `任务编号 "2.1" 重复`},
		{"unknown-field.yaml", 44, "sections[0].templates[0].deadline", `未知字段 "deadline"`},
		{"wrong-type.yaml", 3, "year", `应为整数，实为文本 "2021"`},
		{"missing-quote.yaml", 39, "sections[0].templates[0].quote", "缺少原文引用"},
		{"ratio-without-of.yaml", 51, "sections[0].templates[1].ratio.of", "缺少比例所覆盖的下级层级"},
		{"year-end-not-dec-31.yaml", 53, "sections[0].templates[1].due.date", "应为 2021-12-31，实为 2021-11-30"},
		{"unknown-chain.yaml", 12, "defaults.approval.county", `审批链 "county-four-level" 不存在`},
		{"syntax.yaml", 45, "", "YAML 语法错误"},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		seen[tt.file] = true
		t.Run(tt.file, func(t *testing.T) {
			path := filepath.Join("testdata", "broken", tt.file)
			_, errs := parseFile(t, path)
			if len(errs) != 1 {
				t.Fatalf("got %d errors, want 1:\n%v", len(errs), errs)
			}
			e := errs[0]
			if e.File != path || e.Line != tt.line || e.Field != tt.field || !strings.Contains(e.Message, tt.msg) {
				t.Errorf("got %s\nwant %s:%d:_: %s: …%s…", e, path, tt.line, tt.field, tt.msg)
			}
			if e.Column < 1 {
				t.Errorf("column %d, want ≥ 1", e.Column)
			}
		})
	}
	files, _ := filepath.Glob("testdata/broken/*.yaml")
	for _, f := range files {
		if base := filepath.Base(f); !seen[base] && base != "several-errors.yaml" {
			t.Errorf("%s has no expectation", f)
		}
	}
}

// A file with many problems gets all of them, in file order.
func TestParseReportsEveryError(t *testing.T) {
	_, errs := parseFile(t, "testdata/broken/several-errors.yaml")
	want := []struct {
		line  int
		field string
	}{
		{2, "plan"},
		{11, "defaults.approval.city"},
		{28, "ladders.deadline-ladder[1].after"},
		{40, "sections[0].templates[0].title"},
		{42, "sections[0].templates[0].responsible.levels"},
		{44, "sections[0].templates[0].due.date"},
		{45, "sections[0].templates[0].evidence.required"},
		{46, "sections[0].templates[1].id"},
		{51, "sections[0].templates[1].ratio.num"},
		{54, "sections[0].templates[1].due.basis"},
		{58, "sections[0].templates[2].responsible.units[0]"},
		{60, "sections[0].templates[2].due.every"},
		{61, "sections[0].templates[2].owner"},
	}
	if len(errs) != len(want) {
		t.Errorf("got %d errors, want %d:\n%v", len(errs), len(want), errs)
	}
	for i := range min(len(errs), len(want)) {
		if errs[i].Line != want[i].line || errs[i].Field != want[i].field {
			t.Errorf("error %d: got %d %s, want %d %s", i, errs[i].Line, errs[i].Field, want[i].line, want[i].field)
		}
	}
}

func TestValidationErrorFormat(t *testing.T) {
	e := plan.ValidationError{File: "p.yaml", Line: 7, Column: 15, Field: "sections[0].templates[0].due.date", Message: `日期 "2021-13-01" 无效`}
	if got, want := e.Error(), `p.yaml:7:15: sections[0].templates[0].due.date: 日期 "2021-13-01" 无效`; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	e = plan.ValidationError{File: "p.yaml", Line: 3, Column: 1, Message: "YAML 语法错误：x"}
	if got, want := e.Error(), "p.yaml:3:1: YAML 语法错误：x"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	es := plan.ValidationErrors{e, e}
	if got := strings.Count(es.Error(), "\n"); got != 1 {
		t.Errorf("two errors render on %d lines", got+1)
	}
}

func TestLoadFile(t *testing.T) {
	p, data, err := plan.LoadFile("testdata/valid.yaml", hunan)
	if err != nil || p == nil || len(data) == 0 {
		t.Fatalf("LoadFile: plan %v, %d bytes, err %v", p != nil, len(data), err)
	}
	p, _, err = plan.LoadFile("testdata/broken/bad-date.yaml", hunan)
	var verrs plan.ValidationErrors
	if p != nil || !errors.As(err, &verrs) || verrs[0].File != "testdata/broken/bad-date.yaml" {
		t.Errorf("LoadFile of a broken plan: plan %v, err %v", p != nil, err)
	}
	if _, _, err := plan.LoadFile("testdata/missing.yaml", hunan); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("LoadFile of a missing file: %v", err)
	}
}

// Rules not covered by the broken files, each checked on valid.yaml with one
// line replaced.
func TestParseRules(t *testing.T) {
	valid, err := os.ReadFile("testdata/valid.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, old, new string
		field, msg     string
	}{
		{"plan id", "plan: test-2021", "plan: -test", "plan", "计划编号"},
		{"year range", "year: 2021", "year: 1999", "year", "1999"},
		{"missing source", "source: 测试文件", "", "source", "缺少来源文件"},
		{"zones", "source: 测试文件", "source: 测试文件\nzones: sometimes", "zones", `zones "sometimes" 无效：应为 include`},
		{"zones not text", "source: 测试文件", "source: 测试文件\nzones: [include]", "zones", "应为文本"},
		{"approver", "- {approver: self, sla: 10wd}", "- {approver: boss, sla: 10wd}", "chains.province-self[0].approver", `"boss"`},
		{"sla zero", "- {approver: self, sla: 10wd}", "- {approver: self, sla: 0d}", "chains.province-self[0].sla", "必须大于 0"},
		{"sla missing", "- {approver: self, sla: 10wd}", "- {approver: self}", "chains.province-self[0].sla", "缺少审批时限"},
		{"bad offset", "- {approver: self, sla: 10wd}", "- {approver: self, sla: 10 days}", "chains.province-self[0].sla", `偏移量 "10 days" 无效`},
		{"reminder not before sla", "reminders: [2wd], escalation: approval-sla}", "reminders: [5wd], escalation: approval-sla}", "chains.county-three-level[0].reminders[0]", "应少于审批时限 5wd"},
		{"step ladder", "reminders: [2wd], escalation: approval-sla}", "reminders: [2wd], escalation: sla-ladder}", "chains.county-three-level[0].escalation", `升级梯度 "sla-ladder" 不存在`},
		{"notify unit", "- {unit: parent, roles: [supervisor]}", "- {unit: mayor, roles: [supervisor]}", "ladders.deadline-ladder[1].notify[0].unit", `通知单位 "mayor"`},
		{"role", "- {unit: parent, roles: [supervisor]}", "- {unit: parent, roles: [boss]}", "ladders.deadline-ladder[1].notify[0].roles[0]", `角色 "boss"`},
		{"no role", "- {unit: parent, roles: [supervisor]}", "- {unit: parent, roles: []}", "ladders.deadline-ladder[1].notify[0].roles", "至少要通知一个角色"},
		{"mixed ladder units", "    - after: 3d", "    - after: 3wd", "ladders.deadline-ladder[1].after", "单位不同"},
		{"default ladder", "escalation: deadline-ladder", "escalation: late-ladder", "defaults.escalation", `"late-ladder" 不存在`},
		{"default approval level", "    city: city-two-level", "    city: city-two-level\n    town: city-two-level", "defaults.approval.town", `未知层级 "town"`},
		{"no chain for level", "    city: city-two-level\n", "", "sections[0].templates[0].responsible.levels[0]", "市级单位没有审批链"},
		{"default reminders", "reminders: [7d, 1d]", "reminders: [7d, 7d]", "defaults.reminders[1]", "提醒 7d 重复"},
		{"zero reminder", "reminders: [7d, 1d]", "reminders: [7d, 0d]", "defaults.reminders[1]", "必须大于 0 天"},
		{"section id", `  - id: "2"`, `  - id: "二"`, "sections[0].id", `章节编号 "二" 无效`},
		{"section title", "title: 加快推进地方计生协改革", "title:", "sections[0].title", "缺少章节标题"},
		{"template id format", `- id: "2.1"`, `- id: "2-1"`, "sections[0].templates[0].id", `"2-1" 无效`},
		{"template id section", `- id: "2.1"`, `- id: "3.1"`, "sections[0].templates[0].id", `应以所在章节的编号 "2" 开头`},
		{"template id 2.10 stays 2.10", `- id: "2.1"`, `- id: 2.10`, "", ""},
		{"missing title", "title: 出台改革方案", "title: ' '", "sections[0].templates[0].title", "缺少任务标题"},
		{"no responsible", "responsible: {levels: [city, county]}", "responsible: {}", "sections[0].templates[0].responsible", "未指定责任单位"},
		{"village responsible", "responsible: {levels: [city, county]}", "responsible: {levels: [village]}", "sections[0].templates[0].responsible.levels[0]", `未知层级 "village"`},
		{"duplicate level", "responsible: {levels: [city, county]}", "responsible: {levels: [city, city]}", "sections[0].templates[0].responsible.levels[1]", "重复"},
		{"unit within level", "responsible: {levels: [city, county]}", `responsible: {levels: [city], units: ["4306"]}`, "sections[0].templates[0].responsible.units[0]", "已包含在责任层级 city 中"},
		{"unknown kind", "kind: deadline", "kind: someday", "sections[0].templates[0].kind", `任务类型 "someday" 无效`},
		{"count without target", "kind: deadline", "kind: count", "sections[0].templates[0].target", "缺少目标数"},
		{"count zero", "kind: deadline", "kind: count\n        target: 0", "sections[0].templates[0].target", "至少为 1"},
		{"target on deadline", "kind: deadline", "kind: deadline\n        target: 2", "sections[0].templates[0].target", "只有 count 类任务"},
		{"ratio without ratio", "kind: deadline", "kind: ratio", "sections[0].templates[0].ratio", "缺少 ratio"},
		{"ratio on deadline", "kind: deadline", "kind: deadline\n        ratio: {num: 1, den: 2, of: township}", "sections[0].templates[0].ratio", "只有 ratio 类任务"},
		{"ratio den zero", "{num: 1, den: 3, of: village}", "{num: 1, den: 0, of: village}", "sections[0].templates[1].ratio.den", "必须大于 0"},
		{"ratio not below", "{num: 1, den: 3, of: village}", "{num: 1, den: 3, of: city}", "sections[0].templates[1].ratio.of", "应低于责任层级 county"},
		{"date outside year", "date: 2021-12-31, basis: stated", "date: 2023-01-31, basis: stated", "sections[0].templates[0].due.date", "不在计划年度 2021"},
		{"missing date", "date: 2021-12-31, basis: stated", "basis: stated", "sections[0].templates[0].due.date", "缺少截止日期"},
		{"missing basis", "date: 2021-12-31, basis: stated", "date: 2021-12-31", "sections[0].templates[0].due.basis", "缺少日期依据"},
		{"every on deadline", "date: 2021-12-31, basis: stated", "date: 2021-12-31, every: month, basis: stated", "sections[0].templates[0].due.every", "只有 recurring 类任务"},
		{"recurring with date", "{every: quarter, grace: 10d, basis: stated}", "{every: quarter, date: 2021-03-31, basis: stated}", "sections[0].templates[2].due.date", "定期任务不设日期"},
		{"recurring without every", "{every: quarter, grace: 10d, basis: stated}", "{grace: 10d, basis: stated}", "sections[0].templates[2].due.every", "缺少周期"},
		{"recurring year_end", "{every: quarter, grace: 10d, basis: stated}", "{every: quarter, basis: year_end}", "sections[0].templates[2].due.basis", "应为 stated"},
		{"template approval chain", "evidence: {required: true}", "approval: {county: county-2}", "sections[0].templates[0].approval.county", `审批链 "county-2" 不存在`},
		{"template ladder", "evidence: {required: true}", "escalation: nope", "sections[0].templates[0].escalation", `升级梯度 "nope" 不存在`},
		{"template reminders", "evidence: {required: true}", "reminders: [3d, 3d]", "sections[0].templates[0].reminders[1]", "重复"},
		{"duplicate key", "kind: deadline", "kind: deadline\n        kind: count", "sections[0].templates[0].kind", `键 "kind" 重复`},
		{"list for string", "title: 出台改革方案", "title: [出台, 方案]", "sections[0].templates[0].title", "应为文本，实为列表"},
		{"float for int", "kind: deadline", "kind: count\n        target: 1.5", "sections[0].templates[0].target", "应为整数，实为小数 1.5"},
		{"undefined alias", "responsible: {levels: [city, county]}", "responsible: *who", "sections[0].templates[0].responsible", "未定义的锚点 *who"},
		{"empty file", string(valid), "# nothing\n", "", "计划文件为空"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(string(valid), tt.old) {
				t.Fatalf("valid.yaml has no %q", tt.old)
			}
			data := strings.Replace(string(valid), tt.old, tt.new, 1)
			p, errs := parse(t, tt.name+".yaml", []byte(data))
			if tt.msg == "" {
				if errs != nil {
					t.Fatalf("want no error, got:\n%v", errs)
				}
				if id := p.Sections[0].Templates[0].ID; id != "2.10" {
					t.Errorf("unquoted id 2.10 read as %q", id)
				}
				return
			}
			if len(errs) != 1 {
				t.Fatalf("got %d errors, want 1:\n%v", len(errs), errs)
			}
			if errs[0].Field != tt.field || !strings.Contains(errs[0].Message, tt.msg) {
				t.Errorf("got %s\nwant %s: …%s…", errs[0], tt.field, tt.msg)
			}
		})
	}
}

// Anchors and aliases are plain YAML, and plan authors may use them.
func TestParseAnchors(t *testing.T) {
	valid, _ := os.ReadFile("testdata/valid.yaml")
	data := strings.Replace(string(valid), "responsible: {levels: [city, county]}", "responsible: &cities {levels: [city, county]}", 1)
	data = strings.Replace(data, "responsible: {levels: [county]}", "responsible: *cities", 1)
	p, errs := parse(t, "anchors.yaml", []byte(data))
	if errs != nil {
		t.Fatalf("got:\n%v", errs)
	}
	if got := p.Sections[0].Templates[1].Responsible.Levels; len(got) != 2 || got[0] != "city" || got[1] != "county" {
		t.Errorf("aliased responsible = %v", got)
	}
}

// TestControlCharactersInPlanTextsAreErrors: a NUL or an escape in any text
// of a plan file is an error at its line, not a failed import.
func TestControlCharactersInPlanTextsAreErrors(t *testing.T) {
	data, err := os.ReadFile("testdata/valid.yaml")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	var at int
	for i, l := range lines {
		if strings.Contains(l, "title:") {
			at = i
			k := strings.Index(l, "title: ") + len("title: ")
			lines[i] = l[:k] + `"\0\e` + l[k:] + `"`
			break
		}
	}
	_, errs := parse(t, "bad.yaml", []byte(strings.Join(lines, "\n")))
	if len(errs) == 0 {
		t.Fatal("a title holding NUL was accepted")
	}
	found := false
	for _, e := range errs {
		if e.Line == at+1 && strings.Contains(e.Message, "NUL") {
			found = true
		}
	}
	if !found {
		t.Errorf("no error naming NUL at line %d: %v", at+1, errs)
	}
}

// TestSignTogetherInPlanChains: a step may name more signing units (with),
// how many approvers of each (signatures), and how they sign (sign: all
// 会签, any 或签); mistakes are errors at their line.
func TestSignTogetherInPlanChains(t *testing.T) {
	data, err := os.ReadFile("testdata/valid.yaml")
	if err != nil {
		t.Fatal(err)
	}
	with := func(step string) []byte {
		return []byte(strings.Replace(string(data), "    - {approver: parent, sla: 5wd}", step, 1))
	}
	p, errs := parse(t, "joint.yaml", with("    - {approver: parent, with: [province], sign: all, sla: 5wd}"))
	if errs != nil {
		t.Fatalf("joint step refused: %v", errs)
	}
	specs, err := plan.Expand(p, hunan, 2021)
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, s := range specs {
		if s.UnitCode == "430102" && len(s.Approval) == 3 {
			st := s.Approval[1]
			if st.Mode != "all" || len(st.Signers) != 2 || st.Signers[0].Unit != "4301" || st.Signers[1].Unit != "43" {
				t.Fatalf("step 2 of %s: %+v", s.ID, st)
			}
			found = true
		}
	}
	if !found {
		t.Fatal("no county instance expanded")
	}

	for _, c := range []struct{ step, field, want string }{
		{"    - {approver: parent, with: [province], sla: 5wd}", ".sign", "须写明签署方式"},
		{"    - {approver: parent, with: [province], sign: most, sla: 5wd}", ".sign", "all（会签）或 any（或签）"},
		{"    - {approver: parent, with: [parent], sign: all, sla: 5wd}", ".with[0]", "重复"},
		{"    - {approver: parent, with: [mayor], sign: all, sla: 5wd}", ".with[0]", "会签单位"},
		{"    - {approver: parent, signatures: 9, sign: all, sla: 5wd}", ".signatures", "1 到 5"},
		{"    - {approver: parent, sign: any, sla: 5wd}", ".sign", "不需要签署方式"},
	} {
		_, errs := parse(t, "bad.yaml", with(c.step))
		ok := false
		for _, e := range errs {
			if e.Line == 22 && strings.HasSuffix(e.Field, c.field) && strings.Contains(e.Message, c.want) {
				ok = true
			}
		}
		if !ok {
			t.Errorf("%s: want an error at line 22 on %s saying %q, got %v", c.step, c.field, c.want, errs)
		}
	}
}

// TestTemplateMayForbidAddingSigners: add_signer: false reaches every
// instance of the template.
func TestTemplateMayForbidAddingSigners(t *testing.T) {
	data, err := os.ReadFile("testdata/valid.yaml")
	if err != nil {
		t.Fatal(err)
	}
	src := strings.Replace(string(data), "        evidence:", "        add_signer: false\n        evidence:", 1)
	p, errs := parse(t, "no-add.yaml", []byte(src))
	if errs != nil {
		t.Fatal(errs)
	}
	specs, err := plan.Expand(p, hunan, 2021)
	if err != nil {
		t.Fatal(err)
	}
	first := p.Sections[0].Templates[0].ID
	for _, s := range specs {
		if (s.TemplateID == first) != s.NoAddSigner {
			t.Fatalf("%s: NoAddSigner = %v", s.ID, s.NoAddSigner)
		}
	}
}
