package activities_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/activities"
	"github.com/duban-dev/duban/internal/testenv"
	"github.com/duban-dev/duban/notify"
	"github.com/duban-dev/duban/notify/mailcatcher"
	"github.com/duban-dev/duban/store"
)

// TestDeliverTransitionRetriedAfterTheServerAcceptedSendsOnce runs the
// activity as Temporal would: a first attempt whose email the server
// accepts but which fails because another message must be retried, then
// the retry. The email goes out once.
func TestDeliverTransitionRetriedAfterTheServerAcceptedSendsOnce(t *testing.T) {
	ctx := context.Background()
	db := testenv.OpenDB(t)
	catcher, err := mailcatcher.Start("127.0.0.1:0", mailcatcher.Options{})
	require.NoError(t, err)
	defer catcher.Close()
	refuse := true
	_, err = db.CreateUser(ctx, store.User{Username: "furong-a", DisplayName: "王芳", UnitCode: "430102", Roles: []duban.Role{duban.RoleOfficial}, Email: "wangfang@furong.example", PasswordHash: "x"})
	require.NoError(t, err)
	_, err = db.CreateUser(ctx, store.User{Username: "furong-b", DisplayName: "李四", UnitCode: "430102", Roles: []duban.Role{duban.RoleOfficial}, Email: "lisi@furong.example", PasswordHash: "x"})
	require.NoError(t, err)
	email, err := notify.NewEmail(notify.SMTPConfig{Addr: catcher.Addr(), From: "duban@hnjsx.example", TLS: notify.TLSNone})
	require.NoError(t, err)
	flaky := channelFunc(func(ctx context.Context, m notify.Message) error {
		if m.To.Email == "lisi@furong.example" && refuse {
			refuse = false
			return notify.Temporary("SMTP 451 try again later")
		}
		return email.Send(ctx, m)
	})
	acts := &activities.Activities{Store: db, Notifier: &notify.Dispatcher{Store: db, Email: flaky, Defaults: notify.Defaults{DigestRoles: []duban.Role{duban.RoleApprover, duban.RoleSupervisor}, DigestHour: 8}, PublicURL: "https://duban.example", MaxAttempts: 3}}

	spec := duban.TaskSpec{ID: "2026/2.1/430102", PlanID: "p", Year: 2026, TemplateID: "2.1", Section: "2", Title: "出台改革方案", Kind: duban.KindDeadline,
		UnitCode: "430102", UnitName: "芙蓉区", UnitLevel: duban.LevelCounty, Due: duban.EndOfDay(2026, 12, 31)}
	_, err = db.ApplyTransition(ctx, duban.Transition{InstanceID: spec.ID, Seq: 1, At: time.Now(), Kind: duban.EventAssigned, Actor: duban.System, To: duban.StatusAssigned,
		Projection: duban.Projection{Status: duban.StatusAssigned, Due: spec.Due, Seq: 1}, Spec: &spec,
		Notices: []duban.Notice{{Kind: duban.EventAssigned, Recipients: []duban.Recipients{{Unit: "430102", Roles: []duban.Role{duban.RoleOfficial}}}}}})
	require.NoError(t, err)

	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	env.RegisterActivity(acts)
	in := activities.DeliverInput{InstanceID: spec.ID, Seq: 1}
	_, err = env.ExecuteActivity(acts.DeliverTransition, in)
	require.Error(t, err, "one message is still to be retried")
	var app *temporal.ApplicationError
	require.True(t, errors.As(err, &app))
	require.Equal(t, activities.ErrDeliveryUnfinished, app.Type())
	require.False(t, app.NonRetryable())
	require.Len(t, catcher.Messages(), 1, "王芳's email was accepted in the first attempt")

	val, err := env.ExecuteActivity(acts.DeliverTransition, in)
	require.NoError(t, err)
	var rep duban.DeliveryReport
	require.NoError(t, val.Get(&rep))
	require.Equal(t, duban.DeliveryReport{Sent: 1}, rep, "the retry sends only 李四's")
	_, err = env.ExecuteActivity(acts.DeliverTransition, in)
	require.NoError(t, err)

	msgs := catcher.Messages()
	require.Len(t, msgs, 2)
	perRecipient := map[string]int{}
	for _, m := range msgs {
		perRecipient[m.To[0]]++
		require.Equal(t, "新任务：出台改革方案", m.Subject)
	}
	require.Equal(t, map[string]int{"wangfang@furong.example": 1, "lisi@furong.example": 1}, perRecipient)
}

type channelFunc func(ctx context.Context, m notify.Message) error

func (f channelFunc) Send(ctx context.Context, m notify.Message) error { return f(ctx, m) }

func TestWithoutANotifierDeliveryIsANoOp(t *testing.T) {
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	acts := &activities.Activities{}
	env.RegisterActivity(acts)
	_, err := env.ExecuteActivity(acts.DeliverTransition, activities.DeliverInput{InstanceID: "x", Seq: 1})
	require.NoError(t, err)
	_, err = env.ExecuteActivity(acts.DeliverDue, activities.DeliverDueInput{At: time.Now()})
	require.NoError(t, err)
}
