package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/duban-dev/duban"
)

func auditTx(ctx context.Context, tx pgx.Tx, actor duban.Actor, action, unit, instance string, detail any) error {
	e, err := NewAuditEntry(actor, action, unit, instance, detail)
	if err != nil {
		return err
	}
	_, err = appendAudit(ctx, tx, e)
	return err
}

// AuditEntry is one row of the audit log: who did what to which object,
// chained to the row before it by hash.
type AuditEntry struct {
	ID         int64           `json:"id"`
	At         time.Time       `json:"at"`
	ActorID    *int64          `json:"actor_id,omitempty"`
	ActorName  string          `json:"actor_name"`
	ActorUnit  string          `json:"actor_unit"`
	Action     string          `json:"action"`
	UnitCode   string          `json:"unit_code"` // the unit the object belongs to, for scoping
	InstanceID string          `json:"instance_id,omitempty"`
	Detail     json.RawMessage `json:"detail"`
	PrevHash   string          `json:"prev_hash"`
	Hash       string          `json:"hash"`
}

// NewAuditEntry starts an entry for an action by actor on an object of unit.
// detail is marshalled to JSON.
func NewAuditEntry(actor duban.Actor, action, unit, instanceID string, detail any) (AuditEntry, error) {
	raw, err := json.Marshal(detail)
	if err != nil {
		return AuditEntry{}, fmt.Errorf("audit detail: %w", err)
	}
	e := AuditEntry{ActorName: actor.Name, ActorUnit: actor.UnitCode, Action: action, UnitCode: unit, InstanceID: instanceID, Detail: raw}
	if actor.UserID != 0 {
		id := actor.UserID
		e.ActorID = &id
	}
	return e, nil
}

// auditCanonical is the exact byte string a row's hash covers: a JSON array
// of every column but the hashes, with the time in UTC to the microsecond
// (PostgreSQL's precision) and the detail as stored.
func auditCanonical(e AuditEntry) []byte {
	var actor any
	if e.ActorID != nil {
		actor = *e.ActorID
	}
	detail := string(e.Detail)
	b, _ := json.Marshal([]any{e.ID, e.At.UTC().Format("2006-01-02T15:04:05.000000Z"), actor, e.ActorName, e.ActorUnit,
		e.Action, e.UnitCode, e.InstanceID, detail})
	return b
}

// AuditHash is hex(sha256(prev || canonical(e))).
func AuditHash(prev string, e AuditEntry) string {
	h := sha256.New()
	h.Write([]byte(prev))
	h.Write(auditCanonical(e))
	return hex.EncodeToString(h.Sum(nil))
}

// appendAudit adds e to the chain inside tx. The head row's lock serializes
// appends across transactions and processes; callers take it last, after
// any other row lock, so appends cannot deadlock with other writers.
func appendAudit(ctx context.Context, tx pgx.Tx, e AuditEntry) (AuditEntry, error) {
	var last int64
	var head string
	if err := tx.QueryRow(ctx, `SELECT last_id, hash FROM audit_head FOR UPDATE`).Scan(&last, &head); err != nil {
		return e, fmt.Errorf("audit head: %w", err)
	}
	e.ID = last + 1
	if e.At.IsZero() {
		e.At = time.Now()
	}
	e.At = e.At.UTC().Truncate(time.Microsecond)
	if len(e.Detail) == 0 {
		e.Detail = json.RawMessage(`{}`)
	}
	e.PrevHash = head
	e.Hash = AuditHash(head, e)
	if _, err := tx.Exec(ctx, `INSERT INTO audit_log (id, at, actor_id, actor_name, actor_unit, action, unit_code, instance_id, detail, prev_hash, hash)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		e.ID, e.At, e.ActorID, e.ActorName, e.ActorUnit, e.Action, e.UnitCode, e.InstanceID, string(e.Detail), e.PrevHash, e.Hash); err != nil {
		return e, fmt.Errorf("append audit: %w", err)
	}
	if _, err := tx.Exec(ctx, `UPDATE audit_head SET last_id = $1, hash = $2`, e.ID, e.Hash); err != nil {
		return e, fmt.Errorf("audit head: %w", err)
	}
	return e, nil
}

// AppendAudit adds one entry in its own transaction, for actions whose
// change is not in this database (a launch lives in Temporal).
func (db *DB) AppendAudit(ctx context.Context, e AuditEntry) (AuditEntry, error) {
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		var err error
		e, err = appendAudit(ctx, tx, e)
		return err
	})
	return e, err
}

// transitionAudit is the audit row of a transition a person caused.
func transitionAudit(tr duban.Transition, spec duban.TaskSpec) (AuditEntry, error) {
	detail := map[string]any{"seq": tr.Seq, "plan_at": tr.At, "from": tr.From, "to": tr.To}
	if tr.Step != 0 {
		detail["step"] = tr.Step
	}
	if tr.Reason != "" {
		detail["reason"] = tr.Reason
	}
	if tr.Note != "" {
		detail["note"] = tr.Note
	}
	if tr.NewDue != nil {
		detail["new_due"] = tr.NewDue
	}
	if len(tr.Evidence) > 0 {
		hashes := make([]string, len(tr.Evidence))
		for i, e := range tr.Evidence {
			hashes[i] = e.SHA256
		}
		detail["evidence"] = hashes
	}
	if tr.Kind == duban.EventProgress || tr.Kind == duban.EventSubmitted {
		detail["progress"] = tr.Projection.Progress
	}
	if tr.ToStep != 0 {
		detail["to_step"] = tr.ToStep
	}
	if tr.Person != nil {
		detail["person"] = tr.Person
	}
	if ob := tr.Actor.OnBehalfOf; ob != nil {
		detail["on_behalf_of"] = ob.Person()
	}
	return NewAuditEntry(tr.Actor, "task."+string(tr.Kind), spec.UnitCode, tr.InstanceID, detail)
}

// AuditFilter selects audit rows, newest first.
type AuditFilter struct {
	UnitPrefix string // rows about objects under this unit ("" for all)
	InstanceID string
	ActorID    int64
	Action     string
	From, To   *time.Time
	BeforeID   int64 // keyset: rows with a smaller id
	Limit      int

	// ActorUsername keeps the rows of the user with this username (none
	// when there is no such user).
	ActorUsername string
}

const auditCols = `id, at, actor_id, actor_name, actor_unit, action, unit_code, instance_id, detail, prev_hash, hash`

func scanAudit(r pgx.Row) (AuditEntry, error) {
	var e AuditEntry
	var detail string
	err := r.Scan(&e.ID, &e.At, &e.ActorID, &e.ActorName, &e.ActorUnit, &e.Action, &e.UnitCode, &e.InstanceID, &detail, &e.PrevHash, &e.Hash)
	e.Detail = json.RawMessage(detail)
	return e, err
}

// Audit lists audit rows matching f, newest first.
func (db *DB) Audit(ctx context.Context, f AuditFilter) ([]AuditEntry, error) {
	var q query
	if f.UnitPrefix != "" {
		q.add("unit_code LIKE " + q.arg(likePrefix(f.UnitPrefix)))
	}
	if f.InstanceID != "" {
		q.add("instance_id = " + q.arg(f.InstanceID))
	}
	if f.ActorID != 0 {
		q.add("actor_id = " + q.arg(f.ActorID))
	}
	if f.ActorUsername != "" {
		q.add("actor_id = (SELECT id FROM users WHERE username = " + q.arg(f.ActorUsername) + ")")
	}
	if f.Action != "" {
		q.add("action = " + q.arg(f.Action))
	}
	if f.From != nil {
		q.add("at >= " + q.arg(*f.From))
	}
	if f.To != nil {
		q.add("at < " + q.arg(*f.To))
	}
	if f.BeforeID > 0 {
		q.add("id < " + q.arg(f.BeforeID))
	}
	sql := `SELECT ` + auditCols + ` FROM audit_log WHERE ` + q.sql() + ` ORDER BY id DESC LIMIT ` + q.arg(limitOf(f.Limit))
	rows, err := db.Pool.Query(ctx, sql, q.args...)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (AuditEntry, error) { return scanAudit(r) })
}

// AuditCheck is the result of verifying the chain.
type AuditCheck struct {
	Rows     int64  `json:"rows"`
	LastID   int64  `json:"last_id"`
	BrokenID int64  `json:"broken_id,omitempty"` // first row that does not verify; 0 if all do
	Problem  string `json:"problem,omitempty"`

	// Seals is how many seals verified (when a public key was given);
	// SealFailed says the problem is with the seals (the rows linked), and
	// SealID names the first seal that did not verify (0 when there is
	// none at all); Unsealed counts the rows after the newest seal.
	Seals      int   `json:"seals"`
	SealFailed bool  `json:"seal_failed,omitempty"`
	SealID     int64 `json:"seal_id,omitempty"`
	Unsealed   int64 `json:"unsealed"`
}

// OK reports whether the whole chain verified.
func (c AuditCheck) OK() bool { return c.Problem == "" }

type rowQuerier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// walkAudit recomputes the rows after fromID, whose hash is prev, in id
// order up to toID (0: to the end), checking each row links to the one
// before and ids run without gaps. visit sees every row that verified. The
// check names the first row that fails; its LastID and the returned hash
// are those of the last row that verified.
func walkAudit(ctx context.Context, q rowQuerier, fromID int64, prev string, toID int64, visit func(AuditEntry)) (AuditCheck, string, error) {
	c := AuditCheck{LastID: fromID}
	if toID == 0 {
		toID = math.MaxInt64
	}
	const batch = 2000
	for {
		rows, err := q.Query(ctx, `SELECT `+auditCols+` FROM audit_log WHERE id > $1 AND id <= $2 ORDER BY id LIMIT $3`, c.LastID, toID, batch)
		if err != nil {
			return c, prev, fmt.Errorf("read audit: %w", err)
		}
		entries, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (AuditEntry, error) { return scanAudit(r) })
		if err != nil {
			return c, prev, fmt.Errorf("read audit: %w", err)
		}
		for _, e := range entries {
			switch {
			case e.ID != c.LastID+1:
				c.BrokenID, c.Problem = e.ID, fmt.Sprintf("第 %d 条之前缺少记录（上一条为第 %d 条）", e.ID, c.LastID)
			case e.PrevHash != prev:
				c.BrokenID, c.Problem = e.ID, fmt.Sprintf("第 %d 条的 prev_hash 与上一条的哈希不符", e.ID)
			case AuditHash(e.PrevHash, e) != e.Hash:
				c.BrokenID, c.Problem = e.ID, fmt.Sprintf("第 %d 条的内容与其哈希不符（记录被修改）", e.ID)
			}
			if c.Problem != "" {
				return c, prev, nil
			}
			if visit != nil {
				visit(e)
			}
			c.Rows++
			prev, c.LastID = e.Hash, e.ID
		}
		if len(entries) < batch {
			return c, prev, nil
		}
	}
}

// VerifyAudit recomputes every row's hash in id order and checks each row
// links to the one before, ids run without gaps, and the head names the
// last row. It names the first row that fails. It does not check seals:
// see VerifyAuditSealed.
func (db *DB) VerifyAudit(ctx context.Context) (AuditCheck, error) {
	return db.VerifyAuditSealed(ctx, nil, nil)
}

// checkHead compares the head row with the chain as walked.
func (db *DB) checkHead(ctx context.Context, c *AuditCheck, last string) error {
	var headID int64
	var headHash string
	err := db.Pool.QueryRow(ctx, `SELECT last_id, hash FROM audit_head`).Scan(&headID, &headHash)
	if errors.Is(err, pgx.ErrNoRows) {
		c.Problem = "审计链头记录缺失"
		return nil
	}
	if err != nil {
		return err
	}
	if headID != c.LastID || headHash != last {
		c.BrokenID = c.LastID + 1
		c.Problem = fmt.Sprintf("链头指向第 %d 条，但日志只到第 %d 条（末尾记录被删除或链头被修改）", headID, c.LastID)
	}
	return nil
}
