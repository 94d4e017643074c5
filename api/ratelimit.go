package api

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// keyedLimiter is a token bucket per key (client address, username),
// refilled to n per period. It lives in this process: each API replica
// limits on its own, so with R replicas an attacker gets up to R×n per
// period. The lockout after consecutive failures is in the database and
// holds across replicas.
type keyedLimiter struct {
	mu      sync.Mutex
	every   rate.Limit
	burst   int
	buckets map[string]*bucket
	swept   time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

func newKeyedLimiter(n int, per time.Duration) *keyedLimiter {
	return &keyedLimiter{every: rate.Limit(float64(n) / per.Seconds()), burst: n, buckets: map[string]*bucket{}}
}

// maxBuckets bounds memory under a flood of distinct keys; past it, idle
// buckets are dropped first and, if still full, everything resets.
const maxBuckets = 100_000

// allow takes one token for key at now, or says how long until one is free.
func (l *keyedLimiter) allow(key string, now time.Time) (time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.swept) > time.Minute || len(l.buckets) >= maxBuckets {
		l.sweep(now)
	}
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{lim: rate.NewLimiter(l.every, l.burst)}
		l.buckets[key] = b
	}
	b.seen = now
	r := b.lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return d, false
	}
	return 0, true
}

// sweep forgets buckets idle long enough to have refilled.
func (l *keyedLimiter) sweep(now time.Time) {
	full := time.Duration(float64(l.burst)/float64(l.every)) * time.Second
	for k, b := range l.buckets {
		if now.Sub(b.seen) > full {
			delete(l.buckets, k)
		}
	}
	if len(l.buckets) >= maxBuckets {
		l.buckets = map[string]*bucket{}
	}
	l.swept = now
}
