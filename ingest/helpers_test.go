package ingest_test

import (
	"flag"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/groundedhq/grounded"
	"github.com/groundedhq/grounded/ingest"
	"github.com/groundedhq/grounded/ingest/internal/ingesttest"
)

// The helpers shared with ingest/pdf's tests (the chunker cache, the
// document and chunk checks) are in ingest/internal/ingesttest; these are
// ingest's own.

// update rewrites the golden files under testdata/: go test ./ingest -update
var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// tokenSlack is how far CountTokens(chunk.Text) may exceed MaxTokens: the
// chunker budgets the tokens of each sentence (or piece of one) on its own,
// so the white space between sentences and a re-tokenized cut can add a few.
const tokenSlack = 10

// checkWordBoundaries asserts that a chunk that does not start (end) its
// section's text starts (ends) between words: the rune before Start and the
// rune at End are not letters or digits.
func checkWordBoundaries(tb testing.TB, doc *grounded.Document, chunks []grounded.Chunk) {
	tb.Helper()
	for i, c := range chunks {
		s, ok := ingesttest.SectionOf(doc, c)
		if !ok {
			continue
		}
		if strings.TrimSpace(doc.Text[s.Start:c.Start]) != "" {
			if r, _ := utf8.DecodeLastRuneInString(doc.Text[:c.Start]); isWordRune(r) {
				tb.Errorf("%s: chunk %d starts inside a word: %q|%q", doc.Source, i, ingesttest.Tail(doc.Text[:c.Start], 20), ingesttest.Clip(c.Text))
			}
		}
		if strings.TrimSpace(doc.Text[c.End:s.End]) != "" {
			if r, _ := utf8.DecodeRuneInString(doc.Text[c.End:]); isWordRune(r) {
				tb.Errorf("%s: chunk %d ends inside a word: %q|%q", doc.Source, i, ingesttest.Tail(c.Text, 20), ingesttest.Clip(doc.Text[c.End:]))
			}
		}
	}
}

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// checkMaxTokens asserts no chunk is much over MaxTokens by a real count.
func checkMaxTokens(tb testing.TB, ch *ingest.Chunker, doc *grounded.Document, chunks []grounded.Chunk) {
	tb.Helper()
	limit := ch.Config().MaxTokens + tokenSlack
	over := 0
	for i, c := range chunks {
		n := ch.CountTokens(c.Text)
		if n <= limit && c.Tokens <= limit {
			continue
		}
		if over++; over == 1 {
			tb.Errorf("%s: chunk %d [%d,%d) has %d tokens (reports %d), over MaxTokens %d + %d: %q",
				doc.Source, i, c.Start, c.End, n, c.Tokens, ch.Config().MaxTokens, tokenSlack, ingesttest.Clip(c.Text))
		}
	}
	if over > 1 {
		tb.Errorf("%s: %d of %d chunks are over MaxTokens", doc.Source, over, len(chunks))
	}
}
