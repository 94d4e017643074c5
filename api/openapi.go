package api

import (
	_ "embed"
	"encoding/json"
	"fmt"

	"github.com/goccy/go-yaml"
	"github.com/gofiber/fiber/v2"
)

// openapiYAML describes every endpoint; TestOpenAPIDescribesEveryRoute
// keeps it true to the routes registered.
//
//go:embed openapi.yaml
var openapiYAML []byte

var openapiJSON = mustOpenAPIJSON()

func mustOpenAPIJSON() []byte {
	var doc any
	if err := yaml.Unmarshal(openapiYAML, &doc); err != nil {
		panic(fmt.Sprintf("api/openapi.yaml: %v", err))
	}
	b, err := json.Marshal(doc)
	if err != nil {
		panic(fmt.Sprintf("api/openapi.yaml: %v", err))
	}
	return b
}

// OpenAPI returns the OpenAPI 3 document as JSON.
func OpenAPI() []byte { return openapiJSON }

func (s *server) openapi(c *fiber.Ctx) error {
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
	c.Set(fiber.HeaderCacheControl, "public, max-age=300")
	return c.Send(openapiJSON)
}
