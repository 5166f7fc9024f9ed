package summarize_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/groundedhq/grounded"
	"github.com/groundedhq/grounded/answer/grounding"
	"github.com/groundedhq/grounded/answer/summarize"
	"github.com/groundedhq/grounded/corpus"
	"github.com/groundedhq/grounded/ingest"
	"github.com/groundedhq/grounded/internal/textproc"
)

var (
	chunkerOnce sync.Once
	chunker     *ingest.Chunker
	chunkerErr  error
)

// load reads a document and cuts it into chunks as ingest does.
func load(t testing.TB, source string, data []byte) (*grounded.Document, []grounded.Chunk) {
	t.Helper()
	chunkerOnce.Do(func() { chunker, chunkerErr = ingest.NewChunker(ingest.ChunkConfig{}) })
	if chunkerErr != nil {
		t.Fatal(chunkerErr)
	}
	doc, err := ingest.Load(source, data)
	if err != nil {
		t.Fatal(err)
	}
	doc.ID = ingest.DocID(source)
	doc.ContentHash = ingest.ContentHash(data)
	chunks := chunker.Chunk(doc)
	if len(chunks) == 0 {
		t.Fatalf("%s: no chunks", source)
	}
	return doc, chunks
}

func corpusDoc(t testing.TB, name string) (*grounded.Document, []grounded.Chunk) {
	t.Helper()
	data, err := fs.ReadFile(corpus.FS, name)
	if err != nil {
		t.Fatal(err)
	}
	return load(t, "corpus/"+name, data)
}

// checkSummary checks the invariants of every summary: sentences cite,
// every marker resolves to a citation, every quote is its document's
// text[start:end], and the summary text is the sentences with markers.
func checkSummary(t *testing.T, sum *grounded.Summary, docs map[string]*grounded.Document) {
	t.Helper()
	if len(sum.Sentences) == 0 || sum.Summary == "" {
		t.Fatalf("empty summary: %+v", sum)
	}
	ns := map[int]grounded.Citation{}
	for _, c := range sum.Citations {
		if _, dup := ns[c.N]; dup {
			t.Errorf("citation [%d] twice", c.N)
		}
		ns[c.N] = c
		d, ok := docs[c.DocID]
		if !ok {
			t.Errorf("citation [%d] names document %s, not an input", c.N, c.DocID)
			continue
		}
		if c.Source != d.Source || c.Title == "" {
			t.Errorf("citation [%d]: source %q title %q, want %q", c.N, c.Source, c.Title, d.Source)
		}
		if c.Start < 0 || c.End > len(d.Text) || c.Start >= c.End || d.Text[c.Start:c.End] != c.Quote {
			t.Errorf("citation [%d]: quote %q is not text[%d:%d]", c.N, c.Quote, c.Start, c.End)
		}
	}
	for _, st := range sum.Sentences {
		if len(st.Citations) == 0 {
			t.Errorf("sentence %q cites nothing", st.Text)
		}
		for _, n := range st.Citations {
			if _, ok := ns[n]; !ok {
				t.Errorf("sentence %q cites [%d], which is not a citation", st.Text, n)
			}
		}
		if !strings.Contains(sum.Summary, st.Text+" ") {
			t.Errorf("summary %q lacks sentence %q", sum.Summary, st.Text)
		}
	}
}

// inOrder checks that the extractive citations are in source, then
// document order.
func inOrder(t *testing.T, sum *grounded.Summary) {
	t.Helper()
	for i := 1; i < len(sum.Citations); i++ {
		a, b := sum.Citations[i-1], sum.Citations[i]
		if a.Source > b.Source || a.Source == b.Source && a.Start >= b.Start {
			t.Errorf("citations [%d] %s@%d and [%d] %s@%d are out of order", a.N, a.Source, a.Start, b.N, b.Source, b.Start)
		}
	}
}

func TestExtractiveDocument(t *testing.T) {
	doc, chunks := corpusDoc(t, "choosing-a-generative-model.md")
	for _, length := range []int{0, 1, 5, 8} {
		t.Run(strconv.Itoa(length), func(t *testing.T) {
			s := summarize.New(summarize.Config{})
			sum, err := s.Summarize(context.Background(), summarize.Input{Chunks: chunks, Length: length})
			if err != nil {
				t.Fatal(err)
			}
			want := length
			if want == 0 {
				want = grounded.DefaultSummaryLength
			}
			if len(sum.Sentences) != want || len(sum.Citations) != want {
				t.Fatalf("%d sentences, %d citations; want %d: %s", len(sum.Sentences), len(sum.Citations), want, sum.Summary)
			}
			checkSummary(t, sum, map[string]*grounded.Document{doc.ID: doc})
			inOrder(t, sum)
			for i, st := range sum.Sentences {
				c := sum.Citations[i]
				if c.N != i+1 || !slices.Equal(st.Citations, []int{i + 1}) {
					t.Errorf("sentence %d cites %v, citation numbered %d", i, st.Citations, c.N)
				}
				if st.Text != strings.Join(strings.Fields(c.Quote), " ") || !st.Supported || st.Support != 1 {
					t.Errorf("sentence %q is not its quote %q, supported", st.Text, c.Quote)
				}
				if strings.HasPrefix(c.Quote, "#") || strings.HasPrefix(c.Quote, "|") || len(textproc.Words(c.Quote)) < 4 {
					t.Errorf("picked a heading, table row or fragment: %q", c.Quote)
				}
			}
			cov := sum.Coverage
			if sum.Generator != "extractive" || cov.Documents != 1 || cov.Chunks != len(chunks) || cov.ChunksSummarized != len(chunks) || cov.Truncated || cov.SentencesConsidered < 20 {
				t.Errorf("generator %q coverage %+v, want extractive over 1 document, %d chunks, not truncated", sum.Generator, cov, len(chunks))
			}
		})
	}
}

func TestExtractiveSeveralDocuments(t *testing.T) {
	docs := map[string]*grounded.Document{}
	var chunks []grounded.Chunk
	// Given out of order: the summary reads by source.
	for _, name := range []string{"video-and-3d-generation.md", "image-generation-models.md", "audio-and-speech-generation.md"} {
		d, cs := corpusDoc(t, name)
		docs[d.ID] = d
		chunks = append(cs, chunks...)
	}
	sum, err := summarize.New(summarize.Config{}).Summarize(context.Background(), summarize.Input{Chunks: chunks, Length: 9})
	if err != nil {
		t.Fatal(err)
	}
	checkSummary(t, sum, docs)
	inOrder(t, sum)
	sources := map[string]bool{}
	for _, c := range sum.Citations {
		sources[c.Source] = true
	}
	if len(sources) < 2 {
		t.Errorf("9 sentences of 3 documents come from %d document(s): %v", len(sources), sources)
	}
	if sum.Coverage.Documents != 3 || sum.Coverage.Chunks != len(chunks) {
		t.Errorf("coverage %+v, want 3 documents, %d chunks", sum.Coverage, len(chunks))
	}
}

func TestExtractiveRedundancy(t *testing.T) {
	repeated := "Retrieval grounding keeps the model's answers tied to the cited documents."
	text := "# Notes on grounding\n\n" +
		repeated + " Every answer names its sources so that a reader can check them.\n\n" +
		"Answers without sources are hard to trust, because a reader cannot check them.\n\n" +
		repeated + "\n\n" +
		"Retrieval grounding keeps the model's answers tied to the cited documents!\n\n" +
		"A search index finds the passages that best match the question.\n\n" +
		"The passages are then quoted, and each quote is checked against the document.\n\n" +
		repeated + " Short.\n\n" +
		"Grounding keeps the model's answers tied to the documents it cites.\n\n" +
		"Cats sleep for most of the day in warm places.\n"
	doc, chunks := load(t, "notes.md", []byte(text))
	sum, err := summarize.New(summarize.Config{}).Summarize(context.Background(), summarize.Input{Chunks: chunks, Length: 6})
	if err != nil {
		t.Fatal(err)
	}
	checkSummary(t, sum, map[string]*grounded.Document{doc.ID: doc})
	inOrder(t, sum)
	near := 0
	for _, st := range sum.Sentences {
		if strings.Contains(st.Text, "answers tied to the") {
			near++
		}
	}
	if near != 1 {
		t.Errorf("%d sentences about answers tied to documents (repeated 4 times, once reworded), want 1: %s", near, sum.Summary)
	}
	if n := strings.Count(sum.Summary, "Short."); n != 0 {
		t.Errorf("a fragment was picked: %s", sum.Summary)
	}
}

func TestExtractiveSkipsNonProse(t *testing.T) {
	text := "# Building the index\n\n" +
		"The index is built from the documents at start-up and kept in memory.\n\n" +
		"```go\nfunc build(docs []Doc) (*Index, error) { return index.New(docs), nil }\n```\n\n" +
		"| Column | Meaning of the column |\n| --- | --- |\n| docs | the number of documents in the index |\n\n" +
		"## Queries\n\n" +
		"Each query is answered from the index without reading the documents again.\n\n" +
		"See below.\n\n" +
		"Prev Up Next\n\nChapter 13. Concurrency Control Home 13.2. Transaction Isolation\n\n" +
		"ALTER TYPE name OWNER TO new_owner ALTER TYPE name RENAME TO new_name CASCADE.\n\n" +
		"x = f(y) + g(z) * h[i] {k: v} <a> $b #c @d;\n"
	doc, chunks := load(t, "build.md", []byte(text))
	sum, err := summarize.New(summarize.Config{}).Summarize(context.Background(), summarize.Input{Chunks: chunks, Length: 10})
	if err != nil {
		t.Fatal(err)
	}
	checkSummary(t, sum, map[string]*grounded.Document{doc.ID: doc})
	if len(sum.Sentences) != 2 {
		t.Errorf("%d sentences, want the 2 prose ones: %q", len(sum.Sentences), sum.Summary)
	}
	for _, c := range sum.Citations {
		if strings.ContainsAny(c.Quote, "|{`#") || c.Quote == "See below." || strings.Contains(c.Quote, "Home") || strings.Contains(c.Quote, "ALTER") {
			t.Errorf("picked non-prose %q", c.Quote)
		}
	}
}

func TestExtractiveCandidateCap(t *testing.T) {
	doc, chunks := corpusDoc(t, "how-language-models-work.md")
	sum, err := summarize.New(summarize.Config{MaxCandidates: 10}).Summarize(context.Background(), summarize.Input{Chunks: chunks, Length: 3})
	if err != nil {
		t.Fatal(err)
	}
	checkSummary(t, sum, map[string]*grounded.Document{doc.ID: doc})
	cov := sum.Coverage
	if !cov.Truncated || cov.SentencesConsidered != 10 || !strings.Contains(cov.Note, "the 10 closest to their centroid were ranked") {
		t.Errorf("coverage %+v, want truncated to 10 ranked with a note", cov)
	}
	if cov.ChunksSummarized > cov.Chunks {
		t.Errorf("coverage %+v: more chunks summarized than given", cov)
	}
}

func TestExtractiveQueryLeans(t *testing.T) {
	docs := map[string]*grounded.Document{}
	var chunks []grounded.Chunk
	for _, name := range []string{"fine-tuning.md", "cost-trade-offs.md", "image-generation-models.md"} {
		d, cs := corpusDoc(t, name)
		docs[d.ID] = d
		chunks = append(chunks, cs...)
	}
	sum, err := summarize.New(summarize.Config{}).Summarize(context.Background(), summarize.Input{Chunks: chunks, Length: 2, Query: "diffusion image generators noise"})
	if err != nil {
		t.Fatal(err)
	}
	checkSummary(t, sum, docs)
	for _, c := range sum.Citations {
		if c.Source != "corpus/image-generation-models.md" {
			t.Errorf("a summary about diffusion image generators cites %s: %q", c.Source, c.Quote)
		}
	}
}

func TestEmptyInput(t *testing.T) {
	sum, err := summarize.New(summarize.Config{}).Summarize(context.Background(), summarize.Input{})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Summary != "" || len(sum.Sentences) != 0 || sum.Sentences == nil || sum.Citations == nil {
		t.Errorf("summary of nothing: %+v", sum)
	}
	_, chunks := load(t, "h.md", []byte("# Only a heading\n\n## And another\n"))
	sum, err = summarize.New(summarize.Config{}).Summarize(context.Background(), summarize.Input{Chunks: chunks})
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Sentences) != 0 || !strings.Contains(sum.Coverage.Note, "no prose sentence") {
		t.Errorf("summary of headings: %+v", sum)
	}
}

// model is a scripted language model: map prompts get the first prose
// sentence of each passage, cited; the reduce prompt gets reduce's reply.
type model struct {
	mu      sync.Mutex
	maps    []string // map prompts
	reduces []string // reduce prompts
	reduce  func(prompt string) (string, error)
	mapErr  error
}

var passageRE = regexp.MustCompile(`(?s)<passage n="(\d+)"[^\n]*>\n(.*?)\n</passage>`)

func (m *model) generate(ctx context.Context, req grounded.GenerateRequest) (*grounded.GenerateReply, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if strings.HasPrefix(req.System, "You combine notes") {
		m.reduces = append(m.reduces, req.Prompt)
		text, err := m.reduce(req.Prompt)
		if err != nil {
			return nil, err
		}
		return &grounded.GenerateReply{Text: text, Usage: grounded.Usage{PromptTokens: 100, CompletionTokens: 20}}, nil
	}
	m.maps = append(m.maps, req.Prompt)
	if m.mapErr != nil {
		return nil, m.mapErr
	}
	var out []string
	for _, p := range passageRE.FindAllStringSubmatch(req.Prompt, -1) {
		for _, sp := range textproc.Sentences(p[2], 0, len(p[2])) {
			s := p[2][sp.Start:sp.End]
			if !sp.Heading && len(textproc.Words(s)) >= 6 && !strings.HasPrefix(s, "|") {
				out = append(out, s+" ["+p[1]+"]")
				break
			}
		}
	}
	return &grounded.GenerateReply{Text: strings.Join(out, " "), Usage: grounded.Usage{PromptTokens: 100, CompletionTokens: 20}}, nil
}

var noteRE = regexp.MustCompile(`(?m)^- (.*) ((?:\[\d+\])+)$`)

func TestMapReduce(t *testing.T) {
	docs := map[string]*grounded.Document{}
	var chunks []grounded.Chunk
	for _, name := range []string{"image-generation-models.md", "fine-tuning.md"} {
		d, cs := corpusDoc(t, name)
		docs[d.ID] = d
		chunks = append(chunks, cs...)
	}
	for _, flag := range []bool{false, true} {
		t.Run(fmt.Sprintf("flag=%v", flag), func(t *testing.T) {
			var notes [][]string // text, markers
			m := &model{}
			m.reduce = func(prompt string) (string, error) {
				notes = nil
				for _, n := range noteRE.FindAllStringSubmatch(prompt, -1) {
					notes = append(notes, n[1:])
				}
				if len(notes) < 3 {
					return "", fmt.Errorf("reduce prompt has %d notes", len(notes))
				}
				// Two notes kept with their original markers, one sentence
				// without a citation, one that its passage does not support.
				return notes[0][0] + " " + notes[0][1] + " " + notes[len(notes)-1][0] + " " + notes[len(notes)-1][1] +
					" Everyone agrees this is the best approach. The moon is made of green cheese and orbits Mars " + notes[1][1] + ".", nil
			}
			llm := grounded.LLM{Provider: "fake", Model: "scripted", Generate: m.generate}
			// A small budget: several map groups.
			s := summarize.New(summarize.Config{Model: &grounding.Model{LLM: llm, PassageTokens: 400, FlagUnsupported: flag}, Parallel: 2})
			sum, err := s.Summarize(context.Background(), summarize.Input{Chunks: chunks, Length: 4})
			if err != nil {
				t.Fatal(err)
			}
			if sum.FallbackReason != "" || sum.Generator != "fake" || sum.Model != "scripted" {
				t.Fatalf("generator %q model %q fallback %q", sum.Generator, sum.Model, sum.FallbackReason)
			}
			if len(m.maps) < 3 || len(m.reduces) != 1 {
				t.Fatalf("%d map calls and %d reduce calls, want several and 1", len(m.maps), len(m.reduces))
			}
			// Every chunk went to exactly one map call, under its global number.
			seen := map[int]int{}
			for _, p := range m.maps {
				for _, sm := range passageRE.FindAllStringSubmatch(p, -1) {
					n, _ := strconv.Atoi(sm[1])
					seen[n]++
				}
			}
			for n := 1; n <= len(chunks); n++ {
				if seen[n] != 1 {
					t.Errorf("passage %d was in %d map prompts", n, seen[n])
				}
			}
			// The reduce prompt lists the notes with the original passage numbers.
			for _, n := range notes {
				for _, mk := range regexp.MustCompile(`\d+`).FindAllString(n[1], -1) {
					k, _ := strconv.Atoi(mk)
					if k < 1 || k > len(chunks) {
						t.Errorf("note %q cites [%d], no original passage", n[0], k)
					}
				}
			}
			if !strings.Contains(m.reduces[0], notes[len(notes)-1][1]) || !regexp.MustCompile(`\[(\d\d+)\]`).MatchString(m.reduces[0]) {
				t.Errorf("reduce prompt lacks the original (two-digit) passage numbers:\n%s", m.reduces[0])
			}
			checkSummary(t, sum, docs)
			supported := 0
			for _, st := range sum.Sentences {
				if st.Supported {
					supported++
				}
				if strings.Contains(st.Text, "Everyone agrees") {
					t.Errorf("the uncited sentence was kept: %q", st.Text)
				}
			}
			if supported != 2 {
				t.Errorf("%d supported sentences, want the 2 notes: %s", supported, sum.Summary)
			}
			if len(sum.Unsupported) != 2 {
				t.Errorf("unsupported %+v, want the uncited and the false sentence", sum.Unsupported)
			}
			cheese := strings.Contains(sum.Summary, "green cheese")
			if cheese != flag || flag && !strings.Contains(sum.Summary, "(unsupported)") {
				t.Errorf("flag=%v: summary %q", flag, sum.Summary)
			}
			first, _ := strconv.Atoi(strings.Trim(notes[0][1], "[]"))
			if !slices.Contains(sum.Sentences[0].Citations, first) {
				t.Errorf("the first sentence cites %v, want the original passage %d", sum.Sentences[0].Citations, first)
			}
			cov := sum.Coverage
			if cov.Documents != 2 || cov.Chunks != len(chunks) || cov.ChunksSummarized != len(chunks) || cov.SentencesConsidered != len(notes) || cov.Truncated {
				t.Errorf("coverage %+v, want all %d chunks summarized and %d notes considered", cov, len(chunks), len(notes))
			}
			if sum.Usage == nil || sum.Usage.PromptTokens != 100*(len(m.maps)+1) {
				t.Errorf("usage %+v over %d calls", sum.Usage, len(m.maps)+1)
			}
		})
	}
}

func TestMapReduceOneGroup(t *testing.T) {
	doc, chunks := corpusDoc(t, "why-language-models-hallucinate.md")
	m := &model{reduce: func(string) (string, error) { return "", errors.New("no reduce with one group") }}
	s := summarize.New(summarize.Config{Model: &grounding.Model{LLM: grounded.LLM{Provider: "fake", Generate: m.generate}}})
	sum, err := s.Summarize(context.Background(), summarize.Input{Chunks: chunks, Length: 3})
	if err != nil {
		t.Fatal(err)
	}
	if sum.FallbackReason != "" || len(m.maps) != 1 || len(m.reduces) != 0 {
		t.Fatalf("fallback %q, %d maps, %d reduces", sum.FallbackReason, len(m.maps), len(m.reduces))
	}
	checkSummary(t, sum, map[string]*grounded.Document{doc.ID: doc})
	if len(sum.Sentences) != 3 {
		t.Errorf("%d sentences, want the 3 asked for: %s", len(sum.Sentences), sum.Summary)
	}
}

func TestMapReduceFallsBack(t *testing.T) {
	doc, chunks := corpusDoc(t, "image-generation-models.md")
	cases := []struct {
		name   string
		m      *model
		reason string
	}{
		{"map fails", &model{mapErr: errors.New("connection refused")}, "connection refused"},
		{"reduce fails", &model{reduce: func(string) (string, error) { return "", errors.New("HTTP 500") }}, "HTTP 500"},
		{"nothing supported", &model{reduce: func(string) (string, error) {
			return "Paris is the capital of France [1]. Nothing else is known [2].", nil
		}}, "passed the support check"},
		{"nothing cited", &model{reduce: func(string) (string, error) { return "A summary without markers.", nil }}, "support check"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := summarize.New(summarize.Config{Model: &grounding.Model{LLM: grounded.LLM{Provider: "fake", Generate: tc.m.generate}, PassageTokens: 300}})
			sum, err := s.Summarize(context.Background(), summarize.Input{Chunks: chunks, Length: 3})
			if err != nil {
				t.Fatal(err)
			}
			if sum.Generator != "extractive" || !strings.Contains(sum.FallbackReason, tc.reason) {
				t.Errorf("generator %q fallback %q, want extractive because %q", sum.Generator, sum.FallbackReason, tc.reason)
			}
			checkSummary(t, sum, map[string]*grounded.Document{doc.ID: doc})
		})
	}
}

func TestMapReduceCancelled(t *testing.T) {
	_, chunks := corpusDoc(t, "image-generation-models.md")
	ctx, cancel := context.WithCancel(context.Background())
	gen := func(ctx context.Context, req grounded.GenerateRequest) (*grounded.GenerateReply, error) {
		cancel()
		return nil, ctx.Err()
	}
	s := summarize.New(summarize.Config{Model: &grounding.Model{LLM: grounded.LLM{Provider: "fake", Generate: gen}}})
	if _, err := s.Summarize(ctx, summarize.Input{Chunks: chunks}); !errors.Is(err, context.Canceled) {
		t.Errorf("err %v, want context.Canceled", err)
	}
}

// FuzzModelReply: whatever the model replies, the summary holds its
// invariants and nothing panics.
func FuzzModelReply(f *testing.F) {
	for _, s := range []string{"", "NO_ANSWER", "Diffusion models remove noise [1]. [2] Next [999][0].", "[1][1][1]", "Text [1, 2; 3] more [x]."} {
		f.Add(s)
	}
	doc, chunks := corpusDoc(f, "image-generation-models.md")
	f.Fuzz(func(t *testing.T, reply string) {
		gen := func(ctx context.Context, req grounded.GenerateRequest) (*grounded.GenerateReply, error) {
			return &grounded.GenerateReply{Text: reply}, nil
		}
		s := summarize.New(summarize.Config{Model: &grounding.Model{LLM: grounded.LLM{Provider: "fake", Generate: gen}, PassageTokens: 500}})
		sum, err := s.Summarize(context.Background(), summarize.Input{Chunks: chunks, Length: 2})
		if err != nil {
			t.Fatal(err)
		}
		if len(sum.Sentences) > 0 {
			checkSummary(t, sum, map[string]*grounded.Document{doc.ID: doc})
		}
	})
}

func TestMapReduceRounds(t *testing.T) {
	docs := map[string]*grounded.Document{}
	var chunks []grounded.Chunk
	for _, name := range []string{"image-generation-models.md", "fine-tuning.md", "cost-trade-offs.md"} {
		d, cs := corpusDoc(t, name)
		docs[d.ID] = d
		chunks = append(chunks, cs...)
	}
	// Each reduce keeps as many of its notes as it is asked for, as they
	// are: the notes shrink round by round until they fit one prompt.
	m := &model{reduce: func(prompt string) (string, error) {
		want, _ := strconv.Atoi(regexp.MustCompile(`at most (\d+) sentences`).FindStringSubmatch(prompt)[1])
		var out []string
		for _, n := range noteRE.FindAllStringSubmatch(prompt, want) {
			out = append(out, n[1]+" "+n[2])
		}
		return strings.Join(out, " "), nil
	}}
	// A budget of about three notes a reduce prompt, one passage a map.
	s := summarize.New(summarize.Config{Model: &grounding.Model{LLM: grounded.LLM{Provider: "fake", Generate: m.generate}, PassageTokens: 100}})
	sum, err := s.Summarize(context.Background(), summarize.Input{Chunks: chunks, Length: 2})
	if err != nil {
		t.Fatal(err)
	}
	if sum.FallbackReason != "" {
		t.Fatalf("fell back: %s", sum.FallbackReason)
	}
	if len(m.maps) != len(chunks) || len(m.reduces) < 3 {
		t.Errorf("%d map calls for %d chunks, %d reduce calls; want one a chunk and several rounds", len(m.maps), len(chunks), len(m.reduces))
	}
	last := m.reduces[len(m.reduces)-1]
	if got := len(noteRE.FindAllString(last, -1)); got > 4 {
		t.Errorf("the last reduce prompt has %d notes", got)
	}
	checkSummary(t, sum, docs)
	if len(sum.Sentences) != 2 || len(sum.Unsupported) != 0 {
		t.Errorf("summary %q, unsupported %+v", sum.Summary, sum.Unsupported)
	}
}

// BenchmarkExtractive: one document, the whole default corpus, and the
// corpus eight times over (about 5,000 candidate sentences: the ranking is
// bounded to MaxCandidates, 2,000).
func BenchmarkExtractive(b *testing.B) {
	names, err := fs.Glob(corpus.FS, "*.md")
	if err != nil {
		b.Fatal(err)
	}
	var all []grounded.Chunk
	for _, name := range names {
		_, cs := corpusDoc(b, name)
		all = append(all, cs...)
	}
	var times8 []grounded.Chunk
	for i := range 8 {
		for _, c := range all {
			c.DocID, c.Source = fmt.Sprintf("%s-%d", c.DocID, i), fmt.Sprintf("%s-%d", c.Source, i)
			times8 = append(times8, c)
		}
	}
	_, one := corpusDoc(b, "how-language-models-work.md")
	s := summarize.New(summarize.Config{})
	for _, bc := range []struct {
		name   string
		chunks []grounded.Chunk
	}{{"document", one}, {"corpus", all}, {"corpus-x8", times8}} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := s.Summarize(context.Background(), summarize.Input{Chunks: bc.chunks}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
