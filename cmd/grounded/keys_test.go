package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

const (
	testSecret  = "s3cret-0123456789abcdef"
	otherSecret = "other-0123456789abcdef"
)

func TestParseKeys(t *testing.T) {
	tests := []struct {
		name, file string
		want       string // part of the error; "" for none
	}{
		{"two keys", `{"keys": [{"name": "support-bot", "key": "` + testSecret + `", "collections": ["support", "default"]}, {"name": "admin", "key": "` + otherSecret + `"}]}`, ""},
		{"empty file", ``, "the file is empty"},
		{"not JSON", "{\"keys\": [\n{\"name\": \"a\", \"key\": \"" + testSecret + "\",}\n]}", "not valid JSON on line 2"},
		{"truncated", `{"keys": [{"name": "a", "key": "` + testSecret + `"`, "truncated"},
		{"trailing data", `{"keys": [{"name": "a", "key": "` + testSecret + `"}]} {}`, "trailing data"},
		{"keys not a list", `{"keys": {"name": "a"}}`, "keys must be a JSON array"},
		{"no keys field", `{}`, "no keys are listed"},
		{"empty list", `{"keys": []}`, "no keys are listed"},
		{"misspelt field", `{"keys": [{"name": "a", "key": "` + testSecret + `", "colections": ["x"]}]}`, `unknown field "colections"`},
		{"unknown top-level field", `{"keys": [], "admin": true}`, `unknown field "admin"`},
		{"empty name", `{"keys": [{"key": "` + testSecret + `"}]}`, "key 1: name is empty"},
		{"duplicate names", `{"keys": [{"name": "a", "key": "` + testSecret + `"}, {"name": "a", "key": "` + otherSecret + `"}]}`, `key 2: name "a" is also key 1's`},
		{"duplicate keys", `{"keys": [{"name": "a", "key": "` + testSecret + `"}, {"name": "b", "key": "` + testSecret + `"}]}`, "key 2 (b): same key as key 1 (a)"},
		{"empty key", `{"keys": [{"name": "a", "key": ""}]}`, "key 1 (a): key is empty"},
		{"short key", `{"keys": [{"name": "a", "key": "short-secret"}]}`, "key is 12 characters; use at least 16"},
		{"key with spaces", `{"keys": [{"name": "a", "key": "  ` + testSecret + `"}]}`, "visible ASCII"},
		{"invalid collection", `{"keys": [{"name": "a", "key": "` + testSecret + `", "collections": ["Bad Name"]}]}`, `key 1 (a): collection name "Bad Name" is not valid`},
		{"empty collection", `{"keys": [{"name": "a", "key": "` + testSecret + `", "collections": [""]}]}`, "a collection name is empty"},
		{"empty collections", `{"keys": [{"name": "a", "key": "` + testSecret + `", "collections": []}]}`, "collections is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keys, err := parseKeys([]byte(tt.file))
			if tt.want == "" {
				if err != nil || keys.Len() != 2 {
					t.Fatalf("parseKeys = %v, %v; want 2 keys", keys, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
			for _, s := range []string{testSecret, otherSecret, "short-secret"} {
				if strings.Contains(err.Error(), s) {
					t.Errorf("the error shows a secret: %v", err)
				}
			}
		})
	}
}

func TestIsLoopback(t *testing.T) {
	for _, tt := range []struct {
		addr string
		want bool
	}{
		{"127.0.0.1:8080", true},
		{"127.1.2.3:0", true},
		{"localhost:8080", true},
		{"[::1]:8080", true},
		{":8080", false},
		{"0.0.0.0:8080", false},
		{"[::]:8080", false},
		{"192.168.1.10:8080", false},
		{"example.com:80", false},
	} {
		got, err := isLoopback(tt.addr)
		if err != nil || got != tt.want {
			t.Errorf("isLoopback(%q) = %v, %v; want %v", tt.addr, got, err, tt.want)
		}
	}
	if _, err := isLoopback("8080"); err == nil {
		t.Error("isLoopback(\"8080\"): no error for an address without a port")
	}
}

// checkAccess parses serve's access flags from args and checks them for addr.
func checkAccess(t *testing.T, addr string, args ...string) error {
	t.Helper()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	var a accessFlags
	a.register(fs)
	if _, err := parse(fs, args); err != nil {
		t.Fatal(err)
	}
	_, err := a.check(addr)
	return err
}

func TestAccessFlags(t *testing.T) {
	for _, tt := range []struct {
		addr string
		args []string
		want string // part of a usage error; "" for none
	}{
		{"127.0.0.1:8080", nil, ""},
		{"0.0.0.0:8080", nil, "--allow-no-keys"},
		{":8080", nil, "listens beyond this machine"},
		{"0.0.0.0:8080", []string{"--allow-no-keys"}, ""},
		{"127.0.0.1:8080", []string{"--rate-limit", "-1"}, "--rate-limit"},
		{"127.0.0.1:8080", []string{"--rate-limit", "NaN"}, "--rate-limit"},
		{"127.0.0.1:8080", []string{"--max-concurrent", "-1"}, "--max-concurrent"},
		{"127.0.0.1:8080", []string{"--max-queue", "-2"}, "--max-queue"},
		{"127.0.0.1:8080", []string{"--max-upload-mb", "0"}, "--max-upload-mb"},
		{"127.0.0.1:8080", []string{"--max-question-bytes", "0"}, "--max-question-bytes"},
		{"127.0.0.1:8080", []string{"--request-timeout", "-1s"}, "--request-timeout"},
		{"8080", nil, `--addr "8080"`},
	} {
		err := checkAccess(t, tt.addr, tt.args...)
		if tt.want == "" {
			if err != nil {
				t.Errorf("%s %v: %v", tt.addr, tt.args, err)
			}
			continue
		}
		if !errors.Is(err, errUsage) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s %v: error %v, want a usage error containing %q", tt.addr, tt.args, err, tt.want)
		}
	}
}

func TestAccessEnv(t *testing.T) {
	t.Setenv("GROUNDED_RATE_LIMIT", "fast")
	if err := checkAccess(t, "127.0.0.1:0"); !errors.Is(err, errUsage) || !strings.Contains(err.Error(), "$GROUNDED_RATE_LIMIT") {
		t.Errorf("a bad $GROUNDED_RATE_LIMIT: error %v, want a usage error naming it", err)
	}
	t.Setenv("GROUNDED_RATE_LIMIT", "")
	t.Setenv("GROUNDED_ALLOW_NO_KEYS", "true")
	if err := checkAccess(t, "0.0.0.0:0"); err != nil {
		t.Errorf("$GROUNDED_ALLOW_NO_KEYS=true: %v", err)
	}
	// The command line wins over the environment.
	if err := checkAccess(t, "0.0.0.0:0", "--allow-no-keys=false"); err == nil {
		t.Error("--allow-no-keys=false did not override $GROUNDED_ALLOW_NO_KEYS")
	}
}

// TestServeRefuses: serve stops before it opens anything when the keys file
// is bad, or when it would serve a network address with no keys.
func TestServeRefuses(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "keys.json")
	if err := os.WriteFile(bad, []byte(`{"keys": [{"name": "a", "key": "`+testSecret+`"}, {"name": "a", "key": "`+otherSecret+`"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	for _, tt := range []struct {
		name  string
		args  []string
		env   string // $GROUNDED_API_KEYS_FILE
		want  string
		usage bool
	}{
		{"bad keys file", []string{"--api-keys", bad}, "", `--api-keys ` + bad + `: key 2: name "a" is also key 1's`, false},
		{"bad keys file from the environment", nil, bad, `name "a" is also key 1's`, false},
		{"missing keys file", []string{"--api-keys", filepath.Join(dir, "nope.json")}, "", "no such file", false},
		{"network address without keys", []string{"--addr", "0.0.0.0:0"}, "", "--allow-no-keys", true},
		{"all interfaces without keys", []string{"--addr", ":0"}, "", "--allow-no-keys", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("GROUNDED_API_KEYS_FILE", tt.env)
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), append([]string{"serve", "--data", data}, tt.args...), &stdout, &stderr)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("serve = %v, want an error containing %q", err, tt.want)
			}
			if errors.Is(err, errUsage) != tt.usage {
				t.Errorf("usage error = %v, want %v", errors.Is(err, errUsage), tt.usage)
			}
			if strings.Contains(err.Error(), testSecret) || strings.Contains(stderr.String(), testSecret) {
				t.Errorf("a secret was shown: %v\n%s", err, stderr.String())
			}
			if _, err := os.Stat(data); !os.IsNotExist(err) {
				t.Errorf("serve made its data folder before refusing (stat: %v)", err)
			}
		})
	}
}

// TestServeWithKeys runs `grounded serve --api-keys` and checks that /v1/
// needs a key, the probes do not, and the log names the key, not its secret.
func TestServeWithKeys(t *testing.T) {
	const watchdog = 20 * time.Second
	dir := t.TempDir()
	keysFile := filepath.Join(dir, "keys.json")
	if err := os.WriteFile(keysFile, []byte(`{"keys": [{"name": "support-bot", "key": "`+testSecret+`", "collections": ["default"]}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	addr, stderr := startServe(t, "--data", filepath.Join(dir, "data"), "--api-keys", keysFile)
	ask := func(auth string) int {
		req, err := http.NewRequest("POST", "http://"+addr+"/v1/ask", strings.NewReader(`{"question": "What is LoRA?"}`))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := ask(""); got != http.StatusUnauthorized {
		t.Errorf("no key: status %d, want 401", got)
	}
	if got := ask("Bearer " + otherSecret); got != http.StatusUnauthorized {
		t.Errorf("wrong key: status %d, want 401", got)
	}
	if got := ask("Bearer " + testSecret); got != http.StatusOK {
		t.Errorf("right key: status %d, want 200", got)
	}
	resp, err := http.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("healthz without a key: status %d, want 200", resp.StatusCode)
	}
	// A request's log line is written once its response is: wait for them.
	wants := []string{"msg=\"api keys\"", "keys=1", "key=support-bot", "status=401"}
	logs := stderr.String()
	for deadline := time.Now().Add(watchdog); time.Now().Before(deadline); logs = stderr.String() {
		missing := slices.DeleteFunc(slices.Clone(wants), func(w string) bool { return strings.Contains(logs, w) })
		if len(missing) == 0 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, want := range wants {
		if !strings.Contains(logs, want) {
			t.Errorf("serve's log lacks %q:\n%s", want, logs)
		}
	}
	for _, secret := range []string{testSecret, otherSecret} {
		if strings.Contains(logs, secret) {
			t.Errorf("serve's log holds a secret:\n%s", logs)
		}
	}
	if strings.Contains(logs, "the API is open") {
		t.Errorf("serve warned that the API is open although it has keys:\n%s", logs)
	}
}

// TestServeWarnsWhenOpen: without keys serve says so at start.
func TestServeWarnsWhenOpen(t *testing.T) {
	var logs bytes.Buffer
	var a accessFlags
	a.logStart(newTestLogger(&logs), "127.0.0.1:8080", nil)
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "the API is open") {
		t.Errorf("no warning that the API is open:\n%s", logs.String())
	}
	logs.Reset()
	a.logStart(newTestLogger(&logs), "0.0.0.0:8080", nil)
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "NO API KEYS ON A NETWORK ADDRESS") {
		t.Errorf("no warning about the open network address:\n%s", logs.String())
	}
}

func newTestLogger(w io.Writer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }
