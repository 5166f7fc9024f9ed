package provider_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/groundedhq/grounded"
	"github.com/groundedhq/grounded/provider"
)

// vecFor is the fake servers' embedding of a text: "tN" gives (1, N, 2)
// (unnormalized, so the test sees normalization), "zero" gives zeros,
// anything else (1, 0, 2).
func vecFor(text string) []float32 {
	if text == "zero" {
		return []float32{0, 0, 0}
	}
	n, _ := strconv.Atoi(strings.TrimPrefix(text, "t"))
	return []float32{1, float32(n), 2}
}

// embedDialect is one provider's embedding API as its real server speaks it.
type embedDialect struct {
	name, urlSuffix, path, model, key string
	reply                             step // vecFor of each input
	// requestsFor is the number of requests for n texts in batches of b.
	requestsFor func(n, b int) int
	// check asserts the request langchaingo sent for inputs.
	check func(t *testing.T, s seen, inputs []string)
}

var openaiEmbed = embedDialect{
	name: "openai", urlSuffix: "/v1", path: "/v1/embeddings", model: "text-embedding-3-small", key: "sk-test-embed",
	reply: func(w http.ResponseWriter, r *http.Request, body map[string]any) {
		var data []string
		inputs, _ := body["input"].([]any)
		for i, in := range inputs {
			data = append(data, fmt.Sprintf(`{"object":"embedding","index":%d,"embedding":%s}`, i, js(vecFor(in.(string)))))
		}
		jsonReply(200, fmt.Sprintf(`{"object":"list","data":[%s],"model":"text-embedding-3-small","usage":{"prompt_tokens":%d,"total_tokens":%d}}`,
			strings.Join(data, ","), len(inputs), len(inputs)))(w, r, body)
	},
	requestsFor: func(n, b int) int { return (n + b - 1) / b },
	check: func(t *testing.T, s seen, inputs []string) {
		t.Helper()
		if s.method != "POST" || s.path != "/v1/embeddings" || s.header.Get("Authorization") != "Bearer sk-test-embed" {
			t.Errorf("request %s %s, Authorization %q", s.method, s.path, s.header.Get("Authorization"))
		}
		in := []any{}
		for _, x := range inputs {
			in = append(in, x)
		}
		sameJSON(t, s.body, map[string]any{"model": "text-embedding-3-small", "input": in})
	},
}

var ollamaEmbed = embedDialect{
	name: "ollama", path: "/api/embed", model: "nomic-embed-text",
	reply: func(w http.ResponseWriter, r *http.Request, body map[string]any) {
		// /api/embed takes a string or a list; langchaingo sends one string.
		var vecs [][]float32
		switch in := body["input"].(type) {
		case string:
			vecs = append(vecs, vecFor(in))
		case []any:
			for _, x := range in {
				vecs = append(vecs, vecFor(x.(string)))
			}
		}
		jsonReply(200, fmt.Sprintf(`{"model":"nomic-embed-text","embeddings":%s,"total_duration":14143917,"load_duration":1019500,"prompt_eval_count":8}`,
			js(vecs)))(w, r, body)
	},
	requestsFor: func(n, _ int) int { return n }, // one request per text
	check: func(t *testing.T, s seen, inputs []string) {
		t.Helper()
		if s.method != "POST" || s.path != "/api/embed" || len(inputs) != 1 {
			t.Errorf("request %s %s for %d inputs", s.method, s.path, len(inputs))
		}
		sameJSON(t, s.body, map[string]any{"model": "nomic-embed-text", "input": inputs[0], "options": map[string]any{"temperature": 0.0}})
	},
}

func (d embedDialect) config(f *fake) provider.EmbedConfig {
	return provider.EmbedConfig{Provider: d.name, BaseURL: f.srv.URL + d.urlSuffix, Model: d.model, APIKey: d.key,
		Timeout: 5 * time.Second, Backoff: time.Millisecond}
}

func TestEmbedder(t *testing.T) {
	ctx := context.Background()
	for _, d := range []embedDialect{openaiEmbed, ollamaEmbed} {
		t.Run(d.name, func(t *testing.T) {
			t.Run("probe and embed", func(t *testing.T) {
				f := newFake(t, d.reply)
				cfg := d.config(f)
				cfg.BatchSize = 2
				e, err := provider.NewEmbedder(ctx, cfg)
				if err != nil {
					t.Fatal(err)
				}
				if e.Name != d.name+":"+d.model || e.Dim != 3 || f.count() != 1 {
					t.Fatalf("embedder %s dim %d after %d requests; want %s:%s, 3, 1 probe", e.Name, e.Dim, f.count(), d.name, d.model)
				}
				d.check(t, f.req(0), []string{"dimension probe"})

				texts := []string{"t0", "t1", "t2", "t3", "t4"}
				vecs, err := e.Embed(ctx, texts)
				if err != nil {
					t.Fatal(err)
				}
				if want := 1 + d.requestsFor(len(texts), 2); f.count() != want {
					t.Errorf("%d requests, want %d", f.count(), want)
				}
				if d.name == "openai" {
					d.check(t, f.req(1), texts[:2])
					d.check(t, f.req(3), texts[4:])
				} else {
					d.check(t, f.req(5), texts[4:])
				}
				if len(vecs) != len(texts) {
					t.Fatalf("%d vectors for %d texts", len(vecs), len(texts))
				}
				for i, v := range vecs {
					norm := math.Sqrt(float64(v[0]*v[0] + v[1]*v[1] + v[2]*v[2]))
					if len(v) != 3 || math.Abs(norm-1) > 1e-6 || math.Abs(float64(v[1]/v[0])-float64(i)) > 1e-5 {
						t.Errorf("vector %d = %v: want unit length, in input order", i, v)
					}
				}
			})

			t.Run("no probe with Dim set", func(t *testing.T) {
				f := newFake(t, d.reply)
				cfg := d.config(f)
				cfg.Dim = 4
				e, err := provider.NewEmbedder(ctx, cfg)
				if err != nil || e.Dim != 4 || f.count() != 0 {
					t.Fatalf("NewEmbedder: %v, dim %d, %d requests; want no error, 4, none", err, e.Dim, f.count())
				}
				_, err = e.Embed(ctx, []string{"t1"})
				wantErr(t, err, provider.ErrBadReply, "3 dimensions, want 4")
			})

			t.Run("zero vector", func(t *testing.T) {
				f := newFake(t, d.reply)
				e, err := provider.NewEmbedder(ctx, d.config(f))
				if err != nil {
					t.Fatal(err)
				}
				_, err = e.Embed(ctx, []string{"t1", "zero"})
				wantErr(t, err, provider.ErrBadReply, "text 1: zero")
			})

			t.Run("429 then success", func(t *testing.T) {
				f := newFake(t, withHeader("Retry-After", "0", jsonReply(429, `{"error":"rate limited"}`)), d.reply)
				e, err := provider.NewEmbedder(ctx, d.config(f))
				if err != nil || e.Dim != 3 || f.count() != 2 {
					t.Fatalf("NewEmbedder: %v, dim %d after %d requests; want 3 after 2", err, e.Dim, f.count())
				}
			})

			t.Run("ctx cancelled", func(t *testing.T) {
				f := newFake(t)
				f.script = []step{f.hang}
				ctx, cancel := context.WithCancel(ctx)
				cfg := d.config(f)
				cfg.Dim = 3
				e, err := provider.NewEmbedder(ctx, cfg)
				if err != nil {
					t.Fatal(err)
				}
				cancel()
				if _, err := e.Embed(ctx, []string{"t1"}); !errors.Is(err, context.Canceled) {
					t.Errorf("err %v, want context.Canceled", err)
				}
			})

			// A probe failure that points at a setting is a configuration error.
			setup := []struct {
				name     string
				answer   step
				kind     error
				contains []string
			}{
				{"unknown model", jsonReply(404, fmt.Sprintf(`{"error":{"message":"model %q not found, try pulling it first"}}`, d.model)),
					provider.ErrModelNotFound, []string{"--embedder-model or GROUNDED_EMBEDDER_MODEL", d.model}},
				{"bad key", jsonReply(401, `{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","code":"invalid_api_key"}}`),
					provider.ErrAuth, []string{"--embedder-key or GROUNDED_EMBEDDER_KEY"}},
			}
			for _, tc := range setup {
				t.Run("probe: "+tc.name, func(t *testing.T) {
					f := newFake(t, tc.answer)
					_, err := provider.NewEmbedder(ctx, d.config(f))
					if grounded.ErrorCode(err) != grounded.EINVALID {
						t.Errorf("err %v, want EINVALID", err)
					}
					wantErr(t, err, tc.kind)
					for _, s := range tc.contains {
						if !strings.Contains(grounded.ErrorMessage(err), s) {
							t.Errorf("message %q does not mention %q", grounded.ErrorMessage(err), s)
						}
					}
					if f.count() != 1 {
						t.Errorf("%d requests, want 1", f.count())
					}
				})
			}

			t.Run("probe: connection refused", func(t *testing.T) {
				f := newFake(t)
				f.srv.Close()
				_, err := provider.NewEmbedder(ctx, d.config(f))
				if grounded.ErrorCode(err) != grounded.EINVALID {
					t.Errorf("err %v, want EINVALID", err)
				}
				wantErr(t, err, provider.ErrUnreachable)
				for _, s := range []string{"--embedder-url or GROUNDED_EMBEDDER_URL", f.srv.URL} {
					if !strings.Contains(grounded.ErrorMessage(err), s) {
						t.Errorf("message %q does not mention %q", grounded.ErrorMessage(err), s)
					}
				}
			})
		})
	}
}

func TestNewEmbedderConfigErrors(t *testing.T) {
	cases := []struct {
		name     string
		cfg      provider.EmbedConfig
		contains string
	}{
		{"anthropic", provider.EmbedConfig{Provider: "anthropic", Model: "m", APIKey: "k"}, "use openai, ollama"},
		{"no model", provider.EmbedConfig{Provider: "ollama"}, "--embedder-model or GROUNDED_EMBEDDER_MODEL"},
		{"openai no key", provider.EmbedConfig{Provider: "openai", Model: "text-embedding-3-small"}, "--embedder-key or GROUNDED_EMBEDDER_KEY / OPENAI_API_KEY"},
		{"negative dim", provider.EmbedConfig{Provider: "ollama", Model: "m", Dim: -1}, "dimension"},
		{"bad URL", provider.EmbedConfig{Provider: "ollama", Model: "m", BaseURL: "localhost"}, "--embedder-url"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := provider.NewEmbedder(context.Background(), tc.cfg)
			if grounded.ErrorCode(err) != grounded.EINVALID || !strings.Contains(grounded.ErrorMessage(err), tc.contains) {
				t.Errorf("err %v, want EINVALID mentioning %q", err, tc.contains)
			}
		})
	}
}
