package cli

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

	"github.com/prometheus/client_golang/prometheus"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/config"
	"github.com/duban-dev/duban/store"
)

// rehashSQL is what a database writer with nothing but SQL can do after
// changing a row: recompute every row's hash and the head with PostgreSQL's
// own sha256, exactly as store.AuditHash does (for text without <, > or &,
// to_json escapes as Go's encoder does).
const rehashSQL = `
WITH RECURSIVE canon AS (
	SELECT id, '[' || id || ',' || to_json(to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))::text || ','
		|| coalesce(actor_id::text, 'null') || ',' || to_json(actor_name)::text || ',' || to_json(actor_unit)::text || ','
		|| to_json(action)::text || ',' || to_json(unit_code)::text || ',' || to_json(instance_id)::text || ','
		|| to_json(detail)::text || ']' AS c
	FROM audit_log
), chain AS (
	SELECT id, ''::text AS prev, encode(sha256(convert_to(c, 'UTF8')), 'hex') AS h FROM canon WHERE id = 1
	UNION ALL
	SELECT n.id, chain.h, encode(sha256(convert_to(chain.h || n.c, 'UTF8')), 'hex') FROM chain JOIN canon n ON n.id = chain.id + 1
), rewritten AS (
	UPDATE audit_log a SET prev_hash = chain.prev, hash = chain.h FROM chain WHERE a.id = chain.id RETURNING a.id
)
UPDATE audit_head SET hash = (SELECT h FROM chain ORDER BY id DESC LIMIT 1)`

func runCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	env := &Env{Stdout: &out, Stderr: &out, Stdin: strings.NewReader(""), Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	err := Run(context.Background(), env, Production(), args)
	return out.String(), err
}

func mustContain(t *testing.T, what, out string, err error, wantErr bool, parts ...string) {
	t.Helper()
	if (err != nil) != wantErr {
		t.Fatalf("%s: err %v (want error: %v)\n%s", what, err, wantErr, out)
	}
	for _, p := range parts {
		if !strings.Contains(out+" "+errString(err), p) {
			t.Fatalf("%s: %q not in output %q (err %v)", what, p, out, err)
		}
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// TestAuditSealsCatchARewrittenChain: an operator makes a key pair, seals
// the chain and verifies it. A database writer then changes a row and
// recomputes every hash and the head by SQL: the chain's links alone still
// verify, but `duban audit verify` with the public key fails and names the
// seal the rewrite broke; the sealer refuses to sign the rewritten chain.
// Forging the seal's head breaks its signature; deleting the seals is
// caught by the exported copies, and without them by the missing seals.
func TestAuditSealsCatchARewrittenChain(t *testing.T) {
	ctx := context.Background()
	db := auditedDB(t)
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "audit-key.pem")

	out, err := runCLI(t, "audit", "keygen", "--out", keyFile)
	mustContain(t, "keygen", out, err, false, "已生成审计签名密钥", keyFile+".pub")
	if fi, err := os.Stat(keyFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("private key file: %v %v", fi, err)
	}
	out, err = runCLI(t, "audit", "keygen", "--out", keyFile)
	mustContain(t, "keygen over an existing key", out, err, true, "已存在")

	t.Setenv("DUBAN_AUDIT_KEY_FILE", keyFile)
	t.Setenv("DUBAN_AUDIT_PUBLIC_KEY_FILE", keyFile+".pub")

	out, err = runCLI(t, "audit", "verify")
	mustContain(t, "verify before any seal", out, err, true, "没有任何签名封印")
	t.Setenv("DUBAN_AUDIT_SEAL_DIR", filepath.Join(dir, "seals"))

	out, err = runCLI(t, "audit", "seal")
	mustContain(t, "first seal", out, err, false, "已封印：封印 #1 覆盖第 1–4 条记录")
	out, err = runCLI(t, "audit", "seal")
	mustContain(t, "seal with nothing new", out, err, false, "封印 #1 之后没有新记录")
	if _, err := os.Stat(filepath.Join(dir, "seals", "seal-0000000001.json")); err != nil {
		t.Fatalf("seal not exported: %v", err)
	}

	admin := duban.Actor{UserID: 1, Name: "省管理员", UnitCode: "43"}
	for i := range 2 {
		e, err := store.NewAuditEntry(admin, "settings.change", "43", "", map[string]any{"n": i})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.AppendAudit(ctx, e); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			out, err = runCLI(t, "audit", "seal")
			mustContain(t, "second seal", out, err, false, "封印 #2 覆盖第 1–5 条记录")
		}
	}
	out, err = runCLI(t, "audit", "verify")
	mustContain(t, "verify a sealed chain", out, err, false, "共 6 条记录", "2 个均有效", "2 个导出副本一致", "还有 1 条记录尚未封印")

	// The writer changes row 3 and recomputes every hash and the head.
	if _, err := db.Pool.Exec(ctx, `UPDATE audit_log SET actor_name = '别人' WHERE id = 3`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool.Exec(ctx, rehashSQL); err != nil {
		t.Fatal(err)
	}
	links, err := db.VerifyAudit(ctx)
	if err != nil || !links.OK() {
		t.Fatalf("the rehashed chain should pass the link check alone (else the rewrite was not faithful): %+v %v", links, err)
	}
	out, err = runCLI(t, "audit", "verify")
	mustContain(t, "verify the rewritten chain", out, err, true, "audit chain fails seal 1", "审计链与封印 #1 不符", "第 1–4 条中有记录被改写")
	out, err = runCLI(t, "audit", "seal")
	mustContain(t, "seal the rewritten chain", out, err, true, "拒绝封印", "封印 #2")

	// The writer also puts the new head into the seals: the signatures no
	// longer match.
	if _, err := db.Pool.Exec(ctx, `UPDATE audit_seals s SET head = a.hash FROM audit_log a WHERE a.id = s.last_id`); err != nil {
		t.Fatal(err)
	}
	out, err = runCLI(t, "audit", "verify", "--seal-dir", filepath.Join(dir, "empty"))
	if err == nil || !strings.Contains(out, "封印导出目录") && !strings.Contains(errString(err), "封印导出目录") {
		t.Fatalf("a missing seal directory: %v %q", err, out)
	}
	t.Setenv("DUBAN_AUDIT_SEAL_DIR", "")
	out, err = runCLI(t, "audit", "verify")
	mustContain(t, "verify forged seals", out, err, true, "封印 #1 的签名无效")

	// Put back as it was, the seals deleted: the exported copies name the
	// first seal missing; without them, a chain with no seal fails.
	if _, err := db.Pool.Exec(ctx, `UPDATE audit_log SET actor_name = '芙蓉区承办人' WHERE id = 3`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool.Exec(ctx, rehashSQL); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool.Exec(ctx, `DELETE FROM audit_seals WHERE id = 1`); err != nil {
		t.Fatal(err)
	}
	out, err = runCLI(t, "audit", "verify")
	mustContain(t, "verify with the first seal deleted", out, err, true, "封印 #1 缺失")
	if _, err := db.Pool.Exec(ctx, `DELETE FROM audit_seals`); err != nil {
		t.Fatal(err)
	}
	out, err = runCLI(t, "audit", "verify", "--seal-dir", filepath.Join(dir, "seals"))
	mustContain(t, "verify with the seals deleted", out, err, true, "封印 #1 在导出目录中有，数据库中没有")
	out, err = runCLI(t, "audit", "verify")
	mustContain(t, "verify with the seals deleted, no copies", out, err, true, "没有任何签名封印")

	// Another key's public key does not verify this key's seals.
	other := filepath.Join(dir, "other.pem")
	if _, err := runCLI(t, "audit", "keygen", "--out", other); err != nil {
		t.Fatal(err)
	}
	out, err = runCLI(t, "audit", "seal")
	mustContain(t, "seal the restored chain", out, err, false, "已封印：封印 #1 覆盖第 1–6 条记录")
	out, err = runCLI(t, "audit", "verify", "--public-key", other+".pub")
	mustContain(t, "verify with another key", out, err, true, "不在配置的公钥中")
}

// TestServeSealsTheAuditChainOnASchedule: the sealer `duban serve` starts
// seals at once and then on its interval, exports each new seal, and
// refuses (counted, for the alert) to seal a chain rewritten since.
func TestServeSealsTheAuditChainOnASchedule(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	db := auditedDB(t)
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "k.pem")
	if _, err := runCLI(t, "audit", "keygen", "--out", keyFile); err != nil {
		t.Fatal(err)
	}
	env := &Env{Stdout: io.Discard, Stderr: io.Discard, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	reg := prometheus.NewRegistry()
	cfg := config.Audit{KeyFile: keyFile, SealInterval: 100 * time.Millisecond, SealDir: filepath.Join(dir, "seals")}
	if err := StartAuditSealer(ctx, env, cfg, db, reg); err != nil {
		t.Fatal(err)
	}
	runs, err := reg.Gather()
	if err != nil || len(runs) != 2 {
		t.Fatalf("metrics: %v %v", runs, err)
	}
	waitSeals := func(n int) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			seals, err := db.AuditSeals(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(seals) == n {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d seals, want %d", len(seals), n)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitSeals(1)
	e, _ := store.NewAuditEntry(duban.Actor{UserID: 1, Name: "省管理员", UnitCode: "43"}, "settings.change", "43", "", nil)
	if _, err := db.AppendAudit(ctx, e); err != nil {
		t.Fatal(err)
	}
	waitSeals(2)
	if _, err := os.Stat(filepath.Join(dir, "seals", "seal-0000000002.json")); err != nil {
		t.Fatalf("second seal not exported: %v", err)
	}

	if _, err := db.Pool.Exec(ctx, `UPDATE audit_log SET action = 'user.delete' WHERE id = 1`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool.Exec(ctx, rehashSQL); err != nil {
		t.Fatal(err)
	}
	if _, err := db.AppendAudit(ctx, e); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for sealRuns(t, reg, "refused") == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the sealer did not refuse the rewritten chain")
		}
		time.Sleep(50 * time.Millisecond)
	}
	waitSeals(2)
}

// sealRuns reads duban_audit_seals_total{outcome} from reg.
func sealRuns(t *testing.T, reg *prometheus.Registry, outcome string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "duban_audit_seals_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "outcome" && l.GetValue() == outcome {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}
