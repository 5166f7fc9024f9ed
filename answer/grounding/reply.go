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

// leadingMarker is the length of the marker s starts with, 0 for none.
func leadingMarker(s string) int {
	if m := markers.FindStringIndex(s); m != nil && m[0] == 0 {
		return m[1]
	}
	return 0
}

// Split cuts a reply into sentences (textproc.Sentences), markers that
// open a sentence joined to the one before. Every sentence returned is
// non-empty and trimmed of white space.
func Split(reply string) []string {
	var raw []string
	for _, sp := range textproc.Sentences(reply, 0, len(reply)) {
		t := reply[sp.Start:sp.End]
		if m := leadingMarker(t); m > 0 && len(raw) > 0 {
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
// whole sentences: everything before the last sentence's start, with the
// markers that lead that sentence (they close the one before). 0 when
// there are fewer than two sentences.
func Complete(reply string) int {
	spans := textproc.Sentences(reply, 0, len(reply))
	if len(spans) < 2 {
		return 0
	}
	cut := spans[len(spans)-1].Start
	return cut + leadingMarker(reply[cut:])
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
