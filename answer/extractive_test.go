package answer_test

import (
	"context"
	"io/fs"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/groundedhq/grounded"
	"github.com/groundedhq/grounded/answer"
	"github.com/groundedhq/grounded/corpus"
	"github.com/groundedhq/grounded/ingest"
	"github.com/groundedhq/grounded/internal/textproc"
	"github.com/groundedhq/grounded/retrieval"
)

var _ answer.Searcher = (*retrieval.Index)(nil)
var _ answer.Searcher = (*fakeSearcher)(nil)

// corpusService answers from the default corpus, wired as cmd/grounded does.
func corpusService(t *testing.T) (*answer.Service, map[string]string) {
	t.Helper()
	an := textproc.NewAnalyzer()
	emb := retrieval.HashEmbedder(384, an)
	ch, err := ingest.NewChunker(ingest.ChunkConfig{})
	if err != nil {
		t.Fatal(err)
	}
	ix, err := retrieval.New(retrieval.Config{Embedder: emb, Analyzer: an})
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	names, _ := fs.Glob(corpus.FS, "*.md")
	for _, n := range names {
		data, _ := fs.ReadFile(corpus.FS, n)
		files["corpus/"+n] = string(data)
		doc, err := ingest.Load("corpus/"+n, data)
		if err != nil {
			t.Fatal(err)
		}
		chunks := ch.Chunk(doc)
		texts := make([]string, len(chunks))
		for i, c := range chunks {
			texts[i] = ingest.EmbedText(c)
		}
		vecs, _ := emb.Embed(context.Background(), texts)
		if err := ix.Add(context.Background(), chunks, vecs); err != nil {
			t.Fatal(err)
		}
	}
	return answer.New(ix, an, answer.Config{}), files
}

var marker = regexp.MustCompile(` \[(\d+)\]`)

// checkGrounded asserts the answer's promises: every quote is the exact text
// at its offsets in its source, every citation is marked in the answer, and
// the answer's words are exactly the quotes' words.
func checkGrounded(t *testing.T, ans *grounded.Answer, files map[string]string) {
	t.Helper()
	var quoted []string
	for i, c := range ans.Citations {
		if c.N != i+1 {
			t.Errorf("citation %d numbered %d", i, c.N)
		}
		src, ok := files[c.Source]
		if !ok {
			t.Errorf("citation %d points at unknown source %q", c.N, c.Source)
			continue
		}
		if c.Start < 0 || c.End > len(src) || c.Start >= c.End || src[c.Start:c.End] != c.Quote {
			t.Errorf("citation %d: quote is not %s[%d:%d]", c.N, c.Source, c.Start, c.End)
		}
		if !strings.Contains(ans.Answer, " ["+strconv.Itoa(c.N)+"]") {
			t.Errorf("answer does not mark citation [%d]: %s", c.N, ans.Answer)
		}
		quoted = append(quoted, strings.Fields(c.Quote)...)
	}
	plain := strings.Fields(marker.ReplaceAllString(ans.Answer, ""))
	if strings.Join(plain, " ") != strings.Join(quoted, " ") {
		t.Errorf("answer words are not the quotes' words:\nanswer %q\nquotes %q", plain, quoted)
	}
}

func TestAnswersInScopeQuestions(t *testing.T) {
	svc, files := corpusService(t)
	for _, tc := range []struct{ q, wantSource string }{
		{"Can a large language model generate images?", "corpus/choosing-a-generative-model.md"},
		{"What does LoRA train instead of the full weights?", "corpus/fine-tuning.md"},
		{"How does temperature change sampling?", "corpus/how-language-models-work.md"},
		{"Why do language models hallucinate?", "corpus/why-language-models-hallucinate.md"},
		{"When should a grounded system abstain?", "corpus/retrieval-grounding.md"},
		{"How do diffusion models generate images?", "corpus/"},
		{"How does an open-weight model help with privacy?", "corpus/open-weight-versus-closed-models.md"},
	} {
		t.Run(tc.q, func(t *testing.T) {
			ans, err := svc.Ask(context.Background(), grounded.AskRequest{Question: tc.q, K: 5})
			if err != nil {
				t.Fatal(err)
			}
			if ans.Abstained {
				t.Fatalf("abstained (%s) on an in-scope question", ans.Reason)
			}
			if len(ans.Citations) == 0 || ans.Generator != answer.GeneratorExtractive {
				t.Fatalf("answer without citations or generator: %+v", ans)
			}
			found := false
			for _, c := range ans.Citations {
				found = found || strings.HasPrefix(c.Source, tc.wantSource)
			}
			if !found {
				t.Errorf("no citation from %s: %s", tc.wantSource, ans.Answer)
			}
			checkGrounded(t, ans, files)
		})
	}
}

func TestAbstainsOutOfScope(t *testing.T) {
	svc, _ := corpusService(t)
	for _, q := range []string{
		"What is the capital of Mongolia?",
		"Who won the football world cup in 2018?",
		"What is the boiling point of mercury?",
		"How do I bake banana bread?",
		"What is the population of Brazil?",
		"Which language model won the 1998 chess championship?",
	} {
		t.Run(q, func(t *testing.T) {
			ans, err := svc.Ask(context.Background(), grounded.AskRequest{Question: q, K: 5})
			if err != nil {
				t.Fatal(err)
			}
			if !ans.Abstained {
				t.Fatalf("answered an out-of-scope question: %s", ans.Answer)
			}
			if ans.Reason != grounded.ReasonNoEvidence && ans.Reason != grounded.ReasonWeakEvidence {
				t.Errorf("reason %q", ans.Reason)
			}
			if ans.Answer != "" || len(ans.Citations) != 0 {
				t.Errorf("an abstention carries text or citations: %+v", ans)
			}
		})
	}
}

// fakeSearcher returns canned hits and an idf of 1 for every term.
type fakeSearcher struct {
	hits []grounded.Hit
	err  error
}

func (f *fakeSearcher) Search(context.Context, string, int, grounded.Filter) ([]grounded.Hit, error) {
	return f.hits, f.err
}
func (f *fakeSearcher) IDF(string) float64 { return 1 }

func TestAskEdgeCases(t *testing.T) {
	text := "Grounded answers quote their sources. The sky over the harbour turned violet at dusk yesterday."
	hit := grounded.Hit{Chunk: grounded.Chunk{ID: "d-0", DocID: "d", Source: "s.txt", Title: "Notes", Start: 10, End: 10 + len(text), Text: text}, LexicalRank: 1, Score: 1}
	vectorOnly := hit
	vectorOnly.LexicalRank, vectorOnly.VectorRank = 0, 1
	for _, tc := range []struct {
		name     string
		q        string
		k        int
		hits     []grounded.Hit
		wantCode string
		reason   string
		quote    string
	}{
		{name: "empty question", q: "  ", wantCode: grounded.EINVALID},
		{name: "k too large", q: "sky", k: grounded.MaxK + 1, wantCode: grounded.EINVALID},
		{name: "negative k", q: "sky", k: -1, wantCode: grounded.EINVALID},
		{name: "stop words only", q: "what is it?", hits: []grounded.Hit{hit}, reason: grounded.ReasonNoEvidence},
		{name: "nothing retrieved", q: "violet harbour", reason: grounded.ReasonNoEvidence},
		{name: "vector hits only", q: "violet harbour", hits: []grounded.Hit{vectorOnly}, reason: grounded.ReasonNoEvidence},
		{name: "half covered", q: "violet submarine telescope", hits: []grounded.Hit{hit}, reason: grounded.ReasonWeakEvidence},
		{name: "answered", q: "When did the harbour sky turn violet?", hits: []grounded.Hit{hit}, quote: "The sky over the harbour turned violet at dusk yesterday."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			svc := answer.New(&fakeSearcher{hits: tc.hits}, nil, answer.Config{})
			// The collection checks a request before it reaches the answerer.
			req := grounded.AskRequest{Question: tc.q, K: tc.k}
			err := req.Check()
			var ans *grounded.Answer
			if err == nil {
				ans, err = svc.Ask(context.Background(), req)
			}
			if tc.wantCode != "" {
				if grounded.ErrorCode(err) != tc.wantCode {
					t.Fatalf("err = %v, want code %s", err, tc.wantCode)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.reason != "" {
				if !ans.Abstained || ans.Reason != tc.reason {
					t.Fatalf("got abstained=%v reason=%q, want %q", ans.Abstained, ans.Reason, tc.reason)
				}
				return
			}
			if ans.Abstained || len(ans.Citations) != 1 {
				t.Fatalf("want one citation, got %+v", ans)
			}
			c := ans.Citations[0]
			if c.Quote != tc.quote {
				t.Errorf("quote %q, want %q", c.Quote, tc.quote)
			}
			// Offsets are in the document, not the chunk.
			if full := strings.Repeat("x", 10) + text; full[c.Start:c.End] != c.Quote {
				t.Errorf("offsets [%d,%d) do not address the quote in the document", c.Start, c.End)
			}
		})
	}
}

// TestPrefixAndContext: a question term matched only by a shared five-letter
// prefix ("privacy", "private") counts toward coverage, and a sentence of
// the best sentence's passage joins the answer as context though it covers
// less of the question.
func TestPrefixAndContext(t *testing.T) {
	text := "The harbour office keeps its shipping records private. Those harbour records are sealed for fifty years by the port authority."
	hit := grounded.Hit{Chunk: grounded.Chunk{ID: "d-0", DocID: "d", Source: "s.txt", Title: "Notes", Start: 0, End: len(text), Text: text}, LexicalRank: 1, LexicalScore: 5, Score: 1}
	svc := answer.New(&fakeSearcher{hits: []grounded.Hit{hit}}, nil, answer.Config{})
	ans, err := svc.Ask(context.Background(), grounded.AskRequest{Question: "harbour privacy"})
	if err != nil {
		t.Fatal(err)
	}
	if ans.Abstained {
		t.Fatalf("abstained (%s): the prefix match should count", ans.Reason)
	}
	if len(ans.Citations) != 2 || ans.Citations[0].Quote != "The harbour office keeps its shipping records private." ||
		ans.Citations[1].Quote != "Those harbour records are sealed for fifty years by the port authority." {
		t.Fatalf("want the matching sentence and its context sentence, got %+v", ans.Citations)
	}
	// Without the prefix credit the question is half covered: a stricter
	// threshold than 0.5 abstains on a term the sentence lacks entirely.
	ans, err = svc.Ask(context.Background(), grounded.AskRequest{Question: "harbour submarine"})
	if err != nil {
		t.Fatal(err)
	}
	if !ans.Abstained || ans.Reason != grounded.ReasonWeakEvidence {
		t.Fatalf("want weak_evidence for an uncovered term, got %+v", ans)
	}
}

// TestNameWindow: a name of the question must stand in the answer sentence,
// its neighbours or the heading; a passage that mentions it only far away is
// about something else (SQuAD 2.0's entity swaps).
func TestNameWindow(t *testing.T) {
	for _, tc := range []struct {
		name, text, reason string
	}{
		{"far away", "Zorblax builds fishing boats in the north. The weather that spring was mild and dry. Later, storms sank three ships near the coast in 1990.", grounded.ReasonNameMismatch},
		{"in a neighbour", "The weather that spring was mild and dry. Zorblax builds fishing boats in the north. Storms sank three ships near the coast in 1990.", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hit := grounded.Hit{Chunk: grounded.Chunk{ID: "d-0", DocID: "d", Source: "s.txt", Title: "Notes", Start: 0, End: len(tc.text), Text: tc.text}, LexicalRank: 1, LexicalScore: 5, Score: 1}
			svc := answer.New(&fakeSearcher{hits: []grounded.Hit{hit}}, nil, answer.Config{})
			ans, err := svc.Ask(context.Background(), grounded.AskRequest{Question: "How many ships did storms sink near Zorblax in 1990?"})
			if err != nil {
				t.Fatal(err)
			}
			if ans.Reason != tc.reason || ans.Abstained != (tc.reason != "") {
				t.Fatalf("abstained=%v reason=%q, want reason %q: %s", ans.Abstained, ans.Reason, tc.reason, ans.Answer)
			}
		})
	}
}

// TestConfidence: every answer carries a confidence in [0, 1]; the request's
// minimum decides between answering and abstaining, and an abstention keeps
// the confidence its best candidate had.
func TestConfidence(t *testing.T) {
	svc, _ := corpusService(t)
	ctx := context.Background()
	f := func(v float64) *float64 { return &v }
	q := "What does LoRA train instead of the full weights?"
	def, err := svc.Ask(ctx, grounded.AskRequest{Question: q})
	if err != nil {
		t.Fatal(err)
	}
	if def.Abstained || def.Confidence < answer.DefaultMinConfidence || def.Confidence > 1 {
		t.Fatalf("default: abstained=%v confidence=%v", def.Abstained, def.Confidence)
	}
	strict, err := svc.Ask(ctx, grounded.AskRequest{Question: q, MinConfidence: f(1)})
	if err != nil {
		t.Fatal(err)
	}
	if !strict.Abstained || strict.Reason == "" || len(strict.Citations) != 0 {
		t.Fatalf("min_confidence 1 answered: %+v", strict)
	}
	if strict.Confidence != def.Confidence {
		t.Errorf("abstention confidence %v, want the answer's %v", strict.Confidence, def.Confidence)
	}
	// A weakly matching question abstains by default and answers when the
	// caller accepts any confidence.
	weak := "Which licence lets me run the model on my laptop?"
	lo, err := svc.Ask(ctx, grounded.AskRequest{Question: weak, MinConfidence: f(0)})
	if err != nil {
		t.Fatal(err)
	}
	hi, err := svc.Ask(ctx, grounded.AskRequest{Question: weak, MinConfidence: f(0.99)})
	if err != nil {
		t.Fatal(err)
	}
	if !hi.Abstained {
		t.Errorf("min_confidence 0.99 answered with confidence %v", hi.Confidence)
	}
	if lo.Confidence < 0 || lo.Confidence > 1 || lo.Confidence != hi.Confidence {
		t.Errorf("confidence %v / %v: want one value in [0, 1]", lo.Confidence, hi.Confidence)
	}
}

// TestDuplicatePassages: a passage that repeats a better-ranked one (the
// same page in two formats) is read once, so the answer cites one copy.
func TestDuplicatePassages(t *testing.T) {
	text := "The harbour office keeps its shipping records private. Those harbour records are sealed for fifty years by the port authority."
	a := grounded.Hit{Chunk: grounded.Chunk{ID: "a-0", DocID: "a", Source: "a.html", Start: 0, End: len(text), Text: text}, LexicalRank: 1, LexicalScore: 5}
	b := grounded.Hit{Chunk: grounded.Chunk{ID: "b-0", DocID: "b", Source: "a.rst", Start: 0, End: len(text), Text: text}, LexicalRank: 2, LexicalScore: 5}
	svc := answer.New(&fakeSearcher{hits: []grounded.Hit{a, b}}, nil, answer.Config{})
	hits, cands, err := svc.Candidates(context.Background(), grounded.AskRequest{Question: "harbour privacy"})
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != 1 || hits[0].Source != "a.html" {
		t.Fatalf("hits after collapsing copies: %+v", hits)
	}
	for _, c := range cands {
		if c.Hit != 0 || c.Text != text[c.Start:c.End] {
			t.Errorf("candidate %+v does not quote the kept passage", c)
		}
	}
}
