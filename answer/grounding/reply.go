package grounding

import (
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/groundedhq/grounded"
	"github.com/groundedhq/grounded/internal/textproc"
)

// A reply is plain sentences, each ending with citation markers: "[1]",
// "[1, 2]", "[1; 2]", "[1][3]". A marker may also follow the sentence's
// period ("... wins. [2] Next ..."): markers that open a sentence close the
// one before.
var markers = regexp.MustCompile(`\[\s*\d+(?:\s*[,;]\s*\d+)*\s*\]`)

// Claim is one sentence of a reply: its text without markers, and the
// passage numbers it cites, each once, in order of citation.
type Claim struct {
	Text  string
	Cites []int
}

// leadingMarkers is the length of the markers s starts with ("[1][3]",
// "[1] [2]"), 0 for none.
func leadingMarkers(s string) int {
	n := 0
	for {
		m := markers.FindStringIndex(s[n:])
		if m == nil || strings.TrimSpace(s[n:n+m[0]]) != "" {
			return n
		}
		n += m[1]
	}
}

// openMarker matches text that may yet become markers as more arrives.
var openMarker = regexp.MustCompile(`^\s*(\[[\d\s,;]*)?$`)

// Split cuts a reply into sentences (textproc.Sentences), markers that
// open a sentence joined to the one before. Every sentence returned is
// non-empty and trimmed of white space.
func Split(reply string) []string {
	var raw []string
	for _, sp := range textproc.Sentences(reply, 0, len(reply)) {
		t := reply[sp.Start:sp.End]
		if m := leadingMarkers(t); m > 0 && len(raw) > 0 {
			raw[len(raw)-1] += " " + t[:m]
			t = strings.TrimSpace(t[m:])
		}
		if t != "" {
			raw = append(raw, t)
		}
	}
	return raw
}

// ParseClaim reads one sentence's markers. It returns the sentence without
// them (white space collapsed, no space before punctuation), the numbers
// that valid accepts, and how many numbers it did not accept (a repeated
// valid number is neither).
func ParseClaim(sentence string, valid func(int) bool) (Claim, int) {
	var c Claim
	invalid := 0
	for _, m := range markers.FindAllString(sentence, -1) {
		for _, f := range strings.FieldsFunc(strings.Trim(m, "[] "), func(r rune) bool { return r == ',' || r == ';' || r == ' ' }) {
			n, err := strconv.Atoi(f)
			if err != nil || !valid(n) {
				invalid++
				continue
			}
			if !slices.Contains(c.Cites, n) {
				c.Cites = append(c.Cites, n)
			}
		}
	}
	text := strings.Join(strings.Fields(markers.ReplaceAllString(sentence, "")), " ")
	c.Text = unspace.Replace(text)
	return c, invalid
}

var unspace = strings.NewReplacer(" .", ".", " ,", ",", " ;", ";", " :", ":", " ?", "?", " !", "!")

// Parse splits a reply into claims (Split, then ParseClaim), leaving out
// sentences without a word, and counts the numbers valid did not accept.
func Parse(reply string, valid func(int) bool) (claims []Claim, invalid int) {
	for _, s := range Split(reply) {
		c, bad := ParseClaim(s, valid)
		invalid += bad
		if len(textproc.Words(c.Text)) > 0 {
			claims = append(claims, c)
		}
	}
	return claims, invalid
}

// Complete is how many leading bytes of a reply still arriving hold only
// whole sentences, with their markers: everything before the start of the
// last sentence that has begun, and the markers that lead it (they close
// the sentence before). A sentence has begun when it has text that cannot
// be more markers. 0 when no sentence is whole yet.
func Complete(reply string) int {
	spans := textproc.Sentences(reply, 0, len(reply))
	for i := len(spans) - 1; i > 0; i-- {
		cut := spans[i].Start
		cut += leadingMarkers(reply[cut:])
		if !openMarker.MatchString(reply[cut:]) {
			return cut
		}
	}
	return 0
}

// Markers renders citation numbers as markers: "[1][3]".
func Markers(ns []int) string {
	var b strings.Builder
	for _, n := range ns {
		b.WriteString("[" + strconv.Itoa(n) + "]")
	}
	return b.String()
}

// Render joins checked sentences into text: each with its markers, an
// unsupported one marked "(unsupported)".
func Render(sents []grounded.Sentence) string {
	parts := make([]string, len(sents))
	for i, st := range sents {
		parts[i] = st.Text + " " + Markers(st.Citations)
		if !st.Supported {
			parts[i] += " (unsupported)"
		}
	}
	return strings.Join(parts, " ")
}
