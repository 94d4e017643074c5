package cli

import (
	"context"
	"fmt"

	"github.com/duban-dev/duban/store"
)

// auditVerify recomputes every audit row's hash and fails, naming the row,
// at the first one that was altered, removed or reordered.
func auditVerify(ctx context.Context, env *Env, db *store.DB) error {
	check, err := db.VerifyAudit(ctx)
	if err != nil {
		return err
	}
	if !check.OK() {
		fmt.Fprintf(env.Stdout, "审计链校验失败：%s（此前 %d 条记录完好）\n", check.Problem, check.Rows)
		return fmt.Errorf("audit chain broken at row %d", check.BrokenID)
	}
	fmt.Fprintf(env.Stdout, "审计链完整：共 %d 条记录，最后一条为第 %d 条\n", check.Rows, check.LastID)
	return nil
}
