package chaos

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"
)

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// decisionLimit is how long a decision is retried through faults before
// the suite calls it lost.
const decisionLimit = 3 * time.Minute

// drive runs every chain, Concurrency at once, each decision after the
// one before it succeeded, each at least pace after the one before.
func (s *stack) drive(ctx context.Context, cl *client, chains []*chain, pace time.Duration) []string {
	work := make(chan *chain)
	var mu sync.Mutex
	var problems []string
	var wg sync.WaitGroup
	for range s.o.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ch := range work {
				actors := ch.actors()
				for i, d := range ch.decision {
					began := time.Now()
					if err := cl.decide(ctx, ch, d, actors[i], decisionLimit); err != nil {
						mu.Lock()
						problems = append(problems, "决定未完成："+err.Error())
						mu.Unlock()
						break
					}
					if wait := pace - time.Since(began); wait > 0 {
						select {
						case <-ctx.Done():
						case <-time.After(wait):
						}
					}
				}
			}
		}()
	}
	for _, ch := range chains {
		select {
		case work <- ch:
		case <-ctx.Done():
		}
	}
	close(work)
	wg.Wait()
	return problems
}

// inject kills one process of each kind in turn (or restarts PostgreSQL)
// until the driving is done, waiting for a decision to succeed after each
// fault and FaultEvery more before the next.
func (s *stack) inject(ctx context.Context, cl *client, done <-chan struct{}) []Fault {
	kinds := s.o.Faults
	var out []Fault
	if len(kinds) == 0 {
		return nil
	}
	n := map[string]int{}
	for i := 0; ; i++ {
		select {
		case <-done:
			return out
		case <-ctx.Done():
			return out
		case <-time.After(s.o.FaultEvery):
		}
		kind := kinds[i%len(kinds)]
		f, err := s.fault(ctx, kind, n[kind])
		if err != nil {
			s.progress("fault %s: %v", kind, err)
			continue
		}
		n[kind]++
		out = append(out, f)
		s.progress("fault %s on %s: down %s", f.Kind, f.Target, f.Down.Round(time.Millisecond))
		// Wait for the stack to decide something again before the next.
		for !cl.succeededAfter(f.At) {
			select {
			case <-done:
				return out
			case <-ctx.Done():
				return out
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
}

// fault injects one fault of a kind; nth picks the worker or API process.
func (s *stack) fault(ctx context.Context, kind string, nth int) (Fault, error) {
	var p *proc
	switch kind {
	case FaultWorker:
		p = s.workers[nth%len(s.workers)]
	case FaultAPI:
		p = s.apis[nth%len(s.apis)]
	case FaultTemporal:
		p = s.temporal
	case FaultPostgres:
		if s.pgRestart == nil {
			return Fault{}, fmt.Errorf("PostgreSQL cannot be restarted here")
		}
		at := time.Now()
		if err := s.pgRestart(ctx); err != nil {
			return Fault{}, err
		}
		return Fault{Kind: kind, Target: "postgresql", At: at, Down: time.Since(at)}, nil
	}
	at := time.Now()
	p.kill()
	select {
	case <-ctx.Done():
		return Fault{}, ctx.Err()
	case <-time.After(s.o.Down):
	}
	if err := p.start(ctx, 3*time.Minute); err != nil {
		return Fault{}, err
	}
	return Fault{Kind: kind, Target: p.name, At: at, Down: time.Since(at)}, nil
}
