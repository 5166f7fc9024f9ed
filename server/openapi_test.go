package server

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
)

// TestOpenAPIDescribesEveryRoute: every route the server registers is in
// /openapi.json with its method, and every operation described is a route.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(OpenAPI(), &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi version %q", doc.OpenAPI)
	}
	described := map[string]bool{}
	for path, ops := range doc.Paths {
		for method := range ops {
			described[strings.ToUpper(method)+" "+path] = true
		}
	}
	engine := New(Config{Collections: nopCollections{}}).(*gin.Engine)
	param := regexp.MustCompile(`[:*]([A-Za-z_]+)`)
	routed := map[string]bool{}
	for _, r := range engine.Routes() {
		path := param.ReplaceAllString(r.Path, "{$1}")
		if r.Method == "HEAD" {
			continue
		}
		routed[r.Method+" "+path] = true
	}
	for _, k := range sortedKeys(routed) {
		if !described[k] {
			t.Errorf("route %s is not in openapi.json", k)
		}
	}
	for _, k := range sortedKeys(described) {
		if !routed[k] {
			t.Errorf("openapi.json describes %s, which the server does not route", k)
		}
	}
}

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// nopCollections has no collections (the route table needs none).
type nopCollections struct{}

func (nopCollections) Collection(string, bool) (Collection, error) { return nil, nil }
func (nopCollections) Names() ([]string, error)                    { return nil, nil }
