package api

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/duban-dev/duban/api/input"
	"github.com/duban-dev/duban/store"
)

type notificationView struct {
	store.InboxItem
	KindLabel string `json:"kind_label"`
	Read      bool   `json:"read"`
}

func notificationOf(it store.InboxItem) notificationView {
	return notificationView{InboxItem: it, KindLabel: it.Kind.Label(), Read: it.ReadAt != nil}
}

// listNotifications is the caller's inbox, newest first, with the unread
// count for the badge.
func (s *server) listNotifications(c *fiber.Ctx) error {
	p, err := caller(c)
	if err != nil {
		return err
	}
	unread, err := input.BoolParam(c, "unread")
	if err != nil {
		return err
	}
	limit, err := input.Limit(c)
	if err != nil {
		return err
	}
	before, err := input.IDCursor(c.Query("cursor"))
	if err != nil {
		return err
	}
	items, err := s.DB.Inbox(c.UserContext(), p.User.ID, unread != nil && *unread, before, limit+1)
	if err != nil {
		return err
	}
	count, err := s.DB.UnreadCount(c.UserContext(), p.User.ID)
	if err != nil {
		return err
	}
	views := make([]notificationView, len(items))
	for i, it := range items {
		views[i] = notificationOf(it)
	}
	pg := page(views, limit, func(v notificationView) string { return idCursor(v.ID) })
	return c.JSON(fiber.Map{"items": pg.Items, "next_cursor": pg.NextCursor, "unread_count": count})
}

type markReadRequest struct {
	IDs []int64 `json:"ids"`
	All bool    `json:"all"`
}

func (r *markReadRequest) validate() error {
	if !r.All && len(r.IDs) == 0 {
		return input.Invalid("请指定要标记为已读的通知", input.FieldError{Field: "ids", Message: "请给出通知编号，或用 all: true 全部标记"})
	}
	if len(r.IDs) > 500 {
		return input.Invalid("通知过多", input.FieldError{Field: "ids", Message: "一次最多 500 条"})
	}
	return nil
}

// markNotificationsRead marks some (ids) or all of the caller's
// notifications read.
func (s *server) markNotificationsRead(c *fiber.Ctx) error {
	p, err := caller(c)
	if err != nil {
		return err
	}
	var req markReadRequest
	if err := s.decodeJSON(c, &req); err != nil {
		return err
	}
	n, err := s.DB.MarkRead(c.UserContext(), p.User.ID, req.IDs, req.All, s.now())
	if err != nil {
		return err
	}
	return s.unreadReply(c, p, n)
}

// markNotificationRead marks one notification read; another user's is 404.
func (s *server) markNotificationRead(c *fiber.Ctx) error {
	p, err := caller(c)
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil || id <= 0 {
		return notFound("通知")
	}
	n, err := s.DB.MarkRead(c.UserContext(), p.User.ID, []int64{id}, false, s.now())
	if err != nil {
		return err
	}
	return s.unreadReply(c, p, n)
}

func (s *server) unreadReply(c *fiber.Ctx, p *principal, updated int) error {
	count, err := s.DB.UnreadCount(c.UserContext(), p.User.ID)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"updated": updated, "unread_count": count})
}

// streamTicket issues a short-lived token for the event stream. Browsers'
// EventSource cannot send an Authorization header, so the UI puts the
// ticket in the query string; it is good only for the stream (its own
// audience), for a minute, and the access log leaves query strings out.
func (s *server) streamTicket(c *fiber.Ctx) error {
	p, err := caller(c)
	if err != nil {
		return err
	}
	tok, exp, err := s.tokens.issue(p.User.ID, p.SessionID, audienceStream, s.lim.TicketTTL)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"ticket": tok, "expires_at": exp, "expires_in": int(s.lim.TicketTTL.Seconds()),
		"url": "/api/v1/notifications/stream?ticket=" + tok})
}

// stream is a server-sent event stream of the caller's new notifications:
// event "notification" (id = inbox id, data = the notification) and event
// "unread" (data = {"count": n}). It resumes after Last-Event-ID, sends a
// comment every 20 s, re-checks the session then, and ends after
// StreamMaxAge (the client reconnects).
func (s *server) stream(c *fiber.Ctx) error {
	tok, aud := bearer(c), audienceAPI
	if tok == "" {
		tok, aud = c.Query("ticket"), audienceStream
	}
	if tok == "" {
		return unauthorized(c, "请先登录")
	}
	p, err := s.principalOf(c, tok, aud)
	if err != nil {
		return err
	}
	if p.User.MustChangePassword {
		return passwordChangeRequired()
	}
	c.Locals(localPrincipal, p)
	userID, sessionID := p.User.ID, p.SessionID
	last := int64(-1)
	if v := c.Get("Last-Event-ID", c.Query("last_event_id")); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return input.Invalid("Last-Event-ID 无效", input.FieldError{Field: "Last-Event-ID", Message: "应为通知编号"})
		}
		last = n
	}
	sub, err := s.hub.subscribe(c.UserContext(), userID)
	if err != nil {
		return err
	}
	if last < 0 {
		// A new stream starts after what the inbox already holds.
		if last, err = s.DB.LastInboxID(c.UserContext(), userID); err != nil {
			s.hub.unsubscribe(sub)
			return err
		}
	}
	c.Set(fiber.HeaderContentType, "text/event-stream; charset=utf-8")
	c.Set(fiber.HeaderCacheControl, "no-cache")
	c.Set("X-Accel-Buffering", "no")
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		defer s.hub.unsubscribe(sub)
		s.metrics.streams.Inc()
		defer s.metrics.streams.Dec()
		fmt.Fprintf(w, "retry: 5000\n\n")
		if w.Flush() != nil {
			return
		}
		end := time.NewTimer(s.lim.StreamMaxAge)
		defer end.Stop()
		ping := time.NewTicker(20 * time.Second)
		defer ping.Stop()
		for {
			var ok bool
			if last, ok = s.sendNew(w, userID, last); !ok {
				return
			}
			select {
			case <-sub.wake:
			case <-ping.C:
				ctx, cancel := context.WithTimeout(s.ctx, 5*time.Second)
				_, err := s.DB.SessionUser(ctx, userID, sessionID, s.now())
				cancel()
				if err != nil {
					fmt.Fprintf(w, "event: logout\ndata: {}\n\n")
					_ = w.Flush()
					return
				}
				fmt.Fprintf(w, ": ping\n\n")
				if w.Flush() != nil {
					return
				}
			case <-end.C:
				return
			case <-s.ctx.Done():
				return
			}
		}
	})
	return nil
}

// sendNew writes the notifications after last and the unread count; it
// reports false once the client is gone.
func (s *server) sendNew(w *bufio.Writer, userID, last int64) (int64, bool) {
	ctx, cancel := context.WithTimeout(s.ctx, 5*time.Second)
	defer cancel()
	items, err := s.DB.InboxAfter(ctx, userID, last, 100)
	if err != nil {
		s.log.Warn("event stream", "user", userID, "err", err)
		return last, s.ctx.Err() == nil
	}
	if len(items) == 0 {
		return last, true
	}
	for _, it := range items {
		b, _ := json.Marshal(notificationOf(it))
		fmt.Fprintf(w, "id: %d\nevent: notification\ndata: %s\n\n", it.ID, b)
		last = it.ID
	}
	if n, err := s.DB.UnreadCount(ctx, userID); err == nil {
		fmt.Fprintf(w, "event: unread\ndata: {\"count\":%d}\n\n", n)
	}
	return last, w.Flush() == nil
}

// hub fans new inbox rows out to open streams: one LISTEN connection per
// API process (started with the first stream), and a wake-up per user.
// A stream woken reads what is new itself, so a missed wake-up costs
// nothing but latency.
type hub struct {
	s       *server
	mu      sync.Mutex
	subs    map[int64]map[*subscriber]struct{}
	started bool
	ready   chan struct{}
}

type subscriber struct {
	user int64
	wake chan struct{}
}

func newHub(s *server) *hub {
	return &hub{s: s, subs: map[int64]map[*subscriber]struct{}{}, ready: make(chan struct{})}
}

// subscribe registers a stream and waits (briefly) for the listener, so a
// row inserted from now on wakes it.
func (h *hub) subscribe(ctx context.Context, user int64) (*subscriber, error) {
	sub := &subscriber{user: user, wake: make(chan struct{}, 1)}
	h.mu.Lock()
	if h.subs[user] == nil {
		h.subs[user] = map[*subscriber]struct{}{}
	}
	h.subs[user][sub] = struct{}{}
	if !h.started {
		h.started = true
		go h.listen()
	}
	h.mu.Unlock()
	select {
	case <-h.ready:
		return sub, nil
	case <-time.After(5 * time.Second):
		h.unsubscribe(sub)
		return nil, apiError(codeUnavailable, "通知服务暂不可用，请稍后重试")
	case <-ctx.Done():
		h.unsubscribe(sub)
		return nil, ctx.Err()
	}
}

func (h *hub) unsubscribe(sub *subscriber) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.subs[sub.user], sub)
	if len(h.subs[sub.user]) == 0 {
		delete(h.subs, sub.user)
	}
}

func (h *hub) notify(user int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for sub := range h.subs[user] {
		select {
		case sub.wake <- struct{}{}:
		default: // already woken
		}
	}
}

func (h *hub) wakeAll() {
	h.mu.Lock()
	users := make([]int64, 0, len(h.subs))
	for u := range h.subs {
		users = append(users, u)
	}
	h.mu.Unlock()
	for _, u := range users {
		h.notify(u)
	}
}

// listen keeps the LISTEN connection up until the server stops,
// reconnecting with backoff; after a reconnect every stream re-reads.
func (h *hub) listen() {
	var once sync.Once
	backoff := time.Second
	for h.s.ctx.Err() == nil {
		err := h.s.DB.ListenInbox(h.s.ctx, func() {
			once.Do(func() { close(h.ready) })
			backoff = time.Second
			h.wakeAll()
		}, func(user, _ int64) { h.notify(user) })
		if h.s.ctx.Err() != nil {
			return
		}
		h.s.log.Warn("notification listener lost; reconnecting", "err", err, "in", backoff)
		select {
		case <-time.After(backoff):
		case <-h.s.ctx.Done():
			return
		}
		backoff = min(backoff*2, 30*time.Second)
	}
}
