package cli_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/internal/cli"
	"github.com/duban-dev/duban/internal/testenv"
	"github.com/duban-dev/duban/org"
	"github.com/duban-dev/duban/plan"
)

// TestScoreCommands runs `duban score show`, `score rank` and `score
// snapshot` on a database where 芙蓉区 finished its reform plan in time.
func TestScoreCommands(t *testing.T) {
	ctx := context.Background()
	db := testenv.OpenDB(t)
	t.Setenv("DATABASE_URL", db.Pool.Config().ConnString())
	p, src, err := plan.Shipped("hunan-2021")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ImportPlan(ctx, p, src, "test"); err != nil {
		t.Fatal(err)
	}
	specs, err := plan.Expand(p, org.Hunan(), 2021)
	if err != nil {
		t.Fatal(err)
	}
	var reform []duban.TaskSpec
	for _, s := range specs {
		if s.TemplateID == "2.1" {
			reform = append(reform, s)
		}
	}
	at := time.Date(2021, 3, 1, 9, 0, 0, 0, duban.Shanghai)
	if _, err := db.RecordAssigned(ctx, reform, at); err != nil {
		t.Fatal(err)
	}
	for i, tr := range []duban.Transition{
		{Kind: duban.EventSubmitted, From: duban.StatusAssigned, To: duban.StatusSubmitted},
		{Kind: duban.EventCompleted, From: duban.StatusSubmitted, To: duban.StatusCompleted},
	} {
		tr.InstanceID, tr.Seq, tr.At = "2021/2.1/430102", int64(i+2), at.AddDate(0, 6, i)
		tr.Actor = duban.Actor{Name: "测试"}
		tr.Projection = duban.Projection{Status: tr.To, Due: reform[0].Due, StepCount: 3, Seq: tr.Seq}
		if _, err := db.ApplyTransition(ctx, tr); err != nil {
			t.Fatal(err)
		}
	}
	cmd := func(args ...string) (string, error) {
		var out bytes.Buffer
		env := &cli.Env{Stdout: &out, Stderr: &out, Stdin: strings.NewReader(""), Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
		err := cli.Run(ctx, env, cli.Production(), args)
		return out.String(), err
	}

	out, err := cmd("score", "show", "--unit", "430102", "--as-of", "2022-01-31")
	if err != nil {
		t.Fatalf("score show: %v\n%s", err, out)
	}
	for _, want := range []string{"芙蓉区（430102）截至 2022-01-31 考核得分：100.00", "按期办结", "2021/2.1/430102#2 2021/2.1/430102#3"} {
		if !strings.Contains(out, want) {
			t.Errorf("score show does not say %q:\n%s", want, out)
		}
	}

	dir := t.TempDir()
	xlsx, pdf := filepath.Join(dir, "rank.xlsx"), filepath.Join(dir, "rank.pdf")
	out, err = cmd("score", "rank", "--unit", "4301", "--as-of", "2022-01-31", "--xlsx", xlsx, "--pdf", pdf)
	if err != nil {
		t.Fatalf("score rank: %v\n%s", err, out)
	}
	if !strings.Contains(out, "第 1 名") || !strings.Contains(out, "并列第 2 名") || !strings.Contains(out, "长沙市所属 9 个单位") {
		t.Errorf("score rank output:\n%s", out)
	}
	for _, f := range []string{xlsx, pdf} {
		if st, err := os.Stat(f); err != nil || st.Size() == 0 {
			t.Errorf("%s not written: %v", f, err)
		}
	}

	out, err = cmd("score", "snapshot", "--day", "2021-09-01")
	if err != nil || !strings.Contains(out, "2021-09-01") {
		t.Fatalf("score snapshot: %v\n%s", err, out)
	}
	series, err := db.Series(ctx, "4301", 2021, "hunan-2021")
	if err != nil || len(series) != 1 || series[0].Completed != 1 || series[0].Total != 10 {
		t.Errorf("series after the snapshot: %+v, %v", series, err)
	}

	if _, err := cmd("score", "show"); err == nil {
		t.Error("score show without --unit succeeded")
	}
	if _, err := cmd("score", "show", "--unit", "430102", "--as-of", "2021-02-30"); err == nil {
		t.Error("a day that does not exist was accepted")
	}
}
