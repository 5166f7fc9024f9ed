package main

import (
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/groundedhq/grounded"
	"github.com/groundedhq/grounded/corpus"
	"github.com/groundedhq/grounded/server"
)

// checkSummary checks a summary's invariants against the cited files:
// every sentence cites, every marker resolves, every quote is its file's
// bytes [start:end], and (extractive) the quotes are in source, then
// document order.
func checkSummary(t *testing.T, sum *grounded.Summary, sentences int) {
	t.Helper()
	if len(sum.Sentences) != sentences || len(sum.Citations) != sentences {
		t.Fatalf("%d sentences and %d citations, want %d: %q", len(sum.Sentences), len(sum.Citations), sentences, sum.Summary)
	}
	for i, c := range sum.Citations {
		checkSpan(t, "summary citation ["+strconv.Itoa(c.N)+"]", c.Source, c.Start, c.End, c.Quote)
		st := sum.Sentences[i]
		if len(st.Citations) != 1 || st.Citations[0] != c.N || st.Text != strings.Join(strings.Fields(c.Quote), " ") {
			t.Errorf("sentence %q cites %v; want its own quote [%d]", st.Text, st.Citations, c.N)
		}
		if !strings.Contains(sum.Summary, st.Text+" ["+strconv.Itoa(c.N)+"]") {
			t.Errorf("summary %q lacks %q [%d]", sum.Summary, st.Text, c.N)
		}
		if i > 0 {
			p := sum.Citations[i-1]
			if p.Source > c.Source || p.Source == c.Source && p.Start >= c.Start {
				t.Errorf("citations [%d] and [%d] are out of order", p.N, c.N)
			}
		}
	}
}

func TestSummarizeCLI(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	const choosing = "corpus/choosing-a-generative-model.md"

	t.Run("text", func(t *testing.T) {
		stdout, stderr := mustRunCLI(t, "summarize", "--data", dir, "--source", choosing)
		if !strings.Contains(stderr, "ingesting the built-in default corpus") {
			t.Errorf("an empty data folder was not filled first: %q", stderr)
		}
		summary, rest, ok := strings.Cut(stdout, "\n\nSources:\n")
		if !ok {
			t.Fatalf("no summary then Sources: in\n%s", stdout)
		}
		if strings.Count(summary, "\n") != 0 || !regexp.MustCompile(`\. \[1\] .*\[5\]$`).MatchString(summary) {
			t.Errorf("summary line %q, want 5 cited sentences on one line", summary)
		}
		for n := 1; n <= 5; n++ {
			if !strings.Contains(rest, fmt.Sprintf("[%d] %s (bytes ", n, choosing)) {
				t.Errorf("no source line [%d] in\n%s", n, rest)
			}
		}
		if !strings.Contains(rest, "Covered: 1 document(s), ") || !strings.Contains(rest, "(extractive)") {
			t.Errorf("no coverage line in\n%s", rest)
		}
	})
	t.Run("json", func(t *testing.T) {
		stdout, _ := mustRunCLI(t, "summarize", "--data", dir, "--json", "--source", choosing, "--length", "3")
		var sum grounded.Summary
		decodeStrict(t, stdout, &sum)
		checkSummary(t, &sum, 3)
		if sum.Generator != "extractive" || sum.Coverage.Documents != 1 || sum.Coverage.Chunks == 0 || sum.Coverage.ChunksSummarized != sum.Coverage.Chunks {
			t.Errorf("generator %q coverage %+v", sum.Generator, sum.Coverage)
		}
	})
	t.Run("prefix", func(t *testing.T) {
		stdout, _ := mustRunCLI(t, "summarize", "--data", dir, "--json", "--source", "corpus/c*", "--length", "6")
		var sum grounded.Summary
		decodeStrict(t, stdout, &sum)
		checkSummary(t, &sum, 6)
		for _, c := range sum.Citations {
			if !strings.HasPrefix(c.Source, "corpus/c") {
				t.Errorf("corpus/c* cites %s", c.Source)
			}
		}
		if sum.Coverage.Documents != 2 {
			t.Errorf("corpus/c* read %d documents, want 2", sum.Coverage.Documents)
		}
	})
	t.Run("query", func(t *testing.T) {
		const q = "How do diffusion models generate images?"
		out, _ := mustRunCLI(t, "search", "--data", dir, "--json", "-k", "8", q)
		var hits server.SearchResponse
		decodeStrict(t, out, &hits)
		// Unquoted words after --query are the query's too.
		stdout, _ := mustRunCLI(t, "summarize", "--data", dir, "--json", "--query", "How", "do", "diffusion models generate images?", "-k", "8", "--length", "3")
		var sum grounded.Summary
		decodeStrict(t, stdout, &sum)
		checkSummary(t, &sum, 3)
		for _, c := range sum.Citations {
			in := false
			for _, h := range hits.Results {
				in = in || h.DocID == c.DocID && h.Start <= c.Start && c.End <= h.End
			}
			if !in {
				t.Errorf("citation [%d] %s [%d:%d) is in none of the 8 passages retrieved", c.N, c.Source, c.Start, c.End)
			}
		}
		if !sum.Coverage.Truncated || sum.Coverage.Chunks != 8 {
			t.Errorf("coverage %+v, want 8 passages and truncated at k", sum.Coverage)
		}
	})
	t.Run("usage", func(t *testing.T) {
		for _, args := range [][]string{
			{},
			{"--doc", "x", "--query", "y"},
			{"--source", choosing, "--length", "0"},
			{"--source", choosing, "--length", "51"},
			{"--source", choosing, "-k", "5"},
			{"--query", "y", "-k", "101"},
			{"--source", choosing, "--where", "novalue"},
			{"--source", choosing, "some", "words"},
		} {
			_, _, err := runCLI(t, append([]string{"summarize", "--data", dir}, args...)...)
			if !errors.Is(err, errUsage) {
				t.Errorf("summarize %q: error %v, want a usage error", args, err)
			}
		}
	})
	t.Run("not found", func(t *testing.T) {
		for _, args := range [][]string{{"--source", "corpus/nope.md"}, {"--source", "nowhere/*"}, {"--doc", "0000000000000000"}} {
			_, _, err := runCLI(t, append([]string{"summarize", "--data", dir}, args...)...)
			if err == nil || errors.Is(err, errUsage) || grounded.ErrorCode(err) != grounded.ENOTFOUND {
				t.Errorf("summarize %q: error %v, want not found", args, err)
			}
		}
	})
}

// TestSummarizeIngestedFolder: a source prefix over three ingested files,
// named by their absolute path and relative to the working directory.
func TestSummarizeIngestedFolder(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "data")
	notes := filepath.Join(root, "notes")
	if err := os.MkdirAll(notes, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"image-generation-models.md", "video-and-3d-generation.md", "audio-and-speech-generation.md"} {
		data, err := fs.ReadFile(corpus.FS, name)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(notes, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mustRunCLI(t, "ingest", "--data", dir, notes)
	stdout, _ := mustRunCLI(t, "summarize", "--data", dir, "--json", "--source", notes+"/*", "--length", "7")
	var sum grounded.Summary
	decodeStrict(t, stdout, &sum)
	checkSummary(t, &sum, 7)
	cited := map[string]bool{}
	for _, c := range sum.Citations {
		cited[c.Source] = true
	}
	if sum.Coverage.Documents != 3 || len(cited) < 2 {
		t.Errorf("3 files: coverage %+v, cites %v", sum.Coverage, cited)
	}
	t.Chdir(root)
	stdout, _ = mustRunCLI(t, "summarize", "--data", dir, "--json", "--source", "notes/*", "--length", "7")
	var rel grounded.Summary
	decodeStrict(t, stdout, &rel)
	if rel.Summary != sum.Summary {
		t.Errorf("notes/* summarized as\n%s\nwant\n%s", rel.Summary, sum.Summary)
	}
}

func TestSummarizeHTTP(t *testing.T) {
	ts, a := newHTTPServer(t)
	docs, _, err := a.col.Documents(t.Context(), "corpus/choosing", 1)
	if err != nil || len(docs) != 1 {
		t.Fatal(docs, err)
	}
	for _, body := range []string{
		`{"source": "corpus/choosing-a-generative-model.md", "length": 4}`,
		`{"doc_id": "` + docs[0].ID + `", "length": 4}`,
		`{"doc_ids": ["` + docs[0].ID + `"], "length": 4, "collection": "default"}`,
	} {
		status, resp := post(t, ts, "/v1/summarize", body)
		if status != http.StatusOK {
			t.Fatalf("%s: status %d: %s", body, status, resp)
		}
		var sum grounded.Summary
		decodeStrict(t, resp, &sum)
		checkSummary(t, &sum, 4)
		if sum.Citations[0].Source != "corpus/choosing-a-generative-model.md" {
			t.Errorf("%s: cites %s", body, sum.Citations[0].Source)
		}
	}
	status, resp := post(t, ts, "/v1/summarize", `{"query": "fine-tuning with adapters", "length": 3}`)
	var sum grounded.Summary
	if status != http.StatusOK {
		t.Fatalf("query: status %d: %s", status, resp)
	}
	decodeStrict(t, resp, &sum)
	checkSummary(t, &sum, 3)
	for _, tc := range []struct {
		body   string
		status int
		code   string
	}{
		{`{"doc_id": "0000000000000000"}`, 404, "not_found"},
		{`{"source": "corpus/nope*"}`, 404, "not_found"},
		{`{}`, 400, "invalid"},
		{`{"doc_id": "x", "source": "y"}`, 400, "invalid"},
		{`{"source": "corpus/c*", "length": 51}`, 400, "invalid"},
		{`{"source": "corpus/c*", "collection": "nope"}`, 404, "not_found"},
	} {
		status, resp := post(t, ts, "/v1/summarize", tc.body)
		if status != tc.status || !strings.Contains(resp, `"code":"`+tc.code+`"`) {
			t.Errorf("%s: %d %s, want %d %s", tc.body, status, resp, tc.status, tc.code)
		}
	}
}

// TestSummarizeWithOpenAICompatibleModel: the collection's model config
// reaches the summarizer; its sentences are checked against the passages
// they cite, and a model that is down leaves the extractive summary.
func TestSummarizeWithOpenAICompatibleModel(t *testing.T) {
	var status atomic.Int32
	ts := openAIServer(t, &status, func(p string) string {
		n := citeWhere(p, "cannot generate images")
		return "A large language model on its own generates text and cannot generate images [" + n + "]. " +
			"It was invented in 1847 by Ada Lovelace [" + n + "]."
	})
	dir := filepath.Join(t.TempDir(), "data")
	args := []string{"summarize", "--data", dir, "--source", "corpus/choosing-a-generative-model.md", "--llm", "openai", "--llm-url", ts.URL + "/v1", "--llm-model", "test-model"}

	out, _ := mustRunCLI(t, append(args, "--json")...)
	var sum grounded.Summary
	decodeStrict(t, out, &sum)
	if sum.Generator != "openai" || sum.Model != "test-model" || sum.FallbackReason != "" || sum.Usage == nil || sum.Usage.CompletionTokens != 42 {
		t.Fatalf("summary %+v", sum)
	}
	if len(sum.Sentences) != 1 || len(sum.Unsupported) != 1 || !strings.Contains(sum.Unsupported[0].Text, "1847") || strings.Contains(sum.Summary, "1847") {
		t.Fatalf("want the supported sentence kept and the invented one dropped: %q / %+v", sum.Summary, sum.Unsupported)
	}
	if len(sum.Citations) != 1 || sum.Citations[0].N != sum.Sentences[0].Citations[0] {
		t.Fatalf("citations %+v for %+v", sum.Citations, sum.Sentences)
	}
	checkSpan(t, "model summary citation", sum.Citations[0].Source, sum.Citations[0].Start, sum.Citations[0].End, sum.Citations[0].Quote)
	if sum.Coverage.ChunksSummarized != sum.Coverage.Chunks || sum.Coverage.SentencesConsidered != 2 {
		t.Errorf("coverage %+v", sum.Coverage)
	}

	text, _ := mustRunCLI(t, args...)
	if !strings.Contains(text, "dropped, not supported by its sources") || !strings.Contains(text, "\nSources:\n[") {
		t.Errorf("text output:\n%s", text)
	}

	status.Store(http.StatusServiceUnavailable)
	out, _ = mustRunCLI(t, append(args, "--json", "--llm-timeout", "2s")...)
	var fb grounded.Summary
	decodeStrict(t, out, &fb)
	if fb.Generator != "extractive" || fb.FallbackReason == "" {
		t.Fatalf("want the extractive summary with a fallback reason, got %+v", fb)
	}
	checkSummary(t, &fb, grounded.DefaultSummaryLength)
}
