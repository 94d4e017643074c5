package config_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/duban-dev/duban/config"
)

// TestDefaultsAreDecidedHere: the task queue, the notification attempts and
// tick, and the launch's starters have their defaults in config.Default,
// which the packages below take as given.
func TestDefaultsAreDecidedHere(t *testing.T) {
	d := config.Default()
	require.NoError(t, d.Validate())
	require.Equal(t, "duban", d.Temporal.TaskQueue)
	require.Equal(t, "default", d.Temporal.Namespace)
	require.Equal(t, 16, d.Temporal.LaunchConcurrency)
	require.Equal(t, 8, d.Notify.MaxAttempts)
	require.Equal(t, "15m0s", d.Notify.TickInterval.String())
	require.Equal(t, "1h0m0s", d.Audit.SealInterval.String(), "seals hourly once a key is configured")
	require.Empty(t, d.AdminAddr, "no admin address unless one is configured: two processes on a host would collide on a default")
}

func TestLoadRefusesSettingsNoProcessCanRunWith(t *testing.T) {
	settings := []struct{ env, bad, refusal, good string }{
		{"DUBAN_TASK_QUEUE", "", "DUBAN_TASK_QUEUE: empty", "duban-staging"},
		{"DUBAN_NOTIFY_MAX_ATTEMPTS", "0", "DUBAN_NOTIFY_MAX_ATTEMPTS: 0: want at least 1", "3"},
		{"DUBAN_NOTIFY_TICK_INTERVAL", "7m", "DUBAN_NOTIFY_TICK_INTERVAL: 7m0s: want a duration that divides an hour", "20m"},
		{"DUBAN_LAUNCH_CONCURRENCY", "-1", "DUBAN_LAUNCH_CONCURRENCY: -1: want at least 1", "32"},
		{"DUBAN_DATABASE_MAX_CONNS", "0", "DUBAN_DATABASE_MAX_CONNS: 0: want at least 1", "8"},
		{"DUBAN_AUDIT_SEAL_INTERVAL", "10s", "DUBAN_AUDIT_SEAL_INTERVAL: 10s: want 0 (off) or at least 1m", "15m"},
		{"DUBAN_TEMPORAL_UI_URL", "127.0.0.1:8233", `DUBAN_TEMPORAL_UI_URL: "127.0.0.1:8233": want an http(s) address`, "http://127.0.0.1:8233"},
	}
	for _, s := range settings {
		t.Setenv(s.env, s.bad)
	}
	_, err := config.Load("")
	for _, s := range settings {
		require.ErrorContains(t, err, s.refusal)
	}
	for _, s := range settings {
		t.Setenv(s.env, s.good)
	}
	cfg, err := config.Load("")
	require.NoError(t, err)
	require.Equal(t, "duban-staging", cfg.Temporal.TaskQueue)
	require.Equal(t, 32, cfg.Temporal.LaunchConcurrency)
	require.Equal(t, "http://127.0.0.1:8233", cfg.Temporal.UIURL)
}
