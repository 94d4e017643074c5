package api_test

import (
	"encoding/json"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/duban-dev/duban/api"
)

var fiberParam = regexp.MustCompile(`:([A-Za-z0-9_]+)`)

// TestOpenAPIDescribesEveryRoute keeps the document true: every route the
// app registers is described, with its path parameters, and nothing is
// described that the app does not serve. Every operation has a summary and
// responses, and every $ref resolves.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	f := getFixture(t)
	res := f.do(t, "", "GET", "/api/v1/openapi.json", nil)
	require.Equal(t, 200, res.status)
	var doc struct {
		OpenAPI string                               `json:"openapi"`
		Paths   map[string]map[string]map[string]any `json:"paths"`
	}
	require.NoError(t, json.Unmarshal(res.body, &doc))
	require.True(t, strings.HasPrefix(doc.OpenAPI, "3."))

	registered := map[string]bool{}
	for _, r := range f.app.GetRoutes(true) {
		if r.Method == "HEAD" {
			continue // fiber adds HEAD for every GET
		}
		path := fiberParam.ReplaceAllString(r.Path, "{$1}")
		registered[strings.ToLower(r.Method)+" "+path] = true
	}
	described := map[string]bool{}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			if method == "parameters" {
				continue
			}
			described[method+" "+path] = true
			require.NotEmpty(t, op["summary"], "%s %s has no summary", method, path)
			require.NotEmpty(t, op["responses"], "%s %s has no responses", method, path)
		}
	}
	var missing, extra []string
	for k := range registered {
		if !described[k] {
			missing = append(missing, k)
		}
	}
	for k := range described {
		if !registered[k] {
			extra = append(extra, k)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	require.Empty(t, missing, "routes not in openapi.yaml")
	require.Empty(t, extra, "described but not served")
	require.GreaterOrEqual(t, len(registered), 45)

	// Every $ref points at something.
	var all map[string]any
	require.NoError(t, json.Unmarshal(api.OpenAPI(), &all))
	refs := regexp.MustCompile(`"\$ref":"#/([^"]+)"`).FindAllStringSubmatch(string(api.OpenAPI()), -1)
	require.NotEmpty(t, refs)
	for _, m := range refs {
		var node any = all
		for _, part := range strings.Split(m[1], "/") {
			obj, ok := node.(map[string]any)
			require.True(t, ok, "$ref #/%s", m[1])
			node, ok = obj[part]
			require.True(t, ok, "$ref #/%s does not resolve", m[1])
		}
	}
}
