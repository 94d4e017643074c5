package api

import (
	"context"
	"time"

	"github.com/gofiber/fiber/v2"
)

func (s *server) healthz(c *fiber.Ctx) error { return c.JSON(fiber.Map{"status": "ok"}) }

// readyz answers 200 when the database and Temporal both answer.
func (s *server) readyz(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), 3*time.Second)
	defer cancel()
	checks := fiber.Map{}
	ready := true
	if err := s.DB.Ping(ctx); err != nil {
		checks["database"], ready = "unreachable", false
	} else {
		checks["database"] = "ok"
	}
	if err := s.Engine.Healthy(ctx); err != nil {
		checks["temporal"], ready = "unreachable", false
	} else {
		checks["temporal"] = "ok"
	}
	status := fiber.StatusOK
	if !ready {
		status = fiber.StatusServiceUnavailable
	}
	return c.Status(status).JSON(fiber.Map{"ready": ready, "checks": checks})
}
