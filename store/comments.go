package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/message"
)

// Comment is one message in a task's discussion (讨论).
type Comment struct {
	ID         int64     `json:"id"`
	InstanceID string    `json:"instance_id"`
	AuthorID   int64     `json:"author_id"`
	AuthorName string    `json:"author_name"`
	AuthorUnit string    `json:"author_unit"`
	Body       string    `json:"body"`
	Mentions   []int64   `json:"mentions"`
	CreatedAt  time.Time `json:"created_at"`
	Deleted    bool      `json:"deleted"`
}

// NewComment is a comment to add: its text, and the people it mentions
// (already checked to be in scope), who are told in their inbox.
type NewComment struct {
	InstanceID string
	TaskTitle  string
	UnitName   string
	Author     duban.Actor
	Body       string
	Mentions   []int64
	At         time.Time
}

// AddComment stores a comment, tells each person it mentions, and audits
// it, in one transaction.
func (db *DB) AddComment(ctx context.Context, c NewComment) (Comment, error) {
	var out Comment
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		if c.Mentions == nil {
			c.Mentions = []int64{}
		}
		if err := tx.QueryRow(ctx, `INSERT INTO comments (instance_id, author_id, body, mentions, created_at) VALUES ($1, $2, $3, $4, $5)
			RETURNING id`, c.InstanceID, c.Author.UserID, c.Body, c.Mentions, c.At).Scan(&out.ID); err != nil {
			return err
		}
		out = Comment{ID: out.ID, InstanceID: c.InstanceID, AuthorID: c.Author.UserID, AuthorName: c.Author.Name, AuthorUnit: c.Author.UnitCode,
			Body: c.Body, Mentions: c.Mentions, CreatedAt: c.At}
		if len(c.Mentions) > 0 {
			msg := message.Render(duban.EventCommented, message.Info{InstanceID: c.InstanceID, Title: c.TaskTitle, UnitName: c.UnitName,
				Actor: c.Author.Name, Mentioned: truncate(c.Body, 300)})
			if _, err := tx.Exec(ctx, `INSERT INTO inbox (user_id, instance_id, seq, kind, title, body, urgent, dedup_key, at)
				SELECT id, $1, 0, 'commented', $2, $3, false, 'comment#' || $4::bigint::text || '#' || id::text, $5
				FROM users WHERE id = ANY($6) AND NOT disabled
				ON CONFLICT (dedup_key) DO NOTHING`, c.InstanceID, msg.Title, msg.Body, out.ID, c.At, c.Mentions); err != nil {
				return err
			}
		}
		return auditTx(ctx, tx, c.Author, "comment.add", "", c.InstanceID, map[string]any{"comment_id": out.ID, "body": c.Body, "mentions": c.Mentions})
	})
	if err != nil {
		return out, fmt.Errorf("add comment: %w", refusedContent(err))
	}
	return out, nil
}

// Comments lists a task's discussion, oldest first.
func (db *DB) Comments(ctx context.Context, instanceID string) ([]Comment, error) {
	rows, err := db.Pool.Query(ctx, `SELECT c.id, c.instance_id, c.author_id, u.display_name, u.unit_code, c.body, c.mentions, c.created_at, c.deleted_at IS NOT NULL
		FROM comments c JOIN users u ON u.id = c.author_id WHERE c.instance_id = $1 ORDER BY c.id`, instanceID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Comment, error) {
		var c Comment
		err := r.Scan(&c.ID, &c.InstanceID, &c.AuthorID, &c.AuthorName, &c.AuthorUnit, &c.Body, &c.Mentions, &c.CreatedAt, &c.Deleted)
		return c, err
	})
}

// DeleteComment lets an author take back their own comment within window
// of posting it: the row stays (the audit log names it), its text goes.
func (db *DB) DeleteComment(ctx context.Context, instanceID string, id int64, author duban.Actor, now time.Time, window time.Duration) error {
	return pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		var (
			authorID int64
			at       time.Time
			deleted  bool
		)
		err := tx.QueryRow(ctx, `SELECT author_id, created_at, deleted_at IS NOT NULL FROM comments WHERE id = $1 AND instance_id = $2 FOR UPDATE`,
			id, instanceID).Scan(&authorID, &at, &deleted)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return duban.Errorf(duban.ENOTFOUND, "评论不存在")
		case err != nil:
			return err
		case deleted:
			return duban.Errorf(duban.ECONFLICT, "评论已删除")
		case authorID != author.UserID:
			return duban.Errorf(duban.EFORBIDDEN, "只能删除自己的评论")
		case now.Sub(at) > window:
			return duban.Errorf(duban.ECONFLICT, "评论发表超过 %d 分钟，不能再删除", int(window.Minutes()))
		}
		if _, err := tx.Exec(ctx, `UPDATE comments SET body = '', deleted_at = $2 WHERE id = $1`, id, now); err != nil {
			return err
		}
		return auditTx(ctx, tx, author, "comment.delete", "", instanceID, map[string]any{"comment_id": id})
	})
}
