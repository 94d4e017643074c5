package api

import (
	"context"
	"net/url"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/org"
	"github.com/duban-dev/duban/store"
)

// Scope rules. A user sees an instance when
//   - they are a supervisor or admin and its unit is in their subtree;
//   - they are an official of its unit;
//   - they are an approver and its unit is in their subtree, or their unit
//     decides one of its approval steps or its extensions.
// Everything else, and everything that does not exist, is 404: the answer
// never tells an outsider an object exists.

func (p *principal) canSee(in store.Instance) bool {
	u := p.unit()
	if p.has(duban.RoleSupervisor, duban.RoleAdmin) && org.Contains(u, in.UnitCode) {
		return true
	}
	if p.has(duban.RoleOfficial) && in.UnitCode == u {
		return true
	}
	if p.has(duban.RoleApprover) {
		if org.Contains(u, in.UnitCode) || in.Spec.ExtensionUnit == u {
			return true
		}
		for _, st := range in.ApprovalChain() {
			if st.Signs(u) || (st.Assignee != nil && st.Assignee.UserID == p.User.ID) {
				return true
			}
		}
	}
	return false
}

// seesSubtree reports whether the caller may look at everything under their
// unit (lists, boards); an official sees only their own unit.
func (p *principal) seesSubtree() bool {
	return p.has(duban.RoleSupervisor, duban.RoleAdmin, duban.RoleApprover)
}

// unitInScope reports whether a unit's lists are the caller's to read.
func (p *principal) unitInScope(code string) bool {
	if p.seesSubtree() {
		return org.Contains(p.unit(), code)
	}
	return code == p.unit()
}

// manages reports whether an admin manages a unit (their subtree).
func (p *principal) manages(code string) bool {
	return p.has(duban.RoleAdmin) && org.Contains(p.unit(), code)
}

// instanceParam reads the :id path parameter: an instance id such as
// 2021/2.1/430102, sent percent-encoded (2021%2F2.1%2F430102).
func instanceParam(c *fiber.Ctx) string {
	raw := c.Params("id")
	id, err := url.PathUnescape(raw)
	if err != nil || len(id) > 200 {
		return ""
	}
	return id
}

// visibleInstance loads the instance named by :id if the caller may see it,
// and answers 404 alike for out of scope and nonexistent.
func (s *server) visibleInstance(c *fiber.Ctx, p *principal) (store.Instance, error) {
	id := instanceParam(c)
	if id == "" {
		return store.Instance{}, notFound("任务")
	}
	return s.visibleInstanceByID(c.UserContext(), p, id)
}

// callerTask is the signed-in caller and the task :id, when they may see it.
func (s *server) callerTask(c *fiber.Ctx) (*principal, store.Instance, error) {
	p, err := caller(c)
	if err != nil {
		return nil, store.Instance{}, err
	}
	in, err := s.visibleInstance(c, p)
	return p, in, err
}

func (s *server) visibleInstanceByID(ctx context.Context, p *principal, id string) (store.Instance, error) {
	in, err := s.DB.Instance(ctx, id)
	if err != nil {
		if duban.ErrorCode(err) == duban.ENOTFOUND {
			return in, notFound("任务")
		}
		return in, err
	}
	if !p.canSee(in) {
		return store.Instance{}, notFound("任务")
	}
	return in, nil
}

// unitCache holds the hierarchy read from the database for a while, so
// requests do not read every unit; admin changes refresh it at once here
// and within the TTL on other replicas.
type unitCache struct {
	db    *store.DB
	fixed *org.Hierarchy
	ttl   time.Duration

	mu     sync.Mutex
	h      *org.Hierarchy
	loaded time.Time
}

func (u *unitCache) get(ctx context.Context) (*org.Hierarchy, error) {
	if u.fixed != nil {
		return u.fixed, nil
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.h != nil && time.Since(u.loaded) < u.ttl {
		return u.h, nil
	}
	h, err := u.db.Hierarchy(ctx)
	if err != nil {
		return nil, err
	}
	u.h, u.loaded = h, time.Now()
	return h, nil
}

func (u *unitCache) invalidate() {
	u.mu.Lock()
	u.h = nil
	u.mu.Unlock()
}

// unitName returns a unit's name, or its code when unknown.
func (s *server) unitName(ctx context.Context, code string) string {
	h, err := s.units.get(ctx)
	if err != nil {
		return code
	}
	if u, ok := h.Get(code); ok {
		return u.Name
	}
	return code
}

// scopeUnit is the signed-in caller and the unit named by ?unit= (the
// caller's own by default), which must be the caller's to read: a unit
// outside the scope is 404 like an unknown one.
func (s *server) scopeUnit(c *fiber.Ctx) (*principal, org.Unit, error) {
	p, err := caller(c)
	if err != nil {
		return nil, org.Unit{}, err
	}
	code := c.Query("unit")
	if code == "" {
		code = p.unit()
	}
	h, err := s.units.get(c.UserContext())
	if err != nil {
		return nil, org.Unit{}, err
	}
	u, ok := h.Get(code)
	if !ok || !p.unitInScope(code) {
		return nil, org.Unit{}, apiError(duban.ENOTFOUND, "单位 %s 不存在", truncateRunes(code, 20))
	}
	return p, u, nil
}

func truncateRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
