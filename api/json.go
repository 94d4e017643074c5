package api

import (
	"encoding/base64"
	"encoding/json"
	"mime"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/duban-dev/duban/api/input"
	"github.com/duban-dev/duban/store"
)

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }

// validator is implemented by request bodies that check themselves after
// decoding: required fields, ranges.
type validator interface{ validate() error }

// decodeJSON reads a JSON request body strictly into v: the content type
// must be JSON, the body a single value within the size limit, every field
// known and of the right type; then v validates itself. Every failure is a
// problem document naming what is wrong.
func (s *server) decodeJSON(c *fiber.Ctx, v any) error {
	mt, _, err := mime.ParseMediaType(c.Get(fiber.HeaderContentType))
	if err != nil || (mt != fiber.MIMEApplicationJSON && !strings.HasSuffix(mt, "+json")) {
		return apiError(codeMediaType, "请求体须为 JSON（Content-Type: application/json）")
	}
	body := c.Body()
	if len(body) > s.lim.JSONLimit {
		return apiError(codeTooLarge, "请求体超过 %d 字节", s.lim.JSONLimit)
	}
	return decodeJSONBytes(body, v)
}

func decodeJSONBytes(body []byte, v any) error {
	if err := input.DecodeJSON(body, v); err != nil {
		return err
	}
	if val, ok := v.(validator); ok {
		return val.validate()
	}
	return nil
}

// list is a page of a keyset-paginated list.
type list[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

func page[T any](items []T, limit int, cursorOf func(T) string) list[T] {
	out := list[T]{Items: items}
	if len(items) > limit {
		out.Items = items[:limit]
		next := cursorOf(items[limit-1])
		out.NextCursor = &next
	}
	if out.Items == nil {
		out.Items = []T{}
	}
	return out
}

// keysetCursor encodes a (time, id) position opaquely.
func keysetCursor(at time.Time, id string) string {
	b, _ := json.Marshal([]string{at.UTC().Format(time.RFC3339Nano), id})
	return base64.RawURLEncoding.EncodeToString(b)
}

func parseKeyset(c string) (*store.Keyset, error) {
	at, id, ok, err := input.Keyset(c)
	if err != nil || !ok {
		return nil, err
	}
	return &store.Keyset{At: at, ID: id}, nil
}

func idCursor(id int64) string { return strconv.FormatInt(id, 10) }
