package server

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/groundedhq/grounded"
)

// API keys.
//
// With Config.Keys set, every route under /v1/ needs
//
//	Authorization: Bearer KEY
//
// and answers 401 "unauthorized" (with WWW-Authenticate: Bearer) without one
// or with one it does not know. Everything outside /v1/ stays open: /healthz
// and /readyz (probes), /metrics (note: its labels may name collections), /
// and /static/ (the web page, which asks for a key itself).
//
// A key limited to collections gets 403 "forbidden" for any other collection,
// whether or not it exists; GET /v1/collections lists only its collections;
// creating a collection (POST /v1/collections) needs a key with no limit.
//
// Secrets are held only as SHA-256 digests. A lookup hashes the secret sent
// and compares the digest with every key's in constant time, so neither the
// secret's length nor which key matched shows in the time it takes. Logs and
// metrics name the key ("key" in the gin context), never its secret.

// MinKeyLength is the fewest characters an API key may have.
const MinKeyLength = 16

// Key is one API key.
type Key struct {
	// Name identifies the key in logs and metrics: 1 to 64 letters,
	// digits and . _ - @.
	Name string
	// Secret is what clients send: at least MinKeyLength characters of
	// visible ASCII (no spaces).
	Secret string
	// Collections the key may use; nil: every collection, and it may
	// create collections. Not nil, it must name at least one.
	Collections []string
}

// Keys is a checked set of API keys. NewKeys makes one.
type Keys struct {
	keys []apiKey
}

type apiKey struct {
	name        string
	digest      [sha256.Size]byte
	collections map[string]bool // nil: all
}

// NewKeys checks keys and returns them ready for lookups. It returns an
// EINVALID error naming the key (by position and name, never by secret) for:
// no keys, a name that is empty, not valid or used twice, a secret that is
// empty, shorter than MinKeyLength, not visible ASCII or used twice, and a
// collection list that is empty or names a collection twice or as "".
func NewKeys(keys []Key) (*Keys, error) {
	if len(keys) == 0 {
		return nil, grounded.Errorf(grounded.EINVALID, "no keys are listed")
	}
	out := &Keys{keys: make([]apiKey, 0, len(keys))}
	names := map[string]int{}
	digests := map[[sha256.Size]byte]int{}
	for i, k := range keys {
		n := i + 1
		if k.Name == "" {
			return nil, grounded.Errorf(grounded.EINVALID, "key %d: name is empty", n)
		}
		if !validKeyName(k.Name) {
			return nil, grounded.Errorf(grounded.EINVALID, "key %d: name %q is not valid: use 1 to 64 of letters, digits and . _ - @", n, k.Name)
		}
		if j, ok := names[k.Name]; ok {
			return nil, grounded.Errorf(grounded.EINVALID, "key %d: name %q is also key %d's", n, k.Name, j)
		}
		names[k.Name] = n
		switch {
		case k.Secret == "":
			return nil, grounded.Errorf(grounded.EINVALID, "key %d (%s): key is empty", n, k.Name)
		case !visibleASCII(k.Secret):
			return nil, grounded.Errorf(grounded.EINVALID, "key %d (%s): key has characters other than visible ASCII (spaces, control characters or non-ASCII)", n, k.Name)
		case len(k.Secret) < MinKeyLength:
			return nil, grounded.Errorf(grounded.EINVALID, "key %d (%s): key is %d characters; use at least %d (for example the output of: openssl rand -hex 32)", n, k.Name, len(k.Secret), MinKeyLength)
		}
		ak := apiKey{name: k.Name, digest: sha256.Sum256([]byte(k.Secret))}
		if j, ok := digests[ak.digest]; ok {
			return nil, grounded.Errorf(grounded.EINVALID, "key %d (%s): same key as key %d (%s); give each client its own", n, k.Name, j, keys[j-1].Name)
		}
		digests[ak.digest] = n
		if k.Collections != nil {
			if len(k.Collections) == 0 {
				return nil, grounded.Errorf(grounded.EINVALID, "key %d (%s): collections is empty; leave it out to allow every collection", n, k.Name)
			}
			ak.collections = map[string]bool{}
			for _, c := range k.Collections {
				switch {
				case c == "":
					return nil, grounded.Errorf(grounded.EINVALID, "key %d (%s): a collection name is empty", n, k.Name)
				case ak.collections[c]:
					return nil, grounded.Errorf(grounded.EINVALID, "key %d (%s): collection %q is listed twice", n, k.Name, c)
				}
				ak.collections[c] = true
			}
		}
		out.keys = append(out.keys, ak)
	}
	return out, nil
}

// Len is the number of keys.
func (k *Keys) Len() int { return len(k.keys) }

// lookup returns the key whose secret is secret, or nil. It compares the
// secret's digest with every key's, in constant time.
func (k *Keys) lookup(secret string) *apiKey {
	d := sha256.Sum256([]byte(secret))
	found := -1
	for i := range k.keys {
		eq := subtle.ConstantTimeCompare(d[:], k.keys[i].digest[:])
		found = subtle.ConstantTimeSelect(eq, i, found)
	}
	if found < 0 {
		return nil
	}
	return &k.keys[found]
}

func validKeyName(s string) bool {
	if len(s) > 64 {
		return false
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', strings.ContainsRune(".-_@", r):
		default:
			return false
		}
	}
	return s != ""
}

func visibleASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// ctxAPIKey is the gin context key of the request's *apiKey.
type ctxAPIKey struct{}

// guarded says whether the request needs a key: every route under /v1/,
// judged by the route that matched and by the path asked for.
func guarded(c *gin.Context) bool {
	p := c.Request.URL.Path
	return strings.HasPrefix(c.FullPath(), "/v1/") || p == "/v1" || strings.HasPrefix(p, "/v1/")
}

// authenticate admits requests to /v1/ that carry a known key, and puts the
// key's name in the context ("key"). A failed attempt costs the client's
// address a token of the rate limit, so keys cannot be guessed at speed.
func (h *handler) authenticate(c *gin.Context) {
	if !guarded(c) {
		return
	}
	secret, sent := bearer(c.GetHeader("Authorization"))
	var k *apiKey
	if sent {
		k = h.cfg.Keys.lookup(secret)
	}
	if k == nil {
		if h.rates != nil && !h.rates.admit(c, clientID(c.Request)) {
			return
		}
		if !sent {
			c.Header("WWW-Authenticate", `Bearer realm="grounded"`)
			writeError(c, grounded.Errorf(grounded.EUNAUTHORIZED, "missing API key: send the header Authorization: Bearer KEY"))
			return
		}
		c.Header("WWW-Authenticate", `Bearer realm="grounded", error="invalid_token"`)
		writeError(c, grounded.Errorf(grounded.EUNAUTHORIZED, "unknown API key"))
		return
	}
	c.Set("key", k.name) // for logs and metrics
	c.Set(ctxAPIKey{}, k)
	if k.collections != nil && c.Request.Method == http.MethodPost && c.FullPath() == "/v1/collections" {
		writeError(c, grounded.Errorf(grounded.EFORBIDDEN, "key %q is limited to some collections; creating a collection needs a key with no limit", k.name))
	}
}

// bearer returns the token of an "Authorization: Bearer TOKEN" header, and
// whether there was one.
func bearer(header string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(header), " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return "", false
	}
	return token, true
}

// allowKey is handler.allow with keys: the request's key may use collection
// unless it is limited to others.
func allowKey(c *gin.Context, collection string) error {
	v, _ := c.Get(ctxAPIKey{})
	k, _ := v.(*apiKey)
	switch {
	case k == nil:
		return grounded.Errorf(grounded.EUNAUTHORIZED, "missing API key")
	case k.collections == nil || k.collections[collection]:
		return nil
	}
	return grounded.Errorf(grounded.EFORBIDDEN, "key %q may not use collection %q", k.name, collection)
}
