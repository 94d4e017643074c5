package api

import (
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/api/input"
	"github.com/duban-dev/duban/store"
)

// deliveryView is one row of the delivery log.
type deliveryView struct {
	store.DeliveryLogRow
	StatusLabel  string `json:"status_label"`
	ChannelLabel string `json:"channel_label"`
	KindLabel    string `json:"kind_label"`
	// Retryable says the row failed and an admin may put it back in the queue.
	Retryable bool `json:"retryable"`
}

func viewDelivery(r store.DeliveryLogRow) deliveryView {
	v := deliveryView{DeliveryLogRow: r, StatusLabel: r.Status.Label(), ChannelLabel: channelLabel(r.Channel),
		KindLabel: r.Kind.Label(), Retryable: r.Status == duban.DeliveryFailed}
	if r.Kind == "digest" {
		v.KindLabel = "每日汇总"
	}
	return v
}

// deliveryStatuses are the filters of the delivery log: waiting is what
// has not gone out yet and is not failing (new, quiet hours, digest).
var deliveryStatuses = map[string][]duban.DeliveryStatus{
	"sent":     {duban.DeliverySent, duban.DeliveryDigested},
	"failed":   {duban.DeliveryFailed},
	"retrying": {duban.DeliveryRetrying},
	"waiting":  {duban.DeliveryPending, duban.DeliveryHeld, duban.DeliveryDigest},
	"skipped":  {duban.DeliverySkipped},
}

// listDeliveries is the delivery log of the people under the admin's
// unit, newest first: filtered by status, person, channel and task.
func (s *server) listDeliveries(c *fiber.Ctx) error {
	p, err := caller(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	f := store.DeliveryLogFilter{UnitPrefix: p.unit()}
	if v := c.Query("status"); v != "" {
		st, ok := deliveryStatuses[v]
		if !ok {
			return input.Invalid("参数有误", input.FieldError{Field: "status", Message: "状态应为 sent、failed、retrying、waiting、skipped 之一"})
		}
		f.Statuses = st
	}
	if v := c.Query("channel"); v != "" {
		if channelLabel(v) == v {
			return input.Invalid("参数有误", input.FieldError{Field: "channel", Message: "渠道应为 email、webhook、dingtalk、wecom、sms 之一"})
		}
		f.Channel = v
	}
	if v := c.Query("user"); v != "" {
		id, username, err := actorParam(v)
		if err != nil {
			return input.Invalid("参数有误", input.FieldError{Field: "user", Message: "应为用户名或用户编号"})
		}
		var u store.User
		if id != 0 {
			u, err = s.DB.UserByID(ctx, id)
		} else {
			u, err = s.DB.UserByUsername(ctx, username)
		}
		if duban.ErrorCode(err) == duban.ENOTFOUND || (err == nil && !p.manages(u.UnitCode)) {
			return notFound("用户")
		}
		if err != nil {
			return err
		}
		f.UserID = u.ID
	}
	if v := c.Query("task"); v != "" {
		in, err := s.visibleInstanceByID(ctx, p, v)
		if err != nil {
			return err
		}
		f.InstanceID = in.ID
	}
	limit, err := input.Limit(c)
	if err != nil {
		return err
	}
	if f.BeforeID, err = input.IDCursor(c.Query("cursor")); err != nil {
		return err
	}
	f.Limit = limit + 1
	rows, err := s.DB.DeliveryLog(ctx, f)
	if err != nil {
		return err
	}
	views := make([]deliveryView, len(rows))
	for i, r := range rows {
		views[i] = viewDelivery(r)
	}
	return c.JSON(page(views, limit, func(v deliveryView) string { return idCursor(v.ID) }))
}

// retryDelivery puts a failed delivery to someone under the admin's unit
// back in the queue (audited); the digest workflow's next tick sends it.
// Retrying again changes nothing.
func (s *server) retryDelivery(c *fiber.Ctx) error {
	p, err := caller(c)
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil || id <= 0 {
		return notFound("投递记录")
	}
	ctx := c.UserContext()
	retried, err := s.DB.RetryDelivery(ctx, id, p.unit(), p.actor(), s.now())
	if err != nil {
		return err
	}
	row, err := s.DB.DeliveryLogRowByID(ctx, id)
	if err != nil {
		return err
	}
	return c.JSON(struct {
		deliveryView
		Retried bool `json:"retried"`
	}{viewDelivery(row), retried})
}
