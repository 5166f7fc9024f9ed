// Package textproc holds the text analysis that ingest, retrieval and answering
// must agree on: turning text into index terms (lower-cased Unicode words, English
// stop words removed, Snowball/Porter2 stems) and splitting text into sentences
// with byte offsets.
package textproc

import (
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/kljensen/snowball/english"
)

// maxWordBytes drops longer "words" (base64 runs, hashes) from the index.
const maxWordBytes = 48

// Analyzer turns text into index terms. It caches stems and is safe for
// concurrent use. The zero value is not usable; call NewAnalyzer.
type Analyzer struct {
	mu    sync.RWMutex
	stems map[string]string // lower-cased word -> stem
}

// maxCached bounds the stem cache; past it, stems are computed each time.
const maxCached = 1 << 20

// NewAnalyzer returns an analyzer with an empty stem cache.
func NewAnalyzer() *Analyzer { return &Analyzer{stems: map[string]string{}} }

// Span is a byte range [Start, End) of some text.
type Span struct {
	Start, End int
}

// Words returns the byte spans of the words of text: maximal runs of letters,
// digits and combining marks. Apostrophes inside a word ("model's") end it.
func Words(text string) []Span {
	var out []Span
	start := -1
	for i, r := range text {
		if isWordRune(r) {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			out = append(out, Span{start, i})
			start = -1
		}
	}
	if start >= 0 {
		out = append(out, Span{start, len(text)})
	}
	return out
}

func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)
}

// IsStopWord reports whether the lower-cased word is an English stop word.
func IsStopWord(w string) bool { return english.IsStopWord(w) }

// Term returns the index term of one word, or "" when the word is a stop word
// or too long to index.
func (a *Analyzer) Term(word string) string {
	if len(word) > maxWordBytes {
		return ""
	}
	w := lower(word)
	if english.IsStopWord(w) {
		return ""
	}
	a.mu.RLock()
	s, ok := a.stems[w]
	a.mu.RUnlock()
	if ok {
		return s
	}
	s = w
	if isLatinWord(w) {
		s = english.Stem(w, false)
	}
	a.mu.Lock()
	if len(a.stems) < maxCached {
		a.stems[w] = s
	}
	a.mu.Unlock()
	return s
}

// Terms returns the index terms of text in order, stop words removed.
func (a *Analyzer) Terms(text string) []string {
	words := Words(text)
	out := make([]string, 0, len(words))
	for _, sp := range words {
		if t := a.Term(text[sp.Start:sp.End]); t != "" {
			out = append(out, t)
		}
	}
	return out
}

func lower(w string) string {
	for i := 0; i < len(w); i++ {
		c := w[i]
		if c >= utf8.RuneSelf || ('A' <= c && c <= 'Z') {
			return strings.ToLower(w)
		}
	}
	return w
}

// isLatinWord reports whether w is made of ASCII letters only; the English
// stemmer is applied to those words alone, numbers and other scripts pass as is.
func isLatinWord(w string) bool {
	for i := 0; i < len(w); i++ {
		c := w[i]
		if c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

// Unique returns terms without repeats, in first-seen order.
func Unique(terms []string) []string {
	seen := make(map[string]bool, len(terms))
	out := make([]string, 0, len(terms))
	for _, t := range terms {
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	return out
}

// Set returns terms as a set.
func Set(terms []string) map[string]bool {
	m := make(map[string]bool, len(terms))
	for _, t := range terms {
		m[t] = true
	}
	return m
}
