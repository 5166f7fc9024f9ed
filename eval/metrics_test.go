package eval_test

import (
	"math"
	"strings"
	"testing"
	"unicode"

	"github.com/groundedhq/grounded/eval"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestNDCG(t *testing.T) {
	graded := map[string]int{"d1": 2, "d2": 1}
	tests := []struct {
		name    string
		ranking []string
		qrels   map[string]int
		k       int
		want    float64
	}{
		// DCG = 0 + 2/log2(3) + 1/log2(4) = 1.26186 + 0.5 = 1.76186;
		// ideal [d1 d2]: 2/log2(2) + 1/log2(3) = 2 + 0.63093 = 2.63093.
		{"graded, best second", []string{"d3", "d1", "d2"}, graded, 10, 0.66967181649423},
		{"ideal order", []string{"d1", "d2"}, graded, 10, 1},
		{"ideal order then noise", []string{"d1", "d2", "d3", "d4"}, graded, 10, 1},
		// (1 + 2/log2(3)) / 2.63093
		{"graded, reversed", []string{"d2", "d1"}, graded, 10, 0.8597186998521972},
		// d1 once at rank 1, the repeat adds nothing, d2 keeps rank 3:
		// (2 + 1/log2(4)) / 2.63093
		{"duplicate counts once", []string{"d1", "d1", "d2"}, graded, 10, 0.9502344167898356},
		// DCG@2 = 2/log2(3); the ideal DCG@2 still holds both judged docs.
		{"cut at k", []string{"d3", "d1", "d2"}, graded, 2, 0.4796249331362629},
		// The ideal is cut at k too: DCG@1 = 1 / IDCG@1 = 2.
		{"ideal cut at k", []string{"d2", "d1"}, graded, 1, 0.5},
		// (1 + 2/log2(3)) / (3 + 2/log2(3)): three judged, ideal [a b] at k=2.
		{"more judged than k", []string{"c", "b", "a"}, map[string]int{"a": 3, "b": 2, "c": 1}, 2, 0.5307212739772434},
		{"nothing relevant retrieved", []string{"d3", "d4"}, graded, 10, 0},
		{"empty ranking", nil, graded, 10, 0},
		{"no judgements", []string{"d1"}, map[string]int{}, 10, 0},
		{"only zero gains", []string{"d1"}, map[string]int{"d1": 0}, 10, 0},
		{"k zero", []string{"d1", "d2"}, graded, 0, 0},
		{"zero gain is not relevant", []string{"d0", "d1"}, map[string]int{"d0": 0, "d1": 1}, 10, 0.6309297535714575},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := eval.NDCG(tt.ranking, tt.qrels, tt.k); !near(got, tt.want) {
				t.Errorf("NDCG(%v, %v, %d) = %.12f, want %.12f", tt.ranking, tt.qrels, tt.k, got, tt.want)
			}
		})
	}
}

func TestRecall(t *testing.T) {
	graded := map[string]int{"d1": 2, "d2": 1}
	tests := []struct {
		name    string
		ranking []string
		qrels   map[string]int
		k       int
		want    float64
	}{
		{"all found", []string{"d3", "d1", "d2"}, graded, 10, 1},
		{"half within k", []string{"d3", "d1", "d2"}, graded, 2, 0.5},
		{"none within k", []string{"d3", "d1", "d2"}, graded, 1, 0},
		{"duplicate counts once", []string{"d1", "d1"}, graded, 10, 0.5},
		{"gains do not weigh", []string{"d2"}, graded, 10, 0.5},
		{"zero gain is not relevant", []string{"d2"}, map[string]int{"d1": 1, "d2": 0}, 10, 0},
		{"zero gain is not counted", []string{"d1"}, map[string]int{"d1": 1, "d2": 0}, 10, 1},
		{"no judgements", []string{"d1"}, nil, 10, 0},
		{"empty ranking", nil, graded, 10, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := eval.Recall(tt.ranking, tt.qrels, tt.k); !near(got, tt.want) {
				t.Errorf("Recall(%v, %v, %d) = %v, want %v", tt.ranking, tt.qrels, tt.k, got, tt.want)
			}
		})
	}
}

func TestMRR(t *testing.T) {
	graded := map[string]int{"d1": 2, "d2": 1}
	tests := []struct {
		name    string
		ranking []string
		qrels   map[string]int
		k       int
		want    float64
	}{
		{"first", []string{"d2", "d3"}, graded, 10, 1},
		{"second", []string{"d3", "d1", "d2"}, graded, 10, 0.5},
		{"third", []string{"x", "y", "d2"}, graded, 10, 1.0 / 3},
		{"beyond k", []string{"d3", "d1"}, graded, 1, 0},
		{"zero gain skipped", []string{"d0", "d1"}, map[string]int{"d0": 0, "d1": 1}, 10, 0.5},
		{"none", []string{"x"}, graded, 10, 0},
		{"no judgements", []string{"d1"}, nil, 10, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := eval.MRR(tt.ranking, tt.qrels, tt.k); !near(got, tt.want) {
				t.Errorf("MRR(%v, %v, %d) = %v, want %v", tt.ranking, tt.qrels, tt.k, got, tt.want)
			}
		})
	}
}

// The expected values are what SQuAD 2.0's official evaluate-v2.0.py
// normalize_answer returns for the same input (Python 3).
var normalizeCases = []struct{ in, want string }{
	{"The Cat!", "cat"},
	{"an apple, a day", "apple day"},
	{"U.S.A.", "usa"},
	{"THE end of AN era", "end of era"},
	{"  A  ", ""},
	{"theater the", "theater"},
	{"ANA the", "ana"},
	{"theA", "thea"},
	{"A_the", "athe"}, // _ is punctuation, removed before the articles
	{"don't", "dont"},
	{"$1,000.50", "100050"},
	{"Tab\tand\nnewline", "tab and newline"},
	// Non-ASCII punctuation is kept: only string.punctuation goes.
	{"1990–2000", "1990–2000"},
	{"«the» cat", "« » cat"},
	{"“The” answer", "“ ” answer"},
	// Unicode white space separates words.
	{"a\u00a0b", "b"},
	{"the\u3000cat", "cat"},
	{"Beyoncé", "beyoncé"},
	{"Über-a", "übera"},
	{"", ""},
}

func TestNormalizeAnswer(t *testing.T) {
	for _, tt := range normalizeCases {
		if got := eval.NormalizeAnswer(tt.in); got != tt.want {
			t.Errorf("NormalizeAnswer(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestBugNormalizeAnswerUnicodeWords: Python's \b is Unicode-aware, Go's
// regexp \b is ASCII-only, so a word ending in a non-ASCII letter followed
// by "a", "an" or "the" loses that ending.
func TestBugNormalizeAnswerUnicodeWords(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"España", "españa"},
		{"niña a", "niña"},
		{"éa", "éa"},
		{"Doña", "doña"},
	} {
		if got := eval.NormalizeAnswer(tt.in); got != tt.want {
			t.Errorf("NormalizeAnswer(%q) = %q, want %q (official script)", tt.in, got, tt.want)
		}
	}
}

func FuzzNormalizeAnswer(f *testing.F) {
	for _, tt := range normalizeCases {
		f.Add(tt.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := eval.NormalizeAnswer(s)
		if strings.TrimSpace(got) != got || strings.Contains(got, "  ") {
			t.Errorf("NormalizeAnswer(%q) = %q: white space not collapsed", s, got)
		}
		for _, r := range got {
			if r < unicode.MaxASCII && (unicode.IsUpper(r) || unicode.IsPunct(r) || unicode.IsSymbol(r)) {
				t.Fatalf("NormalizeAnswer(%q) = %q: keeps %q", s, got, r)
			}
		}
		for _, w := range strings.Fields(got) {
			if w == "a" || w == "an" || w == "the" {
				t.Fatalf("NormalizeAnswer(%q) = %q: keeps the article %q", s, got, w)
			}
		}
	})
}
