package report

import (
	"fmt"
	"io"

	"github.com/xuri/excelize/v2"

	"github.com/duban-dev/duban/score"
)

// Sheet names of the ranking workbook.
const (
	SheetRanking = "考核排名"
	SheetLines   = "得分明细"
)

// RankingHeaders are the columns of the ranking sheet.
var RankingHeaders = []string{"名次", "并列", "单位代码", "单位名称", "得分", "任务得分", "应得分", "计分任务",
	"按期办结", "逾期办结", "逾期未办结", "审批中", "尚未到期", "撤销", "退回次数", "催办次数", "延期次数", "加减分"}

// LineHeaders are the columns of the explanation sheet.
var LineHeaders = []string{"单位代码", "单位名称", "得分", "规则", "任务编号", "任务", "说明", "依据"}

// RankingXLSX writes a ranking as an Excel workbook: the ranking on the
// first sheet, every line of every unit's explanation on the second.
func RankingXLSX(w io.Writer, r score.Ranking) error {
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", SheetRanking); err != nil {
		return err
	}
	if _, err := f.NewSheet(SheetLines); err != nil {
		return err
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}, Fill: excelize.Fill{Type: "pattern", Color: []string{"EBEEF5"}, Pattern: 1}})
	if err != nil {
		return err
	}
	points, err := f.NewStyle(&excelize.Style{NumFmt: 2}) // 0.00
	if err != nil {
		return err
	}

	title := fmt.Sprintf("%s　%s所属单位考核排名（截至 %s）", r.PlanTitle, r.Parent.Name, r.AsOf)
	if err := f.SetCellValue(SheetRanking, "A1", title); err != nil {
		return err
	}
	if err := setRow(f, SheetRanking, 2, toAny(RankingHeaders)); err != nil {
		return err
	}
	for i, row := range r.Rows {
		s := row.Score
		c := s.Counts
		tied := ""
		if row.Tied {
			tied = "并列"
		}
		vals := []any{row.Rank, tied, s.Unit.Code, s.Unit.Name, s.Total.Float(), s.Earned.Float(), s.Attainable.Float(), c.Tasks,
			c.OnTime, c.Late, c.NotDone, c.InApproval, c.NotYetDue, c.Cancelled, c.Returned, c.Urged, c.Extensions, adjustments(s).Float()}
		if err := setRow(f, SheetRanking, i+3, vals); err != nil {
			return err
		}
	}
	last := len(r.Rows) + 2
	note := last + 2
	if err := f.SetCellValue(SheetRanking, fmt.Sprintf("A%d", note), "名次说明："+r.TieRule); err != nil {
		return err
	}
	_ = f.SetCellStyle(SheetRanking, "A2", cell(len(RankingHeaders), 2), bold)
	_ = f.SetCellStyle(SheetRanking, "E3", fmt.Sprintf("G%d", max(last, 3)), points)
	_ = f.SetCellStyle(SheetRanking, "R3", fmt.Sprintf("R%d", max(last, 3)), points)
	_ = f.SetColWidth(SheetRanking, "D", "D", 18)
	_ = f.SetPanes(SheetRanking, &excelize.Panes{Freeze: true, YSplit: 2, TopLeftCell: "A3", ActivePane: "bottomLeft"})

	if err := setRow(f, SheetLines, 1, toAny(LineHeaders)); err != nil {
		return err
	}
	n := 2
	for _, row := range r.Rows {
		s := row.Score
		for _, l := range s.Lines {
			if err := setRow(f, SheetLines, n, []any{s.Unit.Code, s.Unit.Name, l.Points.Float(), l.Rule.Label(), l.TemplateID, lineTask(l), l.Text, lineBasis(l)}); err != nil {
				return err
			}
			n++
		}
		if err := setRow(f, SheetLines, n, []any{s.Unit.Code, s.Unit.Name, s.Total.Float(), "合计"}); err != nil {
			return err
		}
		n++
	}
	_ = f.SetCellStyle(SheetLines, "A1", cell(len(LineHeaders), 1), bold)
	_ = f.SetCellStyle(SheetLines, "C2", fmt.Sprintf("C%d", max(n-1, 2)), points)
	_ = f.SetColWidth(SheetLines, "F", "F", 30)
	_ = f.SetColWidth(SheetLines, "G", "G", 80)
	_ = f.SetColWidth(SheetLines, "H", "H", 40)
	f.SetActiveSheet(0)
	_, err = f.WriteTo(w)
	return err
}

func setRow(f *excelize.File, sheet string, row int, vals []any) error {
	return f.SetSheetRow(sheet, fmt.Sprintf("A%d", row), &vals)
}

func cell(col, row int) string {
	name, _ := excelize.CoordinatesToCellName(col, row)
	return name
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
