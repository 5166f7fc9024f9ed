package textproc_test

import (
	"io/fs"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/groundedhq/grounded/corpus"
	"github.com/groundedhq/grounded/internal/textproc"
)

// seeds are real documents (the default corpus) and awkward inputs.
func seeds(f *testing.F) []string {
	names, err := fs.Glob(corpus.FS, "*.md")
	if err != nil || len(names) == 0 {
		f.Fatalf("corpus has no Markdown files (%v)", err)
	}
	var out []string
	for _, name := range names[:3] {
		data, err := corpus.FS.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, string(data))
	}
	return append(out,
		"",
		"e.g. J. Smith paid 3.14! Why? “Quoted.” Next.",
		"# H\n- a\n1. b\n| c |\n\n\n",
		"a.\r\nb.\r\n",
		".\n.\n. . .",
		"”’»",
		"a.”",
		"\xff.\xfe \xc3. A",
		"。日本語。 한국어. हिन्दी।",
		"#\t\n######\n#######",
		strings.Repeat("word ", 500),
		strings.Repeat("é", 500),
	)
}

// FuzzSentences splits arbitrary text, and an arbitrary sub-range of it, into
// sentences: it must not panic, and on valid UTF-8 the spans must lie in the
// range, in order, not overlapping, trimmed and on rune boundaries.
func FuzzSentences(f *testing.F) {
	for i, s := range seeds(f) {
		f.Add(s, uint16(0), uint16(len(s)))
		f.Add(s, uint16(i), uint16(len(s)/2))
	}
	f.Fuzz(func(t *testing.T, text string, a, b uint16) {
		start, end := int(a)%(len(text)+1), int(b)%(len(text)+1)
		if start > end {
			start, end = end, start
		}
		for start > 0 && start < len(text) && !utf8.RuneStart(text[start]) {
			start--
		}
		for end > 0 && end < len(text) && !utf8.RuneStart(text[end]) {
			end--
		}
		whole := textproc.Sentences(text, 0, len(text))
		part := textproc.Sentences(text, start, end)
		if !utf8.ValidString(text) {
			// No rune boundaries to keep; still in range and in order.
			for _, spans := range [][]textproc.Sentence{whole, part} {
				prev := 0
				for _, s := range spans {
					if s.Start < prev || s.End > len(text) || s.Start >= s.End {
						t.Fatalf("sentence [%d,%d) out of order or range (previous ended at %d)", s.Start, s.End, prev)
					}
					prev = s.End
				}
			}
			return
		}
		checkSpans(t, text, 0, len(text), whole)
		checkSpans(t, text, start, end, part)
		for _, s := range whole {
			if s.Heading && !strings.HasPrefix(strings.TrimLeft(text[s.Start:s.End], " \t"), "#") {
				t.Errorf("heading %q does not start with '#'", text[s.Start:s.End])
			}
		}
	})
}

// FuzzWords checks Words' spans and that Terms never panics and returns
// non-empty terms.
func FuzzWords(f *testing.F) {
	for _, s := range seeds(f) {
		f.Add(s)
	}
	a := textproc.NewAnalyzer()
	f.Fuzz(func(t *testing.T, text string) {
		prev := 0
		for i, w := range textproc.Words(text) {
			if w.Start < prev || w.End > len(text) || w.Start >= w.End {
				t.Fatalf("word %d [%d,%d) is out of order or range (previous ended at %d)", i, w.Start, w.End, prev)
			}
			if utf8.ValidString(text) && (!utf8.RuneStart(text[w.Start]) || (w.End < len(text) && !utf8.RuneStart(text[w.End]))) {
				t.Errorf("word %d [%d,%d) splits a UTF-8 sequence", i, w.Start, w.End)
			}
			prev = w.End
		}
		for _, term := range a.Terms(text) {
			if term == "" {
				t.Error("Terms returned an empty term")
			}
			if utf8.ValidString(text) && !utf8.ValidString(term) {
				t.Errorf("term %q is not valid UTF-8", term)
			}
		}
	})
}
