package api

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/duban-dev/duban"
)

// routes registers every endpoint. Each group carries its middleware; a
// handler that takes an id checks the caller against that object itself.
// Fiber runs handlers in registration order and a route's handler ends the
// chain, so the public routes are registered before the authenticated
// group, whose middleware then applies to everything after it.
func (s *server) routes(app *fiber.App) {
	app.Get("/healthz", s.healthz)
	app.Get("/readyz", s.readyz)

	v1 := app.Group("/api/v1", s.apiHeaders, s.withTimeout)
	v1.Get("/openapi.json", s.openapi)
	v1.Get("/clock", s.clock)
	v1.Post("/auth/login", s.login)
	v1.Post("/auth/refresh", s.refresh)
	// The event stream authenticates itself (header or ticket); its body is
	// written after the handler returns, outside the handler's timeout.
	app.Get("/api/v1/notifications/stream", s.apiHeaders, s.stream)

	auth := v1.Group("", s.authenticate)
	auth.Post("/auth/logout", s.logout)
	auth.Get("/me", s.me)
	auth.Post("/me/password", s.changePassword)

	// Tasks: visibility is checked per instance (404 when out of scope).
	auth.Get("/tasks", s.listTasks)
	auth.Get("/tasks/:id", s.getTask)
	auth.Get("/tasks/:id/timeline", s.getTimeline)
	auth.Get("/tasks/:id/evidence/:sha256", s.downloadEvidence)
	// Task actions: the lifecycle table says who may take which, when. The
	// roles that may ever take an action are checked here, before the task
	// is read (the same 403 for any task); the rest is the workflow's
	// validator, asking the same table.
	action := func(a duban.Action) fiber.Handler { return requireRole(a.Roles()...) }
	auth.Post("/tasks/:id/evidence", action(duban.ActionUploadEvidence), s.uploadEvidence)
	auth.Post("/tasks/:id/progress", action(duban.ActionReportProgress), s.reportProgress)
	auth.Post("/tasks/:id/submit", action(duban.ActionSubmit), s.submit)
	auth.Post("/tasks/:id/extension", action(duban.ActionRequestExtension), s.requestExtension)
	auth.Post("/tasks/:id/extension/decision", action(duban.ActionDecideExtension), s.decideExtension)
	auth.Post("/tasks/:id/decision", action(duban.ActionDecide), s.decide)
	auth.Post("/tasks/:id/cancel", action(duban.ActionCancel), s.cancel)
	auth.Post("/tasks/:id/urge", action(duban.ActionUrge), s.urge)
	auth.Post("/tasks/:id/withdraw", action(duban.ActionWithdraw), s.withdraw)
	auth.Post("/tasks/:id/hand-over", action(duban.ActionHandOver), s.handOver)
	auth.Post("/tasks/:id/signers", action(duban.ActionAddSigner), s.addSigner)
	auth.Put("/tasks/:id/assignee", action(duban.ActionNameAssignee), s.nameAssignee)
	// Discussion: whoever sees the task.
	auth.Get("/tasks/:id/comments", s.listComments)
	auth.Post("/tasks/:id/comments", s.addComment)
	auth.Delete("/tasks/:id/comments/:cid", s.deleteComment)
	auth.Get("/tasks/:id/people", s.taskPeople)

	approver := requireRole(duban.RoleApprover)
	admin := requireRole(duban.RoleAdmin)
	board := requireRole(duban.RoleSupervisor, duban.RoleAdmin)

	auth.Get("/approvals", approver, s.listApprovals)
	auth.Get("/me/delegations", approver, s.listDelegations)
	auth.Get("/me/delegates", approver, s.listDelegates)
	auth.Post("/me/delegations", approver, s.createDelegation)
	auth.Delete("/me/delegations/:id", approver, s.revokeDelegation)
	auth.Post("/approvals/bulk", approver, s.bulkApprove)

	auth.Get("/board/overdue", board, s.boardOverdue)
	auth.Get("/board/rollup", board, s.boardRollup)
	auth.Get("/board/ranking", board, s.boardRanking)
	auth.Get("/board/export", board, s.boardExport)
	auth.Get("/board/urge", board, s.urgePreview)
	auth.Post("/board/urge", board, s.bulkUrge)
	auth.Get("/audit", board, s.listAudit)

	auth.Get("/notifications", s.listNotifications)
	auth.Post("/notifications/read", s.markNotificationsRead)
	auth.Post("/notifications/:id/read", s.markNotificationRead)
	auth.Post("/notifications/stream-ticket", s.streamTicket)

	auth.Get("/plans", s.listPlans)
	auth.Get("/plans/:id", s.getPlan)
	auth.Post("/plans/validate", admin, s.validatePlan)
	auth.Post("/plans", admin, s.importPlan)
	auth.Post("/plans/:id/launch", admin, s.launchPlan)
	auth.Post("/plans/:id/copy", admin, s.copyPlan)
	auth.Get("/plans/:id/versions", s.listPlanVersions)
	auth.Get("/plans/:id/versions/:version/file", s.planVersionFile)
	auth.Get("/plans/:id/changes", s.listPlanChanges)
	auth.Post("/plans/:id/changes", admin, s.createPlanChange)
	auth.Get("/plans/:id/changes/:change", s.getPlanChange)
	auth.Get("/launches/:id", admin, s.getLaunch)

	// The year's two ends: drafting a plan from its notice (root admins),
	// scoring the year and its trends (supervisors, admins within scope).
	auth.Post("/drafts", admin, s.createDraft)
	auth.Post("/drafts/plan", admin, s.checkDraftPlan)
	auth.Post("/drafts/import", admin, s.importDraftPlan)
	auth.Get("/scores", board, s.getScore)
	auth.Get("/scores/report", board, s.scoreReport)
	auth.Get("/scores/ranking", board, s.getRanking)
	auth.Get("/scores/ranking/export", board, s.exportRanking)
	auth.Get("/scores/awards", board, s.listAwards)
	auth.Post("/scores/awards", board, s.createAward)
	auth.Post("/scores/awards/:id/revoke", board, s.revokeAward)
	auth.Get("/trends", board, s.getTrend)

	auth.Get("/units", s.listUnits)
	auth.Get("/units/:code", s.getUnit)
	auth.Post("/units", admin, s.createUnit)
	auth.Patch("/units/:code", admin, s.updateUnit)
	auth.Post("/units/:code/merge", admin, s.mergeUnit)
	auth.Get("/units/:code/merge", admin, s.getUnitMerge)

	auth.Get("/users", admin, s.listUsers)
	auth.Post("/users", admin, s.createUser)
	auth.Get("/users/:id", admin, s.getUser)
	auth.Patch("/users/:id", admin, s.updateUser)

	// Notification settings (everyone's own) and the delivery log (admins,
	// within their units).
	auth.Get("/me/settings", s.getSettings)
	auth.Put("/me/settings", s.putSettings)
	auth.Get("/deliveries", admin, s.listDeliveries)
	auth.Post("/deliveries/:id/retry", admin, s.retryDelivery)
	// Accounts from the UI (issue 13): reset and unlock, within the admin's
	// units.
	auth.Post("/users/:id/reset-password", admin, s.resetPassword)
	auth.Post("/users/:id/unlock", admin, s.unlockUser)
	auth.Get("/users/import/template", admin, s.importTemplate)
	auth.Post("/users/import", admin, s.importUsers)

	// An unknown path falls through to fiber's 404, which the error handler
	// turns into a problem document; the UI never answers under /api.
	if s.Static != nil {
		app.Use(func(c *fiber.Ctx) error {
			if strings.HasPrefix(c.Path(), "/api/") {
				return fiber.ErrNotFound
			}
			return s.Static(c)
		})
	}
}

// apiHeaders marks API responses as never cacheable: they carry personal
// and scoped data.
func (s *server) apiHeaders(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Next()
}
