package api

import (
	"strings"

	"github.com/gofiber/fiber/v2"
)

// attachment sends body as a file to save: Content-Disposition carries the
// name twice (RFC 6266): an ASCII fallback for old clients, and the real,
// usually Chinese, name in UTF-8 as RFC 5987 spells it (filename* with the UTF-8 charset,
// every byte outside attr-char percent-encoded).
func attachment(c *fiber.Ctx, contentType, name string, body []byte) error {
	c.Set(fiber.HeaderContentType, contentType)
	c.Set(fiber.HeaderContentDisposition, contentDisposition(name))
	return c.Send(body)
}

func contentDisposition(name string) string {
	ext := ""
	if i := strings.LastIndexByte(name, '.'); i >= 0 && len(name)-i <= 6 {
		ext = name[i:]
	}
	return `attachment; filename="` + asciiFallback(name, ext) + `"; filename*=UTF-8''` + rfc5987(name)
}

// asciiFallback keeps a name's ASCII letters, digits, dots and dashes; a
// name left without any is "download" with its extension.
func asciiFallback(name, ext string) string {
	var b strings.Builder
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '.', r == '_':
			b.WriteRune(r)
		}
	}
	s := strings.Trim(b.String(), ".-_")
	if s == "" || s == strings.TrimPrefix(ext, ".") || "."+s == ext {
		return "download" + ext
	}
	return s
}

// rfc5987 percent-encodes every byte that is not an attr-char.
func rfc5987(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$&+-.^_`|~", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}
