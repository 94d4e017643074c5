package cli

import (
	"context"
	"errors"

	"github.com/duban-dev/duban/draft"
)

// planDraft hands the command to package draft, which holds all its logic.
func planDraft(_ context.Context, env *Env, args []string) error {
	err := draft.Command(args, env.Stdout, env.Stderr)
	var u draft.UsageError
	if errors.As(err, &u) {
		return UsageError{u.Error()}
	}
	return err
}
