package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/duban-dev/duban/activities"
	"github.com/duban-dev/duban/config"
	"github.com/duban-dev/duban/store"
)

// retentionOf turns the configured ages into the store's rules.
func retentionOf(r config.Retention, dry bool) store.Retention {
	return store.Retention{ReadInbox: r.InboxReadAge, Deliveries: r.DeliveryAge, Sessions: r.SessionAge, Batch: r.Batch, DryRun: dry}
}

// pruner is the scheduled retention's work: store.DB.Prune with the
// configured ages, logged.
func pruner(env *Env, db *store.DB, r config.Retention) activities.Pruner {
	return func(ctx context.Context) (activities.PruneResult, error) {
		res, err := db.Prune(ctx, retentionOf(r, false), time.Now())
		if err != nil {
			env.Log.Error("retention failed", "err", err, "inbox", res.Inbox, "deliveries", res.Deliveries, "sessions", res.Sessions)
			return activities.PruneResult{}, err
		}
		env.Log.Info("retention", "inbox", res.Inbox, "deliveries", res.Deliveries, "sessions", res.Sessions, "took", res.Took)
		return activities.PruneResult{Inbox: res.Inbox, Deliveries: res.Deliveries, Sessions: res.Sessions}, nil
	}
}

// prune deletes, by hand, what the scheduled retention deletes: read inbox
// rows, finished deliveries and ended sessions past their configured ages.
// --dry-run only counts them.
func prune(ctx context.Context, env *Env, args []string) error {
	fs := NewFlags(env, "prune")
	cfgPath := ConfigFlag(fs)
	dry := fs.Bool("dry-run", false, "count what would be deleted; delete nothing")
	if err := Parse(fs, args); err != nil {
		return err
	}
	cfg, db, err := env.openStore(ctx, *cfgPath)
	if err != nil {
		return err
	}
	defer db.Close()
	r := cfg.Retention
	res, err := db.Prune(ctx, retentionOf(r, *dry), time.Now())
	verb := "已删除"
	if *dry {
		verb = "将删除（试运行，未删除）"
	}
	age := func(d time.Duration) string {
		if d <= 0 {
			return "不删除"
		}
		return fmt.Sprintf("超过 %g 天", d.Hours()/24)
	}
	fmt.Fprintf(env.Stdout, "%s：\n", verb)
	fmt.Fprintf(env.Stdout, "  已读站内消息（%s）：%d 条\n", age(r.InboxReadAge), res.Inbox)
	fmt.Fprintf(env.Stdout, "  已结束的投递记录（%s）：%d 条\n", age(r.DeliveryAge), res.Deliveries)
	fmt.Fprintf(env.Stdout, "  已结束的登录会话（%s）：%d 条\n", age(r.SessionAge), res.Sessions)
	fmt.Fprintf(env.Stdout, "审计记录和办理时间线不删除。用时 %s\n", res.Took.Round(time.Millisecond))
	return err
}
