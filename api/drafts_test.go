package api_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"mime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/duban-dev/duban/plan"
)

// noticeDocx is a Word file holding the paragraphs: word/document.xml is
// all the drafter reads.
func noticeDocx(paragraphs ...string) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create("word/document.xml")
	fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>`)
	for _, p := range paragraphs {
		fmt.Fprintf(w, `<w:p><w:r><w:t>%s</w:t></w:r></w:p>`, html.EscapeString(p))
	}
	fmt.Fprint(w, `</w:body></w:document>`)
	_ = zw.Close()
	return buf.Bytes()
}

// A short notice of another year: two obligations and a sentence the
// drafter cannot read (a target with no act it knows).
var notice2022 = []string{
	"湖南省计划生育协会文件",
	"湘计生协发〔2022〕3号",
	"关于印发《湖南省计划生育协会2022年工作要点》的通知",
	"各市州计生协：",
	"一、加强组织建设",
	"1．市、县两级计生协于6月底前完成换届工作。",
	"2．每个市州至少建成1个青春健康教育基地。",
	"二、做好宣传工作",
	"力争全年新发展会员3000名。",
}

func textBody(s string) *body { return &body{"text/plain; charset=utf-8", []byte(s)} }

// reviewOf turns a draft answer into a review that accepts every proposal,
// keeping only the fields a review sends.
func reviewOf(t *testing.T, d map[string]any, planID string) map[string]any {
	t.Helper()
	editable := map[string]bool{}
	for _, k := range []string{"id", "section", "decision", "title", "quote", "levels", "units", "kind", "due", "every", "basis",
		"due_note", "target", "ratio", "evidence_required", "evidence_note", "notes"} {
		editable[k] = true
	}
	var proposals []map[string]any
	for _, p := range d["proposals"].([]any) {
		m := map[string]any{}
		for k, v := range p.(map[string]any) {
			if editable[k] {
				m[k] = v
			}
		}
		proposals = append(proposals, m)
	}
	var unread []string
	for _, s := range d["unreadable"].([]any) {
		unread = append(unread, s.(map[string]any)["text"].(string))
	}
	return map[string]any{"plan_id": planID, "year": d["year"], "title": d["title"], "source": d["source"], "notice": d["notice"],
		"base": d["base"], "sections": d["sections"], "proposals": proposals, "unreadable": unread}
}

func deletePlan(t *testing.T, f *fixture, id string) {
	t.Helper()
	ctx := context.Background()
	_, err := f.stack.DB.Pool.Exec(ctx, `DELETE FROM templates WHERE plan_id = $1`, id)
	require.NoError(t, err)
	_, err = f.stack.DB.Pool.Exec(ctx, `DELETE FROM plans WHERE id = $1`, id)
	require.NoError(t, err)
}

// The province's admin drafts the 2021 notice, edits one proposal, drops
// another, sees the plan validated, downloads the file and imports it.
func TestDraftReviewAndImport(t *testing.T) {
	f := getFixture(t)
	src, err := plan.ShippedSource("hunan-2021")
	require.NoError(t, err)
	start := time.Now()
	res := f.as(t, "hunan-admin", "POST", "/api/v1/drafts?filename=work-points-2021.md", &body{"text/markdown", src})
	require.Equal(t, 200, res.status, "%s", res.body)
	t.Logf("drafting the 2021 notice: %s, %d KB answered", time.Since(start).Round(time.Millisecond), len(res.body)>>10)
	d := res.json(t)
	require.EqualValues(t, 2021, d["year"])
	require.Equal(t, "draft-2021", d["plan_id"])
	require.Equal(t, "hunan-2021", d["base"], "the newest stored plan lends its chains and ladders")
	require.Equal(t, "湖南省", d["issuer"].(map[string]any)["name"])
	counts := d["counts"].(map[string]any)
	require.EqualValues(t, 76, counts["sentences"])
	require.EqualValues(t, 49, counts["proposals"])
	sentences, proposals := d["sentences"].([]any), d["proposals"].([]any)
	require.Len(t, sentences, 76)
	require.Len(t, proposals, 49)
	text := []rune(d["text"].(string))
	for _, s := range sentences {
		s := s.(map[string]any)
		require.NotEmpty(t, s["verdict_label"])
		require.NotEmpty(t, s["reason"], "every sentence says why")
		require.Equal(t, s["text"], string(text[int(s["start"].(float64)):int(s["end"].(float64))]), "offsets count characters")
	}
	first := proposals[0].(map[string]any)
	for _, k := range []string{"id", "section", "title", "quote", "kind", "kind_label", "basis", "evidence_note", "why", "assumptions", "notes"} {
		require.Contains(t, first, k)
	}
	require.Equal(t, "accept", first["decision"])
	require.Equal(t, first["quote"], string(text[int(first["start"].(float64)):int(first["end"].(float64))]), "the quote is the clause verbatim")

	// The review: the first proposal edited, the second dropped.
	review := reviewOf(t, d, "draft-review-2021")
	props := review["proposals"].([]map[string]any)
	edited, dropped := props[0], props[1]
	edited["decision"], edited["title"], edited["due"], edited["basis"], edited["due_note"] = "edit", "审核后：建立专题会议制度", "2021-09-30", "stated", "审核时确定"
	edited["levels"] = []string{"city"}
	dropped["decision"] = "drop"
	before := countRows(t, f.stack.DB, `SELECT count(*) FROM plans`)
	start = time.Now()
	res = f.as(t, "hunan-admin", "POST", "/api/v1/drafts/plan", jsonBody(review))
	require.Equal(t, 200, res.status, "%s", res.body)
	t.Logf("checking the reviewed plan (48 templates): %s", time.Since(start).Round(time.Millisecond))
	check := res.json(t)
	require.Equal(t, true, check["valid"])
	require.EqualValues(t, 48, check["templates"])
	require.EqualValues(t, 1, check["edited"])
	require.EqualValues(t, 1, check["dropped"])
	require.Greater(t, check["instances"].(float64), 100.0)
	y := check["yaml"].(string)
	require.Contains(t, y, "审核后：建立专题会议制度")
	require.Contains(t, y, "已删除 "+dropped["id"].(string))
	require.Contains(t, y, "# 审核：修改后采纳")
	require.Equal(t, before, countRows(t, f.stack.DB, `SELECT count(*) FROM plans`), "checking stores nothing")

	// The file to download, under its name.
	res = f.as(t, "hunan-admin", "POST", "/api/v1/drafts/plan?format=yaml", jsonBody(review))
	require.Equal(t, 200, res.status, "%s", res.body)
	require.Equal(t, y, string(res.body))
	_, params, err := mime.ParseMediaType(res.header.Get("Content-Disposition"))
	require.NoError(t, err)
	require.Equal(t, "draft-review-2021.yaml", params["filename"])

	// Import: a new plan, audited; the edit is in it, the dropped one not.
	audits := countRows(t, f.stack.DB, `SELECT count(*) FROM audit_log WHERE action = 'plan.import'`)
	t.Cleanup(func() { deletePlan(t, f, "draft-review-2021") })
	res = f.as(t, "hunan-admin", "POST", "/api/v1/drafts/import", jsonBody(review))
	require.Equal(t, 201, res.status, "%s", res.body)
	require.Equal(t, "draft-review-2021", res.json(t)["plan"].(map[string]any)["id"])
	require.Equal(t, audits+1, countRows(t, f.stack.DB, `SELECT count(*) FROM audit_log WHERE action = 'plan.import'`))
	stored, err := f.stack.DB.Plan(context.Background(), "draft-review-2021")
	require.NoError(t, err)
	require.Len(t, stored.Templates(), 48)
	for _, st := range stored.Templates() {
		require.NotEqual(t, dropped["id"], st.Template.ID)
		if st.Template.ID == edited["id"] {
			require.Equal(t, "审核后：建立专题会议制度", st.Template.Title)
			require.Equal(t, "2021-09-30", st.Template.Due.Date.String())
		}
	}
	// A second import would replace it: refused, the field named.
	p := f.as(t, "hunan-admin", "POST", "/api/v1/drafts/import", jsonBody(review)).problem(t, 409, "conflict")
	require.Equal(t, []string{"plan_id"}, fieldsOf(p))
	require.Contains(t, p["errors"].([]any)[0].(map[string]any)["message"], "已于")
	require.Equal(t, audits+1, countRows(t, f.stack.DB, `SELECT count(*) FROM audit_log WHERE action = 'plan.import'`))
}

// A Word file and a pasted text are read alike; a sentence the drafter
// cannot read is listed, never dropped.
func TestDraftFromWordAndPaste(t *testing.T) {
	f := getFixture(t)
	res := f.as(t, "hunan-admin", "POST", "/api/v1/drafts", multipartBody(nil, map[string][]byte{"2022年工作要点.docx": noticeDocx(notice2022...)}))
	require.Equal(t, 200, res.status, "%s", res.body)
	word := res.json(t)
	require.Equal(t, "2022年工作要点.docx", word["notice"])
	require.EqualValues(t, 2022, word["year"])
	unread := word["unreadable"].([]any)
	require.Len(t, unread, 1)
	require.Contains(t, unread[0].(map[string]any)["text"], "力争全年新发展会员3000名")
	require.Equal(t, "无法识别", unread[0].(map[string]any)["verdict_label"])
	var titles []string
	for _, p := range word["proposals"].([]any) {
		p := p.(map[string]any)
		titles = append(titles, p["title"].(string))
		if strings.Contains(p["quote"].(string), "换届") {
			require.ElementsMatch(t, []any{"city", "county"}, p["levels"])
			require.Equal(t, "2022-06-30", p["due"])
		}
		if strings.Contains(p["quote"].(string), "基地") {
			require.Equal(t, "count", p["kind"])
			require.EqualValues(t, 1, p["target"])
		}
	}
	require.Len(t, titles, 2, "%v", titles)

	res = f.as(t, "hunan-admin", "POST", "/api/v1/drafts?year=2022&plan=hunan-2022", textBody(strings.Join(notice2022, "\n")))
	require.Equal(t, 200, res.status, "%s", res.body)
	pasted := res.json(t)
	require.Equal(t, "hunan-2022", pasted["plan_id"])
	require.Equal(t, word["counts"], pasted["counts"])
	a, _ := json.Marshal(word["proposals"])
	b, _ := json.Marshal(pasted["proposals"])
	require.JSONEq(t, string(a), string(b), "the same proposals from Word and from the pasted text")

	// The reviewed plan validates; its unreadable sentence is in the file.
	res = f.as(t, "hunan-admin", "POST", "/api/v1/drafts/plan", jsonBody(reviewOf(t, pasted, "hunan-2022")))
	require.Equal(t, 200, res.status, "%s", res.body)
	require.Contains(t, res.json(t)["yaml"], "力争全年新发展会员3000名")
}

// Errors of the plan the review makes come back by line, named as the
// review's fields, with the file; nothing is stored.
func TestDraftPlanErrorsByLine(t *testing.T) {
	f := getFixture(t)
	res := f.as(t, "hunan-admin", "POST", "/api/v1/drafts", textBody(strings.Join(notice2022, "\n")))
	require.Equal(t, 200, res.status, "%s", res.body)
	review := reviewOf(t, res.json(t), "lines-2022")
	props := review["proposals"].([]map[string]any)
	props[1]["due"], props[1]["basis"] = "2024-01-15", "stated" // outside the plan year
	props[0]["units"] = []string{"439999"}                      // no such unit
	before := countRows(t, f.stack.DB, `SELECT count(*) FROM plans`)
	for _, path := range []string{"/api/v1/drafts/plan", "/api/v1/drafts/import"} {
		p := f.as(t, "hunan-admin", "POST", path, jsonBody(review)).problem(t, 422, "invalid")
		require.Contains(t, p["detail"], "计划文件有")
		y := p["yaml"].(string)
		lines := strings.Split(y, "\n")
		byField := map[string]map[string]any{}
		for _, e := range p["errors"].([]any) {
			e := e.(map[string]any)
			byField[e["field"].(string)] = e
			line := int(e["line"].(float64))
			require.Greater(t, line, 0, "%v", e)
			require.LessOrEqual(t, line, len(lines))
		}
		due, ok := byField["proposals[1].due"]
		require.True(t, ok, "%v", p["errors"])
		require.Contains(t, lines[int(due["line"].(float64))-1], "2024-01-15")
		unit, ok := byField["proposals[0].units[0]"]
		require.True(t, ok, "%v", p["errors"])
		require.Contains(t, unit["message"], "439999")
		require.Contains(t, lines[int(unit["line"].(float64))-1], "439999")
	}
	require.Equal(t, before, countRows(t, f.stack.DB, `SELECT count(*) FROM plans`))
}

// What an attacker (or a slip) sends is refused with the field named in
// Chinese, and nothing is stored.
func TestDraftBadInput(t *testing.T) {
	f := getFixture(t)
	res := f.as(t, "hunan-admin", "POST", "/api/v1/drafts", textBody(strings.Join(notice2022, "\n")))
	require.Equal(t, 200, res.status, "%s", res.body)
	d := res.json(t)
	plans := countRows(t, f.stack.DB, `SELECT count(*) FROM plans`)
	audits := countRows(t, f.stack.DB, `SELECT count(*) FROM audit_log`)

	bad := func(name string, change func(r map[string]any), field, msg string) {
		t.Helper()
		r := reviewOf(t, d, "bad-2022")
		change(r)
		for _, path := range []string{"/api/v1/drafts/plan", "/api/v1/drafts/import"} {
			p := f.as(t, "hunan-admin", "POST", path, jsonBody(r)).problem(t, 422, "invalid")
			require.Contains(t, fieldsOf(p), field, "%s: %v", name, p["errors"])
			var found bool
			for _, e := range p["errors"].([]any) {
				e := e.(map[string]any)
				if e["field"] == field {
					found = strings.Contains(e["message"].(string), msg)
					require.True(t, found, "%s: %s says %q, want %q", name, field, e["message"], msg)
				}
			}
		}
	}
	prop := func(k string, v any) func(r map[string]any) {
		return func(r map[string]any) { r["proposals"].([]map[string]any)[0][k] = v }
	}
	bad("NUL in a title", prop("title", "换届\x00工作"), "proposals[0].title", "NUL")
	bad("a line break into the YAML", prop("title", "x\n    evil: 1"), "proposals[0].title", "控制字符")
	bad("a bell in the plan title", func(r map[string]any) { r["title"] = "要点\a" }, "title", "U+0007")
	bad("a line break in a note", prop("notes", []string{"依据\nplan: evil"}), "proposals[0].notes[0]", "控制字符")
	bad("a far date", prop("due", "9999-12-31"), "proposals[0].due", "2100-12-31")
	bad("no such day", prop("due", "2022-02-30"), "proposals[0].due", "YYYY-MM-DD")
	bad("a huge target", prop("target", 2_000_000), "proposals[0].target", "1000000")
	bad("a far year", func(r map[string]any) { r["year"] = 20220 }, "year", "2000 到 2100")
	bad("an unknown decision", prop("decision", "maybe"), "proposals[0].decision", "accept")
	bad("an unknown field", prop("owner", "me"), "proposals[0].owner", "未知字段")
	bad("another unit's code", prop("units", []string{"430102\x00"}), "proposals[0].units[0]", "NUL")
	bad("everything dropped", func(r map[string]any) {
		for _, p := range r["proposals"].([]map[string]any) {
			p["decision"] = "drop"
		}
	}, "proposals", "至少保留一个任务")
	bad("a section the notice has not", prop("section", "99"), "proposals[0].section", "不在通知的章节中")
	bad("a base that does not exist", func(r map[string]any) { r["base"] = "no-such-plan" }, "base", "no-such-plan")
	// A number too big for any integer is a type error on its field.
	r := reviewOf(t, d, "bad-2022")
	raw, _ := json.Marshal(r)
	raw = bytes.Replace(raw, []byte(`"target":1`), []byte(`"target":1e30`), 1)
	p := f.as(t, "hunan-admin", "POST", "/api/v1/drafts/plan", rawJSON(string(raw))).problem(t, 422, "invalid")
	require.Equal(t, []string{"proposals[1].target"}, fieldsOf(p))

	// The notice itself.
	p = f.as(t, "hunan-admin", "POST", "/api/v1/drafts", textBody("一、总体要求\x00\x01二进制")).problem(t, 422, "invalid")
	require.Equal(t, []string{"file"}, fieldsOf(p))
	p = f.as(t, "hunan-admin", "POST", "/api/v1/drafts", multipartBody(nil, map[string][]byte{"old.doc": {0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0}})).problem(t, 422, "invalid")
	require.Contains(t, p["errors"].([]any)[0].(map[string]any)["message"], ".docx")
	p = f.as(t, "hunan-admin", "POST", "/api/v1/drafts", textBody("no Chinese at all")).problem(t, 422, "invalid")
	require.Equal(t, []string{"file"}, fieldsOf(p))
	f.as(t, "hunan-admin", "POST", "/api/v1/drafts", textBody("")).problem(t, 422, "invalid")
	f.as(t, "hunan-admin", "POST", "/api/v1/drafts", textBody(strings.Repeat("通知", 3<<20))).problem(t, 413, "payload_too_large")
	f.as(t, "hunan-admin", "POST", "/api/v1/drafts", rawJSON(`{"text":"通知"}`)).problem(t, 415, "unsupported_media_type")
	p = f.as(t, "hunan-admin", "POST", "/api/v1/drafts?year=99999", textBody("通知")).problem(t, 422, "invalid")
	require.Equal(t, []string{"year"}, fieldsOf(p))
	p = f.as(t, "hunan-admin", "POST", "/api/v1/drafts?plan=../../etc", textBody("通知")).problem(t, 422, "invalid")
	require.Equal(t, []string{"plan"}, fieldsOf(p))

	require.Equal(t, plans, countRows(t, f.stack.DB, `SELECT count(*) FROM plans`), "no plan stored")
	require.Equal(t, audits, countRows(t, f.stack.DB, `SELECT count(*) FROM audit_log`), "nothing audited")
}
