package main

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/groundedhq/grounded"
)

const (
	contractPath = "../../answer/extract/testdata/contract.md"
	schemaPath   = "../../answer/extract/testdata/schema.json"
)

// checkFields asserts the contract's known fields and that every quote is
// the document's text at its offsets.
func checkFields(t *testing.T, x *grounded.Extraction, text string) {
	t.Helper()
	want := map[string]any{"effective_date": "2024-03-01", "monthly_fee": 1250.5, "plan": "pro", "phone_support": false, "termination_fee": nil}
	for name, v := range want {
		f := x.Field(name)
		if f == nil || f.Value != v {
			t.Errorf("%s = %+v, want %v", name, f, v)
		}
	}
	for _, f := range x.Fields {
		if ev := f.Evidence; ev != nil && (ev.End > len(text) || text[ev.Start:ev.End] != ev.Quote) {
			t.Errorf("%s: quote %q is not text[%d:%d]", f.Name, ev.Quote, ev.Start, ev.End)
		}
	}
}

func TestCLIExtract(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	text, err := os.ReadFile(contractPath)
	if err != nil {
		t.Fatal(err)
	}
	mustRunCLI(t, "ingest", "--data", data, "--collection", "contracts", contractPath)

	out, _ := mustRunCLI(t, "extract", "--data", data, "--collection", "contracts", "--schema", schemaPath, "--source", contractPath)
	header := regexp.MustCompile(`(?m)^FIELD\s+VALUE\s+SUPPORT\s+EVIDENCE\s+QUOTE$`)
	rows := []*regexp.Regexp{
		regexp.MustCompile(`(?m)^effective_date\s+2024-03-01\s+0\.75\s+contract\.md > Term, bytes 180-281\s+"This Agreement takes effect`),
		regexp.MustCompile(`(?m)^monthly_fee\s+1250\.5 USD\s+1\.00\s+contract\.md > Plan and fees, bytes \d+-\d+`),
		regexp.MustCompile(`(?m)^prepayment_discount\s+15%\s`),
		regexp.MustCompile(`(?m)^included_services\s+Data ingestion; Dashboard hosting; Email support\s`),
		regexp.MustCompile(`(?m)^termination_fee\s+-\s+0\.50\s+\(not found\)`),
	}
	if !header.MatchString(out) {
		t.Errorf("no table header in:\n%s", out)
	}
	for _, re := range rows {
		if !re.MatchString(out) {
			t.Errorf("no row matching %s in:\n%s", re, out)
		}
	}

	out, _ = mustRunCLI(t, "extract", "--json", "--data", data, "--collection", "contracts", "--schema", schemaPath, "--source", contractPath)
	var x grounded.Extraction
	decodeStrict(t, out, &x)
	checkFields(t, &x, string(text))
	if strings.Index(out, `"effective_date"`) > strings.Index(out, `"termination_fee"`) {
		t.Errorf("--json lost the schema order")
	}
	// The same document by id.
	out, _ = mustRunCLI(t, "extract", "--json", "--data", data, "--collection", "contracts", "--schema", schemaPath, "--doc", x.DocID)
	var byID grounded.Extraction
	decodeStrict(t, out, &byID)
	checkFields(t, &byID, string(text))

	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte(`{"fields": [{"name": "plan", "type": "enum"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		args  []string
		usage bool
		want  string
	}{
		{[]string{"--source", contractPath}, true, "--schema"},
		{[]string{"--schema", schemaPath}, true, "--doc ID or --source"},
		{[]string{"--schema", schemaPath, "--doc", "a", "--source", "b"}, true, "--doc ID or --source"},
		{[]string{"--schema", schemaPath, "words"}, true, "no arguments"},
		{[]string{"--schema", bad, "--doc", x.DocID}, false, `schema field 1 ("plan"): an enum needs "values"`},
		{[]string{"--schema", filepath.Join(t.TempDir(), "none.json"), "--doc", x.DocID}, false, "no such file"},
		{[]string{"--schema", schemaPath, "--doc", "nope"}, false, `document "nope" is not in collection "contracts"`},
	} {
		args := append([]string{"extract", "--data", data, "--collection", "contracts"}, tt.args...)
		_, _, err := runCLI(t, args...)
		if err == nil || errors.Is(err, errUsage) != tt.usage || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: err %v (usage %v), want usage=%v containing %q", tt.args, err, errors.Is(err, errUsage), tt.usage, tt.want)
		}
	}
}

// TestHTTPExtract uploads the contract to a real server and extracts from it.
func TestHTTPExtract(t *testing.T) {
	ts, _ := newHTTPServer(t)
	text, err := os.ReadFile(contractPath)
	if err != nil {
		t.Fatal(err)
	}
	schema, err := os.ReadFile(schemaPath)
	if err != nil {
		t.Fatal(err)
	}
	var put grounded.PutResult
	if code := call(t, ts, "POST", "/v1/documents", "application/json", jsonBody(map[string]string{"source": "contracts/northwind.md", "text": string(text)}), &put); code != http.StatusCreated {
		t.Fatalf("upload: %d", code)
	}
	var doc grounded.Document
	if code := call(t, ts, "GET", "/v1/documents/"+put.Document.ID, "", nil, &doc); code != http.StatusOK {
		t.Fatalf("get document: %d", code)
	}
	for _, ref := range []string{`"doc_id": "` + put.Document.ID + `"`, `"source": "contracts/northwind.md"`} {
		status, body := post(t, ts, "/v1/extract", `{"schema": `+string(schema)+`, `+ref+`}`)
		if status != http.StatusOK {
			t.Fatalf("extract: %d %s", status, body)
		}
		var x grounded.Extraction
		decodeStrict(t, body, &x)
		if x.DocID != put.Document.ID || x.Version != doc.Version || x.Generator != "extractive" {
			t.Errorf("extraction of %s version %s by %s", x.DocID, x.Version, x.Generator)
		}
		checkFields(t, &x, doc.Text)
	}
	for body, want := range map[string]string{
		`{"schema": {"fields": [{"name": "a", "type": "money"}]}, "doc_id": "x"}`:   `unknown type \"money\"`,
		`{"schema": {"fields": [{"name": "a", "type": "date"}]}, "doc_id": "nope"}`: "not in collection",
	} {
		status, got := post(t, ts, "/v1/extract", body)
		if status/100 != 4 || !strings.Contains(got, want) {
			t.Errorf("%s: %d %s, want 4xx with %q", body, status, got, want)
		}
	}
}
