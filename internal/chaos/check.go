package chaos

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/reconcile"
)

// eventKey names what a decision writes on the timeline: the submission
// (which hands the task to step 1), a step signed, the last step (which
// completes the task).
func eventKey(step int) string {
	switch step {
	case 0:
		return "submitted#1"
	case 3:
		return "completed#3"
	}
	return fmt.Sprintf("approved#%d", step)
}

// check compares what the client was told with what the store holds and
// the store with the workflows. Every finding is a line in Chinese.
func (s *stack) check(ctx context.Context, chains []*chain) (Checked, []string, error) {
	var c Checked
	var out []string
	ids := make([]string, len(chains))
	for i, ch := range chains {
		ids[i] = ch.id
	}

	// The timeline: each decision answered 2xx exactly once, none twice,
	// sequence numbers 1..n without a gap.
	rows, err := s.db.Pool.Query(ctx, `SELECT instance_id, seq, kind, step FROM events WHERE instance_id = ANY($1) ORDER BY instance_id, seq`, ids)
	if err != nil {
		return c, nil, err
	}
	type event struct {
		seq  int64
		kind string
		step int
	}
	timeline := map[string][]event{}
	for rows.Next() {
		var id string
		var e event
		if err := rows.Scan(&id, &e.seq, &e.kind, &e.step); err != nil {
			rows.Close()
			return c, nil, err
		}
		timeline[id] = append(timeline[id], e)
		c.Events++
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return c, nil, err
	}
	for _, ch := range chains {
		evs := timeline[ch.id]
		seen := map[string]int{}
		for i, e := range evs {
			if e.seq != int64(i+1) {
				out = append(out, fmt.Sprintf("%s：时间线第 %d 条事件的序号为 %d（有缺口）", ch.id, i+1, e.seq))
				break
			}
			seen[fmt.Sprintf("%s#%d", e.kind, e.step)]++
		}
		for _, d := range ch.decision {
			n := seen[eventKey(d.step)]
			switch {
			case n > 1:
				out = append(out, fmt.Sprintf("%s：第 %d 步的决定在时间线上出现 %d 次（重复）", ch.id, d.step, n))
			case n == 0 && d.ok:
				out = append(out, fmt.Sprintf("%s：第 %d 步的决定已应答成功，时间线上却没有（丢失）", ch.id, d.step))
			case n == 0 && d.settled:
				out = append(out, fmt.Sprintf("%s：第 %d 步的应答丢失，任务已结束，时间线上却没有这一步（丢失）", ch.id, d.step))
			}
		}
	}

	// The projection row against the workflow's own state, for every
	// chain's task (finished ones included: a closed workflow answers its
	// query from its history).
	for _, ch := range chains {
		row, err := s.db.Instance(ctx, ch.id)
		if err != nil {
			return c, nil, err
		}
		c.Instances++
		view, err := s.eng.State(ctx, ch.id)
		if err != nil {
			out = append(out, fmt.Sprintf("%s：查询流程状态失败：%v", ch.id, err))
			continue
		}
		if diff := reconcile.Compare(row, view.Projection); len(diff) > 0 {
			out = append(out, fmt.Sprintf("%s：库中与流程不一致：%s", ch.id, strings.Join(diff, "；")))
		}
		if done := ch.decision[3].ok || ch.decision[3].settled; done && row.Status != duban.StatusCompleted {
			out = append(out, fmt.Sprintf("%s：四个决定都已办理，状态却是 %s", ch.id, row.Status))
		}
	}

	// Every delivery sent (the workers retry them through the faults),
	// and each of them received.
	var open int
	for wait := time.Now().Add(2 * time.Minute); ; {
		if err := s.db.Pool.QueryRow(ctx, `SELECT count(*) FROM deliveries WHERE status <> 'sent'`).Scan(&open); err != nil {
			return c, nil, err
		}
		if open == 0 || time.Now().After(wait) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	if open > 0 {
		out = append(out, fmt.Sprintf("外发通知：%d 条两分钟后仍未发出", open))
	}
	got := s.hook.received()
	keys, err := s.db.Pool.Query(ctx, `SELECT dedup_key FROM deliveries WHERE status = 'sent'`)
	if err != nil {
		return c, nil, err
	}
	var missing []string
	stored := map[string]bool{}
	for keys.Next() {
		var k string
		if err := keys.Scan(&k); err != nil {
			keys.Close()
			return c, nil, err
		}
		stored[k] = true
		if got[k] == 0 {
			missing = append(missing, k)
		}
	}
	keys.Close()
	if len(missing) > 0 {
		out = append(out, fmt.Sprintf("外发通知：%d 条记为已发，接收方却没有收到（如 %s）", len(missing), missing[0]))
	}
	for k, n := range got {
		if !stored[k] {
			out = append(out, fmt.Sprintf("外发通知：接收方收到库中没有的 %s", k))
		}
		c.Received += n
		if n > 1 {
			c.Repeats += n - 1
		}
	}

	// One inbox row per person per transition, one delivery per key.
	var doubled int
	if err := s.db.Pool.QueryRow(ctx, `SELECT count(*) FROM (SELECT 1 FROM inbox GROUP BY instance_id, seq, user_id HAVING count(*) > 1) d`).Scan(&doubled); err != nil {
		return c, nil, err
	}
	if doubled > 0 {
		out = append(out, fmt.Sprintf("站内通知：%d 组（任务、序号、人）有不止一条", doubled))
	}
	if err := s.db.Pool.QueryRow(ctx, `SELECT count(*) FROM (SELECT 1 FROM deliveries WHERE instance_id IS NOT NULL GROUP BY instance_id, seq, user_id, channel HAVING count(*) > 1) d`).Scan(&doubled); err != nil {
		return c, nil, err
	}
	if doubled > 0 {
		out = append(out, fmt.Sprintf("外发通知：%d 组（任务、序号、人、渠道）有不止一条", doubled))
	}
	if err := s.db.Pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM inbox), (SELECT count(*) FROM deliveries)`).Scan(&c.Inbox, &c.Deliveries); err != nil {
		return c, nil, err
	}

	// What `duban verify` checks: open rows against their workflows, the
	// timeline's gaps, the rollup counters against a recount, the inbox
	// against the timeline.
	r, err := reconcile.Run(ctx, s.db, s.eng, reconcile.Options{})
	if err != nil {
		return c, nil, fmt.Errorf("reconcile: %w", err)
	}
	found, _ := r.Count()
	c.Reconcile = fmt.Sprintf("对账（duban verify）核对未办结任务 %d 项，不一致 %d 处", r.Checked, found)
	for _, d := range r.Drift {
		out = append(out, fmt.Sprintf("对账 %s %s%s：%s", d.Kind, d.InstanceID, d.Unit, strings.Join(d.Detail, "；")))
	}
	return c, out, nil
}
