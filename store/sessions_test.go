package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/duban-dev/duban/internal/testenv"
)

// TestSignInsAtOnceNeverFail: many sign-ins of one account at once — each
// reserving a check, the successful ones clearing the failures — never
// fail on a row another one deleted (the fault suite signed the province
// approver in from several clients at once and met a 500).
func TestSignInsAtOnceNeverFail(t *testing.T) {
	db := testenv.OpenDB(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 800)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				if _, _, err := db.BeginLogin(ctx, "Approver", time.Now(), 5, time.Minute); err != nil {
					errs <- err
				}
				if err := db.ClearLoginFailures(ctx, "approver"); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
}
