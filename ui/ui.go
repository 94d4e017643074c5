// Package ui is Duban's web interface: plain HTML, CSS and JavaScript
// modules under static/, embedded in the binary and served by Handler.
// There is no build step and nothing is fetched from elsewhere, so the UI
// works on networks without internet access. The pages talk to the public
// API under /api/v1 only; docs/ui.md describes them.
package ui

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
)

//go:embed static
var embedded embed.FS

// assetPrefix is where the static files are served, followed by the
// build's content hash: /static/3f2a9c0d1e4b/js/app.js. A new build
// changes the hash, so assets can be cached for a year, while index.html,
// which names the hash, is revalidated on every load (ETag).
const assetPrefix = "/static/"

// asset is one file ready to serve.
type asset struct {
	body        []byte
	gzipped     []byte // nil when compression does not pay
	contentType string
	etag        string
}

// site is the whole UI, read once from the embedded files.
type site struct {
	version string // content hash of every file
	index   asset
	files   map[string]asset // by path below static/, e.g. "js/app.js"
}

var contentTypes = map[string]string{
	".html":        "text/html; charset=utf-8",
	".js":          "text/javascript; charset=utf-8",
	".css":         "text/css; charset=utf-8",
	".svg":         "image/svg+xml",
	".png":         "image/png",
	".json":        "application/json",
	".webmanifest": "application/manifest+json",
	".txt":         "text/plain; charset=utf-8",
}

func load() (*site, error) {
	files := map[string][]byte{}
	err := fs.WalkDir(embedded, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := embedded.ReadFile(p)
		if err != nil {
			return err
		}
		files[strings.TrimPrefix(p, "static/")] = b
		return nil
	})
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	h := sha256.New()
	for _, n := range names {
		h.Write([]byte(n))
		h.Write([]byte{0})
		h.Write(files[n])
		h.Write([]byte{0})
	}
	s := &site{version: hex.EncodeToString(h.Sum(nil))[:12], files: map[string]asset{}}
	for _, n := range names {
		if n == "index.html" {
			continue
		}
		s.files[n] = newAsset(n, files[n])
	}
	// index.html names the versioned asset base; it is the one file whose
	// content depends on the build, so it is rewritten here, not by a tool.
	idx := bytes.ReplaceAll(files["index.html"], []byte("%ASSETS%"), []byte(assetPrefix+s.version))
	s.index = newAsset("index.html", idx)
	return s, nil
}

func newAsset(name string, body []byte) asset {
	sum := sha256.Sum256(body)
	a := asset{body: body, etag: `"` + hex.EncodeToString(sum[:8]) + `"`, contentType: contentTypes[path.Ext(name)]}
	if a.contentType == "" {
		a.contentType = "application/octet-stream"
	}
	if compressible(a.contentType) && len(body) > 512 {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		_, _ = zw.Write(body)
		_ = zw.Close()
		if buf.Len() < len(body)*9/10 {
			a.gzipped = buf.Bytes()
		}
	}
	return a
}

func compressible(ct string) bool {
	return strings.HasPrefix(ct, "text/") || strings.Contains(ct, "json") || strings.Contains(ct, "svg")
}

// Version is the content hash of the embedded UI, as it appears in asset
// URLs.
func Version() string { return loaded.version }

// loaded is read at start-up: the files are in the binary, so a failure is
// a broken build.
var loaded = func() *site {
	s, err := load()
	if err != nil {
		panic("ui: reading embedded files: " + err.Error())
	}
	return s
}()

// Handler serves the UI for every path outside /api (the API mounts it as
// Deps.Static):
//   - /static/{version}/{file}: an embedded asset with its content type, an
//     ETag, and a year's immutable caching when {version} is this build's
//     (an old or unknown version is still served, but revalidated, so a
//     page loaded before an upgrade keeps working);
//   - a missing file under /static/, or any other path that names a file
//     (has an extension): 404;
//   - anything else: index.html, never cached without revalidation, so the
//     hash router's deep links (/#/tasks/…) and a plain /tasks both load
//     the app.
//
// Only GET and HEAD are answered; other methods get 405.
func Handler() fiber.Handler {
	s := loaded
	return func(c *fiber.Ctx) error {
		if c.Method() != fiber.MethodGet && c.Method() != fiber.MethodHead {
			c.Set(fiber.HeaderAllow, "GET, HEAD")
			return fiber.ErrMethodNotAllowed
		}
		p := c.Path()
		if rest, ok := strings.CutPrefix(p, assetPrefix); ok {
			version, name, _ := strings.Cut(rest, "/")
			a, found := s.files[name]
			if !found || strings.Contains(name, "..") {
				return fiber.ErrNotFound
			}
			if version == s.version {
				c.Set(fiber.HeaderCacheControl, "public, max-age=31536000, immutable")
			} else {
				c.Set(fiber.HeaderCacheControl, "no-cache")
			}
			return s.send(c, a)
		}
		if path.Ext(p) != "" {
			return fiber.ErrNotFound
		}
		c.Set(fiber.HeaderCacheControl, "no-cache")
		return s.send(c, s.index)
	}
}

// send writes an asset, answering 304 to a matching If-None-Match and
// using the precompressed body when the client accepts gzip.
func (s *site) send(c *fiber.Ctx, a asset) error {
	c.Set(fiber.HeaderETag, a.etag)
	c.Set(fiber.HeaderVary, fiber.HeaderAcceptEncoding)
	if inm := c.Get(fiber.HeaderIfNoneMatch); inm != "" && etagMatches(inm, a.etag) {
		return c.SendStatus(fiber.StatusNotModified)
	}
	c.Set(fiber.HeaderContentType, a.contentType)
	body := a.body
	if a.gzipped != nil && acceptsGzip(c.Get(fiber.HeaderAcceptEncoding)) {
		c.Set(fiber.HeaderContentEncoding, "gzip")
		body = a.gzipped
	}
	if c.Method() == fiber.MethodHead {
		c.Set(fiber.HeaderContentLength, strconv.Itoa(len(body)))
		return nil
	}
	return c.Send(body)
}

func etagMatches(header, etag string) bool {
	for _, part := range strings.Split(header, ",") {
		part = strings.TrimSpace(part)
		if part == "*" || strings.TrimPrefix(part, "W/") == etag {
			return true
		}
	}
	return false
}

func acceptsGzip(h string) bool {
	for _, part := range strings.Split(h, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(name), "gzip") {
			continue
		}
		if q, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if v, err := strconv.ParseFloat(q, 64); err == nil && v == 0 {
				return false
			}
		}
		return true
	}
	return false
}
