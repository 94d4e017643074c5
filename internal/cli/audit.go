package cli

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/duban-dev/duban/config"
	"github.com/duban-dev/duban/store"
)

// auditVerify recomputes every audit row's hash and fails, naming the row,
// at the first one that was altered, removed or reordered. With a public key
// (--public-key or DUBAN_AUDIT_PUBLIC_KEY_FILE) it also checks every seal,
// and fails, naming the seal, when the chain was rewritten and rehashed.
func auditVerify(ctx context.Context, env *Env, args []string) error {
	pubFile, sealDir, db, err := openAuditCommand(ctx, env, "audit verify", args,
		"public-key", "PEM file of the public key(s) the seals are checked with (default: DUBAN_AUDIT_PUBLIC_KEY_FILE)",
		func(a config.Audit) string { return a.PublicKeyFile }, "directory of exported seals to compare with the table (default: DUBAN_AUDIT_SEAL_DIR)")
	if err != nil {
		return err
	}
	defer db.Close()
	var keys store.AuditKeys
	if pubFile != "" {
		if keys, err = readAuditPublicKeys(pubFile); err != nil {
			return err
		}
	}
	var exported []store.AuditSeal
	if sealDir != "" && keys != nil {
		if exported, err = readSealDir(sealDir); err != nil {
			return err
		}
	}
	check, err := db.VerifyAuditSealed(ctx, keys, exported)
	if err != nil {
		return err
	}
	if !check.OK() {
		if check.SealFailed {
			fmt.Fprintf(env.Stdout, "审计链签名封印校验失败：%s\n", check.Problem)
			return fmt.Errorf("audit chain fails seal %d", check.SealID)
		}
		fmt.Fprintf(env.Stdout, "审计链校验失败：%s（此前 %d 条记录完好）\n", check.Problem, check.Rows)
		return fmt.Errorf("audit chain broken at row %d", check.BrokenID)
	}
	fmt.Fprintf(env.Stdout, "审计链完整：共 %d 条记录，最后一条为第 %d 条\n", check.Rows, check.LastID)
	switch {
	case keys == nil:
		fmt.Fprintln(env.Stdout, "未配置审计公钥（DUBAN_AUDIT_PUBLIC_KEY_FILE 或 --public-key），未校验签名封印：改写后重算全部哈希的链无法由此发现")
	default:
		fmt.Fprintf(env.Stdout, "签名封印：%d 个均有效（另与 %d 个导出副本一致）；最新封印之后还有 %d 条记录尚未封印\n", check.Seals, len(exported), check.Unsealed)
	}
	return nil
}

// auditSeal signs the chain's current head once (what `duban serve` does
// on its schedule).
func auditSeal(ctx context.Context, env *Env, args []string) error {
	keyFile, sealDir, db, err := openAuditCommand(ctx, env, "audit seal", args,
		"key", "PEM file of the private key to sign with (default: DUBAN_AUDIT_KEY_FILE)",
		func(a config.Audit) string { return a.KeyFile }, "directory to export the seal to (default: DUBAN_AUDIT_SEAL_DIR)")
	if err != nil {
		return err
	}
	defer db.Close()
	if keyFile == "" {
		return UsageError{"未配置审计私钥：设置 DUBAN_AUDIT_KEY_FILE 或 --key（用 duban audit keygen 生成）"}
	}
	key, err := readAuditPrivateKey(keyFile)
	if err != nil {
		return err
	}
	seal, sealed, err := sealAndExport(ctx, db, key, sealDir)
	if err != nil {
		return err
	}
	switch {
	case seal.ID == 0:
		fmt.Fprintln(env.Stdout, "审计链为空，无需封印")
	case sealed:
		fmt.Fprintf(env.Stdout, "已封印：封印 #%d 覆盖第 1–%d 条记录，链头 %.12s…，密钥 %s\n", seal.ID, seal.LastID, seal.Head, seal.KeyID)
	default:
		fmt.Fprintf(env.Stdout, "封印 #%d 之后没有新记录，未新建封印\n", seal.ID)
	}
	return nil
}

// openAuditCommand parses an audit command's flags — --config, a key file
// (keyFlag, defaulting to the configured file) and --seal-dir (defaulting
// to DUBAN_AUDIT_SEAL_DIR) — and opens the store.
func openAuditCommand(ctx context.Context, env *Env, name string, args []string, keyFlag, keyUsage string,
	keyDefault func(config.Audit) string, dirUsage string) (keyFile, sealDir string, db *store.DB, err error) {
	fs := NewFlags(env, name)
	cfgPath := ConfigFlag(fs)
	fs.StringVar(&keyFile, keyFlag, "", keyUsage)
	fs.StringVar(&sealDir, "seal-dir", "", dirUsage)
	if err := Parse(fs, args); err != nil {
		return "", "", nil, err
	}
	cfg, db, err := env.openStore(ctx, *cfgPath)
	if err != nil {
		return "", "", nil, err
	}
	if keyFile == "" {
		keyFile = keyDefault(cfg.Audit)
	}
	if sealDir == "" {
		sealDir = cfg.Audit.SealDir
	}
	return keyFile, sealDir, db, nil
}

// sealAndExport seals the chain and, with a directory, writes the newest
// seal there.
func sealAndExport(ctx context.Context, db *store.DB, key ed25519.PrivateKey, dir string) (store.AuditSeal, bool, error) {
	seal, sealed, err := db.SealAudit(ctx, key, time.Now())
	if err != nil || dir == "" || seal.ID == 0 {
		return seal, sealed, err
	}
	return seal, sealed, exportSeal(dir, seal)
}

// auditKeygen writes a new Ed25519 key pair: the private key to --out (mode
// 0600) and the public key beside it (.pub).
func auditKeygen(ctx context.Context, env *Env, args []string) error {
	fs := NewFlags(env, "audit keygen")
	out := fs.String("out", "", "file for the private key; the public key goes to the same name with .pub")
	if err := Parse(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return UsageError{"--out: 请指定私钥文件路径，例如 --out /etc/duban/audit-key.pem"}
	}
	pubPath := *out + ".pub"
	for _, p := range []string{*out, pubPath} {
		if _, err := os.Stat(p); err == nil {
			return fmt.Errorf("%s 已存在：不覆盖已有的密钥（轮换密钥请换一个文件名）", p)
		}
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	privDER, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return err
	}
	pubDER, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return err
	}
	if err := writeNew(*out, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: privDER}), 0o600); err != nil {
		return err
	}
	if err := writeNew(pubPath, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "已生成审计签名密钥 %s\n私钥：%s（仅 duban serve 的运行用户可读；不要放进数据库或其备份）\n公钥：%s（供 duban audit verify 使用）\n",
		store.AuditKeyID(pub), *out, pubPath)
	return nil
}

func writeNew(path string, data []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func readAuditPrivateKey(path string) (ed25519.PrivateKey, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("审计私钥：%w", err)
	}
	block, _ := pem.Decode(raw)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("审计私钥 %s：不是 PEM 格式的私钥（PRIVATE KEY）", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("审计私钥 %s：%w", path, err)
	}
	key, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("审计私钥 %s：不是 Ed25519 密钥", path)
	}
	return key, nil
}

// readAuditPublicKeys reads every PUBLIC KEY block of a PEM file: the
// current key and any retired ones whose seals are still checked.
func readAuditPublicKeys(path string) (store.AuditKeys, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("审计公钥：%w", err)
	}
	var keys []ed25519.PublicKey
	for {
		var block *pem.Block
		block, raw = pem.Decode(raw)
		if block == nil {
			break
		}
		if block.Type != "PUBLIC KEY" {
			continue
		}
		k, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("审计公钥 %s：%w", path, err)
		}
		key, ok := k.(ed25519.PublicKey)
		if !ok {
			return nil, fmt.Errorf("审计公钥 %s：不是 Ed25519 公钥", path)
		}
		keys = append(keys, key)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("审计公钥 %s：文件中没有 PEM 格式的公钥（PUBLIC KEY）", path)
	}
	return store.NewAuditKeys(keys...), nil
}

func sealFileName(id int64) string { return fmt.Sprintf("seal-%010d.json", id) }

// exportSeal writes a seal to dir as seal-NNNNNNNNNN.json, atomically; a
// file already there for that id is left as it is.
func exportSeal(dir string, s store.AuditSeal) error {
	path := filepath.Join(dir, sealFileName(s.ID))
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("export audit seal: %w", err)
	}
	raw, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".seal-*")
	if err != nil {
		return fmt.Errorf("export audit seal: %w", err)
	}
	if _, err := tmp.Write(append(raw, '\n')); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("export audit seal: %w", err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// readSealDir reads every exported seal in dir, by id.
func readSealDir(dir string) ([]store.AuditSeal, error) {
	names, err := filepath.Glob(filepath.Join(dir, "seal-*.json"))
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("封印导出目录：%w", err)
	}
	sort.Strings(names)
	var out []store.AuditSeal
	for _, n := range names {
		raw, err := os.ReadFile(n)
		if err != nil {
			return nil, err
		}
		var s store.AuditSeal
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&s); err != nil || filepath.Base(n) != sealFileName(s.ID) {
			return nil, fmt.Errorf("封印文件 %s 无法读取或与其编号不符", n)
		}
		out = append(out, s)
	}
	return out, nil
}

// StartAuditSealer seals the audit chain every cfg.SealInterval (and once at
// start) until ctx ends, exporting each new seal to cfg.SealDir. Off without
// a key file or with a zero interval. A key file that cannot be read stops
// the process at start. It counts runs in duban_audit_seals_total by
// outcome (sealed, unchanged, refused, error) and sets
// duban_audit_seal_last_success_timestamp_seconds on reg.
func StartAuditSealer(ctx context.Context, env *Env, cfg config.Audit, db *store.DB, reg prometheus.Registerer) error {
	if cfg.KeyFile == "" || cfg.SealInterval == 0 {
		env.Log.Warn("audit chain sealing is off (set DUBAN_AUDIT_KEY_FILE and DUBAN_AUDIT_SEAL_INTERVAL)")
		return nil
	}
	key, err := readAuditPrivateKey(cfg.KeyFile)
	if err != nil {
		return err
	}
	runs := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "duban_audit_seals_total",
		Help: "Audit sealing runs by outcome: sealed, unchanged, refused (the chain did not verify), error."}, []string{"outcome"})
	last := prometheus.NewGauge(prometheus.GaugeOpts{Name: "duban_audit_seal_last_success_timestamp_seconds",
		Help: "When the audit chain was last sealed or found unchanged since its last seal (Unix time)."})
	if reg != nil {
		for _, c := range []prometheus.Collector{runs, last} {
			if err := reg.Register(c); err != nil {
				return fmt.Errorf("register audit seal metrics: %w", err)
			}
		}
	}
	for _, o := range []string{"sealed", "unchanged", "refused", "error"} {
		runs.WithLabelValues(o)
	}
	log := env.Log.With("component", "audit-seal")
	once := func() {
		seal, sealed, err := sealAndExport(ctx, db, key, cfg.SealDir)
		var refused *store.AuditSealRefusedError
		switch {
		case errors.As(err, &refused):
			runs.WithLabelValues("refused").Inc()
			log.Error("audit chain does not verify: not sealed", "problem", refused.Check.Problem,
				"row", refused.Check.BrokenID, "seal", refused.Check.SealID)
		case err != nil:
			if ctx.Err() != nil {
				return
			}
			runs.WithLabelValues("error").Inc()
			log.Error("audit seal failed", "err", err)
		case sealed:
			runs.WithLabelValues("sealed").Inc()
			last.SetToCurrentTime()
			log.Info("audit chain sealed", "seal", seal.ID, "last_id", seal.LastID, "key_id", seal.KeyID)
		default:
			runs.WithLabelValues("unchanged").Inc()
			last.SetToCurrentTime()
		}
	}
	go func() {
		t := time.NewTicker(cfg.SealInterval)
		defer t.Stop()
		once()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				once()
			}
		}
	}()
	log.Info("audit chain sealing on", "interval", cfg.SealInterval, "export", cfg.SealDir)
	return nil
}
