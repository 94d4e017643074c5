// Package engine is how the API and the command line talk to the running
// workflows: launching plans, sending decisions as Updates, reading state.
// It turns Temporal errors into domain errors.
package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/workflows"
)

// Engine wraps a Temporal client. Its settings come from the configuration
// (temporal.task_queue, temporal.workflow_id_prefix,
// temporal.launch_concurrency); it decides none of them.
type Engine struct {
	Client client.Client
	// TaskQueue is where launches are started; the workers poll it.
	TaskQueue string
	// IDPrefix is put before every workflow id, so that several Duban
	// deployments (or test runs) can share one Temporal namespace.
	IDPrefix string
	// LaunchConcurrency is a launch's number of parallel starters when
	// LaunchOptions.Concurrency is 0.
	LaunchConcurrency int
	// UpdateTimeout bounds how long Send waits for an Update to complete
	// (0: as long as the caller's context allows).
	UpdateTimeout time.Duration
}

// WorkflowID is the workflow id of an instance (or launch) id.
func (e *Engine) WorkflowID(id string) string { return e.IDPrefix + id }

// LaunchOptions tunes a launch.
type LaunchOptions struct {
	Clock     duban.Clock
	BatchSize int
	// Concurrency is the number of parallel starters (Engine.LaunchConcurrency when 0).
	Concurrency int
	// Templates limits the launch to some template ids (all when empty).
	Templates []string
}

// LaunchID is the id of the launch of a plan for a year (of some templates,
// when given): the launch workflow's id, and its row in the launches table.
func LaunchID(planID string, year int, templates []string) string {
	id := workflows.LaunchID(planID, year)
	if len(templates) > 0 {
		id += "/" + strings.Join(templates, ",")
	}
	return id
}

// Launch starts (or joins, if one is running) the launch of a plan for a
// year, and returns its id (LaunchID). Progress is in the store's launches
// table.
func (e *Engine) Launch(ctx context.Context, planID string, year int, opts LaunchOptions) (string, error) {
	id := LaunchID(planID, year, opts.Templates)
	if e.TaskQueue == "" {
		return "", errors.New("engine: no task queue (temporal.task_queue)")
	}
	if opts.Concurrency == 0 {
		opts.Concurrency = e.LaunchConcurrency
	}
	_, err := e.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       e.WorkflowID(id),
		TaskQueue:                e.TaskQueue,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
	}, workflows.LaunchWorkflow, workflows.LaunchInput{
		LaunchID: id, PlanID: planID, Year: year, Clock: opts.Clock,
		BatchSize: opts.BatchSize, Concurrency: opts.Concurrency, Templates: opts.Templates,
	})
	if err != nil {
		if fault := faultOf(err); fault != nil {
			return "", fmt.Errorf("%w: %w", fault, err)
		}
		return "", fmt.Errorf("start launch %s: %w", id, err)
	}
	return id, nil
}

// StartPlanChange starts the workflow that carries a recorded plan change
// to its instances, or joins the one running. Started again after it
// finished, it sends only what is still pending (nothing, usually).
func (e *Engine) StartPlanChange(ctx context.Context, changeID int64) error {
	if e.TaskQueue == "" {
		return errors.New("engine: no task queue (temporal.task_queue)")
	}
	_, err := e.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       e.WorkflowID(workflows.PlanChangeWorkflowID(changeID)),
		TaskQueue:                e.TaskQueue,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
	}, workflows.PlanChangeWorkflow, workflows.PlanChangeInput{ChangeID: changeID})
	if err != nil {
		if fault := faultOf(err); fault != nil {
			return fmt.Errorf("%w: %w", fault, err)
		}
		return fmt.Errorf("start plan change %d: %w", changeID, err)
	}
	return nil
}

// WaitPlanChange blocks until the change's workflow ends.
func (e *Engine) WaitPlanChange(ctx context.Context, changeID int64) (workflows.PlanChangeResult, error) {
	var res workflows.PlanChangeResult
	err := e.Client.GetWorkflow(ctx, e.WorkflowID(workflows.PlanChangeWorkflowID(changeID)), "").Get(ctx, &res)
	return res, err
}

// Amend sends a plan change to one instance. The Update's id is the
// change's, and the workflow ignores a change it already carries, so
// sending it twice changes nothing.
func (e *Engine) Amend(ctx context.Context, instanceID string, c duban.PlanChange) error {
	_, err := e.Send(ctx, instanceID, workflows.PlanChangeWorkflowID(c.ID), workflows.Amendment{Change: c})
	return err
}

// MoveTask hands a merged unit's task to the unit it joined; sending it
// again changes nothing.
func (e *Engine) MoveTask(ctx context.Context, instanceID, from string, to duban.Signer, reason string, actor duban.Actor) error {
	_, err := e.Send(ctx, instanceID, "unit-merge/"+from, workflows.UnitMove{Actor: actor, From: from, To: to, Reason: reason})
	return err
}

// CancelTask cancels a task with the reason; key is the Update's id.
func (e *Engine) CancelTask(ctx context.Context, instanceID, key, reason string, actor duban.Actor) error {
	_, err := e.Send(ctx, instanceID, key, workflows.Cancellation{Actor: actor, Reason: reason})
	return err
}

// StartUnitMerge starts (or joins) the workflow that moves a merged unit's
// open tasks to the unit it joined, for the reason actor gave.
func (e *Engine) StartUnitMerge(ctx context.Context, from string, into duban.Signer, reason string, actor duban.Actor) error {
	in := workflows.UnitMergeInput{From: from, Into: into, Reason: reason, Actor: actor}
	_, err := e.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       e.WorkflowID("unit-merge/" + in.From),
		TaskQueue:                e.TaskQueue,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
	}, workflows.UnitMergeWorkflow, in)
	if err != nil {
		if fault := faultOf(err); fault != nil {
			return fmt.Errorf("%w: %w", fault, err)
		}
		return fmt.Errorf("start unit merge %s: %w", in.From, err)
	}
	return nil
}

// WaitUnitMerge blocks until the merge of from's tasks ends.
func (e *Engine) WaitUnitMerge(ctx context.Context, from string) (workflows.UnitMergeResult, error) {
	var res workflows.UnitMergeResult
	err := e.Client.GetWorkflow(ctx, e.WorkflowID("unit-merge/"+from), "").Get(ctx, &res)
	return res, err
}

// WaitLaunch blocks until the launch workflow ends and returns its result.
func (e *Engine) WaitLaunch(ctx context.Context, launchID string) (workflows.LaunchResult, error) {
	var res workflows.LaunchResult
	err := e.Client.GetWorkflow(ctx, e.WorkflowID(launchID), "").Get(ctx, &res)
	return res, err
}

// Send sends a message to an instance's workflow as the Update of its
// action, and returns the instance's state after it. updateID is the
// client's idempotency key: the same key twice gives the first result and
// changes nothing. A refusal by the workflow's validator comes back as a
// *duban.Error with the code the workflow chose.
func (e *Engine) Send(ctx context.Context, instanceID, updateID string, m workflows.Message) (workflows.View, error) {
	var view workflows.View
	if e.UpdateTimeout > 0 {
		// An Update the workflow has not completed by then answers as a
		// timeout; it goes on, and a repeat with the same id returns it.
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, e.UpdateTimeout)
		defer cancel()
	}
	h, err := e.Client.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID:   e.WorkflowID(instanceID),
		UpdateID:     updateID,
		UpdateName:   string(m.Action()),
		Args:         []any{m},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err != nil {
		return view, translate(err)
	}
	if err := h.Get(ctx, &view); err != nil {
		return view, translate(err)
	}
	return view, nil
}

// Act takes a lifecycle action on an instance for actor, with what the
// request asked: the API's one road to the workflows.
func (e *Engine) Act(ctx context.Context, instanceID, updateID string, action duban.Action, actor duban.Actor, in duban.Input) error {
	m, err := workflows.NewMessage(action, actor, in)
	if err != nil {
		return err
	}
	_, err = e.Send(ctx, instanceID, updateID, m)
	return err
}

// ReportProgress, Submit, Decide, RequestExtension, DecideExtension and
// Cancel send one action each.

func (e *Engine) ReportProgress(ctx context.Context, instanceID, updateID string, r workflows.ProgressReport) (workflows.View, error) {
	return e.Send(ctx, instanceID, updateID, r)
}

func (e *Engine) Submit(ctx context.Context, instanceID, updateID string, s workflows.Submission) (workflows.View, error) {
	return e.Send(ctx, instanceID, updateID, s)
}

func (e *Engine) Decide(ctx context.Context, instanceID, updateID string, d workflows.DecisionRequest) (workflows.View, error) {
	return e.Send(ctx, instanceID, updateID, d)
}

func (e *Engine) RequestExtension(ctx context.Context, instanceID, updateID string, r workflows.ExtensionRequest) (workflows.View, error) {
	return e.Send(ctx, instanceID, updateID, r)
}

func (e *Engine) DecideExtension(ctx context.Context, instanceID, updateID string, d workflows.ExtensionDecision) (workflows.View, error) {
	return e.Send(ctx, instanceID, updateID, d)
}

func (e *Engine) Cancel(ctx context.Context, instanceID, updateID string, c workflows.Cancellation) (workflows.View, error) {
	return e.Send(ctx, instanceID, updateID, c)
}

// Healthy reports whether the Temporal frontend answers.
func (e *Engine) Healthy(ctx context.Context) error {
	_, err := e.Client.CheckHealth(ctx, &client.CheckHealthRequest{})
	return err
}

// State queries an instance's workflow for its full state.
func (e *Engine) State(ctx context.Context, instanceID string) (workflows.View, error) {
	var view workflows.View
	v, err := e.Client.QueryWorkflow(ctx, e.WorkflowID(instanceID), "", workflows.QueryState)
	if err != nil {
		return view, translate(err)
	}
	return view, v.Get(&view)
}

// Faults, as the API shows them: the request is safe to repeat with the
// same Idempotency-Key (an Update accepted before the fault completes
// once, and the repeat returns its result).
var (
	errUnavailable = duban.Errorf(duban.EUNAVAILABLE, "审批服务暂时不可用，请稍后重试；重试不会重复办理")
	errTimeout     = duban.Errorf(duban.ETIMEOUT, "处理超时：操作可能仍在进行，请稍后重试查看结果；重试不会重复办理")
)

func translate(err error) error {
	if fault := faultOf(err); fault != nil {
		return fmt.Errorf("%w: %w", fault, err)
	}
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		code := app.Type()
		switch code {
		case duban.EINVALID, duban.ECONFLICT, duban.EFORBIDDEN, duban.ENOTFOUND:
			// A lifecycle refusal names the request field at fault, if any.
			var field string
			if app.HasDetails() {
				_ = app.Details(&field)
			}
			return &duban.Error{Code: code, Message: app.Message(), Field: field}
		}
		return err
	}
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		// The workflow is gone: it finished (completed or cancelled) or never was.
		return duban.Errorf(duban.ECONFLICT, "任务已结束或不存在，不能再操作")
	}
	return err
}

// faultOf says whether err is Temporal not answering or not in time.
func faultOf(err error) error {
	var (
		unavailable *serviceerror.Unavailable
		exhausted   *serviceerror.ResourceExhausted
		deadline    *serviceerror.DeadlineExceeded
		canceled    *serviceerror.Canceled
		updateWait  *client.WorkflowUpdateServiceTimeoutOrCanceledError
	)
	switch {
	case errors.As(err, &unavailable), errors.As(err, &exhausted):
		return errUnavailable
	case errors.As(err, &updateWait), errors.As(err, &deadline), errors.As(err, &canceled),
		errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return errTimeout
	}
	if s, ok := status.FromError(errors.Unwrap(err)); ok && s.Code() == codes.Unavailable {
		return errUnavailable
	}
	return nil
}
