package bench

import (
	"context"
	"fmt"
)

func runMemory(ctx context.Context, s *stack, o Options, rep *Report, logf func(string, ...any)) error {
	var open int
	if err := s.db.Pool.QueryRow(ctx, `SELECT count(*) FROM instances WHERE status NOT IN ('completed', 'cancelled') AND plan_id <> $1`, rowsPlan).Scan(&open); err != nil {
		return err
	}
	rss, peak, err := memory(s.worker.pid())
	if err != nil {
		return err
	}
	logf("memory: worker RSS %s (peak %s) with %d open workflows", mib(rss), mib(peak), open)
	met := "yes"
	if peak > 1<<30 {
		met = fmt.Sprintf("no: peak %s over 1 GiB", mib(peak-(1<<30)))
	}
	rep.add(Figure{Section: "Memory", Name: fmt.Sprintf("worker resident memory with %d open workflows", open),
		Value: fmt.Sprintf("%s now, %s peak", mib(rss), mib(peak)), Target: "< 1 GiB", Met: met})
	if s.api != nil {
		rss, peak, err := memory(s.api.proc.pid())
		if err != nil {
			return err
		}
		logf("memory: API RSS %s (peak %s)", mib(rss), mib(peak))
		rep.add(Figure{Section: "Memory", Name: "API resident memory after the decision benchmark",
			Value: fmt.Sprintf("%s now, %s peak", mib(rss), mib(peak))})
	}
	return nil
}
