package provider_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/groundedhq/grounded"
	"github.com/groundedhq/grounded/provider"
)

var askReq = grounded.GenerateRequest{System: "SYS", Prompt: "PROMPT"}

func mustLLM(t *testing.T, cfg provider.Config) grounded.LLM {
	t.Helper()
	llm, err := provider.NewLLM(cfg)
	if err != nil {
		t.Fatalf("NewLLM: %v", err)
	}
	return llm
}

// collect returns a request that streams into the returned slice.
func collect(req grounded.GenerateRequest) (grounded.GenerateRequest, *[]string) {
	var mu sync.Mutex
	got := &[]string{}
	req.OnChunk = func(s string) error {
		mu.Lock()
		defer mu.Unlock()
		*got = append(*got, s)
		return nil
	}
	return req, got
}

// wantErr asserts err is of kind and its text holds every string in contains.
func wantErr(t *testing.T, err error, kind error, contains ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %v", kind)
	}
	if !errors.Is(err, kind) {
		t.Errorf("error %q is not %v", err, kind)
	}
	for _, s := range contains {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not mention %q", err, s)
		}
	}
}

func TestChat(t *testing.T) {
	ctx := context.Background()
	pieces := []string{"Paris is ", "the capital", " [1]."}
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			t.Run("reply", func(t *testing.T) {
				f := newFake(t)
				f.script = []step{d.reply(f, "Paris is the capital [1].", 11, 7)}
				llm := mustLLM(t, d.config(f))
				if llm.Provider != d.name || llm.Model != d.model {
					t.Errorf("LLM names %s/%s", llm.Provider, llm.Model)
				}
				reply, err := llm.Generate(ctx, askReq)
				if err != nil {
					t.Fatal(err)
				}
				if reply.Text != "Paris is the capital [1]." || reply.Usage != (grounded.Usage{PromptTokens: 11, CompletionTokens: 7}) {
					t.Errorf("reply %+v", reply)
				}
				d.check(t, f.req(0), false, 0)
			})

			t.Run("stream", func(t *testing.T) {
				f := newFake(t)
				f.script = []step{f.send(d.stream(pieces, 11, 7), whole, 0)}
				req, got := collect(askReq)
				req.MaxTokens = 77
				reply, err := mustLLM(t, d.config(f)).Generate(ctx, req)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(*got, pieces) {
					t.Errorf("OnChunk got %q, want %q", *got, pieces)
				}
				if reply.Text != strings.Join(pieces, "") || reply.Usage != (grounded.Usage{PromptTokens: 11, CompletionTokens: 7}) {
					t.Errorf("reply %+v", reply)
				}
				d.check(t, f.req(0), true, 77)
			})

			// Transient failures are retried; the caller sees the success.
			retried := []struct {
				name  string
				first func(f *fake) step
				cfg   func(*provider.Config)
			}{
				// Backoff of an hour: only honouring Retry-After: 0 lets it pass.
				{"429 Retry-After 0", func(*fake) step {
					return withHeader("Retry-After", "0", d.fail(failRate, "Rate limit reached for requests"))
				}, func(c *provider.Config) { c.Backoff = time.Hour }},
				{"500", func(*fake) step { return d.fail(failServer, "The server had an error processing your request.") }, nil},
				{"connection reset", func(*fake) step { return resetConn }, nil},
			}
			for _, tc := range retried {
				t.Run(tc.name+" then success", func(t *testing.T) {
					f := newFake(t)
					f.script = []step{tc.first(f), d.reply(f, "ok", 1, 1)}
					cfg := d.config(f)
					if tc.cfg != nil {
						tc.cfg(&cfg)
					}
					ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
					defer cancel()
					reply, err := mustLLM(t, cfg).Generate(ctx, askReq)
					if err != nil {
						t.Fatal(err)
					}
					if reply.Text != "ok" || f.count() != 2 {
						t.Errorf("reply %q after %d requests, want \"ok\" after 2", reply.Text, f.count())
					}
				})
			}

			t.Run("503 on every attempt", func(t *testing.T) {
				f := newFake(t, jsonReply(503, `{"error":{"message":"overloaded","type":"server_error"}}`))
				_, err := mustLLM(t, d.config(f)).Generate(ctx, askReq)
				wantErr(t, err, provider.ErrServer, "HTTP 503 after 3 attempts", "overloaded", d.name, d.model)
				if f.count() != 3 {
					t.Errorf("%d requests, want 3 (1 + Retries 2)", f.count())
				}
			})

			t.Run("no retries when Retries < 0", func(t *testing.T) {
				f := newFake(t, d.fail(failServer, "boom"))
				cfg := d.config(f)
				cfg.Retries = -1
				_, err := mustLLM(t, cfg).Generate(ctx, askReq)
				wantErr(t, err, provider.ErrServer, "HTTP 500")
				if f.count() != 1 {
					t.Errorf("%d requests, want 1", f.count())
				}
			})

			// Other 4xx are not retried and say what to fix.
			failures := []struct {
				name     string
				answer   step
				kind     error
				contains []string
			}{
				{"400", d.fail(failBadRequest, "messages: roles must alternate"), provider.ErrRejected,
					[]string{"HTTP 400", "roles must alternate", d.name, d.model}},
				{"401", d.fail(failAuth, "Incorrect API key provided: "+d.key), provider.ErrAuth,
					[]string{"HTTP 401", "--llm-key or GROUNDED_LLM_KEY", d.name, d.model}},
				{"404 model", d.fail(failModel, modelMessage(d)), provider.ErrModelNotFound,
					[]string{"HTTP 404", "--llm-model or GROUNDED_LLM_MODEL", fmt.Sprintf("%q", d.model)}},
				{"404 path", func(w http.ResponseWriter, r *http.Request, _ map[string]any) { http.NotFound(w, r) },
					provider.ErrBadURL, []string{"HTTP 404", "--llm-url"}},
			}
			for _, tc := range failures {
				t.Run(tc.name, func(t *testing.T) {
					f := newFake(t, tc.answer)
					reply, err := mustLLM(t, d.config(f)).Generate(ctx, askReq)
					if reply != nil {
						t.Errorf("reply %+v with an error", reply)
					}
					wantErr(t, err, tc.kind, tc.contains...)
					if f.count() != 1 {
						t.Errorf("%d requests, want 1: a %s is not retried", f.count(), tc.name)
					}
					if d.key != "" && strings.Contains(err.Error(), d.key) {
						t.Errorf("error shows the API key: %q", err)
					}
				})
			}

			t.Run("connection refused", func(t *testing.T) {
				f := newFake(t)
				f.srv.Close()
				_, err := mustLLM(t, d.config(f)).Generate(ctx, askReq)
				wantErr(t, err, provider.ErrUnreachable, "--llm-url or GROUNDED_LLM_URL", f.srv.URL, "connection refused")
			})

			t.Run("hang past the timeout", func(t *testing.T) {
				f := newFake(t)
				f.script = []step{f.hang}
				cfg := d.config(f)
				cfg.Timeout = 100 * time.Millisecond
				_, err := mustLLM(t, cfg).Generate(ctx, askReq)
				wantErr(t, err, provider.ErrTimeout, "within 100ms")
				if errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("an attempt timeout reads as the caller's deadline: %v", err)
				}
				if f.count() != 1 {
					t.Errorf("%d requests, want 1: timeouts are not retried", f.count())
				}
			})

			t.Run("stream stalls past the timeout", func(t *testing.T) {
				f := newFake(t)
				f.script = []step{f.send(d.stream(pieces, 1, 1), hold, 1)}
				cfg := d.config(f)
				cfg.Timeout = 300 * time.Millisecond
				req, _ := collect(askReq)
				_, err := mustLLM(t, cfg).Generate(ctx, req)
				wantErr(t, err, provider.ErrTimeout)
			})

			t.Run("stream breaks halfway", func(t *testing.T) {
				f := newFake(t)
				f.script = []step{f.send(d.stream(pieces, 1, 1), breakConn, 2)}
				req, got := collect(askReq)
				reply, err := mustLLM(t, d.config(f)).Generate(ctx, req)
				if reply != nil {
					t.Errorf("partial reply %+v returned", reply)
				}
				wantErr(t, err, provider.ErrStreamBroken)
				if len(*got) > 2 || f.count() != 1 {
					t.Errorf("OnChunk got %q over %d requests; want at most 2 pieces, no retry", *got, f.count())
				}
			})

			t.Run("stream ends without its end marker", func(t *testing.T) {
				f := newFake(t)
				f.script = []step{f.send(d.stream(pieces, 1, 1), cleanEOF, 2)}
				req, _ := collect(askReq)
				reply, err := mustLLM(t, d.config(f)).Generate(ctx, req)
				if reply != nil {
					t.Errorf("partial reply %+v returned", reply)
				}
				wantErr(t, err, provider.ErrStreamBroken)
			})

			t.Run("error inside the stream", func(t *testing.T) {
				s := d.stream(pieces[:1], 1, 1)
				s.tail = []string{d.midError}
				if d.name == "openai" {
					s.tail = append(s.tail, "data: [DONE]\n\n") // vLLM ends the stream normally
				}
				f := newFake(t)
				f.script = []step{f.send(s, whole, 0)}
				req, _ := collect(askReq)
				reply, err := mustLLM(t, d.config(f)).Generate(ctx, req)
				if reply != nil {
					t.Errorf("partial reply %+v returned", reply)
				}
				wantErr(t, err, provider.ErrServer)
			})

			t.Run("ctx cancelled mid-stream", func(t *testing.T) {
				f := newFake(t)
				f.script = []step{f.send(d.stream(pieces, 1, 1), hold, 1)}
				ctx, cancel := context.WithCancel(ctx)
				defer cancel()
				req := askReq
				req.OnChunk = func(string) error { cancel(); return nil }
				reply, err := mustLLM(t, d.config(f)).Generate(ctx, req)
				if reply != nil || !errors.Is(err, context.Canceled) {
					t.Errorf("got %+v, %v; want context.Canceled", reply, err)
				}
			})

			t.Run("OnChunk error stops the call", func(t *testing.T) {
				f := newFake(t)
				f.script = []step{f.send(d.stream(pieces, 1, 1), whole, 0)}
				stop := errors.New("client went away")
				var got []string
				req := askReq
				req.OnChunk = func(s string) error {
					got = append(got, s)
					if len(got) == 2 {
						return stop
					}
					return nil
				}
				reply, err := mustLLM(t, d.config(f)).Generate(ctx, req)
				if reply != nil || !errors.Is(err, stop) {
					t.Errorf("got %+v, %v; want %v", reply, err, stop)
				}
				if !slices.Equal(got, pieces[:2]) {
					t.Errorf("OnChunk got %q after its error, want %q", got, pieces[:2])
				}
			})

			t.Run("ctx already done", func(t *testing.T) {
				f := newFake(t)
				ctx, cancel := context.WithCancel(ctx)
				cancel()
				_, err := mustLLM(t, d.config(f)).Generate(ctx, askReq)
				if !errors.Is(err, context.Canceled) || f.count() != 0 {
					t.Errorf("err %v after %d requests; want context.Canceled, none", err, f.count())
				}
			})

			t.Run("concurrent streams", func(t *testing.T) {
				f := newFake(t)
				f.script = []step{f.send(d.stream(pieces, 1, 1), whole, 0)}
				llm := mustLLM(t, d.config(f))
				var wg sync.WaitGroup
				for range 6 {
					wg.Go(func() {
						req, got := collect(askReq)
						reply, err := llm.Generate(ctx, req)
						if err != nil || reply.Text != strings.Join(pieces, "") || !slices.Equal(*got, pieces) {
							t.Errorf("got %+v, %v, chunks %q", reply, err, *got)
						}
					})
				}
				wg.Wait()
			})
		})
	}
}

func TestChatInvalidRequest(t *testing.T) {
	f := newFake(t)
	llm := mustLLM(t, openaiDialect.config(f))
	for _, req := range []grounded.GenerateRequest{{Prompt: " "}, {Prompt: "q", MaxTokens: -1}} {
		if _, err := llm.Generate(context.Background(), req); grounded.ErrorCode(err) != grounded.EINVALID {
			t.Errorf("Generate(%+v): %v, want EINVALID", req, err)
		}
	}
	if f.count() != 0 {
		t.Errorf("%d requests sent for invalid input", f.count())
	}
}

func TestOpenAILegacyMaxTokens(t *testing.T) {
	f := newFake(t)
	f.script = []step{openaiDialect.reply(f, "ok", 1, 1)}
	cfg := openaiDialect.config(f)
	cfg.LegacyMaxTokens = true
	req := askReq
	req.MaxTokens = 50
	if _, err := mustLLM(t, cfg).Generate(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	body := f.req(0).body
	if body["max_tokens"] != 50.0 || body["max_completion_tokens"] != nil {
		t.Errorf("max_tokens %v, max_completion_tokens %v; want 50 and absent", body["max_tokens"], body["max_completion_tokens"])
	}
}

// A local OpenAI-compatible server needs no key; langchaingo needs one, so
// "none" is sent.
func TestOpenAICompatibleWithoutKey(t *testing.T) {
	f := newFake(t)
	f.script = []step{openaiDialect.reply(f, "ok", 1, 1)}
	cfg := openaiDialect.config(f)
	cfg.APIKey = ""
	if _, err := mustLLM(t, cfg).Generate(context.Background(), askReq); err != nil {
		t.Fatal(err)
	}
	if got := f.req(0).header.Get("Authorization"); got != "Bearer none" {
		t.Errorf("Authorization %q, want \"Bearer none\"", got)
	}
}

func TestAnthropicBaseURLWithV1(t *testing.T) {
	f := newFake(t)
	f.script = []step{anthropicDialect.reply(f, "ok", 1, 1)}
	cfg := anthropicDialect.config(f)
	cfg.BaseURL += "/v1/"
	if _, err := mustLLM(t, cfg).Generate(context.Background(), askReq); err != nil {
		t.Fatal(err)
	}
	if p := f.req(0).path; p != "/v1/messages" {
		t.Errorf("path %q, want /v1/messages", p)
	}
}

func TestOllamaKeyIsBearer(t *testing.T) {
	f := newFake(t)
	f.script = []step{ollamaDialect.reply(f, "ok", 1, 1)}
	cfg := ollamaDialect.config(f)
	cfg.APIKey = "proxy-token"
	if _, err := mustLLM(t, cfg).Generate(context.Background(), askReq); err != nil {
		t.Fatal(err)
	}
	if got := f.req(0).header.Get("Authorization"); got != "Bearer proxy-token" {
		t.Errorf("Authorization %q", got)
	}
}

// langchaingo reads OPENAI_*, OLLAMA_HOST and ANTHROPIC_API_KEY when options
// are missing; the Config must win over all of them.
func TestEnvironmentIgnored(t *testing.T) {
	t.Setenv("OPENAI_API_KEY", "sk-from-env")
	t.Setenv("OPENAI_BASE_URL", "http://127.0.0.1:1/v1")
	t.Setenv("OPENAI_API_BASE", "http://127.0.0.1:1/v1")
	t.Setenv("OPENAI_MODEL", "env-model")
	t.Setenv("OPENAI_ORGANIZATION", "org-from-env")
	t.Setenv("OLLAMA_HOST", "127.0.0.1:1")
	t.Setenv("ANTHROPIC_API_KEY", "sk-ant-from-env")

	for _, d := range dialects {
		f := newFake(t)
		f.script = []step{d.reply(f, "ok", 1, 1)}
		if _, err := mustLLM(t, d.config(f)).Generate(context.Background(), askReq); err != nil {
			t.Fatalf("%s: %v", d.name, err)
		}
		d.check(t, f.req(0), false, 0)
		if org := f.req(0).header.Get("OpenAI-Organization"); org != "" {
			t.Errorf("%s: OpenAI-Organization %q sent from the environment", d.name, org)
		}
	}
	// The key in the environment does not stand in for a missing one.
	_, err := provider.NewLLM(provider.Config{Provider: "openai", Model: "gpt-4o-mini"})
	if grounded.ErrorCode(err) != grounded.EINVALID {
		t.Errorf("openai without APIKey: %v, want EINVALID", err)
	}
}

func TestNewLLMConfigErrors(t *testing.T) {
	cases := []struct {
		name     string
		cfg      provider.Config
		contains []string
	}{
		{"unknown provider", provider.Config{Provider: "gemini", Model: "m"}, []string{`"gemini"`, "openai, ollama, anthropic"}},
		{"no provider", provider.Config{Model: "m"}, []string{"--llm or GROUNDED_LLM"}},
		{"openai no model", provider.Config{Provider: "openai", APIKey: "k"}, []string{"--llm-model or GROUNDED_LLM_MODEL"}},
		{"ollama no model", provider.Config{Provider: "ollama"}, []string{"--llm-model or GROUNDED_LLM_MODEL"}},
		{"anthropic no model", provider.Config{Provider: "anthropic", APIKey: "k"}, []string{"--llm-model or GROUNDED_LLM_MODEL"}},
		{"openai no key", provider.Config{Provider: "openai", Model: "gpt-4o-mini"},
			[]string{"set --llm-key or GROUNDED_LLM_KEY / OPENAI_API_KEY", "https://api.openai.com/v1"}},
		{"anthropic no key", provider.Config{Provider: "anthropic", Model: "claude-3-5-haiku-latest"},
			[]string{"set --llm-key or GROUNDED_LLM_KEY / ANTHROPIC_API_KEY"}},
		{"URL without scheme", provider.Config{Provider: "ollama", Model: "m", BaseURL: "localhost:11434"}, []string{"--llm-url", "localhost:11434"}},
		{"URL bad scheme", provider.Config{Provider: "ollama", Model: "m", BaseURL: "ftp://host"}, []string{"--llm-url"}},
		{"URL no host", provider.Config{Provider: "openai", Model: "m", APIKey: "k", BaseURL: "http://"}, []string{"--llm-url"}},
		{"URL unparsable", provider.Config{Provider: "openai", Model: "m", APIKey: "k", BaseURL: "http://[::1"}, []string{"--llm-url"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := provider.NewLLM(tc.cfg)
			if grounded.ErrorCode(err) != grounded.EINVALID {
				t.Fatalf("err %v, want EINVALID", err)
			}
			for _, s := range tc.contains {
				if !strings.Contains(grounded.ErrorMessage(err), s) {
					t.Errorf("message %q does not mention %q", grounded.ErrorMessage(err), s)
				}
			}
		})
	}
}

// A cancel while waiting to retry ends the wait.
func TestCancelDuringBackoff(t *testing.T) {
	arrived := make(chan struct{}, 1)
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, body map[string]any) {
		openaiDialect.fail(failServer, "boom")(w, r, body)
		arrived <- struct{}{}
	})
	cfg := openaiDialect.config(f)
	cfg.Backoff = time.Hour
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-arrived; cancel() }()
	_, err := mustLLM(t, cfg).Generate(ctx, askReq)
	if !errors.Is(err, context.Canceled) || f.count() != 1 {
		t.Errorf("err %v after %d requests; want context.Canceled after 1", err, f.count())
	}
}

// A Retry-After longer than the adapter waits returns the 429 at once.
func TestLongRetryAfter(t *testing.T) {
	f := newFake(t, withHeader("Retry-After", "120", openaiDialect.fail(failRate, "Rate limit reached")))
	_, err := mustLLM(t, openaiDialect.config(f)).Generate(context.Background(), askReq)
	wantErr(t, err, provider.ErrRateLimited, "HTTP 429", "Rate limit reached")
	if f.count() != 1 {
		t.Errorf("%d requests, want 1", f.count())
	}
}

// langchaingo's Anthropic reader goroutine used to block for ever when the
// server sent an "error" event and kept the connection open
// (anthropicclient/messages.go:286-288); reads after Close now end it.
func TestAnthropicErrorEventLeavesNoReader(t *testing.T) {
	d := anthropicDialect
	s := d.stream([]string{"a"}, 1, 1)
	s.pieces = append(s.pieces, d.midError)
	for range 5 {
		f := newFake(t)
		f.script = []step{f.send(s, hold, len(s.pieces))}
		req, _ := collect(askReq)
		_, err := mustLLM(t, d.config(f)).Generate(context.Background(), req)
		wantErr(t, err, provider.ErrServer, "Overloaded")
	}
	// Wait (bounded) for the readers to end; a leaked one never does.
	deadline := time.Now().Add(5 * time.Second)
	for {
		buf := make([]byte, 1<<20)
		n := runtime.Stack(buf, true)
		leaked := strings.Count(string(buf[:n]), "anthropicclient.parseStreamingMessageResponse.func1")
		if leaked == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d Anthropic stream readers still running", leaked)
		}
		runtime.Gosched()
		time.Sleep(10 * time.Millisecond)
	}
}
