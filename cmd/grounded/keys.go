package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/groundedhq/grounded"
	"github.com/groundedhq/grounded/collection"
	"github.com/groundedhq/grounded/server"
)

// The --api-keys file (JSON):
//
//	{"keys": [
//	  {"name": "support-bot", "key": "…", "collections": ["support", "default"]},
//	  {"name": "admin", "key": "…"}
//	]}
//
// name shows in logs and metrics; key is the secret clients send as
// "Authorization: Bearer KEY" (at least 16 characters of visible ASCII);
// collections limits the key to those collections, and a key without it may
// use every collection and create new ones. Unknown fields are an error, so
// a misspelt "collections" cannot silently grant every collection.
type keyFile struct {
	Keys []keyFileEntry `json:"keys"`
}

type keyFileEntry struct {
	Name        string   `json:"name"`
	Key         string   `json:"key"`
	Collections []string `json:"collections"`
}

// loadKeys reads and checks an API keys file. Its errors name the file and
// the key (by position and name), never a secret.
func loadKeys(path string) (*server.Keys, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--api-keys: %w", err)
	}
	keys, err := parseKeys(data)
	if err != nil {
		return nil, fmt.Errorf("--api-keys %s: %v", path, err)
	}
	return keys, nil
}

// parseKeys decodes the keys file's content strictly and checks it.
func parseKeys(data []byte) (*server.Keys, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f keyFile
	if err := dec.Decode(&f); err != nil {
		return nil, jsonError(data, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("trailing data after the JSON object")
	}
	keys := make([]server.Key, len(f.Keys))
	for i, k := range f.Keys {
		for _, c := range k.Collections {
			if err := collection.CheckName(c); err != nil && c != "" {
				return nil, fmt.Errorf("key %d (%s): %s", i+1, k.Name, grounded.ErrorMessage(err))
			}
		}
		keys[i] = server.Key{Name: k.Name, Secret: k.Key, Collections: k.Collections}
	}
	sk, err := server.NewKeys(keys)
	if err != nil {
		return nil, errors.New(grounded.ErrorMessage(err))
	}
	return sk, nil
}

// jsonError says where the keys file's JSON went wrong, without quoting it
// (it holds secrets).
func jsonError(data []byte, err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.EOF):
		return errors.New(`the file is empty; want {"keys": [{"name": "...", "key": "..."}]}`)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("the JSON is truncated")
	case errors.As(err, &syntax):
		line := 1 + bytes.Count(data[:min(int(syntax.Offset), len(data))], []byte("\n"))
		return fmt.Errorf("not valid JSON on line %d", line)
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "the file"
		}
		kind := map[string]string{"slice": "array", "struct": "object"}[typ.Type.Kind().String()]
		if kind == "" {
			kind = typ.Type.Kind().String()
		}
		return fmt.Errorf("%s must be a JSON %s, not %s", field, kind, typ.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return fmt.Errorf("unknown field %s: a key has name, key and collections", strings.TrimPrefix(err.Error(), "json: unknown field "))
	}
	return err
}

// accessFlags are serve's flags for API keys and limits. Each has an
// environment variable; a flag on the command line wins over it.
type accessFlags struct {
	keysFile       string
	allowNoKeys    bool
	rateLimit      float64
	rateBurst      int
	maxConcurrent  int
	maxQueue       int
	maxUploadMB    int
	maxQuestion    int
	requestTimeout time.Duration
	// envErr collects environment variables that did not parse.
	envErr error
}

// defaultMaxConcurrent is --max-concurrent's default: twice the CPUs Go
// uses, at least 4. An extractive answer is CPU work, a model's answer is
// mostly waiting, and the queue absorbs bursts either way.
func defaultMaxConcurrent() int { return max(4, 2*runtime.GOMAXPROCS(0)) }

// accessEnv maps the flags to their environment variables.
var accessEnv = []struct{ flag, env string }{
	{"api-keys", "GROUNDED_API_KEYS_FILE"},
	{"allow-no-keys", "GROUNDED_ALLOW_NO_KEYS"},
	{"rate-limit", "GROUNDED_RATE_LIMIT"},
	{"rate-burst", "GROUNDED_RATE_BURST"},
	{"max-concurrent", "GROUNDED_MAX_CONCURRENT"},
	{"max-queue", "GROUNDED_MAX_QUEUE"},
	{"max-upload-mb", "GROUNDED_MAX_UPLOAD_MB"},
	{"max-question-bytes", "GROUNDED_MAX_QUESTION_BYTES"},
	{"request-timeout", "GROUNDED_REQUEST_TIMEOUT"},
}

func (a *accessFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&a.keysFile, "api-keys", "", "JSON file of API keys; with it every /v1/ route needs Authorization: Bearer KEY")
	fs.BoolVar(&a.allowNoKeys, "allow-no-keys", false, "serve without API keys on an address other than loopback")
	fs.Float64Var(&a.rateLimit, "rate-limit", 20, "requests a second per API key (per client address without keys); 0: no limit")
	fs.IntVar(&a.rateBurst, "rate-burst", 0, "the rate limit's burst (default twice --rate-limit)")
	fs.IntVar(&a.maxConcurrent, "max-concurrent", defaultMaxConcurrent(), "answers (ask, chat completions) made at once; 0: no cap")
	fs.IntVar(&a.maxQueue, "max-queue", -1, "answer requests that may wait for a slot (default 4 × --max-concurrent)")
	fs.IntVar(&a.maxUploadMB, "max-upload-mb", 32, "largest document upload, in MiB")
	fs.IntVar(&a.maxQuestion, "max-question-bytes", 4096, "longest question or query, in bytes")
	fs.DurationVar(&a.requestTimeout, "request-timeout", 0, "time limit of one request (default 30s; with a model, 3 × --llm-timeout + 10s)")
	for _, e := range accessEnv {
		if v := os.Getenv(e.env); v != "" {
			if err := fs.Set(e.flag, v); err != nil {
				a.envErr = errors.Join(a.envErr, fmt.Errorf("$%s=%q: %v", e.env, v, err))
			}
		}
	}
}

// check validates the flags against the address serve listens on and loads
// the keys file. Without keys, serve listens only on loopback addresses
// unless --allow-no-keys is given. It returns nil keys without a file.
func (a *accessFlags) check(addr string) (*server.Keys, error) {
	if a.envErr != nil {
		return nil, fmt.Errorf("%w: %v", errUsage, a.envErr)
	}
	for _, c := range []struct {
		bad  bool
		what string
	}{
		{a.rateLimit < 0 || math.IsNaN(a.rateLimit) || math.IsInf(a.rateLimit, 0), "--rate-limit must be 0 (off) or more"},
		{a.rateBurst < 0, "--rate-burst must be 0 (twice --rate-limit) or more"},
		{a.maxConcurrent < 0, "--max-concurrent must be 0 (no cap) or more"},
		{a.maxQueue < -1, "--max-queue must be 0 or more"},
		{a.maxUploadMB < 1 || a.maxUploadMB > 1<<20, "--max-upload-mb must be from 1 to 1048576"},
		{a.maxQuestion < 1, "--max-question-bytes must be 1 or more"},
		{a.requestTimeout < 0, "--request-timeout must be positive"},
	} {
		if c.bad {
			return nil, fmt.Errorf("%w: %s", errUsage, c.what)
		}
	}
	loopback, err := isLoopback(addr)
	if err != nil {
		return nil, fmt.Errorf("%w: --addr %q: %v", errUsage, addr, err)
	}
	if a.keysFile == "" {
		if !loopback && !a.allowNoKeys {
			return nil, fmt.Errorf("%w: --addr %s listens beyond this machine, and there are no API keys: anyone who can reach it could read, change and delete every collection. Give --api-keys FILE, or --allow-no-keys to serve it open anyway", errUsage, addr)
		}
		return nil, nil
	}
	return loadKeys(a.keysFile)
}

// isLoopback says whether addr (host:port) listens only on this machine.
// An empty host or an unspecified address (0.0.0.0, ::) listens everywhere;
// a host name other than localhost counts as not loopback.
func isLoopback(addr string) (bool, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false, err
	}
	if strings.EqualFold(host, "localhost") {
		return true, nil
	}
	host, _, _ = strings.Cut(host, "%") // an IPv6 zone
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback(), nil
}

// apply sets the server's keys and limits.
func (a *accessFlags) apply(cfg *server.Config, keys *server.Keys) {
	cfg.Keys = keys
	cfg.RateLimit = a.rateLimit
	cfg.RateBurst = a.rateBurst
	cfg.MaxConcurrent = a.maxConcurrent
	cfg.MaxQueue = a.maxQueue
	if a.maxQueue < 0 {
		cfg.MaxQueue = 4 * a.maxConcurrent
	}
	cfg.MaxUploadBytes = int64(a.maxUploadMB) << 20
	cfg.MaxQuestionBytes = a.maxQuestion
	if a.requestTimeout > 0 {
		cfg.RequestTimeout = a.requestTimeout
	}
}

// logStart says at start how the API is guarded: which keys file, or a
// warning that it is open.
func (a *accessFlags) logStart(logger *slog.Logger, addr string, keys *server.Keys) {
	if keys != nil {
		logger.Info("api keys", "file", a.keysFile, "keys", keys.Len())
		if st, err := os.Stat(a.keysFile); err == nil && st.Mode().Perm()&0o044 != 0 {
			logger.Warn("the api keys file is readable by other users: chmod 600 it", "file", a.keysFile)
		}
		return
	}
	if loopback, _ := isLoopback(addr); loopback {
		logger.Warn("no api keys (--api-keys): the API is open to every program on this machine; it listens on loopback only", "addr", addr)
		return
	}
	logger.Warn("NO API KEYS ON A NETWORK ADDRESS (--allow-no-keys): anyone who can reach it can read, change and delete every collection", "addr", addr)
}
