package api

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/api/input"
	"github.com/duban-dev/duban/plan"
	"github.com/duban-dev/duban/store"
)

// faultRetryAfter is the Retry-After of a timeout or an unavailable
// dependency: long enough for a worker or the Temporal frontend to come
// back after a restart.
const faultRetryAfter = 3 * time.Second

// Problem codes beyond duban's: each names one thing a client can act on.
const (
	codeAccountLocked = "account_locked"
	// codePasswordChange: the password is one an administrator set; only
	// /me, /me/password, logout and refresh answer until it is changed.
	codePasswordChange = "password_change_required"
	codeTooLarge       = "payload_too_large"
	codeMediaType      = "unsupported_media_type"
	codeMethod         = "method_not_allowed"
	codeHeaderTooLarge = "header_too_large"
	codeTimeout        = duban.ETIMEOUT
	codeUnavailable    = duban.EUNAVAILABLE
)

// problemInfo is each code's status and Chinese title.
var problemInfo = map[string]struct {
	status int
	title  string
}{
	duban.EINVALID:      {fiber.StatusUnprocessableEntity, "请求内容有误"},
	input.CodeMalformed: {fiber.StatusBadRequest, "请求格式错误"},
	duban.ENOTFOUND:     {fiber.StatusNotFound, "对象不存在"},
	duban.ECONFLICT:     {fiber.StatusConflict, "操作与当前状态冲突"},
	duban.EFORBIDDEN:    {fiber.StatusForbidden, "无权执行此操作"},
	duban.EUNAUTHORIZED: {fiber.StatusUnauthorized, "未登录或登录已失效"},
	duban.ETOOMANY:      {fiber.StatusTooManyRequests, "请求过于频繁"},
	codeAccountLocked:   {fiber.StatusTooManyRequests, "账号已锁定"},
	codePasswordChange:  {fiber.StatusForbidden, "请先修改密码"},
	codeTooLarge:        {fiber.StatusRequestEntityTooLarge, "请求内容过大"},
	codeMediaType:       {fiber.StatusUnsupportedMediaType, "不支持的内容类型"},
	codeMethod:          {fiber.StatusMethodNotAllowed, "不支持的请求方法"},
	codeHeaderTooLarge:  {fiber.StatusRequestHeaderFieldsTooLarge, "请求头过大"},
	codeTimeout:         {fiber.StatusGatewayTimeout, "处理超时，请稍后重试"},
	codeUnavailable:     {fiber.StatusServiceUnavailable, "服务暂不可用"},
	duban.EINTERNAL:     {fiber.StatusInternalServerError, "服务器内部错误"},
}

// problem is an RFC 9457 problem document.
type problem struct {
	Type      string             `json:"type"`
	Title     string             `json:"title"`
	Status    int                `json:"status"`
	Detail    string             `json:"detail,omitempty"`
	Code      string             `json:"code"`
	Instance  string             `json:"instance,omitempty"`
	RequestID string             `json:"request_id,omitempty"`
	Errors    []input.FieldError `json:"errors,omitempty"`
}

func apiError(code, format string, args ...any) error { return duban.Errorf(code, format, args...) }

func notFound(what string) error { return duban.Errorf(duban.ENOTFOUND, "%s不存在", what) }

// handleError writes an error as a problem document: the one place
// errors become responses.
func (s *server) handleError(c *fiber.Ctx, err error) error {
	p := s.problemOf(err, c.OriginalURL())
	if id, ok := c.Locals(localRequestID).(string); ok {
		p.RequestID = id
	}
	switch p.Code {
	case duban.EINTERNAL:
		s.log.Error("request failed", "request_id", p.RequestID, "method", c.Method(), "path", c.Path(), "err", err)
	case codeTimeout, codeUnavailable:
		// A fault the system survives: tell the client when to try again
		// (with the same Idempotency-Key, which makes the retry safe).
		s.log.Warn("request met a fault", "request_id", p.RequestID, "method", c.Method(), "path", c.Path(), "code", p.Code, "err", err)
		if c.Response().Header.Peek(fiber.HeaderRetryAfter) == nil {
			retryAfter(c, faultRetryAfter.Seconds())
		}
	}
	c.Set(fiber.HeaderContentType, "application/problem+json; charset=utf-8")
	if c.Response().Header.Peek(fiber.HeaderCacheControl) == nil {
		c.Set(fiber.HeaderCacheControl, "no-store")
	}
	body, merr := jsonMarshal(p)
	if merr != nil {
		return c.Status(fiber.StatusInternalServerError).SendString(`{"code":"internal"}`)
	}
	return c.Status(p.Status).Send(body)
}

// problemOf maps an error to its problem (also for one item of a bulk
// request): the code, status and Chinese title, the detail and the fields
// at fault. Internal causes are never shown; the caller logs them.
func (s *server) problemOf(err error, instance string) problem {
	p := problem{Code: duban.EINTERNAL, Instance: instance}
	var (
		inv   *input.Error
		de    *duban.Error
		fe    *fiber.Error
		perrs plan.ValidationErrors
	)
	switch {
	case errors.As(err, &inv):
		p.Code, p.Detail, p.Errors = inv.Code, inv.Message, inv.Fields
	case errors.As(err, &perrs):
		p.Code, p.Detail = duban.EINVALID, fmt.Sprintf("计划文件有 %d 处错误", len(perrs))
		for _, e := range perrs {
			p.Errors = append(p.Errors, input.FieldError{Field: e.Field, Message: e.Message, Line: e.Line, Column: e.Column})
		}
	case errors.As(err, &de):
		p.Code, p.Detail = de.Code, de.Message
		if de.Field != "" {
			p.Errors = []input.FieldError{{Field: de.Field, Message: de.Message}}
		}
	case errors.As(err, &fe):
		p.Code, p.Detail = fiberCode(fe.Code), fiberDetail(fe)
	case store.Unavailable(err):
		// The database restarting or out of reach: a fault, safe to repeat.
		p.Code, p.Detail = codeUnavailable, "数据库暂时不可用，请稍后重试；带同一 Idempotency-Key 重试不会重复办理"
	case errors.Is(err, context.DeadlineExceeded):
		p.Code = codeTimeout
	}
	info, ok := problemInfo[p.Code]
	if !ok {
		p.Code, info = duban.EINTERNAL, problemInfo[duban.EINTERNAL]
	}
	p.Status, p.Title = info.status, info.title
	p.Type = "urn:duban:problem:" + p.Code
	switch {
	case p.Code == duban.EINTERNAL:
		p.Detail = info.title
	case p.Code == codeTimeout && p.Detail == "":
		p.Detail = "处理超时，请稍后重试；带同一 Idempotency-Key 重试不会重复办理"
	case p.Code == codeUnavailable && p.Detail == "":
		p.Detail = "服务暂时不可用，请稍后重试"
	}
	return p
}

func fiberCode(status int) string {
	switch status {
	case fiber.StatusNotFound:
		return duban.ENOTFOUND
	case fiber.StatusMethodNotAllowed:
		return codeMethod
	case fiber.StatusRequestEntityTooLarge:
		return codeTooLarge
	case fiber.StatusRequestHeaderFieldsTooLarge:
		return codeHeaderTooLarge
	case fiber.StatusUnsupportedMediaType:
		return codeMediaType
	case fiber.StatusRequestTimeout:
		return codeTimeout
	case fiber.StatusUnauthorized:
		return duban.EUNAUTHORIZED
	case fiber.StatusForbidden:
		return duban.EFORBIDDEN
	case fiber.StatusTooManyRequests:
		return duban.ETOOMANY
	case fiber.StatusServiceUnavailable:
		return codeUnavailable
	}
	if status >= 400 && status < 500 {
		return input.CodeMalformed
	}
	return duban.EINTERNAL
}

func fiberDetail(fe *fiber.Error) string {
	switch fe.Code {
	case fiber.StatusNotFound:
		return "接口不存在"
	case fiber.StatusRequestEntityTooLarge:
		return "请求内容超过大小限制"
	case fiber.StatusRequestHeaderFieldsTooLarge:
		return "请求头超过大小限制"
	case fiber.StatusMethodNotAllowed:
		return "此接口不支持该请求方法"
	}
	if fe.Code >= 500 {
		return ""
	}
	return "请求无法处理"
}

// logPanic logs a recovered panic with its stack; the error handler then
// answers 500 without detail.
func (s *server) logPanic(c *fiber.Ctx, e any) {
	id, _ := c.Locals(localRequestID).(string)
	s.log.Error("panic", "request_id", id, "path", c.Path(), "panic", fmt.Sprint(e), "stack", string(debug.Stack()))
}

// retryAfter sets Retry-After in whole seconds, at least 1.
func retryAfter(c *fiber.Ctx, secs float64) {
	n := int(secs + 0.999)
	if n < 1 {
		n = 1
	}
	c.Set(fiber.HeaderRetryAfter, strconv.Itoa(n))
}
