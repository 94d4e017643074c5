package store

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
)

// AuditSeal is the audit chain's head at one moment, signed with an
// Ed25519 key the database does not hold. A writer who rewrites rows and
// recomputes every hash changes the hash at LastID, and cannot sign it.
type AuditSeal struct {
	ID        int64     `json:"id"`
	At        time.Time `json:"at"`
	LastID    int64     `json:"last_id"`
	Head      string    `json:"head"`
	KeyID     string    `json:"key_id"`
	Signature string    `json:"signature"` // base64 of the Ed25519 signature of Message()
}

// Message is the exact byte string a seal's signature covers: every field
// but the signature, one a line, the time in UTC to the microsecond.
func (s AuditSeal) Message() []byte {
	return []byte("duban-audit-seal/v1\n" + strconv.FormatInt(s.ID, 10) + "\n" +
		s.At.UTC().Format("2006-01-02T15:04:05.000000Z") + "\n" + strconv.FormatInt(s.LastID, 10) + "\n" + s.Head + "\n" + s.KeyID)
}

// Verify reports whether the seal's signature is key's over its message.
func (s AuditSeal) Verify(key ed25519.PublicKey) bool {
	sig, err := base64.StdEncoding.DecodeString(s.Signature)
	return err == nil && len(key) == ed25519.PublicKeySize && ed25519.Verify(key, s.Message(), sig)
}

// Same reports whether two copies of a seal (the table's, an exported
// file's) agree on every signed field and the signature.
func (s AuditSeal) Same(o AuditSeal) bool {
	return s.ID == o.ID && s.At.Equal(o.At) && s.LastID == o.LastID && s.Head == o.Head && s.KeyID == o.KeyID && s.Signature == o.Signature
}

// AuditKeyID names a public key: hex of the first 8 bytes of its SHA-256.
func AuditKeyID(key ed25519.PublicKey) string {
	sum := sha256.Sum256(key)
	return hex.EncodeToString(sum[:8])
}

// AuditKeys are the public keys seals may be signed with, by key id (the
// current one and those retired).
type AuditKeys map[string]ed25519.PublicKey

// NewAuditKeys indexes keys by their id.
func NewAuditKeys(keys ...ed25519.PublicKey) AuditKeys {
	k := AuditKeys{}
	for _, key := range keys {
		k[AuditKeyID(key)] = key
	}
	return k
}

// AuditSealRefusedError is SealAudit's answer when the chain since the last
// seal does not verify: it signs nothing, so a rewritten chain is never
// sealed.
type AuditSealRefusedError struct{ Check AuditCheck }

func (e *AuditSealRefusedError) Error() string {
	return "审计链未通过校验，拒绝封印：" + e.Check.Problem
}

const sealCols = `id, at, last_id, head, key_id, signature`

func scanSeal(r pgx.Row) (AuditSeal, error) {
	var s AuditSeal
	err := r.Scan(&s.ID, &s.At, &s.LastID, &s.Head, &s.KeyID, &s.Signature)
	return s, err
}

// AuditSeals lists every seal, oldest first.
func (db *DB) AuditSeals(ctx context.Context) ([]AuditSeal, error) {
	rows, err := db.Pool.Query(ctx, `SELECT `+sealCols+` FROM audit_seals ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("audit seals: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (AuditSeal, error) { return scanSeal(r) })
}

// SealAudit signs the chain's current head with key at the given time and
// stores the seal. It first checks the rows since the previous seal (the
// whole chain if that seal is another key's) against the previous seal's
// signed head, and refuses with *AuditSealRefusedError if they do not
// verify. Sealing a head already sealed returns that seal and false;
// an empty chain is not sealed. Concurrent sealers (several API processes)
// take turns on the table's lock.
func (db *DB) SealAudit(ctx context.Context, key ed25519.PrivateKey, at time.Time) (AuditSeal, bool, error) {
	pub, ok := key.Public().(ed25519.PublicKey)
	if !ok || len(key) != ed25519.PrivateKeySize {
		return AuditSeal{}, false, errors.New("audit seal: not an Ed25519 private key")
	}
	keyID := AuditKeyID(pub)
	var seal AuditSeal
	sealed := false
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		// Self-conflicting, so sealers take turns; readers are not blocked.
		if _, err := tx.Exec(ctx, `LOCK TABLE audit_seals IN SHARE ROW EXCLUSIVE MODE`); err != nil {
			return err
		}
		var lastID int64
		var head string
		if err := tx.QueryRow(ctx, `SELECT last_id, hash FROM audit_head`).Scan(&lastID, &head); err != nil {
			return fmt.Errorf("audit head: %w", err)
		}
		prev, err := scanSeal(tx.QueryRow(ctx, `SELECT `+sealCols+` FROM audit_seals ORDER BY id DESC LIMIT 1`))
		hasPrev := err == nil
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if hasPrev && prev.LastID == lastID && prev.Head == head {
			seal = prev
			return nil
		}
		if lastID == 0 {
			return nil
		}
		// Trust the previous seal only if it is ours and its signature holds.
		from, fromHash := int64(0), ""
		if hasPrev && prev.KeyID == keyID {
			if !prev.Verify(pub) {
				return &AuditSealRefusedError{AuditCheck{SealID: prev.ID, Problem: fmt.Sprintf("封印 #%d 的签名无效（封印被改写）", prev.ID)}}
			}
			from, fromHash = prev.LastID, prev.Head
			var stored string
			err := tx.QueryRow(ctx, `SELECT hash FROM audit_log WHERE id = $1`, prev.LastID).Scan(&stored)
			if err != nil && !errors.Is(err, pgx.ErrNoRows) {
				return err
			}
			if stored != prev.Head {
				return &AuditSealRefusedError{AuditCheck{SealID: prev.ID, BrokenID: prev.LastID,
					Problem: fmt.Sprintf("第 %d 条的哈希与封印 #%d 不符（此前的记录被改写）", prev.LastID, prev.ID)}}
			}
		}
		c, last, err := walkAudit(ctx, tx, from, fromHash, lastID, nil)
		if err != nil {
			return err
		}
		if c.OK() && (c.LastID != lastID || last != head) {
			c.BrokenID, c.Problem = c.LastID+1, fmt.Sprintf("链头指向第 %d 条，但日志只到第 %d 条（记录被删除或链头被修改）", lastID, c.LastID)
		}
		if !c.OK() {
			return &AuditSealRefusedError{c}
		}
		seal = AuditSeal{ID: 1, At: at.UTC().Truncate(time.Microsecond), LastID: lastID, Head: head, KeyID: keyID}
		if hasPrev {
			seal.ID = prev.ID + 1
		}
		seal.Signature = base64.StdEncoding.EncodeToString(ed25519.Sign(key, seal.Message()))
		if _, err := tx.Exec(ctx, `INSERT INTO audit_seals (`+sealCols+`) VALUES ($1, $2, $3, $4, $5, $6)`,
			seal.ID, seal.At, seal.LastID, seal.Head, seal.KeyID, seal.Signature); err != nil {
			return fmt.Errorf("store audit seal: %w", err)
		}
		sealed = true
		return nil
	})
	if err != nil {
		var refused *AuditSealRefusedError
		if errors.As(err, &refused) {
			return AuditSeal{}, false, err
		}
		return AuditSeal{}, false, fmt.Errorf("audit seal: %w", err)
	}
	return seal, sealed, nil
}

// VerifyAuditSealed checks the chain as VerifyAudit does and, when keys are
// given, every seal: ids without gaps, a signature by one of keys, and the
// chain up to the seal's last row hashing to the sealed head. exported are
// copies kept outside the database (the seal directory); each must match
// the table's seal of the same id. A chain that was rewritten and rehashed
// passes the link check and fails here, naming the first seal it breaks.
// Rows after the newest seal are counted in Unsealed; a chain with rows
// and no seal at all fails.
func (db *DB) VerifyAuditSealed(ctx context.Context, keys AuditKeys, exported []AuditSeal) (AuditCheck, error) {
	var seals []AuditSeal
	if keys != nil {
		var err error
		if seals, err = db.AuditSeals(ctx); err != nil {
			return AuditCheck{}, err
		}
	}
	want := map[int64]string{}
	for _, s := range append(append([]AuditSeal(nil), seals...), exported...) {
		want[s.LastID] = ""
	}
	c, last, err := walkAudit(ctx, db.Pool, 0, "", 0, func(e AuditEntry) {
		if _, ok := want[e.ID]; ok {
			want[e.ID] = e.Hash
		}
	})
	if err != nil || !c.OK() {
		return c, err
	}
	if err := db.checkHead(ctx, &c, last); err != nil || !c.OK() || keys == nil {
		return c, err
	}
	fail := func(id int64, format string, args ...any) (AuditCheck, error) {
		c.SealFailed, c.SealID, c.Problem = true, id, fmt.Sprintf(format, args...)
		return c, nil
	}
	check := func(s AuditSeal, where string) (AuditCheck, error) {
		key, ok := keys[s.KeyID]
		switch {
		case !ok:
			return fail(s.ID, "%s封印 #%d 的签名密钥 %s 不在配置的公钥中", where, s.ID, s.KeyID)
		case !s.Verify(key):
			return fail(s.ID, "%s封印 #%d 的签名无效（封印被改写）", where, s.ID)
		case s.LastID > c.LastID:
			return fail(s.ID, "%s封印 #%d 覆盖到第 %d 条，但日志只到第 %d 条（记录被删除）", where, s.ID, s.LastID, c.LastID)
		case s.LastID > 0 && want[s.LastID] != s.Head:
			return fail(s.ID, "审计链与%s封印 #%d 不符：第 %d 条的哈希应为 %.12s…，现为 %.12s…（第 1–%d 条中有记录被改写并重算了哈希）",
				where, s.ID, s.LastID, s.Head, want[s.LastID], s.LastID)
		}
		return c, nil
	}
	byID := map[int64]AuditSeal{}
	for i, s := range seals {
		if s.ID != int64(i)+1 {
			return fail(int64(i)+1, "封印 #%d 缺失（封印被删除）", i+1)
		}
		if r, err := check(s, ""); !r.OK() {
			return r, err
		}
		byID[s.ID] = s
		c.Seals++
	}
	for _, s := range exported {
		if r, err := check(s, "导出的"); !r.OK() {
			return r, err
		}
		t, ok := byID[s.ID]
		switch {
		case !ok:
			return fail(s.ID, "封印 #%d 在导出目录中有，数据库中没有（封印被删除）", s.ID)
		case !t.Same(s):
			return fail(s.ID, "数据库中的封印 #%d 与导出的副本不同（封印被改写）", s.ID)
		}
	}
	if len(seals) == 0 {
		if c.LastID > 0 {
			return fail(0, "审计链共 %d 条记录，但没有任何签名封印（封印未运行，或被删除）", c.LastID)
		}
		return c, nil
	}
	c.Unsealed = c.LastID - seals[len(seals)-1].LastID
	return c, nil
}
