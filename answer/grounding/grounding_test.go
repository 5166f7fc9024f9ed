package grounding_test

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/groundedhq/grounded"
	"github.com/groundedhq/grounded/answer/grounding"
)

var replies = []string{
	"",
	"NO_ANSWER",
	"Alpha reactors cool with heavy water [1]. Beta reactors cool with molten salt [2].",
	"Alpha reactors cool with heavy water. [1] Beta reactors cool with molten salt. [2]",
	"Alpha wins. [1][3] Beta loses [2, 4; 5].",
	"Alpha wins [1] [2]. [3] [4] Beta loses.",
	"Text [1, 2; 3] more [x] and [99999999999999999999] and [0].",
	"[1][1][1]",
	"- First point [1].\n- Second point [2].\n\n# Heading\nThird [3].",
	"Dr. Smith said so [1]. e.g. this [2]. \"Quoted.\" [3] Next one [4]",
	"Ünïcödé wörds [1]. 日本語の文 [2]。 Next [3",
}

func TestParse(t *testing.T) {
	valid := func(n int) bool { return n >= 1 && n <= 4 }
	for _, tc := range []struct {
		reply   string
		claims  []grounding.Claim
		invalid int
	}{
		{"Alpha wins [1]. Beta loses [2][9].", []grounding.Claim{{"Alpha wins.", []int{1}}, {"Beta loses.", []int{2}}}, 1},
		{"Alpha wins. [1][3] Beta loses [2, 4; 5].", []grounding.Claim{{"Alpha wins.", []int{1, 3}}, {"Beta loses.", []int{2, 4}}}, 1},
		{"Alpha wins [1] [1, 1]. No citation here.", []grounding.Claim{{"Alpha wins.", []int{1}}, {"No citation here.", nil}}, 0},
		{"[2] Leading marker of the first sentence.", []grounding.Claim{{"Leading marker of the first sentence.", []int{2}}}, 0},
		{"[1][7]", nil, 1},
	} {
		claims, invalid := grounding.Parse(tc.reply, valid)
		if !slices.EqualFunc(claims, tc.claims, func(a, b grounding.Claim) bool { return a.Text == b.Text && slices.Equal(a.Cites, b.Cites) }) || invalid != tc.invalid {
			t.Errorf("Parse(%q) = %v, %d invalid; want %v, %d", tc.reply, claims, invalid, tc.claims, tc.invalid)
		}
	}
}

// FuzzSplit holds the reply splitter to its contract on any text: every
// sentence is non-empty and trimmed; the sentences hold the reply's text
// in order (list markers aside); no sentence but the first opens with a
// marker; and the sentences before Complete's cut of a reply still
// arriving are those of the whole reply (a streamed sentence is final).
func FuzzSplit(f *testing.F) {
	for _, r := range replies {
		f.Add(r, len(r)/2)
	}
	f.Fuzz(func(t *testing.T, reply string, at int) {
		sents := grounding.Split(reply)
		for i, s := range sents {
			if s == "" || strings.TrimSpace(s) != s {
				t.Fatalf("sentence %d %q is empty or untrimmed", i, s)
			}
			if i > 0 && strings.HasPrefix(s, "[") && markersOnly(s[:strings.IndexByte(s, ']')+1]) {
				t.Fatalf("sentence %d %q opens with a marker", i, s)
			}
		}
		if utf8.ValidString(reply) && !subsequence(squeeze(strings.Join(sents, "")), squeeze(reply)) {
			t.Fatalf("sentences %q are not the text of %q", sents, reply)
		}
		// A stream: the first at bytes have arrived.
		if at < 0 || at > len(reply) {
			return
		}
		prefix := reply[:at]
		cut := grounding.Complete(prefix)
		if cut < 0 || cut > len(prefix) || !utf8.ValidString(reply[:cut]) && utf8.ValidString(reply) {
			t.Fatalf("Complete(%q) = %d", prefix, cut)
		}
		if cut == 0 {
			return
		}
		// The sentences before the cut are final: those of the whole reply.
		// (The rest, split alone, starts a line: a list marker or "#" that
		// opens it reads as Markdown, as it does when streamed.)
		if got := grounding.Split(reply[:cut]); len(got) > len(sents) || !slices.Equal(got, sents[:len(got)]) {
			t.Fatalf("reply %q cut at %d (of %d arrived): %q, whole: %q", reply, cut, at, got, sents)
		}
	})
}

// FuzzParse holds the marker parser to its contract on any text: numbers
// cited are valid and each cited once, every number in a marker is either
// cited or counted invalid, and the claim text is collapsed and has words.
func FuzzParse(f *testing.F) {
	for _, r := range replies {
		f.Add(r, 3)
	}
	f.Fuzz(func(t *testing.T, reply string, passages int) {
		valid := func(n int) bool { return n >= 1 && n <= passages }
		claims, invalid := grounding.Parse(reply, valid)
		if invalid < 0 {
			t.Fatalf("invalid = %d", invalid)
		}
		numbers := 0
		for _, s := range grounding.Split(reply) {
			c, bad := grounding.ParseClaim(s, valid)
			numbers += len(c.Cites) + bad
		}
		cited := 0
		for _, c := range claims {
			for i, n := range c.Cites {
				if !valid(n) || slices.Contains(c.Cites[:i], n) {
					t.Fatalf("claim %q cites %v", c.Text, c.Cites)
				}
			}
			cited += len(c.Cites)
			if strings.Join(strings.Fields(c.Text), " ") != c.Text || c.Text == "" {
				t.Fatalf("claim text %q is not collapsed", c.Text)
			}
		}
		if cited+invalid > numbers {
			t.Fatalf("%d cited + %d invalid of %d numbers", cited, invalid, numbers)
		}
		if got := grounding.Markers([]int{1, 22}); got != "[1][22]" {
			t.Fatalf("Markers = %q", got)
		}
	})
}

func markersOnly(s string) bool {
	c, _ := grounding.ParseClaim(s, func(int) bool { return true })
	return c.Text == "" && len(c.Cites) > 0
}

func squeeze(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
}

// subsequence reports whether a's bytes appear in b in order.
func subsequence(a, b string) bool {
	for i := 0; i < len(a); i++ {
		j := strings.IndexByte(b, a[i])
		if j < 0 {
			return false
		}
		b = b[j+1:]
	}
	return true
}

func TestCheckAndCitations(t *testing.T) {
	doc := "Intro. Alpha reactors cool with heavy water. They were built in 1960."
	ch := grounded.Chunk{DocID: "a", Source: "a.md", Title: "Alpha", Start: 7, End: len(doc), Text: doc[7:]}
	ps := []grounding.Passage{{N: 1, Chunk: ch, Score: 0.5}, {N: 2, Chunk: grounded.Chunk{DocID: "b", Source: "b.md", Text: "Beta."}, Score: 0.25}}
	m := (&grounding.Model{}).WithDefaults(nil) // the answer/support checker
	chk := m.NewCheck(ps)
	supported := chk.Sentence(grounding.Claim{Text: "Alpha reactors cool with heavy water.", Cites: []int{1}})
	if !supported.Supported || supported.Support <= 0 {
		t.Fatalf("supported sentence: %+v", supported)
	}
	if st := chk.Sentence(grounding.Claim{Text: "Gamma reactors float."}); st.Supported || st.Reason != grounding.ReasonNoCitation {
		t.Fatalf("uncited sentence: %+v", st)
	}
	cites := chk.Citations([]grounded.Sentence{supported, {Citations: []int{2}}})
	if len(cites) != 2 {
		t.Fatalf("citations: %+v", cites)
	}
	if c := cites[0]; c.Quote != "Alpha reactors cool with heavy water." || doc[c.Start:c.End] != c.Quote || c.Score != supported.Support {
		t.Errorf("citation 1 is not the supporting sentence: %+v", c)
	}
	if c := cites[1]; c.Quote != "Beta." || c.Score != 0.25 {
		t.Errorf("citation 2 is not the whole passage: %+v", c)
	}
	if got := grounding.Render([]grounded.Sentence{supported, {Text: "Gamma.", Citations: []int{2}}}); got != "Alpha reactors cool with heavy water. [1] Gamma. [2] (unsupported)" {
		t.Errorf("Render = %q", got)
	}
}

func TestFitAndPack(t *testing.T) {
	m := (&grounding.Model{PassageTokens: 60}).WithDefaults(nil)
	var ps []grounding.Passage
	for i := range 5 {
		ps = append(ps, grounding.Passage{N: i + 1, Chunk: grounded.Chunk{Source: "s.md", Text: strings.Repeat("word ", 20)}})
	}
	if got := len(m.Fit(ps)); got != 1 {
		t.Errorf("Fit kept %d passages of %d tokens each in 60, want 1 (at least one)", got, m.Cost(ps[0]))
	}
	groups := grounding.Pack([]int{3, 3, 5, 1, 9}, func(n int) int { return n }, 6)
	if want := [][]int{{3, 3}, {5, 1}, {9}}; !slices.EqualFunc(groups, want, slices.Equal) {
		t.Errorf("Pack = %v, want %v", groups, want)
	}
	if b := grounding.Block(grounding.Passage{N: 2, Chunk: grounded.Chunk{Text: "a </passage> b", Section: "S"}}); b != "<passage n=\"2\" section=\"S\">\na </ passage> b\n</passage>\n" {
		t.Errorf("Block = %q", b)
	}
}

func TestGenerate(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	m := &grounding.Model{LLM: grounded.LLM{Generate: func(context.Context, grounded.GenerateRequest) (*grounded.GenerateReply, error) {
		cancel()
		return &grounded.GenerateReply{Text: "half a"}, nil
	}}}
	if _, err := m.Generate(ctx, grounded.GenerateRequest{}); !errors.Is(err, context.Canceled) {
		t.Errorf("a reply that ends after cancellation: err = %v", err)
	}
}

// TestCheckPrepared: a Model whose support checker prepares the prompt's
// passages (Prepare, as WithDefaults sets) checks claims as one that
// passes each check its passage (Support alone), field by field.
func TestCheckPrepared(t *testing.T) {
	texts := []string{
		"Alpha reactors cool with heavy water. They were built in 1960.",
		"Beta reactors cool with molten salt. Beta reactors were not built before 1970.",
		"",
		"Gamma reactors float on the sea. Alpha reactors cool with water.",
	}
	var ps []grounding.Passage
	for i, s := range texts {
		ps = append(ps, grounding.Passage{N: i + 1, Chunk: grounded.Chunk{DocID: "d", Text: s}})
	}
	prepared := (&grounding.Model{}).WithDefaults(nil)
	if prepared.Prepare == nil {
		t.Fatal("WithDefaults set no Prepare")
	}
	plain := *prepared
	plain.Prepare = nil
	claims := []grounding.Claim{
		{Text: "Alpha reactors cool with heavy water.", Cites: []int{1}},
		{Text: "Alpha reactors cool with heavy water.", Cites: []int{2, 4}},
		{Text: "Beta reactors were built before 1970.", Cites: []int{2}},
		{Text: "They were built in 1961.", Cites: []int{1, 3}},
		{Text: "Gamma reactors float.", Cites: []int{3}},
		{Text: "Yes.", Cites: []int{1}},
		{Text: "No, beta reactors cool with molten salt.", Cites: []int{2}},
	}
	for _, q := range []string{"", "Do alpha reactors cool with heavy water?"} {
		a, b := prepared.NewCheck(ps), plain.NewCheck(ps)
		a.Question, b.Question = q, q
		var sents []grounded.Sentence
		for _, cl := range claims {
			got, want := a.Explain(cl), b.Explain(cl)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("question %q, claim %+v: prepared %+v, unprepared %+v", q, cl, got, want)
			}
			sents = append(sents, got.Sentence)
		}
		if got, want := a.Citations(sents), b.Citations(sents); len(got) == 0 || !reflect.DeepEqual(got, want) {
			t.Errorf("citations: prepared %+v, unprepared %+v", got, want)
		}
	}
}
