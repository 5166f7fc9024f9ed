package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/groundedhq/grounded"
	"github.com/groundedhq/grounded/server"
)

// TestBadInput sends the API every kind of bad request a client makes, over
// a real data folder with API keys on: each gets its 4xx JSON error, and
// after all of them the server still answers a good request.
func TestBadInput(t *testing.T) {
	ts, a := newHTTPServer(t)
	ts.Close()
	if _, err := a.set.Create("support"); err != nil {
		t.Fatal(err)
	}
	keys, err := server.NewKeys([]server.Key{
		{Name: "admin", Secret: "admin-secret-0123456789"},
		{Name: "support-bot", Secret: "support-secret-0123456789", Collections: []string{"support"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	ts = httptest.NewServer(server.New(server.Config{
		Collections: collections{a.set}, Keys: keys,
		MaxBodyBytes: 64 << 10, MaxUploadBytes: 1 << 20, MaxQuestionBytes: 1000,
	}))
	t.Cleanup(ts.Close)
	const admin = "admin-secret-0123456789"
	huge := strings.Repeat("word ", 400)
	bigUpload, bigCT := func() (*bytes.Buffer, string) {
		ct, body := multipartFile(t, "big.txt", bytes.Repeat([]byte("All work and no play. "), 60_000), nil)
		var b bytes.Buffer
		io.Copy(&b, body)
		return &b, ct
	}()
	tests := []struct {
		name, method, path, ctype, key string
		body                           io.Reader
		status                         int
		code                           string
	}{
		{"malformed JSON", "POST", "/v1/ask", "application/json", admin, strings.NewReader(`{"question": "x"`), 400, grounded.EINVALID},
		{"not an object", "POST", "/v1/ask", "application/json", admin, strings.NewReader(`["x"]`), 400, grounded.EINVALID},
		{"unknown field", "POST", "/v1/ask", "application/json", admin, strings.NewReader(`{"question": "x", "top_k": 3}`), 400, grounded.EINVALID},
		{"min_confidence out of range", "POST", "/v1/ask", "application/json", admin, strings.NewReader(`{"question": "x", "min_confidence": 1.5}`), 400, grounded.EINVALID},
		{"min_confidence not a number", "POST", "/v1/ask", "application/json", admin, strings.NewReader(`{"question": "x", "min_confidence": "high"}`), 400, grounded.EINVALID},
		{"empty question", "POST", "/v1/ask", "application/json", admin, strings.NewReader(`{"question": "  "}`), 400, grounded.EINVALID},
		{"huge question", "POST", "/v1/ask", "application/json", admin, jsonBody(map[string]string{"question": huge}), 400, grounded.EINVALID},
		{"body over the limit", "POST", "/v1/search", "application/json", admin, jsonBody(map[string]string{"query": strings.Repeat("x", 70<<10)}), 413, grounded.ETOOLARGE},
		{"invalid UTF-8", "POST", "/v1/ask", "application/json", admin, strings.NewReader("{\"question\": \"caf\xe9?\"}"), 400, grounded.EINVALID},
		{"wrong content type", "POST", "/v1/ask", "text/plain", admin, strings.NewReader(`{"question": "x"}`), 415, grounded.EUNSUPPORTED},
		{"form instead of JSON", "POST", "/v1/search", "application/x-www-form-urlencoded", admin, strings.NewReader(`query=x`), 415, grounded.EUNSUPPORTED},
		{"upload in a wrong type", "POST", "/v1/documents", "text/plain", admin, strings.NewReader("hello"), 415, grounded.EUNSUPPORTED},
		{"oversized upload", "POST", "/v1/documents", bigCT, admin, bigUpload, 413, grounded.ETOOLARGE},
		{"upload with no source", "POST", "/v1/documents", "application/json", admin, strings.NewReader(`{"text": "hello"}`), 400, grounded.EINVALID},
		{"upload of a broken PDF", "POST", "/v1/documents", "application/json", admin, strings.NewReader(`{"source": "x.pdf", "text": "not a pdf"}`), 400, grounded.EINVALID},
		{"unknown document id", "GET", "/v1/documents/0123456789abcdef", "", admin, nil, 404, grounded.ENOTFOUND},
		{"delete of an unknown document", "DELETE", "/v1/documents/0123456789abcdef", "", admin, nil, 404, grounded.ENOTFOUND},
		{"unknown collection", "POST", "/v1/ask", "application/json", admin, strings.NewReader(`{"question": "x", "collection": "nope"}`), 404, grounded.ENOTFOUND},
		{"invalid collection name", "GET", "/v1/documents?collection=../etc", "", admin, nil, 400, grounded.EINVALID},
		{"bad page size", "GET", "/v1/documents?limit=0", "", admin, nil, 400, grounded.EINVALID},
		{"bad cursor", "GET", "/v1/documents?after=@@@", "", admin, nil, 400, grounded.EINVALID},
		{"missing key", "POST", "/v1/ask", "application/json", "", strings.NewReader(`{"question": "x"}`), 401, grounded.EUNAUTHORIZED},
		{"wrong key", "POST", "/v1/ask", "application/json", "admin-secret-0123456780", strings.NewReader(`{"question": "x"}`), 401, grounded.EUNAUTHORIZED},
		{"key for another collection", "POST", "/v1/ask", "application/json", "support-secret-0123456789", strings.NewReader(`{"question": "x"}`), 403, grounded.EFORBIDDEN},
		{"limited key creating a collection", "POST", "/v1/collections", "application/json", "support-secret-0123456789", strings.NewReader(`{"name": "other"}`), 403, grounded.EFORBIDDEN},
		{"unknown model", "POST", "/v1/chat/completions", "application/json", admin, strings.NewReader(`{"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}`), 404, grounded.ENOTFOUND},
		{"chat without a user message", "POST", "/v1/chat/completions", "application/json", admin, strings.NewReader(`{"model": "grounded", "messages": []}`), 400, grounded.EINVALID},
		{"unknown route", "GET", "/v1/nothing", "", admin, nil, 404, grounded.ENOTFOUND},
		{"check: unknown field", "POST", "/v1/check", "application/json", admin, strings.NewReader(`{"answer": "x", "passages": [{"text": "y"}], "context": "z"}`), 400, grounded.EINVALID},
		{"check: no evidence", "POST", "/v1/check", "application/json", admin, strings.NewReader(`{"answer": "x [1]"}`), 400, grounded.EINVALID},
		{"check: too many passages", "POST", "/v1/check", "application/json", admin, jsonBody(map[string]any{"answer": "x", "passages": make([]grounded.CheckPassage, 101)}), 400, grounded.EINVALID},
		{"check: too many sentences", "POST", "/v1/check", "application/json", admin, jsonBody(map[string]any{"answer": strings.Repeat("Refunds are paid. ", 201), "passages": []grounded.CheckPassage{{Text: "y"}}}), 400, grounded.EINVALID},
		{"check: no sentence with a word", "POST", "/v1/check", "application/json", admin, strings.NewReader(`{"answer": "[1] [2]", "passages": [{"text": "y"}]}`), 400, grounded.EINVALID},
		{"check: invalid UTF-8", "POST", "/v1/check", "application/json", admin, strings.NewReader("{\"answer\": \"caf\xe9\", \"passages\": [{\"text\": \"y\"}]}"), 400, grounded.EINVALID},
		{"check: form", "POST", "/v1/check", "application/x-www-form-urlencoded", admin, strings.NewReader(`answer=x`), 415, grounded.EUNSUPPORTED},
		{"check: unknown document", "POST", "/v1/check", "application/json", admin, strings.NewReader(`{"answer": "x", "doc_ids": ["0123456789abcdef"]}`), 404, grounded.ENOTFOUND},
		{"check: unknown chunk", "POST", "/v1/check", "application/json", admin, strings.NewReader(`{"answer": "x", "chunk_ids": ["0123456789abcdef-00001"]}`), 404, grounded.ENOTFOUND},
		{"check: key for another collection", "POST", "/v1/check", "application/json", "support-secret-0123456789", strings.NewReader(`{"answer": "x", "passages": [{"text": "y"}]}`), 403, grounded.EFORBIDDEN},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, ts.URL+tt.path, tt.body)
			if err != nil {
				t.Fatal(err)
			}
			if tt.ctype != "" {
				req.Header.Set("Content-Type", tt.ctype)
			}
			if tt.key != "" {
				req.Header.Set("Authorization", "Bearer "+tt.key)
			}
			resp, err := ts.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			raw, _ := io.ReadAll(resp.Body)
			var e struct {
				Error struct{ Code, Message string }
			}
			if err := json.Unmarshal(raw, &e); err != nil {
				t.Fatalf("status %d, body is not JSON: %q", resp.StatusCode, raw)
			}
			if resp.StatusCode != tt.status || e.Error.Code != tt.code || e.Error.Message == "" {
				t.Fatalf("status %d code %q (%s), want %d %q", resp.StatusCode, e.Error.Code, e.Error.Message, tt.status, tt.code)
			}
			if strings.Contains(string(raw), admin) || strings.Contains(string(raw), "support-secret") {
				t.Fatalf("an error repeats a key: %s", raw)
			}
		})
	}
	// Still serving.
	req, _ := http.NewRequest("POST", ts.URL+"/v1/ask", strings.NewReader(`{"question": "Can a large language model generate images?"}`))
	req.Header.Set("Authorization", "Bearer "+admin)
	req.Header.Set("Content-Type", "application/json")
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var ans grounded.Answer
	if err := json.NewDecoder(resp.Body).Decode(&ans); err != nil || resp.StatusCode != 200 || ans.Abstained {
		t.Fatalf("after the bad requests: %d %+v %v", resp.StatusCode, ans, err)
	}
}
