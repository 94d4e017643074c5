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

// TestChecksInFlightDoNotLockTheAccount: eight sign-ins of one account at
// once reserve the five checks its allowance has; the other three are
// refused unchecked but the account is not locked, and once the checks
// succeed it signs in again. Failed checks lock it; reservations whose
// checks never finished (a process that died) lock it after a minute.
func TestChecksInFlightDoNotLockTheAccount(t *testing.T) {
	db := testenv.OpenDB(t)
	ctx := context.Background()
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	allowed := 0
	for i := range 8 {
		l, ok, err := db.BeginLogin(ctx, "Busy", t0.Add(time.Duration(i)*time.Millisecond), 5, 15*time.Minute)
		require.NoError(t, err)
		require.False(t, l.Locked(t0), "attempt %d locked the account", i)
		if ok {
			allowed++
		}
	}
	require.Equal(t, 5, allowed)
	require.NoError(t, db.ClearLoginFailures(ctx, "busy"))
	_, ok, err := db.BeginLogin(ctx, "busy", t0.Add(time.Second), 5, 15*time.Minute)
	require.NoError(t, err)
	require.True(t, ok, "after the checks succeeded the account signs in again")
	require.NoError(t, db.ClearLoginFailures(ctx, "busy"))

	// Five failures lock it.
	for i := range 5 {
		_, ok, err := db.BeginLogin(ctx, "wrong", t0, 5, 15*time.Minute)
		require.NoError(t, err)
		require.True(t, ok, "check %d", i)
		_, err = db.FinishLogin(ctx, "wrong", t0, 5, 15*time.Minute)
		require.NoError(t, err)
	}
	l, ok, err := db.BeginLogin(ctx, "wrong", t0.Add(time.Second), 5, 15*time.Minute)
	require.NoError(t, err)
	require.False(t, ok)
	require.True(t, l.Locked(t0.Add(time.Second)))

	// Five checks that never finish: busy for a minute, then locked.
	for range 5 {
		_, ok, err := db.BeginLogin(ctx, "crashed", t0, 5, 15*time.Minute)
		require.NoError(t, err)
		require.True(t, ok)
	}
	l, ok, err = db.BeginLogin(ctx, "crashed", t0.Add(30*time.Second), 5, 15*time.Minute)
	require.NoError(t, err)
	require.False(t, ok)
	require.False(t, l.Locked(t0.Add(30*time.Second)), "busy, not locked, while the checks may still finish")
	l, ok, err = db.BeginLogin(ctx, "crashed", t0.Add(2*time.Minute), 5, 15*time.Minute)
	require.NoError(t, err)
	require.False(t, ok)
	require.True(t, l.Locked(t0.Add(2*time.Minute)), "stale reservations lock the account as failures would")
}
