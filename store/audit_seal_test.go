package store_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/internal/testenv"
	"github.com/duban-dev/duban/store"
)

func appendRows(t *testing.T, db *store.DB, n int) {
	t.Helper()
	for i := range n {
		e, err := store.NewAuditEntry(duban.Actor{UserID: 1, Name: "省管理员", UnitCode: "43"}, "settings.change", "43", "", map[string]int{"n": i})
		require.NoError(t, err)
		_, err = db.AppendAudit(context.Background(), e)
		require.NoError(t, err)
	}
}

// Several API processes seal at the same moment: they take turns, one
// seal is written and the others find the head already sealed.
func TestConcurrentSealersWriteOneSeal(t *testing.T) {
	ctx := context.Background()
	db := testenv.OpenDB(t)
	pub, key, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)

	_, sealed, err := db.SealAudit(ctx, key, time.Now())
	require.NoError(t, err)
	require.False(t, sealed, "an empty chain is not sealed")

	appendRows(t, db, 3)
	var wg sync.WaitGroup
	type result struct {
		seal   store.AuditSeal
		sealed bool
		err    error
	}
	results := make(chan result, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var r result
			r.seal, r.sealed, r.err = db.SealAudit(ctx, key, time.Now())
			results <- r
		}()
	}
	wg.Wait()
	close(results)
	n := 0
	for r := range results {
		require.NoError(t, r.err)
		require.Equal(t, int64(1), r.seal.ID)
		if r.sealed {
			n++
		}
	}
	require.Equal(t, 1, n)

	check, err := db.VerifyAuditSealed(ctx, store.NewAuditKeys(pub), nil)
	require.NoError(t, err)
	require.True(t, check.OK(), check.Problem)
	require.Equal(t, 1, check.Seals)
	require.Zero(t, check.Unsealed)
}

// A seal whose rows were deleted from the end (and the head moved back)
// names the seal; a verifier with the wrong key names the seal too.
func TestSealCatchesATruncatedTail(t *testing.T) {
	ctx := context.Background()
	db := testenv.OpenDB(t)
	pub, key, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	appendRows(t, db, 5)
	_, sealed, err := db.SealAudit(ctx, key, time.Now())
	require.NoError(t, err)
	require.True(t, sealed)

	_, err = db.Pool.Exec(ctx, `DELETE FROM audit_log WHERE id > 3;
		UPDATE audit_head SET last_id = 3, hash = (SELECT hash FROM audit_log WHERE id = 3)`)
	require.NoError(t, err)
	links, err := db.VerifyAudit(ctx)
	require.NoError(t, err)
	require.True(t, links.OK(), "the links alone cannot see a tail cut with its head")
	check, err := db.VerifyAuditSealed(ctx, store.NewAuditKeys(pub), nil)
	require.NoError(t, err)
	require.True(t, check.SealFailed)
	require.Equal(t, int64(1), check.SealID)
	require.Contains(t, check.Problem, "封印 #1 覆盖到第 5 条，但日志只到第 3 条")

	other, _, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	check, err = db.VerifyAuditSealed(ctx, store.NewAuditKeys(other), nil)
	require.NoError(t, err)
	require.Contains(t, check.Problem, "不在配置的公钥中")
}
