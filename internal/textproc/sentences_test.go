package textproc_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/groundedhq/grounded/internal/textproc"
)

// sent is a sentence as a test expects it: its text and whether it is a heading.
type sent struct {
	text    string
	heading bool
}

func (s sent) String() string {
	if s.heading {
		return fmt.Sprintf("H%q", s.text)
	}
	return fmt.Sprintf("%q", s.text)
}

func sentencesOf(text string, start, end int) []sent {
	var out []sent
	for _, s := range textproc.Sentences(text, start, end) {
		out = append(out, sent{text[s.Start:s.End], s.Heading})
	}
	return out
}

func p(texts ...string) []sent {
	out := make([]sent, len(texts))
	for i, t := range texts {
		out[i] = sent{text: t}
	}
	return out
}

func h(text string) sent { return sent{text: text, heading: true} }

func TestSentences(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []sent
	}{
		{"empty", "", nil},
		{"white space", " \n\t\n ", nil},
		{"one", "One sentence.", p("One sentence.")},
		{"no final period", "Two sentences. The second has no period", p("Two sentences.", "The second has no period")},
		{"question and exclamation", "Is it grounded? Yes! It is.", p("Is it grounded?", "Yes!", "It is.")},
		{"interrobang run", "Really?! Yes.", p("Really?!", "Yes.")},
		{"abbreviation e.g.", "Use a tool, e.g. Search or BM25. Then rank.", p("Use a tool, e.g. Search or BM25.", "Then rank.")},
		{"abbreviation i.e.", "One store, i.e. SQLite. It works.", p("One store, i.e. SQLite.", "It works.")},
		{"title abbreviations", "Dr. Smith met Prof. Jones. They talked.", p("Dr. Smith met Prof. Jones.", "They talked.")},
		{"etc before capital", "Models, vectors, etc. All of it. Done.", p("Models, vectors, etc. All of it.", "Done.")},
		{"initials", "We met J. Smith today. He was kind.", p("We met J. Smith today.", "He was kind.")},
		{"two initials", "Ask J. R. R. Tolkien. He knows.", p("Ask J. R. R. Tolkien.", "He knows.")},
		{"decimal", "Pi is 3.14 today. Yes.", p("Pi is 3.14 today.", "Yes.")},
		{"version number", "Use v1.2.3 now. Or later.", p("Use v1.2.3 now.", "Or later.")},
		{"dotted name", "See example.com for more. Thanks.", p("See example.com for more.", "Thanks.")},
		{"glued sentences", "He lost to Obama.Barack Obama won in 2008.The end came!Then", p("He lost to Obama.", "Barack Obama won in 2008.", "The end came!", "Then")},
		{"glued, not a sentence end", "Use e.g.Foo or J.Smith or U.S.Army now.", p("Use e.g.Foo or J.Smith or U.S.Army now.")},
		{"lower-case next word", "The U.S. economy grew. Then it fell.", p("The U.S. economy grew.", "Then it fell.")},
		{"ellipsis", "Wait... what? Fine.", p("Wait... what?", "Fine.")},
		{"quote after period", `He said "Stop." Then he left.`, p(`He said "Stop."`, "Then he left.")},
		{"single quote after period", `She wrote 'done.' Next.`, p(`She wrote 'done.'`, "Next.")},
		{"bracket after period", "It ends (as planned.) Next one.", p("It ends (as planned.)", "Next one.")},
		{"curly quote after period", "He said “Stop.” Then he left.", p("He said “Stop.”", "Then he left.")},
		{"guillemet after period", "Il a dit «Stop.» Puis.", p("Il a dit «Stop.»", "Puis.")},
		{"sentence across lines", "A sentence that\nwraps here. Next.", p("A sentence that\nwraps here.", "Next.")},
		{"period at line end", "Line one.\nLine two.", p("Line one.", "Line two.")},
		{"blank line ends paragraph", "First paragraph\n\nSecond paragraph", p("First paragraph", "Second paragraph")},
		{"blank line with spaces", "First\n   \t\nSecond", p("First", "Second")},
		{"heading", "# Title\nBody text.", []sent{h("# Title"), {text: "Body text."}}},
		{"headings levels", "## Sub\n\n###### Six\n####### Seven", []sent{h("## Sub"), h("###### Six"), {text: "####### Seven"}}},
		{"heading closes open sentence", "Open sentence\n## Next", []sent{{text: "Open sentence"}, h("## Next")}},
		{"indented heading", "  # Indented", []sent{h("# Indented")}},
		{"hashtag is not a heading", "#hashtag is text.", p("#hashtag is text.")},
		{"bare hash heading", "#\ntext", []sent{h("#"), {text: "text"}}},
		{"bullet list", "Intro:\n- first item\n* second item\n+ third item", p("Intro:", "first item", "second item", "third item")},
		{"numbered list", "1. one\n2) two\n10. ten\n1000. not a marker", p("one", "two", "ten\n1000. not a marker")},
		{"list item with sentences", "- First. Second one.\n- Third", p("First.", "Second one.", "Third")},
		{"nested list", "- outer\n  - inner", p("outer", "inner")},
		{"dash without space", "-not a list\n-- nor this", p("-not a list\n-- nor this")},
		{"table rows", "| a | b |\n|---|---|\n| 1 | 2 |", p("| a | b |", "|---|---|", "| 1 | 2 |")},
		{"CRLF paragraphs", "One\r\n\r\nTwo", p("One", "Two")},
		{"CRLF sentence ends", "Line one.\r\nLine two.\r\n", p("Line one.", "Line two.")},
		{"non-ASCII capital", "Fin. Écrit ensuite.", p("Fin.", "Écrit ensuite.")},
		{"CJK without spaces", "日本語です。次の文。", p("日本語です。次の文。")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := sentencesOf(tt.in, 0, len(tt.in))
			if !slices.Equal(got, tt.want) {
				t.Errorf("Sentences(%q)\n got  %v\n want %v", tt.in, got, tt.want)
			}
			checkSpans(t, tt.in, 0, len(tt.in), textproc.Sentences(tt.in, 0, len(tt.in)))
		})
	}
}

// TestSentencesOffsets checks exact byte offsets, trimming and sub-ranges.
func TestSentencesOffsets(t *testing.T) {
	text := "  Padded first.   \n\n\t Second sentence!  Third?  \n- café item\n# Head  \n"
	tests := []struct {
		name       string
		start, end int
		want       []textproc.Sentence
	}{
		{"whole", 0, len(text), []textproc.Sentence{
			{Span: textproc.Span{Start: 2, End: 15}},
			{Span: textproc.Span{Start: 22, End: 38}},
			{Span: textproc.Span{Start: 40, End: 46}},
			{Span: textproc.Span{Start: 51, End: 61}},
			{Span: textproc.Span{Start: 62, End: 68}, Heading: true},
		}},
		{"from second paragraph", 20, len(text), []textproc.Sentence{
			{Span: textproc.Span{Start: 22, End: 38}},
			{Span: textproc.Span{Start: 40, End: 46}},
			{Span: textproc.Span{Start: 51, End: 61}},
			{Span: textproc.Span{Start: 62, End: 68}, Heading: true},
		}},
		{"inside a sentence", 24, 30, []textproc.Sentence{
			{Span: textproc.Span{Start: 24, End: 30}},
		}},
		{"empty range", 10, 10, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := textproc.Sentences(text, tt.start, tt.end)
			if !slices.Equal(got, tt.want) {
				t.Errorf("Sentences(text, %d, %d) = %v, want %v", tt.start, tt.end, got, tt.want)
				for _, s := range got {
					t.Logf("  %d-%d %q", s.Start, s.End, text[s.Start:s.End])
				}
			}
			checkSpans(t, text, tt.start, tt.end, got)
		})
	}
}

// checkSpans asserts the contract every result of Sentences keeps: spans in
// [start, end), in order, not overlapping, non-empty, trimmed of white space,
// and on UTF-8 boundaries.
func checkSpans(tb testing.TB, text string, start, end int, got []textproc.Sentence) {
	tb.Helper()
	prev := start
	for i, s := range got {
		if s.Start < prev || s.End > end || s.Start >= s.End {
			tb.Errorf("sentence %d [%d,%d) is out of order, out of [%d,%d) or empty (previous ended at %d)", i, s.Start, s.End, start, end, prev)
			return
		}
		prev = s.End
		if !utf8.RuneStart(text[s.Start]) || (s.End < len(text) && !utf8.RuneStart(text[s.End])) {
			tb.Errorf("sentence %d [%d,%d) splits a UTF-8 sequence", i, s.Start, s.End)
		}
		span := text[s.Start:s.End]
		first, _ := utf8.DecodeRuneInString(span)
		last, _ := utf8.DecodeLastRuneInString(span)
		if unicode.IsSpace(first) || unicode.IsSpace(last) {
			tb.Errorf("sentence %d %q is not trimmed", i, span)
		}
	}
}

// TestSentencesCoverText checks that, apart from white space and list
// markers, every byte of prose is in some sentence.
func TestSentencesCoverText(t *testing.T) {
	text := "# Guide\n\nIntro text. More text!\n\n- item one\n- item two\n1. numbered\n\n| a | b |\nLast line?"
	covered := make([]bool, len(text))
	for _, s := range textproc.Sentences(text, 0, len(text)) {
		for i := s.Start; i < s.End; i++ {
			covered[i] = true
		}
	}
	var missing strings.Builder
	for i, c := range []byte(text) {
		if !covered[i] {
			missing.WriteByte(c)
		}
	}
	if got := strings.Join(strings.Fields(missing.String()), " "); got != "- - 1." {
		t.Errorf("text outside all sentences = %q, want only the list markers", got)
	}
}
