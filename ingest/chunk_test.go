package ingest_test

import (
	"fmt"
	"io/fs"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/groundedhq/grounded"
	"github.com/groundedhq/grounded/corpus"
	"github.com/groundedhq/grounded/ingest"
	"github.com/groundedhq/grounded/ingest/internal/ingesttest"
)

var vocabulary = strings.Fields(`retrieval grounding passage answer model token chunk section
	heading citation index vector embedding search rank score query document corpus prompt
	latency cost evaluation recall precision café naïve Zürich façade résumé 3.14 42 2024
	e.g. i.e. Dr. approx. the a of and to in is that with for on as by`)

// longMarkdown generates a deterministic Markdown document of about n
// sentences: nested headings, paragraphs of varied length, lists, tables and
// fenced code.
func longMarkdown(seed uint64, n int) string {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	word := func() string { return vocabulary[r.IntN(len(vocabulary))] }
	sentence := func() string {
		words := make([]string, 3+r.IntN(30))
		for i := range words {
			words[i] = word()
		}
		words[0] = strings.ToUpper(words[0][:1]) + words[0][1:]
		return strings.Join(words, " ") + [...]string{".", ".", ".", "?", "!", `."`}[r.IntN(6)]
	}
	var b strings.Builder
	b.WriteString("# Generated guide\n\nOpening paragraph. " + sentence() + "\n\n")
	for written := 0; written < n; {
		switch k := r.IntN(12); {
		case k == 0:
			fmt.Fprintf(&b, "%s %s %s\n\n", strings.Repeat("#", 1+r.IntN(3)), word(), word())
		case k == 1:
			for range 2 + r.IntN(6) {
				fmt.Fprintf(&b, "- %s\n", sentence())
				written++
			}
			b.WriteString("\n")
		case k == 2:
			for i := range 2 + r.IntN(4) {
				fmt.Fprintf(&b, "%d. %s\n", i+1, sentence())
				written++
			}
			b.WriteString("\n")
		case k == 3:
			b.WriteString("| name | value |\n|---|---|\n")
			for range 1 + r.IntN(5) {
				fmt.Fprintf(&b, "| %s | %d |\n", word(), r.IntN(1000))
			}
			b.WriteString("\n")
		case k == 4:
			fmt.Fprintf(&b, "```go\n# %s\nx := %d\n```\n\n", word(), r.IntN(100))
		default:
			for range 1 + r.IntN(12) {
				b.WriteString(sentence())
				b.WriteString(" ")
				written++
			}
			b.WriteString("\n\n")
		}
	}
	return b.String()
}

func corpusDocs(tb testing.TB) []*grounded.Document {
	tb.Helper()
	names, err := fs.Glob(corpus.FS, "*.md")
	if err != nil || len(names) == 0 {
		tb.Fatalf("corpus has no Markdown files (%v)", err)
	}
	var docs []*grounded.Document
	for _, name := range names {
		data, err := corpus.FS.ReadFile(name)
		if err != nil {
			tb.Fatal(err)
		}
		doc, err := ingest.Load(name, data)
		if err != nil {
			tb.Fatalf("Load(%s): %v", name, err)
		}
		docs = append(docs, doc)
	}
	return docs
}

// TestChunkProperties checks the chunker's contract on generated and real
// documents: ranges and text agree, no chunk is over MaxTokens, chunks of a
// section overlap or touch, they start and end between words, and together
// they cover every non-space byte of every section.
func TestChunkProperties(t *testing.T) {
	t.Parallel()
	type input struct {
		name      string
		cfg       ingest.ChunkConfig
		docs      []*grounded.Document
		minChunks int // guards against a generator or loader that stops early
	}
	load := func(source, text string) []*grounded.Document {
		doc, err := ingest.Load(source, []byte(text))
		if err != nil {
			t.Fatalf("Load(%s): %v", source, err)
		}
		return []*grounded.Document{doc}
	}
	var fixtureDocs []*grounded.Document
	for _, name := range fixtures {
		doc, _ := loadFixture(t, name)
		fixtureDocs = append(fixtureDocs, doc)
	}
	long := longMarkdown(1, 1000)
	inputs := []input{
		{"generated markdown default", ingest.ChunkConfig{}, load("long.md", long), 50},
		{"generated markdown small", ingesttest.SmallConfig, load("long.md", long), 500},
		{"corpus default", ingest.ChunkConfig{}, corpusDocs(t), 60},
		{"corpus small", ingesttest.SmallConfig, corpusDocs(t), 300},
		{"fixtures small", ingesttest.SmallConfig, fixtureDocs, 10},
	}
	for _, in := range inputs {
		t.Run(in.name, func(t *testing.T) {
			t.Parallel()
			ch := ingesttest.Chunker(t, in.cfg)
			total := 0
			for _, doc := range in.docs {
				chunks := ch.Chunk(doc)
				total += len(chunks)
				ingesttest.CheckDoc(t, doc)
				ingesttest.CheckChunks(t, doc, chunks)
				checkMaxTokens(t, ch, doc, chunks)
				checkWordBoundaries(t, doc, chunks)
				ingesttest.CheckCoverage(t, doc, chunks)
			}
			if total < in.minChunks {
				t.Errorf("%d chunks for %d documents, want at least %d", total, len(in.docs), in.minChunks)
			}
		})
	}
}

func TestChunkConfigDefaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   ingest.ChunkConfig
		want ingest.ChunkConfig
	}{
		{"zero", ingest.ChunkConfig{}, ingest.ChunkConfig{MaxTokens: 350, MinTokens: 200, OverlapTokens: 50}},
		{"explicit", ingest.ChunkConfig{MaxTokens: 500, MinTokens: 300, OverlapTokens: 60}, ingest.ChunkConfig{MaxTokens: 500, MinTokens: 300, OverlapTokens: 60}},
		{"min over max", ingest.ChunkConfig{MaxTokens: 100, MinTokens: 150, OverlapTokens: 10}, ingest.ChunkConfig{MaxTokens: 100, MinTokens: 100, OverlapTokens: 10}},
		{"overlap over min", ingest.ChunkConfig{MaxTokens: 300, MinTokens: 100, OverlapTokens: 100}, ingest.ChunkConfig{MaxTokens: 300, MinTokens: 100, OverlapTokens: 25}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ingesttest.Chunker(t, tt.in).Config(); got != tt.want {
				t.Errorf("Config() = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestChunkConfigOverlapBelowMin checks the invariant the defaults keep:
// 0 < OverlapTokens < MinTokens <= MaxTokens, for small budgets too.
func TestChunkConfigOverlapBelowMin(t *testing.T) {
	t.Parallel()
	for _, in := range []ingest.ChunkConfig{
		{MaxTokens: 40},
		{MaxTokens: 64, MinTokens: 32},
		{MaxTokens: 100, MinTokens: 100, OverlapTokens: -1},
		{MaxTokens: 350},
	} {
		t.Run(fmt.Sprintf("%+v", in), func(t *testing.T) {
			got := ingesttest.Chunker(t, in).Config()
			if !(0 < got.OverlapTokens && got.OverlapTokens < got.MinTokens && got.MinTokens <= got.MaxTokens) {
				t.Errorf("Config() = %+v, want 0 < OverlapTokens < MinTokens <= MaxTokens", got)
			}
		})
	}
}

// TestChunkOverlap checks that a chunk repeats whole sentences from the end
// of the one before, within the overlap budget.
func TestChunkOverlap(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	for i := range 200 {
		fmt.Fprintf(&b, "Sentence number %d talks about retrieval. ", i)
	}
	doc, err := ingest.Load("overlap.txt", []byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	ch := ingesttest.Chunker(t, ingest.ChunkConfig{MaxTokens: 100, MinTokens: 50, OverlapTokens: 20})
	chunks := ch.Chunk(doc)
	if len(chunks) < 10 {
		t.Fatalf("%d chunks, want at least 10", len(chunks))
	}
	ingesttest.CheckChunks(t, doc, chunks)
	for i := 1; i < len(chunks); i++ {
		p, c := chunks[i-1], chunks[i]
		if c.Start >= p.End {
			t.Errorf("chunk %d [%d,%d) does not overlap chunk %d [%d,%d)", i, c.Start, c.End, i-1, p.Start, p.End)
			continue
		}
		shared := doc.Text[c.Start:p.End]
		if !strings.HasPrefix(shared, "Sentence number") || !strings.HasSuffix(shared, "retrieval.") {
			t.Errorf("chunks %d and %d share %q, not whole sentences", i-1, i, shared)
		}
		if n := ch.CountTokens(shared); n > 20+tokenSlack {
			t.Errorf("chunks %d and %d share %d tokens, over the overlap budget 20", i-1, i, n)
		}
	}
}

// TestChunkEndsAtParagraph checks that a chunk past MinTokens ends at a
// paragraph break rather than in the middle of the next paragraph.
func TestChunkEndsAtParagraph(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	for p := range 20 {
		for s := range 4 {
			fmt.Fprintf(&b, "Paragraph %d sentence %d is about chunking text. ", p, s)
		}
		b.WriteString("\n\n")
	}
	doc, err := ingest.Load("paras.txt", []byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	ch := ingesttest.Chunker(t, ingest.ChunkConfig{MaxTokens: 100, MinTokens: 40, OverlapTokens: 5})
	chunks := ch.Chunk(doc)
	ingesttest.CheckChunks(t, doc, chunks)
	if len(chunks) < 5 {
		t.Fatalf("%d chunks, want at least 5", len(chunks))
	}
	for i, c := range chunks {
		if !strings.HasPrefix(c.Text, "Paragraph") || !strings.HasSuffix(c.Text, "sentence 3 is about chunking text.") {
			t.Errorf("chunk %d is not whole paragraphs: %q", i, ingesttest.Clip(c.Text))
		}
	}
}

// TestChunkLongSentence cuts a 5000-word sentence with no punctuation
// between words.
func TestChunkLongSentence(t *testing.T) {
	t.Parallel()
	words := make([]string, 5000)
	for i := range words {
		words[i] = vocabulary[(i*7)%len(vocabulary)]
		if words[i] == "e.g." || words[i] == "i.e." || words[i] == "Dr." || words[i] == "approx." || words[i] == "3.14" {
			words[i] = "word"
		}
	}
	text := strings.Join(words, " ")
	doc, err := ingest.Load("sentence.txt", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	ch := ingesttest.Chunker(t, ingest.ChunkConfig{})
	chunks := ch.Chunk(doc)
	if len(chunks) < 5 {
		t.Fatalf("%d chunks, want the sentence cut into at least 5", len(chunks))
	}
	ingesttest.CheckChunks(t, doc, chunks)
	checkMaxTokens(t, ch, doc, chunks)
	ingesttest.CheckCoverage(t, doc, chunks)
	for i, c := range chunks {
		if c.Start > 0 && text[c.Start-1] != ' ' {
			t.Errorf("chunk %d starts inside a word: %q", i, ingesttest.Tail(text[:c.Start], 10)+"|"+ingesttest.Prefix(c.Text, 10))
		}
		if c.End < len(text) && text[c.End] != ' ' {
			t.Errorf("chunk %d ends inside a word: %q", i, ingesttest.Tail(c.Text, 10)+"|"+ingesttest.Prefix(text[c.End:], 10))
		}
	}
}

// TestChunkLongWord cuts words with no white space at rune boundaries.
func TestChunkLongWord(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, text string }{
		{"2-byte runes", strings.Repeat("é", 3000)},
		{"mixed widths", strings.Repeat("aé€😀", 750)},
		{"4-byte runes", strings.Repeat("😀", 1000)},
		{"combining marks", strings.Repeat("e\u0301", 1000)},
		{"ascii", strings.Repeat("x", 3000)},
	}
	ch := ingesttest.Chunker(t, ingest.ChunkConfig{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := ingest.Load("word.txt", []byte(tt.text))
			if err != nil {
				t.Fatal(err)
			}
			chunks := ch.Chunk(doc)
			if len(chunks) < 2 {
				t.Fatalf("%d chunks, want the word cut", len(chunks))
			}
			ingesttest.CheckChunks(t, doc, chunks)
			checkMaxTokens(t, ch, doc, chunks)
			var joined strings.Builder
			end := 0
			for i, c := range chunks {
				if c.Start < end {
					t.Errorf("pieces of one word overlap: chunk %d starts at %d before %d", i, c.Start, end)
				}
				joined.WriteString(c.Text)
				end = c.End
			}
			if joined.String() != tt.text {
				t.Errorf("the pieces do not join back into the word")
			}
		})
	}
}

func TestChunkUnicodeAndSpecialText(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, text string }{
		{"japanese", strings.Repeat("日本語の文章を検索します。これは二番目の文です。", 100)},
		{"chinese with spaces", strings.Repeat("检索 增强 生成 模型 回答 问题。", 150)},
		{"korean", strings.Repeat("검색 증강 생성은 답변을 개선합니다. ", 100)},
		{"arabic", strings.Repeat("الاسترجاع يحسن الإجابات. ", 100)},
		{"special tokens", strings.Repeat("<|endoftext|> text <|fim_prefix|><|im_start|>user ", 150)},
		{"only special token", "<|endoftext|>"},
		{"control characters", strings.Repeat("a\x00b\x01c\u200b\ufeff d. ", 100)},
		{"CRLF lines", strings.Repeat("A line of text.\r\n", 200)},
	}
	ch := ingesttest.Chunker(t, ingest.ChunkConfig{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := ingest.Load("u.txt", []byte(tt.text))
			if err != nil {
				t.Fatal(err)
			}
			chunks := ch.Chunk(doc)
			if len(chunks) == 0 {
				t.Fatal("no chunks")
			}
			ingesttest.CheckChunks(t, doc, chunks)
			checkMaxTokens(t, ch, doc, chunks)
			ingesttest.CheckCoverage(t, doc, chunks)
		})
	}
}

func TestCountTokens(t *testing.T) {
	t.Parallel()
	ch := ingesttest.Chunker(t, ingest.ChunkConfig{})
	tests := []struct {
		name string
		in   string
		min  int
		max  int
	}{
		{"empty", "", 0, 0},
		{"one word", "hello", 1, 1},
		{"special token text is ordinary", "<|endoftext|>", 2, 13},
		{"sentence", "Retrieval grounding reduces hallucination.", 3, 10},
		{"multibyte", "café naïve Zürich", 3, 12},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if n := ch.CountTokens(tt.in); n < tt.min || n > tt.max {
				t.Errorf("CountTokens(%q) = %d, want %d..%d", tt.in, n, tt.min, tt.max)
			}
		})
	}
}

func TestChunkIDs(t *testing.T) {
	t.Parallel()
	doc, _ := loadFixture(t, "guide.md")
	chunks := ingesttest.Chunker(t, ingesttest.SmallConfig).Chunk(doc)
	seen := map[string]bool{}
	for i, c := range chunks {
		if want := fmt.Sprintf("%s-%05d", doc.ID, i); c.ID != want {
			t.Errorf("chunk %d ID = %q, want %q", i, c.ID, want)
		}
		if seen[c.ID] {
			t.Errorf("duplicate chunk ID %q", c.ID)
		}
		seen[c.ID] = true
	}
}

// TestChunkNoSections chunks a document whose Sections are empty as one
// section over the whole text.
func TestChunkNoSections(t *testing.T) {
	t.Parallel()
	text := "First sentence here. Second sentence there."
	doc := &grounded.Document{ID: "d", Source: "s", Title: "t", Text: text}
	chunks := ingesttest.Chunker(t, ingest.ChunkConfig{}).Chunk(doc)
	if len(chunks) != 1 || chunks[0].Text != text || chunks[0].Section != "" {
		t.Fatalf("chunks = %+v, want one chunk of the whole text", chunks)
	}
	if !utf8.ValidString(chunks[0].Text) {
		t.Error("invalid UTF-8")
	}
}

// TestChunkShortUnitsStayUnderMax packs many tiny sentences: list items,
// numbered items, table rows and one-word paragraphs. The text between them
// (line breaks, list markers) is part of the chunk and must fit the budget
// too.
func TestChunkShortUnitsStayUnderMax(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, text string }{
		{"bullet list", strings.Repeat("- a\n", 1000)},
		{"numbered list", strings.Repeat("1. x\n", 1000)},
		{"table rows", strings.Repeat("| a | 1 |\n", 1000)},
		{"one-word paragraphs", strings.Repeat("Yes\n\n", 1000)},
		{"short sentences", strings.Repeat("Yes. ", 1000)},
	}
	ch := ingesttest.Chunker(t, ingest.ChunkConfig{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := ingest.Load("short.md", []byte(tt.text))
			if err != nil {
				t.Fatal(err)
			}
			chunks := ch.Chunk(doc)
			ingesttest.CheckChunks(t, doc, chunks)
			ingesttest.CheckCoverage(t, doc, chunks)
			checkMaxTokens(t, ch, doc, chunks)
		})
	}
}

// TestNewChunkerConcurrent makes chunkers from several goroutines at once,
// as parallel tests and servers do; run with -race. (Not parallel itself, so
// a race it finds is reported here.)
func TestNewChunkerConcurrent(t *testing.T) {
	const n = 3
	var wg sync.WaitGroup
	counts := make([]int, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ch, err := ingest.NewChunker(ingest.ChunkConfig{MaxTokens: 100 + i})
			if err != nil {
				errs[i] = err
				return
			}
			counts[i] = ch.CountTokens("Retrieval grounding reduces hallucination.")
		}()
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil || counts[i] != counts[0] || counts[i] == 0 {
			t.Errorf("chunker %d: %d tokens, error %v; want %d tokens", i, counts[i], errs[i], counts[0])
		}
	}
}
