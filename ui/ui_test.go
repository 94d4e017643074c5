package ui_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"io/fs"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/stretchr/testify/require"

	"github.com/duban-dev/duban/ui"
)

func app() *fiber.App {
	a := fiber.New(fiber.Config{DisableStartupMessage: true})
	a.Use(ui.Handler())
	return a
}

type reply struct {
	status int
	header map[string]string
	body   []byte
}

func get(t *testing.T, a *fiber.App, method, target string, headers ...string) reply {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := a.Test(req, -1)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	h := map[string]string{}
	for k := range res.Header {
		h[k] = res.Header.Get(k)
	}
	return reply{res.StatusCode, h, b}
}

func TestIndexIsServedForAppPaths(t *testing.T) {
	a := app()
	for _, p := range []string{"/", "/tasks", "/board/4301"} {
		r := get(t, a, "GET", p)
		require.Equal(t, 200, r.status, p)
		require.Equal(t, "text/html; charset=utf-8", r.header["Content-Type"], p)
		require.Equal(t, "no-cache", r.header["Cache-Control"], p, "index.html names the asset version, so it is revalidated")
		require.NotEmpty(t, r.header["Etag"])
		require.Contains(t, string(r.body), `<html lang="zh-CN">`)
		require.Contains(t, string(r.body), `src="/static/`+ui.Version()+`/js/app.js"`)
		require.NotContains(t, string(r.body), "%ASSETS%")
	}
	r := get(t, a, "GET", "/", "If-None-Match", get(t, a, "GET", "/").header["Etag"])
	require.Equal(t, 304, r.status)
	require.Empty(t, r.body)
}

func TestAssetsAreVersionedAndCached(t *testing.T) {
	a := app()
	base := "/static/" + ui.Version()
	cases := map[string]string{
		"/js/app.js":                 "text/javascript; charset=utf-8",
		"/css/app.css":               "text/css; charset=utf-8",
		"/img/favicon.svg":           "image/svg+xml",
		"/manifest.webmanifest":      "application/manifest+json",
		"/js/pages/board.js":         "text/javascript; charset=utf-8",
		"/js/pages/approvals.js":     "text/javascript; charset=utf-8",
		"/js/pages/task.js":          "text/javascript; charset=utf-8",
		"/js/pages/plans.js":         "text/javascript; charset=utf-8",
		"/js/pages/audit.js":         "text/javascript; charset=utf-8",
		"/js/pages/login.js":         "text/javascript; charset=utf-8",
		"/js/pages/tasks.js":         "text/javascript; charset=utf-8",
		"/js/pages/notifications.js": "text/javascript; charset=utf-8",
	}
	for p, ct := range cases {
		r := get(t, a, "GET", base+p)
		require.Equal(t, 200, r.status, p)
		require.Equal(t, ct, r.header["Content-Type"], p)
		require.Equal(t, "public, max-age=31536000, immutable", r.header["Cache-Control"], p)
		etag := r.header["Etag"]
		require.NotEmpty(t, etag, p)
		require.Equal(t, 304, get(t, a, "GET", base+p, "If-None-Match", etag).status, p)
	}
	// A page loaded before an upgrade asks for the old version: it gets the
	// current file, revalidated rather than pinned for a year.
	old := get(t, a, "GET", "/static/000000000000/js/app.js")
	require.Equal(t, 200, old.status)
	require.Equal(t, "no-cache", old.header["Cache-Control"])

	require.Equal(t, 404, get(t, a, "GET", base+"/js/missing.js").status)
	require.Equal(t, 404, get(t, a, "GET", base+"/../ui.go").status)
	require.Equal(t, 404, get(t, a, "GET", "/favicon.ico").status, "a missing file is not answered with the app")
	require.Equal(t, 405, get(t, a, "POST", "/").status)
	head := get(t, a, "HEAD", base+"/css/app.css")
	require.Equal(t, 200, head.status)
	require.Empty(t, head.body)
}

func TestGzip(t *testing.T) {
	a := app()
	p := "/static/" + ui.Version() + "/js/i18n.js"
	plain := get(t, a, "GET", p)
	r := get(t, a, "GET", p, "Accept-Encoding", "gzip, deflate, br")
	require.Equal(t, "gzip", r.header["Content-Encoding"])
	require.Equal(t, "Accept-Encoding", r.header["Vary"])
	zr, err := gzip.NewReader(bytes.NewReader(r.body))
	require.NoError(t, err)
	b, err := io.ReadAll(zr)
	require.NoError(t, err)
	require.Equal(t, plain.body, b)
	require.Less(t, len(r.body), len(plain.body))
	require.Empty(t, get(t, a, "GET", p, "Accept-Encoding", "gzip;q=0").header["Content-Encoding"])
}

// staticFiles reads the sources the binary embeds.
func staticFiles(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	require.NoError(t, filepath.WalkDir("static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		out[filepath.ToSlash(strings.TrimPrefix(p, "static"+string(filepath.Separator)))] = string(b)
		return err
	}))
	return out
}

// Everything ships in the binary: no CDN, no web font, no URL outside.
func TestNothingFromOutside(t *testing.T) {
	url := regexp.MustCompile(`(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}`)
	for name, src := range staticFiles(t) {
		for _, m := range url.FindAllString(src, -1) {
			require.Equal(t, "http://www.w3.org", m, "%s refers to %s", name, m)
		}
		require.False(t, strings.Contains(src, "@import") || strings.Contains(src, "@font-face"), "%s loads CSS or fonts", name)
	}
}

// The API's Content-Security-Policy allows no inline script and no style
// attributes, so the page has none.
func TestCSPCompatible(t *testing.T) {
	files := staticFiles(t)
	idx := files["index.html"]
	for _, m := range regexp.MustCompile(`<script[^>]*>`).FindAllString(idx, -1) {
		require.Contains(t, m, "src=", "inline script in index.html")
	}
	banned := map[string]*regexp.Regexp{
		"a style attribute":            regexp.MustCompile(`\sstyle="`),
		"a javascript: URL":            regexp.MustCompile(`javascript:`),
		"innerHTML (texts go as text)": regexp.MustCompile(`\.(inner|outer)HTML\s*=|insertAdjacentHTML`),
		"eval":                         regexp.MustCompile(`\beval\(|new Function\(`),
	}
	for name, src := range files {
		for what, re := range banned {
			require.False(t, re.MatchString(src), "%s uses %s: %q", name, what, re.FindString(src))
		}
	}
}

// Every relative import of every module names an embedded file.
func TestModuleImportsResolve(t *testing.T) {
	files := staticFiles(t)
	imp := regexp.MustCompile(`(?m)^import[^'"]*['"]([^'"]+)['"]`)
	n := 0
	for name, src := range files {
		if path.Ext(name) != ".js" {
			continue
		}
		for _, m := range imp.FindAllStringSubmatch(src, -1) {
			target := path.Join(path.Dir(name), m[1])
			_, ok := files[target]
			require.True(t, ok, "%s imports %s, which is not embedded", name, m[1])
			n++
		}
	}
	require.Greater(t, n, 20)
}

// Every text key the code uses exists in Chinese and in English.
func TestTranslationsComplete(t *testing.T) {
	files := staticFiles(t)
	src := files["js/i18n.js"]
	zhStart, enStart, codes := strings.Index(src, "const zh = {"), strings.Index(src, "const en = {"), strings.Index(src, "const enCodes")
	require.True(t, zhStart >= 0 && enStart > zhStart && codes > enStart)
	keyRE := regexp.MustCompile(`(\w+): '`)
	keys := func(s string) map[string]bool {
		out := map[string]bool{}
		for _, m := range keyRE.FindAllStringSubmatch(s, -1) {
			out[m[1]] = true
		}
		return out
	}
	zh, en := keys(src[zhStart:enStart]), keys(src[enStart:codes])
	// The account pages keep their texts beside (i18n-accounts.js), merged
	// into the same dictionaries.
	acc := files["js/i18n-accounts.js"]
	accZh, accEn := strings.Index(acc, "export const zhAccounts = {"), strings.Index(acc, "export const enAccounts = {")
	require.True(t, accZh >= 0 && accEn > accZh)
	for k := range keys(acc[accZh:accEn]) {
		zh[k] = true
	}
	for k := range keys(acc[accEn:]) {
		en[k] = true
	}
	var missing []string
	for k := range zh {
		if !en[k] {
			missing = append(missing, "en:"+k)
		}
	}
	for k := range en {
		if !zh[k] {
			missing = append(missing, "zh:"+k)
		}
	}
	use := regexp.MustCompile(`\bt\('(\w+)'`)
	for name, s := range files {
		for _, m := range use.FindAllStringSubmatch(s, -1) {
			if !zh[m[1]] {
				missing = append(missing, name+":"+m[1])
			}
		}
	}
	sort.Strings(missing)
	require.Empty(t, missing)
}
