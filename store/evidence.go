package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/duban-dev/duban"
)

// AddEvidence records files uploaded for an instance. A file uploaded twice
// keeps its first name.
func (db *DB) AddEvidence(ctx context.Context, instanceID string, files []duban.Evidence, by int64) error {
	batch := &pgx.Batch{}
	for _, f := range files {
		batch.Queue(`INSERT INTO evidence (instance_id, sha256, name, size, content_type, uploaded_by) VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (instance_id, sha256) DO NOTHING`, instanceID, f.SHA256, f.Name, f.Size, f.ContentType, by)
	}
	if err := db.Pool.SendBatch(ctx, batch).Close(); err != nil {
		return fmt.Errorf("add evidence: %w", err)
	}
	return nil
}

// EvidenceOf returns the files with the given hashes uploaded for an
// instance, in the order asked; a hash never uploaded there is invalid.
func (db *DB) EvidenceOf(ctx context.Context, instanceID string, hashes []string) ([]duban.Evidence, error) {
	rows, err := db.Pool.Query(ctx, `SELECT sha256, name, size, content_type FROM evidence WHERE instance_id = $1 AND sha256 = ANY($2)`, instanceID, hashes)
	if err != nil {
		return nil, fmt.Errorf("evidence: %w", err)
	}
	found, err := pgx.CollectRows(rows, pgx.RowToStructByPos[duban.Evidence])
	if err != nil {
		return nil, err
	}
	by := map[string]duban.Evidence{}
	for _, e := range found {
		by[e.SHA256] = e
	}
	out := make([]duban.Evidence, 0, len(hashes))
	for i, h := range hashes {
		e, ok := by[h]
		if !ok {
			return nil, duban.FieldError(fmt.Sprintf("evidence[%d]", i), "佐证材料 %s 未上传到此任务", shortHash(h))
		}
		out = append(out, e)
	}
	return out, nil
}

// InstanceEvidence lists every file uploaded for an instance, oldest first.
func (db *DB) InstanceEvidence(ctx context.Context, instanceID string) ([]duban.Evidence, error) {
	rows, err := db.Pool.Query(ctx, `SELECT sha256, name, size, content_type FROM evidence WHERE instance_id = $1 ORDER BY uploaded_at, sha256`, instanceID)
	if err != nil {
		return nil, fmt.Errorf("evidence: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[duban.Evidence])
}

func shortHash(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}
