package main

import (
	"context"
	"errors"

	"github.com/duban-dev/duban/draft"
)

func init() {
	register("plan draft", "draft a plan from a work notice (text, Markdown, .docx): every sentence reviewed, a template per obligation", planDraft)
}

// planDraft hands the command to package draft, which holds all its logic.
func planDraft(_ context.Context, env *cli, args []string) error {
	err := draft.Command(args, env.stdout, env.stderr)
	var u draft.UsageError
	if errors.As(err, &u) {
		return usageError{u.Error()}
	}
	return err
}
