package server_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/groundedhq/grounded"
	"github.com/groundedhq/grounded/server"
)

const (
	adminSecret   = "admin-secret-0123456789abcdef"
	supportSecret = "support-secret-0123456789abcdef"
)

// testKeys are an unlimited key, "admin", and "support-bot", limited to
// collection "a".
func testKeys(t *testing.T) *server.Keys {
	t.Helper()
	keys, err := server.NewKeys([]server.Key{
		{Name: "admin", Secret: adminSecret},
		{Name: "support-bot", Secret: supportSecret, Collections: []string{"a"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// threeCollections is a fakeSet of "a", "b" and "default".
func threeCollections() *fakeSet {
	cols := map[string]server.Collection{}
	for _, name := range []string{"a", "b", "default"} {
		cols[name] = &fakeService{Answer: cannedAnswer(), Hits: cannedHits()}
	}
	return &fakeSet{cols: cols}
}

// newKeyedServer serves three collections with testKeys and cfg.
func newKeyedServer(t *testing.T, cfg server.Config) *httptest.Server {
	t.Helper()
	cfg.Collections = threeCollections()
	cfg.Keys = testKeys(t)
	ts := httptest.NewServer(server.New(cfg))
	t.Cleanup(ts.Close)
	return ts
}

// doAuth sends a request with the Authorization header auth (none if "").
func doAuth(t *testing.T, ts *httptest.Server, auth, method, path, body string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, data
}

func TestAuth(t *testing.T) {
	ts := newKeyedServer(t, server.Config{})
	admin, support := "Bearer "+adminSecret, "Bearer "+supportSecret
	tests := []struct {
		name, auth, method, path, body string
		status                         int
		code, message                  string // for errors: code, and a part of the message
	}{
		{"no key", "", "POST", "/v1/ask", `{"question": "x"}`, 401, grounded.EUNAUTHORIZED, "missing API key"},
		{"wrong key", "Bearer not-a-key-0123456789abcdef", "POST", "/v1/ask", `{"question": "x"}`, 401, grounded.EUNAUTHORIZED, "unknown API key"},
		{"key's prefix", "Bearer " + adminSecret[:len(adminSecret)-1], "POST", "/v1/ask", `{"question": "x"}`, 401, grounded.EUNAUTHORIZED, "unknown API key"},
		{"other scheme", "Basic " + adminSecret, "POST", "/v1/ask", `{"question": "x"}`, 401, grounded.EUNAUTHORIZED, "missing API key"},
		{"bearer without key", "Bearer ", "POST", "/v1/ask", `{"question": "x"}`, 401, grounded.EUNAUTHORIZED, "missing API key"},
		{"key without scheme", adminSecret, "POST", "/v1/ask", `{"question": "x"}`, 401, grounded.EUNAUTHORIZED, "missing API key"},
		{"unknown route under /v1", "", "GET", "/v1/nowhere", ``, 401, grounded.EUNAUTHORIZED, "missing API key"},
		{"right key", admin, "POST", "/v1/ask", `{"question": "x"}`, 200, "", ""},
		{"scheme in lower case", "bearer " + adminSecret, "POST", "/v1/ask", `{"question": "x"}`, 200, "", ""},
		{"unlimited key, any collection", admin, "POST", "/v1/search", `{"query": "x", "collection": "b"}`, 200, "", ""},
		{"limited key, its collection", support, "POST", "/v1/ask", `{"question": "x", "collection": "a"}`, 200, "", ""},
		{"limited key, its collection in the query", support, "POST", "/v1/ask?collection=a", `{"question": "x"}`, 200, "", ""},
		{"limited key, other collection", support, "POST", "/v1/ask", `{"question": "x", "collection": "b"}`, 403, grounded.EFORBIDDEN, `may not use collection "b"`},
		{"limited key, default collection", support, "POST", "/v1/search", `{"query": "x"}`, 403, grounded.EFORBIDDEN, `may not use collection "default"`},
		{"limited key, missing collection", support, "POST", "/v1/ask", `{"question": "x", "collection": "zzz"}`, 403, grounded.EFORBIDDEN, `"zzz"`},
		{"limited key, documents of other collection", support, "GET", "/v1/documents?collection=b", ``, 403, grounded.EFORBIDDEN, `"b"`},
		{"limited key, delete in other collection", support, "DELETE", "/v1/documents/x?collection=b", ``, 403, grounded.EFORBIDDEN, `"b"`},
		{"limited key, upload to other collection", support, "POST", "/v1/documents", `{"source": "s", "text": "t", "collection": "b"}`, 403, grounded.EFORBIDDEN, `"b"`},
		{"limited key, upload to its collection", support, "POST", "/v1/documents", `{"source": "s", "text": "t", "collection": "a"}`, 201, "", ""},
		{"limited key may not create its own collection", support, "POST", "/v1/collections", `{"name": "a"}`, 403, grounded.EFORBIDDEN, "creating a collection"},
		{"limited key may not create", support, "POST", "/v1/collections", `{"name": "c"}`, 403, grounded.EFORBIDDEN, "creating a collection"},
		{"unlimited key creates", admin, "POST", "/v1/collections", `{"name": "c"}`, 201, "", ""},
		{"healthz is open", "", "GET", "/healthz", ``, 200, "", ""},
		{"healthz ignores a wrong key", "Bearer nope", "GET", "/healthz", ``, 200, "", ""},
		{"unknown route outside /v1 is a 404", "", "GET", "/nowhere", ``, 404, grounded.ENOTFOUND, "no route"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := doAuth(t, ts, tt.auth, tt.method, tt.path, tt.body)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d; body %s", resp.StatusCode, tt.status, body)
			}
			if tt.code == "" {
				return
			}
			code, msg := decodeError(t, resp, body)
			if code != tt.code || !strings.Contains(msg, tt.message) {
				t.Errorf("error %s %q, want %s containing %q", code, msg, tt.code, tt.message)
			}
			if msg := string(body); strings.Contains(msg, adminSecret) || strings.Contains(msg, supportSecret) {
				t.Errorf("the error shows a key: %s", body)
			}
			if wa := resp.Header.Get("WWW-Authenticate"); (resp.StatusCode == 401) != strings.HasPrefix(wa, "Bearer") {
				t.Errorf("status %d with WWW-Authenticate %q; want Bearer exactly on a 401", resp.StatusCode, wa)
			}
		})
	}
}

func TestAuthListsOnlyTheKeysCollections(t *testing.T) {
	ts := newKeyedServer(t, server.Config{})
	for _, tt := range []struct {
		secret string
		want   []string
	}{
		{supportSecret, []string{"a"}},
		{adminSecret, []string{"a", "b", "default"}},
	} {
		resp, body := doAuth(t, ts, "Bearer "+tt.secret, "GET", "/v1/collections", "")
		if resp.StatusCode != 200 {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
		var list struct{ Collections []server.CollectionInfo }
		if err := json.Unmarshal(body, &list); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, c := range list.Collections {
			got = append(got, c.Name)
		}
		if strings.Join(got, ",") != strings.Join(tt.want, ",") {
			t.Errorf("key %s… lists %v, want %v", tt.secret[:8], got, tt.want)
		}
	}
}

// TestAuthOffWithoutKeys: with no keys configured /v1/ is open.
func TestAuthOffWithoutKeys(t *testing.T) {
	ts := newTestServer(t, server.Config{}, &fakeService{Answer: cannedAnswer()})
	if resp, body := doAuth(t, ts, "", "POST", "/v1/ask", `{"question": "x"}`); resp.StatusCode != 200 {
		t.Errorf("status %d without keys configured: %s", resp.StatusCode, body)
	}
}

// TestKeysNeverLogged: request logs name the key, never its secret, and a
// wrong secret sent is not logged either.
func TestKeysNeverLogged(t *testing.T) {
	var logs syncBuffer
	ts := newKeyedServer(t, server.Config{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	const wrong = "Bearer wrong-secret-0123456789abcdef"
	if resp, body := doAuth(t, ts, "Bearer "+supportSecret, "POST", "/v1/ask", `{"question": "x", "collection": "a"}`); resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	if resp, body := doAuth(t, ts, "Bearer "+supportSecret, "POST", "/v1/ask", `{"question": "x", "collection": "b"}`); resp.StatusCode != 403 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	if resp, _ := doAuth(t, ts, wrong, "POST", "/v1/ask", `{"question": "x"}`); resp.StatusCode != 401 {
		t.Fatalf("status %d for a wrong key", resp.StatusCode)
	}
	out := logs.String()
	if n := strings.Count(out, "key=support-bot"); n != 2 {
		t.Errorf("the log names the key %d times, want 2 (its two requests):\n%s", n, out)
	}
	for _, secret := range []string{supportSecret, adminSecret, strings.TrimPrefix(wrong, "Bearer ")} {
		if strings.Contains(out, secret) {
			t.Errorf("the log holds a secret %q:\n%s", secret, out)
		}
	}
	if !strings.Contains(out, "status=401") {
		t.Errorf("the 401 was not logged:\n%s", out)
	}
}

func TestNewKeys(t *testing.T) {
	const s1, s2 = "0123456789abcdef", "fedcba9876543210"
	tests := []struct {
		name string
		keys []server.Key
		want string // part of the error; "" for none
	}{
		{"two keys", []server.Key{{Name: "a", Secret: s1}, {Name: "b", Secret: s2, Collections: []string{"x"}}}, ""},
		{"none", nil, "no keys"},
		{"empty name", []server.Key{{Secret: s1}}, "key 1: name is empty"},
		{"bad name", []server.Key{{Name: "a b", Secret: s1}}, `name "a b" is not valid`},
		{"long name", []server.Key{{Name: strings.Repeat("n", 65), Secret: s1}}, "is not valid"},
		{"duplicate name", []server.Key{{Name: "a", Secret: s1}, {Name: "a", Secret: s2}}, `key 2: name "a" is also key 1's`},
		{"empty key", []server.Key{{Name: "a"}}, "key 1 (a): key is empty"},
		{"short key", []server.Key{{Name: "a", Secret: s1[:15]}}, "key is 15 characters; use at least 16"},
		{"key with a space", []server.Key{{Name: "a", Secret: "0123456789 abcdef"}}, "visible ASCII"},
		{"key not ASCII", []server.Key{{Name: "a", Secret: "0123456789abcdéf"}}, "visible ASCII"},
		{"duplicate key", []server.Key{{Name: "a", Secret: s1}, {Name: "b", Secret: s1}}, "key 2 (b): same key as key 1 (a)"},
		{"empty collections", []server.Key{{Name: "a", Secret: s1, Collections: []string{}}}, "collections is empty"},
		{"empty collection name", []server.Key{{Name: "a", Secret: s1, Collections: []string{""}}}, "a collection name is empty"},
		{"collection twice", []server.Key{{Name: "a", Secret: s1, Collections: []string{"x", "x"}}}, `collection "x" is listed twice`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keys, err := server.NewKeys(tt.keys)
			if tt.want == "" {
				if err != nil || keys.Len() != len(tt.keys) {
					t.Fatalf("NewKeys = %v, %v; want %d keys", keys, err, len(tt.keys))
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("NewKeys error = %v, want one containing %q", err, tt.want)
			}
			if grounded.ErrorCode(err) != grounded.EINVALID {
				t.Errorf("code %q, want %q", grounded.ErrorCode(err), grounded.EINVALID)
			}
			for _, k := range tt.keys {
				if k.Secret != "" && strings.Contains(err.Error(), k.Secret) {
					t.Errorf("the error shows the secret: %v", err)
				}
			}
		})
	}
}
