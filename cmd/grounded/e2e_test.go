package main

// End-to-end tests of the command line and the HTTP API, wired exactly as the
// binary wires them, over a temporary data folder. The invariant checked
// throughout: every citation's quote is the cited file's bytes [start:end].

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/groundedhq/grounded"
	"github.com/groundedhq/grounded/corpus"
	"github.com/groundedhq/grounded/retrieval"
	"github.com/groundedhq/grounded/server"
)

// runCLI runs the command line with args and returns its output.
func runCLI(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err = run(context.Background(), args, &out, &errOut)
	return out.String(), errOut.String(), err
}

// mustRunCLI is runCLI that fails the test on an error.
func mustRunCLI(t *testing.T, args ...string) (stdout, stderr string) {
	t.Helper()
	stdout, stderr, err := runCLI(t, args...)
	if err != nil {
		t.Fatalf("grounded %q: %v\nstderr: %s", args, err, stderr)
	}
	return stdout, stderr
}

// decodeStrict decodes one JSON value into v, refusing unknown fields.
func decodeStrict(t *testing.T, data string, v any) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("decoding %T from %q: %v", v, data, err)
	}
}

// corpusFiles returns the default corpus's file names.
func corpusFiles(t *testing.T) []string {
	t.Helper()
	names, err := fs.Glob(corpus.FS, "*.md")
	if err != nil || len(names) == 0 {
		t.Fatalf("corpus.FS holds no Markdown files (err %v)", err)
	}
	return names
}

// sourceBytes returns the bytes of a cited source: "corpus/NAME" is read from
// the embedded default corpus, anything else must be an absolute file path.
func sourceBytes(t *testing.T, source string) []byte {
	t.Helper()
	if name, ok := strings.CutPrefix(source, "corpus/"); ok {
		data, err := fs.ReadFile(corpus.FS, name)
		if err != nil {
			t.Fatalf("source %q is not in the default corpus: %v", source, err)
		}
		return data
	}
	if !filepath.IsAbs(source) {
		t.Fatalf("source %q is neither corpus/NAME nor an absolute path", source)
	}
	data, err := os.ReadFile(source)
	if err != nil {
		t.Fatalf("source %q: %v", source, err)
	}
	return data
}

// checkSpan checks that text is exactly source's bytes [start:end].
func checkSpan(t *testing.T, what, source string, start, end int, text string) {
	t.Helper()
	data := sourceBytes(t, source)
	if start < 0 || start >= end || end > len(data) {
		t.Errorf("%s: span [%d:%d) is not a non-empty range of %s (%d bytes)", what, start, end, source, len(data))
		return
	}
	if got := string(data[start:end]); got != text {
		t.Errorf("%s: %s[%d:%d] =\n  %q\nbut the text is\n  %q", what, source, start, end, got, text)
	}
}

var markerRE = regexp.MustCompile(`\[(\d+)\]`)

// checkAnswer checks an answer's invariants: citations are numbered 1..n and
// quote their sources exactly; a non-abstained answer has text and cites each
// citation, with no marker that points nowhere; an abstention has a known
// reason, no text and no citations.
func checkAnswer(t *testing.T, ans *grounded.Answer) {
	t.Helper()
	if ans.Abstained {
		if ans.Reason != grounded.ReasonNoEvidence && ans.Reason != grounded.ReasonWeakEvidence {
			t.Errorf("%q: abstained with reason %q, want %s or %s", ans.Question, ans.Reason, grounded.ReasonNoEvidence, grounded.ReasonWeakEvidence)
		}
		if ans.Answer != "" || len(ans.Citations) != 0 {
			t.Errorf("%q: abstention has answer %q and %d citations, want none", ans.Question, ans.Answer, len(ans.Citations))
		}
		return
	}
	if ans.Reason != "" {
		t.Errorf("%q: answered but has reason %q", ans.Question, ans.Reason)
	}
	if strings.TrimSpace(ans.Answer) == "" || len(ans.Citations) == 0 {
		t.Errorf("%q: answered with text %q and %d citations; want both", ans.Question, ans.Answer, len(ans.Citations))
	}
	for i, c := range ans.Citations {
		if c.N != i+1 {
			t.Errorf("%q: citation %d is numbered %d", ans.Question, i, c.N)
		}
		if c.DocID == "" || c.Title == "" {
			t.Errorf("%q: citation [%d] lacks doc_id or title: %+v", ans.Question, c.N, c)
		}
		checkSpan(t, "citation ["+strconv.Itoa(c.N)+"] of "+strconv.Quote(ans.Question), c.Source, c.Start, c.End, c.Quote)
		if !strings.Contains(ans.Answer, "["+strconv.Itoa(c.N)+"]") {
			t.Errorf("%q: answer %q does not cite [%d]", ans.Question, ans.Answer, c.N)
		}
	}
	for _, m := range markerRE.FindAllStringSubmatch(ans.Answer, -1) {
		if n, _ := strconv.Atoi(m[1]); n < 1 || n > len(ans.Citations) {
			t.Errorf("%q: answer has marker %s but only %d citations", ans.Question, m[0], len(ans.Citations))
		}
	}
}

// summaryRE matches ingest.Summary's String.
var summaryRE = regexp.MustCompile(`(\d+) files: (\d+) added, (\d+) updated, (\d+) unchanged, (\d+) skipped \(unsupported type\), (\d+) failed; (\d+) chunks written`)

// ingestCounts are the numbers of an ingest summary line.
type ingestCounts struct {
	Files, Added, Updated, Unchanged, Skipped, Failed, Chunks int
}

func parseSummary(t *testing.T, out string) ingestCounts {
	t.Helper()
	m := summaryRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no ingest summary in %q", out)
	}
	n := make([]int, len(m)-1)
	for i, s := range m[1:] {
		n[i], _ = strconv.Atoi(s)
	}
	return ingestCounts{n[0], n[1], n[2], n[3], n[4], n[5], n[6]}
}

// TestCLI walks through a user's first session: ask on an empty data folder,
// search, ingest their own files, ask about them, re-ingest.
func TestCLI(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	nCorpus := len(corpusFiles(t))

	t.Run("first ask ingests the default corpus", func(t *testing.T) {
		stdout, stderr := mustRunCLI(t, "ask", "--data", dir, "--json", "Can a large language model generate images?")
		if !strings.Contains(stderr, "ingesting the built-in default corpus") {
			t.Errorf("stderr does not say the default corpus was ingested: %q", stderr)
		}
		if got, want := parseSummary(t, stderr), (ingestCounts{Files: nCorpus, Added: nCorpus}); got.Files != want.Files || got.Added != want.Added || got.Failed != 0 || got.Chunks == 0 {
			t.Errorf("default corpus summary = %+v, want %d files all added, some chunks", got, nCorpus)
		}
		var ans grounded.Answer
		decodeStrict(t, stdout, &ans)
		if ans.Abstained || len(ans.Citations) == 0 {
			t.Fatalf("abstained=%v reason=%q citations=%d; want an answer with citations", ans.Abstained, ans.Reason, len(ans.Citations))
		}
		if !strings.Contains(ans.Answer, "[1]") {
			t.Errorf("answer %q does not contain [1]", ans.Answer)
		}
		for _, c := range ans.Citations {
			if !strings.HasPrefix(c.Source, "corpus/") {
				t.Errorf("citation [%d] source = %q, want corpus/NAME", c.N, c.Source)
			}
		}
		checkAnswer(t, &ans)
		if ans.Question != "Can a large language model generate images?" {
			t.Errorf("question = %q", ans.Question)
		}
	})

	t.Run("out of scope question abstains", func(t *testing.T) {
		stdout, stderr := mustRunCLI(t, "ask", "--data", dir, "--json", "What is the capital of Mongolia?")
		if strings.Contains(stderr, "ingesting") {
			t.Errorf("second run ingested the default corpus again: %q", stderr)
		}
		var ans grounded.Answer
		decodeStrict(t, stdout, &ans)
		if !ans.Abstained {
			t.Fatalf("want an abstention, got answer %q", ans.Answer)
		}
		checkAnswer(t, &ans)
	})

	t.Run("text output", func(t *testing.T) {
		stdout, _ := mustRunCLI(t, "ask", "--data", dir, "What is LoRA?")
		for _, want := range []string{"Sources:", "[1] corpus/", "bytes "} {
			if !strings.Contains(stdout, want) {
				t.Errorf("ask output lacks %q:\n%s", want, stdout)
			}
		}
		stdout, _ = mustRunCLI(t, "ask", "--data", dir, "What is the capital of Mongolia?")
		if !strings.HasPrefix(stdout, "No grounded answer:") {
			t.Errorf("abstention output = %q, want it to start with \"No grounded answer:\"", stdout)
		}
	})

	t.Run("search", func(t *testing.T) {
		// Flags after the query words work too.
		stdout, _ := mustRunCLI(t, "search", "--data", dir, "--json", "LoRA", "adapters", "-k", "3")
		var resp server.SearchResponse
		decodeStrict(t, stdout, &resp)
		if len(resp.Results) != 3 {
			t.Fatalf("got %d results, want 3", len(resp.Results))
		}
		for i, r := range resp.Results {
			checkSpan(t, "result "+strconv.Itoa(i), r.Source, r.Start, r.End, r.Text)
			if i > 0 && r.Score > resp.Results[i-1].Score {
				t.Errorf("result %d scores %v, above result %d's %v", i, r.Score, i-1, resp.Results[i-1].Score)
			}
		}
		if resp.Results[0].Source != "corpus/fine-tuning.md" {
			t.Errorf("top result for LoRA adapters is %s, want corpus/fine-tuning.md", resp.Results[0].Source)
		}
	})

	docs := t.TempDir()
	manual := filepath.Join(docs, "zorblax.md")
	writeManual := func(hours string) {
		t.Helper()
		text := "# Zorblax 9000 Field Manual\n\n" +
			"The Zorblax 9000 is a handheld soil analyser made by the Quibbleworth company.\n\n" +
			"## Battery\n\n" +
			"The Zorblax 9000 runs for " + hours + " hours on a single charge of its graphene battery.\n\n" +
			"## Care\n\nWipe the Zorblax 9000 probe with a dry cloth after every measurement.\n"
		if err := os.WriteFile(manual, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	writeManual("73")
	// Counted as skipped: an unsupported type. Not counted at all: dot files.
	for name, data := range map[string]string{"photo.png": "\x89PNG", ".draft.md": "# Draft\n\nThe Zorblax 9000 runs for 5 hours.\n"} {
		if err := os.WriteFile(filepath.Join(docs, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	const question = "How many hours does the Zorblax 9000 run on a single charge?"
	askManual := func(t *testing.T, wantInQuote string) {
		t.Helper()
		stdout, _ := mustRunCLI(t, "ask", "--data", dir, "--json", question)
		var ans grounded.Answer
		decodeStrict(t, stdout, &ans)
		if ans.Abstained {
			t.Fatalf("abstained (%s) on a question its own file answers", ans.Reason)
		}
		checkAnswer(t, &ans)
		c := ans.Citations[0]
		if c.Source != manual {
			t.Errorf("citation [1] source = %q, want the file's absolute path %q", c.Source, manual)
		}
		if !strings.Contains(c.Quote, wantInQuote) {
			t.Errorf("citation [1] quote = %q, want it to contain %q", c.Quote, wantInQuote)
		}
	}

	t.Run("ingest own files", func(t *testing.T) {
		stdout, _ := mustRunCLI(t, "ingest", "--data", dir, docs)
		got := parseSummary(t, stdout)
		if want := (ingestCounts{Files: 2, Added: 1, Skipped: 1}); got.Files != want.Files || got.Added != want.Added ||
			got.Updated != 0 || got.Unchanged != 0 || got.Skipped != want.Skipped || got.Failed != 0 || got.Chunks == 0 {
			t.Errorf("summary = %+v, want 2 files: 1 added, 1 skipped, some chunks", got)
		}
		if want := "index " + dir + ": " + strconv.Itoa(nCorpus+1) + " documents"; !strings.Contains(stdout, want) {
			t.Errorf("ingest output lacks %q:\n%s", want, stdout)
		}
		askManual(t, "73 hours")
	})

	t.Run("re-ingest unchanged", func(t *testing.T) {
		stdout, _ := mustRunCLI(t, "ingest", "--data", dir, docs)
		if got, want := parseSummary(t, stdout), (ingestCounts{Files: 2, Unchanged: 1, Skipped: 1}); got != want {
			t.Errorf("summary = %+v, want %+v", got, want)
		}
	})

	t.Run("re-ingest changed", func(t *testing.T) {
		writeManual("41")
		stdout, _ := mustRunCLI(t, "ingest", "--data", dir, manual)
		if got := parseSummary(t, stdout); got.Files != 1 || got.Updated != 1 || got.Added != 0 || got.Chunks == 0 {
			t.Errorf("summary = %+v, want 1 file updated", got)
		}
		if want := strconv.Itoa(nCorpus+1) + " documents"; !strings.Contains(stdout, want) {
			t.Errorf("an update changed the document count: %q, want %q", stdout, want)
		}
		askManual(t, "41 hours")
	})
}

func TestCLIHelp(t *testing.T) {
	for _, arg := range []string{"help", "-h", "--help"} {
		stdout, _, err := runCLI(t, arg)
		if err != nil || !strings.Contains(stdout, "Usage:") {
			t.Errorf("grounded %s = %v, output %q; want the usage text", arg, err, stdout)
		}
	}
}

func TestCLIUsageErrors(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	tests := []struct {
		name string
		args []string
	}{
		{"no command", nil},
		{"unknown command", []string{"frobnicate"}},
		{"ask with no question", []string{"ask", "--data", dir}},
		{"ask with blank question", []string{"ask", "--data", dir, "  ", ""}},
		{"search with no query", []string{"search", "--data", dir, "--json"}},
		{"ingest with no path", []string{"ingest", "--data", dir}},
		{"serve with an argument", []string{"serve", "--data", dir, "extra"}},
		{"bad flag", []string{"ask", "--data", dir, "--bogus", "a question"}},
		{"bad flag value", []string{"search", "--data", dir, "-k", "five", "query"}},
		{"flag missing its value", []string{"ask", "a question", "--data"}},
		{"k out of range", []string{"ask", "--data", dir, "-k", "1000", "What is LoRA?"}},
		{"k zero", []string{"search", "--data", dir, "-k", "0", "LoRA"}},
		{"min confidence above 1", []string{"ask", "--data", dir, "--min-confidence", "2", "LoRA"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, _, err := runCLI(t, tt.args...)
			if !errors.Is(err, errUsage) {
				t.Errorf("grounded %q = %v, want an error wrapping errUsage", tt.args, err)
			}
			if stdout != "" {
				t.Errorf("a usage error printed to stdout: %q", stdout)
			}
			// A usage error is caught before anything is opened or written.
			if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("data folder exists after a usage error (stat: %v)", err)
			}
		})
	}
}

func TestCLIErrors(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	tests := []struct {
		name string
		args []string
	}{
		{"ingest a missing path", []string{"ingest", "--data", dir, filepath.Join(t.TempDir(), "missing")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := runCLI(t, tt.args...)
			if err == nil {
				t.Fatalf("grounded %q succeeded, want an error", tt.args)
			}
			if errors.Is(err, errUsage) {
				t.Errorf("grounded %q = %v: not a usage error", tt.args, err)
			}
			if _, serr := os.Stat(dir); serr == nil {
				t.Errorf("grounded %q created the data folder though it failed", tt.args)
			}
		})
	}
}

// newHTTPServer builds the API as cmdServe does, over a fresh data folder.
func newHTTPServer(t *testing.T) (*httptest.Server, *app) {
	t.Helper()
	var stderr bytes.Buffer
	a, err := openServing(context.Background(), commonFlags{data: filepath.Join(t.TempDir(), "data")}, llmFlags{}, &stderr)
	if err != nil {
		t.Fatalf("openServing: %v\nstderr: %s", err, stderr.String())
	}
	t.Cleanup(func() { a.Close() })
	if !strings.Contains(stderr.String(), "ingesting the built-in default corpus") {
		t.Errorf("openServing on an empty folder did not say it ingested the default corpus: %q", stderr.String())
	}
	ts := httptest.NewServer(server.New(server.Config{Collections: collections{a.set}}))
	t.Cleanup(ts.Close)
	return ts, a
}

func post(t *testing.T, ts *httptest.Server, path, body string) (int, string) {
	t.Helper()
	resp, err := ts.Client().Post(ts.URL+path, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("POST %s: Content-Type %q, want application/json", path, ct)
	}
	return resp.StatusCode, string(data)
}

func TestHTTP(t *testing.T) {
	ts, a := newHTTPServer(t)

	t.Run("ask", func(t *testing.T) {
		status, body := post(t, ts, "/v1/ask", `{"question": "How do diffusion models generate images?", "k": 5}`)
		if status != http.StatusOK {
			t.Fatalf("status %d: %s", status, body)
		}
		var ans grounded.Answer
		decodeStrict(t, body, &ans)
		if ans.Abstained || len(ans.Citations) == 0 {
			t.Fatalf("abstained=%v (%s), %d citations; want an answer", ans.Abstained, ans.Reason, len(ans.Citations))
		}
		checkAnswer(t, &ans)
	})

	t.Run("ask out of scope", func(t *testing.T) {
		status, body := post(t, ts, "/v1/ask", `{"question": "Who won the 1998 World Cup?"}`)
		if status != http.StatusOK {
			t.Fatalf("an abstention is a success: status %d: %s", status, body)
		}
		var ans grounded.Answer
		decodeStrict(t, body, &ans)
		if !ans.Abstained {
			t.Errorf("want an abstention, got %q", ans.Answer)
		}
		checkAnswer(t, &ans)
	})

	t.Run("search", func(t *testing.T) {
		status, body := post(t, ts, "/v1/search", `{"query": "cosine similarity of embeddings", "k": 4}`)
		if status != http.StatusOK {
			t.Fatalf("status %d: %s", status, body)
		}
		var resp server.SearchResponse
		decodeStrict(t, body, &resp)
		if len(resp.Results) != 4 {
			t.Fatalf("got %d results, want 4", len(resp.Results))
		}
		for i, r := range resp.Results {
			checkSpan(t, "result "+strconv.Itoa(i), r.Source, r.Start, r.End, r.Text)
		}
	})

	t.Run("healthz", func(t *testing.T) {
		resp, err := ts.Client().Get(ts.URL + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var h struct {
			Status string `json:"status"`
			Chunks int    `json:"chunks"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK || h.Status != "ok" || h.Chunks != a.col.Len() || h.Chunks == 0 {
			t.Errorf("healthz = %d %+v, want 200 ok with %d chunks", resp.StatusCode, h, a.col.Len())
		}
	})

	errorCases := []struct {
		name, path, body string
		wantStatus       int
		wantCode         string
	}{
		{"empty question", "/v1/ask", `{"question": ""}`, 400, "invalid"},
		{"k out of range", "/v1/ask", `{"question": "What is LoRA?", "k": 1000}`, 400, "invalid"},
		{"negative k", "/v1/search", `{"query": "LoRA", "k": -1}`, 400, "invalid"},
		{"unknown field", "/v1/search", `{"query": "LoRA", "limit": 3}`, 400, "invalid"},
		{"not JSON", "/v1/ask", `What is LoRA?`, 400, "invalid"},
		{"body too large", "/v1/ask", `{"question": "` + strings.Repeat("x", 2<<20) + `"}`, 413, "too_large"},
		{"question too long", "/v1/ask", `{"question": "` + strings.Repeat("x ", 4096) + `"}`, 400, "invalid"},
	}
	for _, tt := range errorCases {
		t.Run(tt.name, func(t *testing.T) {
			status, body := post(t, ts, tt.path, tt.body)
			var e struct {
				Error struct{ Code, Message string } `json:"error"`
			}
			decodeStrict(t, body, &e)
			if status != tt.wantStatus || e.Error.Code != tt.wantCode || e.Error.Message == "" {
				t.Errorf("status %d, error %+v; want %d %q with a message", status, e.Error, tt.wantStatus, tt.wantCode)
			}
		})
	}
}

// TestCitationsAreExact asks varied questions about the default corpus's
// topics, and a few it does not cover, and checks every answer's invariants.
func TestCitationsAreExact(t *testing.T) {
	ctx := context.Background()
	var stderr bytes.Buffer
	a, err := openServing(ctx, commonFlags{data: filepath.Join(t.TempDir(), "data")}, llmFlags{}, &stderr)
	if err != nil {
		t.Fatalf("openServing: %v\n%s", err, stderr.String())
	}
	defer a.Close()

	inScope := []struct {
		question string
		wantDoc  string // a corpus file that must be among the citations
	}{
		{"Why do language models hallucinate?", "why-language-models-hallucinate.md"},
		{"How can hallucinations be reduced?", "why-language-models-hallucinate.md"},
		{"Why does a model invent citations?", "why-language-models-hallucinate.md"},
		{"What is fine-tuning used for?", "fine-tuning.md"},
		{"What is LoRA?", "fine-tuning.md"},
		{"What does QLoRA keep in four-bit precision?", "fine-tuning.md"},
		{"What are the costs of self-hosting a model on GPUs?", "cost-trade-offs.md"},
		{"What are open-weight models?", "open-weight-versus-closed-models.md"},
		{"How do diffusion models generate images?", ""},
		{"How do agents use tools?", "agentic-workflows.md"},
		{"What are embeddings used for?", "embeddings-and-vector-search.md"},
		{"What is cosine similarity?", "embeddings-and-vector-search.md"},
		{"How do you evaluate an LLM application?", "evaluating-llm-applications.md"},
		{"What is retrieval-augmented generation?", ""},
		{"Can models generate video?", "video-and-3d-generation.md"},
		{"How is synthetic data generated?", "synthetic-data-generation.md"},
		{"What is a multimodal model?", "multimodal-models.md"},
	}
	outOfScope := []string{
		"What is the capital of Mongolia?",
		"Who won the 1998 World Cup?",
	}

	answered := 0
	for _, q := range inScope {
		ans, err := a.col.Ask(ctx, grounded.AskRequest{Question: q.question})
		if err != nil {
			t.Errorf("Ask(%q): %v", q.question, err)
			continue
		}
		checkAnswer(t, ans)
		if ans.Abstained {
			t.Logf("%q: abstained (%s)", q.question, ans.Reason)
			continue
		}
		answered++
		if q.wantDoc != "" && !slices.ContainsFunc(ans.Citations, func(c grounded.Citation) bool { return c.Source == "corpus/"+q.wantDoc }) {
			t.Errorf("%q: no citation from corpus/%s: %+v", q.question, q.wantDoc, ans.Citations)
		}
	}
	// The invariants above hold vacuously for abstentions; most of these
	// questions must be answered for the test to mean anything.
	if min := len(inScope) - 2; answered < min {
		t.Errorf("answered %d of %d in-scope questions, want at least %d", answered, len(inScope), min)
	}
	for _, q := range outOfScope {
		ans, err := a.col.Ask(ctx, grounded.AskRequest{Question: q})
		if err != nil {
			t.Errorf("Ask(%q): %v", q, err)
			continue
		}
		if !ans.Abstained {
			t.Errorf("%q: answered %q, want an abstention", q, ans.Answer)
		}
		checkAnswer(t, ans)
	}
}

// addrWriter collects a log and sends the address of its "serving" line.
type addrWriter struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	addrs chan string
}

var servingRE = regexp.MustCompile(`msg=serving addr=(\S+)`)

func (w *addrWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if m := servingRE.FindSubmatch(p); m != nil {
		select {
		case w.addrs <- string(m[1]):
		default:
		}
	}
	return w.buf.Write(p)
}

func (w *addrWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// TestServeCommand runs `grounded serve` itself, asks it a question over
// HTTP and stops it by cancelling its context, as SIGTERM does.
func TestServeCommand(t *testing.T) {
	const watchdog = 20 * time.Second
	dir := filepath.Join(t.TempDir(), "data")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stderr := &addrWriter{addrs: make(chan string, 1)}
	var stdout bytes.Buffer // written only by run's goroutine, read after it returns
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--data", dir, "--addr", "127.0.0.1:0"}, &stdout, stderr)
	}()

	var addr string
	select {
	case addr = <-stderr.addrs:
	case err := <-done:
		t.Fatalf("serve returned early: %v\nstderr: %s", err, stderr.String())
	case <-time.After(watchdog):
		cancel()
		t.Fatalf("serve never logged its address\nstderr: %s", stderr.String())
	}
	if !strings.Contains(stderr.String(), "ingesting the built-in default corpus") {
		t.Errorf("serve on an empty folder did not say it ingested the default corpus:\n%s", stderr.String())
	}

	resp, err := http.Post("http://"+addr+"/v1/ask", "application/json", strings.NewReader(`{"question": "What is LoRA?"}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("ask: status %d: %s", resp.StatusCode, body)
	}
	var ans grounded.Answer
	decodeStrict(t, string(body), &ans)
	if ans.Abstained {
		t.Errorf("abstained (%s) on %q", ans.Reason, ans.Question)
	}
	checkAnswer(t, &ans)

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve = %v after its context was cancelled, want nil", err)
		}
	case <-time.After(watchdog):
		t.Fatal("serve did not stop after its context was cancelled")
	}
	logs := stderr.String()
	for _, want := range []string{"msg=request", "path=/v1/ask", "status=200", "msg=stopped"} {
		if !strings.Contains(logs, want) {
			t.Errorf("serve's log lacks %q:\n%s", want, logs)
		}
	}
	if stdout.Len() != 0 {
		t.Errorf("serve wrote to stdout: %q", stdout.String())
	}
}

// TestGloveEmbedder: --embedder glove indexes and answers offline, and the
// index then refuses the default embedder's vectors.
func TestGloveEmbedder(t *testing.T) {
	dir := t.TempDir()
	out, _ := mustRunCLI(t, "ask", "--data", dir, "--embedder", "glove", "--json", "Can a large language model generate images?")
	var ans grounded.Answer
	if err := json.Unmarshal([]byte(out), &ans); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if ans.Abstained || len(ans.Citations) == 0 {
		t.Fatalf("abstained with the glove embedder: %+v", ans)
	}
	if _, _, err := runCLI(t, "search", "--data", dir, "images"); err == nil || !strings.Contains(err.Error(), retrieval.WordVecEmbedderName) {
		t.Errorf("the default embedder opened a glove index: %v", err)
	}
}
