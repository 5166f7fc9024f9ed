// Package ingesttest holds test helpers shared by the tests of ingest and
// ingest/pdf: a shared chunker cache, fixture reading, and checks of the
// invariants every loaded document and its chunks hold. Go cannot import
// another package's _test files, so the helpers live here; only _test files
// may import this package (deps_test.go holds that line).
package ingesttest

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/groundedhq/grounded"
	"github.com/groundedhq/grounded/ingest"
)

// SmallConfig makes small inputs span several chunks, so packing, paragraph
// breaks and overlap are exercised by short fixtures.
var SmallConfig = ingest.ChunkConfig{MaxTokens: 32, MinTokens: 16, OverlapTokens: 8}

// ReadFixture returns the file name under the test's testdata/ folder.
func ReadFixture(tb testing.TB, name string) []byte {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

var chunkers struct {
	sync.Mutex
	m map[ingest.ChunkConfig]*ingest.Chunker
}

// Chunker returns a shared chunker for cfg; loading the tokenizer is slow.
// Chunkers are made one at a time: concurrent NewChunker calls race on
// tiktoken's package-level loader (TestNewChunkerConcurrent).
func Chunker(tb testing.TB, cfg ingest.ChunkConfig) *ingest.Chunker {
	tb.Helper()
	chunkers.Lock()
	defer chunkers.Unlock()
	if c, ok := chunkers.m[cfg]; ok {
		return c
	}
	c, err := ingest.NewChunker(cfg)
	if err != nil {
		tb.Fatalf("NewChunker(%+v): %v", cfg, err)
	}
	if chunkers.m == nil {
		chunkers.m = map[ingest.ChunkConfig]*ingest.Chunker{}
	}
	chunkers.m[cfg] = c
	return c
}

// CheckDoc asserts the invariants every loaded document holds: valid UTF-8
// text, sections in range, in order and not overlapping.
func CheckDoc(tb testing.TB, doc *grounded.Document) {
	tb.Helper()
	if !utf8.ValidString(doc.Text) {
		tb.Errorf("%s: text is not valid UTF-8", doc.Source)
	}
	if !utf8.ValidString(doc.Title) {
		tb.Errorf("%s: title %q is not valid UTF-8", doc.Source, doc.Title)
	}
	if strings.TrimSpace(doc.Text) == "" {
		tb.Errorf("%s: loaded a document with no text", doc.Source)
	}
	prevEnd := 0
	for i, s := range doc.Sections {
		if s.Start < 0 || s.End > len(doc.Text) || s.Start > s.End {
			tb.Errorf("%s: section %d range [%d,%d) outside text of %d bytes", doc.Source, i, s.Start, s.End, len(doc.Text))
			continue
		}
		if s.Start < prevEnd {
			tb.Errorf("%s: section %d starts at %d, before the previous one ends at %d", doc.Source, i, s.Start, prevEnd)
		}
		prevEnd = s.End
		if !Boundary(doc.Text, s.Start) || !Boundary(doc.Text, s.End) {
			tb.Errorf("%s: section %d [%d,%d) splits a UTF-8 sequence", doc.Source, i, s.Start, s.End)
		}
		for _, p := range s.Path {
			if !utf8.ValidString(p) {
				tb.Errorf("%s: section %d path element %q is not valid UTF-8", doc.Source, i, p)
			}
		}
	}
}

// CheckChunks asserts the invariants of a document's chunks: each is a valid
// UTF-8 slice of the text inside one section, numbered in order, and the
// chunks of a section follow each other, overlapping or separated by white
// space only.
func CheckChunks(tb testing.TB, doc *grounded.Document, chunks []grounded.Chunk) {
	tb.Helper()
	for i, c := range chunks {
		if c.Start < 0 || c.End > len(doc.Text) || c.Start >= c.End {
			tb.Errorf("%s: chunk %d range [%d,%d) outside text of %d bytes or empty", doc.Source, i, c.Start, c.End, len(doc.Text))
			continue
		}
		if c.Text != doc.Text[c.Start:c.End] {
			tb.Errorf("%s: chunk %d text %q != doc.Text[%d:%d]", doc.Source, i, Clip(c.Text), c.Start, c.End)
		}
		if !utf8.ValidString(c.Text) {
			tb.Errorf("%s: chunk %d text is not valid UTF-8: %q", doc.Source, i, Clip(c.Text))
		}
		if c.Ord != i || c.DocID != doc.ID || c.Source != doc.Source || c.Title != doc.Title {
			tb.Errorf("%s: chunk %d has ord %d, doc %q, source %q, title %q", doc.Source, i, c.Ord, c.DocID, c.Source, c.Title)
		}
		if c.Tokens <= 0 {
			tb.Errorf("%s: chunk %d has %d tokens", doc.Source, i, c.Tokens)
		}
		if s, ok := SectionOf(doc, c); !ok {
			tb.Errorf("%s: chunk %d [%d,%d) is inside no section", doc.Source, i, c.Start, c.End)
		} else if want := strings.Join(s.Path, " > "); c.Section != want {
			tb.Errorf("%s: chunk %d section %q, want %q", doc.Source, i, c.Section, want)
		}
		if i == 0 {
			continue
		}
		p := chunks[i-1]
		ps, _ := SectionOf(doc, p)
		cs, _ := SectionOf(doc, c)
		if ps.Start != cs.Start || ps.End != cs.End {
			continue
		}
		if c.Start <= p.Start {
			tb.Errorf("%s: chunk %d starts at %d, not after chunk %d at %d", doc.Source, i, c.Start, i-1, p.Start)
		}
		if c.Start > p.End {
			for _, f := range strings.Fields(doc.Text[p.End:c.Start]) {
				if !IsListMarker(f) {
					tb.Errorf("%s: gap between chunks %d and %d holds text %q", doc.Source, i-1, i, Clip(doc.Text[p.End:c.Start]))
					break
				}
			}
		}
	}
}

// SectionOf returns the section that holds chunk c (the whole text when the
// document has no sections).
func SectionOf(doc *grounded.Document, c grounded.Chunk) (grounded.Section, bool) {
	if len(doc.Sections) == 0 {
		return grounded.Section{Start: 0, End: len(doc.Text)}, c.Start >= 0 && c.End <= len(doc.Text)
	}
	for _, s := range doc.Sections {
		if s.Start <= c.Start && c.End <= s.End {
			return s, true
		}
	}
	return grounded.Section{}, false
}

// CheckCoverage asserts that the chunks of each section cover all of its
// text except white space and Markdown list markers (which the sentence
// splitter leaves out).
func CheckCoverage(tb testing.TB, doc *grounded.Document, chunks []grounded.Chunk) {
	tb.Helper()
	covered := make([]bool, len(doc.Text))
	for _, c := range chunks {
		for i := max(c.Start, 0); i < min(c.End, len(doc.Text)); i++ {
			covered[i] = true
		}
	}
	sections := doc.Sections
	if len(sections) == 0 {
		sections = []grounded.Section{{Start: 0, End: len(doc.Text)}}
	}
	for _, s := range sections {
		for i := s.Start; i < s.End; {
			if covered[i] {
				i++
				continue
			}
			j := i
			for j < s.End && !covered[j] {
				j++
			}
			for _, f := range strings.Fields(doc.Text[i:j]) {
				if !IsListMarker(f) {
					tb.Errorf("%s: text %q at [%d,%d) of section %v is in no chunk", doc.Source, Clip(doc.Text[i:j]), i, j, s.Path)
					break
				}
			}
			i = j
		}
	}
}

// IsListMarker reports whether field f is a Markdown list marker ("-", "*",
// "+", "1.", "2)"), which the sentence splitter leaves out of chunks.
func IsListMarker(f string) bool {
	switch f {
	case "-", "*", "+":
		return true
	}
	n := 0
	for n < len(f) && n < 3 && '0' <= f[n] && f[n] <= '9' {
		n++
	}
	return n > 0 && n+1 == len(f) && (f[n] == '.' || f[n] == ')')
}

// CheckNoChunks allows a loaded document no chunks only when its text is
// nothing but list markers ("* ", "1. "), which the sentence splitter drops.
// The pipeline still stores such a document, with no chunks.
func CheckNoChunks(tb testing.TB, doc *grounded.Document, chunks []grounded.Chunk) {
	tb.Helper()
	if len(chunks) > 0 {
		return
	}
	for _, f := range strings.Fields(doc.Text) {
		if !IsListMarker(f) {
			tb.Fatalf("a document with text %q has no chunks", Clip(doc.Text))
		}
	}
}

// Boundary reports whether byte offset i of s is a rune boundary.
func Boundary(s string, i int) bool { return i == len(s) || utf8.RuneStart(s[i]) }

// Prefix returns at most n bytes of s, cut back to a rune boundary.
func Prefix(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// Tail returns at most the last n bytes of s, cut forward to a rune boundary.
func Tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := len(s) - n
	for i < len(s) && !utf8.RuneStart(s[i]) {
		i++
	}
	return s[i:]
}

// Clip shortens s for error messages.
func Clip(s string) string {
	if len(s) <= 80 {
		return s
	}
	return Prefix(s, 60) + "…" + Tail(s, 20)
}
