package api

import (
	"encoding/json"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestOpenAPICoversEveryRoute walks every registered /v1 route and every
// documented operation: the two sets are the same.
func TestOpenAPICoversEveryRoute(t *testing.T) {
	e := newEnv(t)
	r := e.do("GET", openAPIRoute, "", nil)
	require.Equal(t, 200, r.code, "the description needs no key")
	require.Equal(t, "application/json", r.hdr["Content-Type"])
	var doc struct {
		OpenAPI string                               `json:"openapi"`
		Paths   map[string]map[string]map[string]any `json:"paths"`
		Comps   struct {
			Schemas map[string]any `json:"schemas"`
		} `json:"components"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.raw), &doc))
	require.Equal(t, "3.0.3", doc.OpenAPI)

	documented := map[string]bool{}
	for p, methods := range doc.Paths {
		for m, op := range methods {
			documented[strings.ToUpper(m)+" "+p] = true
			require.NotEmpty(t, op["summary"], "%s %s", m, p)
			require.NotEmpty(t, op["responses"], "%s %s", m, p)
		}
	}
	registered := map[string]bool{}
	for _, rt := range e.srv.App().GetRoutes(true) {
		if !strings.HasPrefix(rt.Path, "/v1/") || rt.Method == "HEAD" || rt.Path == openAPIRoute {
			continue
		}
		registered[rt.Method+" "+openAPIPath(strings.TrimPrefix(rt.Path, "/v1"))] = true
	}
	keys := func(m map[string]bool) []string {
		var out []string
		for k := range m {
			out = append(out, k)
		}
		sort.Strings(out)
		return out
	}
	require.Equal(t, keys(registered), keys(documented))

	// Every $ref resolves.
	for _, ref := range strings.Split(r.raw, `"$ref":"#/components/schemas/`)[1:] {
		name, _, _ := strings.Cut(ref, `"`)
		require.Contains(t, doc.Comps.Schemas, name)
		require.NotNil(t, doc.Comps.Schemas[name], name)
	}
	require.Contains(t, doc.Paths, "/v1/Accounts/{sid}/Applications/{rsid}")
}
