package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/groundedhq/grounded"
	"github.com/groundedhq/grounded/server"
)

// fakeExtractor is a collection that extracts: it records the request and
// answers with one field.
type fakeExtractor struct {
	*fakeService
	got *grounded.ExtractRequest
}

var _ server.Collection = (*fakeExtractor)(nil)

func (f *fakeExtractor) Extract(ctx context.Context, req grounded.ExtractRequest) (*grounded.Extraction, error) {
	f.got = &req
	if err := req.Check(); err != nil {
		return nil, err
	}
	if req.DocID == "missing" {
		return nil, grounded.Errorf(grounded.ENOTFOUND, "document %q is not in collection", req.DocID)
	}
	return &grounded.Extraction{DocID: "d1", Source: "a.md", Version: "v", Generator: "extractive", Fields: grounded.FieldResults{
		{Name: "z_last", Value: nil, Reason: grounded.FieldNotFound},
		{Name: "a_first", Value: "2024-03-01", Support: 1, Evidence: &grounded.Evidence{Quote: "March 1, 2024", DocID: "d1", Source: "a.md", Start: 3, End: 16}},
	}}, nil
}

func TestExtractRoute(t *testing.T) {
	fx := &fakeExtractor{fakeService: &fakeService{}}
	ts := extractServer(t, fx)
	schema := `{"fields": [{"name": "effective_date", "type": "date", "description": "When?"}]}`

	resp, body := do(t, ts, "POST", "/v1/extract", `{"schema": `+schema+`, "doc_id": "d1"}`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	if fx.got == nil || fx.got.DocID != "d1" || fx.got.Schema.Fields[0].Name != "effective_date" {
		t.Fatalf("request reached the collection as %+v", fx.got)
	}
	// Fields keep the collection's order (schema order), not sorted keys.
	if i, j := strings.Index(string(body), `"z_last"`), strings.Index(string(body), `"a_first"`); i < 0 || j < i {
		t.Errorf("field order lost: %s", body)
	}
	var x grounded.Extraction
	if err := json.Unmarshal(body, &x); err != nil || x.Field("a_first").Evidence.Quote != "March 1, 2024" {
		t.Errorf("body %s: %v", body, err)
	}

	bad := []struct {
		name, body, code, msg string
	}{
		{"no schema", `{"doc_id": "d1"}`, "invalid", "schema is missing"},
		{"bad schema", `{"schema": {"fields": [{"name": "plan", "type": "enum"}]}, "doc_id": "d1"}`, "invalid", `field 1 ("plan"): an enum needs "values"`},
		{"unknown schema key", `{"schema": {"fields": [{"name": "a", "type": "date", "kind": 1}]}, "doc_id": "d1"}`, "invalid", `unknown key "kind"`},
		{"no document", `{"schema": ` + schema + `}`, "invalid", "doc_id or source"},
		{"two documents", `{"schema": ` + schema + `, "doc_id": "d1", "source": "a.md"}`, "invalid", "not both"},
		{"unknown body field", `{"schema": ` + schema + `, "doc": "d1"}`, "invalid", "unknown field"},
		{"missing document", `{"schema": ` + schema + `, "doc_id": "missing"}`, "not_found", "missing"},
		{"missing collection", `{"schema": ` + schema + `, "doc_id": "d1", "collection": "other"}`, "not_found", "other"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := do(t, ts, "POST", "/v1/extract", tt.body)
			code, msg := decodeError(t, resp, body)
			if code != tt.code || !strings.Contains(msg, tt.msg) {
				t.Errorf("%d %s %q, want %s containing %q", resp.StatusCode, code, msg, tt.code, tt.msg)
			}
		})
	}
}

func extractServer(t *testing.T, col server.Collection) *httptest.Server {
	t.Helper()
	ts := httptest.NewServer(server.New(server.Config{Collections: only(col)}))
	t.Cleanup(ts.Close)
	return ts
}
