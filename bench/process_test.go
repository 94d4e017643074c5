package bench

import (
	"context"
	"os"
	"testing"
	"time"
)

func TestCPUTicksCountsOwnWork(t *testing.T) {
	before, err := cpuTicks(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	x := 0
	for start := time.Now(); time.Since(start) < 300*time.Millisecond; {
		x++
	}
	after, err := cpuTicks(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if after <= before {
		t.Fatalf("CPU ticks did not grow over 300 ms of busy work (%d → %d, %d loops)", before, after, x)
	}
	if _, err := cpuTicks(-1); err == nil {
		t.Fatal("no error for a process that does not exist")
	}
}

func TestSettleReturnsWhenIdle(t *testing.T) {
	// This test process idles while settle samples it: it must come back
	// after one window, well before its limit.
	took, err := settle(context.Background(), time.Minute, os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if took >= time.Minute {
		t.Fatalf("settle waited its whole limit (%s) on an idle process", took)
	}
}
