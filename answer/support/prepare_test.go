package support

import (
	"math/rand/v2"
	"os"
	"reflect"
	"testing"

	"github.com/groundedhq/grounded/eval"
	"github.com/groundedhq/grounded/internal/textproc"
)

// alignReference is align as it was before Prepare: it reads every
// passage for every claim. TestPrepared holds the prepared alignment to it.
func (c *Checker) alignReference(cl *claim, passages []string) *alignment {
	terms := cl.terms
	index := make(map[string]int, len(terms))
	byPrefix := map[string][]int{}
	for i, t := range terms {
		index[t.term] = i
		if t.prefix != "" {
			byPrefix[t.prefix] = append(byPrefix[t.prefix], i)
		}
	}
	al := &alignment{passages: passages}
	seen := make([]bool, len(terms))
	for pi, p := range passages {
		for _, s := range textproc.Sentences(p, 0, len(p)) {
			text := p[s.Start:s.End]
			ps := psent{passage: pi, span: s.Span, credit: make([]float64, len(terms))}
			clear(seen)
			for _, w := range textproc.Words(text) {
				st := c.an.Term(text[w.Start:w.End])
				if st == "" {
					continue
				}
				if i, ok := index[st]; ok {
					ps.credit[i] = 1
					if !seen[i] {
						seen[i] = true
						terms[i].df++
					}
				}
				if len(st) >= prefixLen {
					for _, i := range byPrefix[st[:prefixLen]] {
						ps.credit[i] = max(ps.credit[i], prefixCredit)
					}
				}
			}
			al.sents = append(al.sents, ps)
		}
	}
	return al
}

const (
	prepTrial = "The trial enrolled 1000 adults in the United Kingdom. " +
		"Aspirin reduced the risk of heart attacks in adults over 50. " +
		"Side effects were rare."
	prepColds = "Vitamin C did not prevent the common cold in healthy volunteers. " +
		"Zinc lozenges shortened colds by a day.\n\n" +
		"Reactive oxygen species damage DNA in dividing cells."
)

// prepCase is a sentence checked against passages.
type prepCase struct {
	sentence string
	passages []string
}

// prepCases are the fixtures: sentences of this package's tests, the
// contrastive pairs of eval's SQuAD fixture (and of the tune half of SQuAD
// 2.0 dev when ../shared/eval-data holds it), and random combinations of
// their sentences and passages, in random order, some repeated.
func prepCases(t *testing.T) []prepCase {
	t.Helper()
	cases := []prepCase{
		{"Aspirin reduced the risk of heart attacks in adults.", []string{prepTrial}},
		{"Aspirin did not reduce the risk of heart attacks in adults over 60.", []string{prepTrial, prepColds}},
		{"Vitamin C prevents the common cold.", []string{prepColds, prepTrial}},
		{"Reactive oxygen species (ROS) damage DNA.", []string{prepColds}},
		{"The trial enrolled 1000 adults in the UK.", []string{prepTrial}},
		{"Yes, zinc lozenges shortened colds.", []string{prepColds}},
		{"Yes.", []string{prepColds}},
		{"Bananas are a good source of potassium.", []string{prepTrial, prepColds}},
		{"Aspirin reduced the risk.", nil},
		{"Aspirin reduced the risk.", []string{"", "   ", prepTrial}},
	}
	var pairs []eval.ContrastivePair
	for _, path := range []string{"../../eval/testdata/squad.json", "../../../shared/eval-data/squad2/dev-v2.0.tune.json"} {
		if _, err := os.Stat(path); err != nil {
			t.Logf("%s: %v; not used", path, err)
			continue
		}
		s, err := eval.LoadSQuAD(path)
		if err != nil {
			t.Fatal(err)
		}
		pairs = append(pairs, eval.Contrastive(s)...)
	}
	if len(pairs) == 0 {
		t.Fatal("no contrastive pairs")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	const maxPairs = 1500
	if len(pairs) > maxPairs {
		rng.Shuffle(len(pairs), func(i, j int) { pairs[i], pairs[j] = pairs[j], pairs[i] })
		pairs = pairs[:maxPairs]
	}
	var pool []string
	for _, p := range pairs {
		cases = append(cases, prepCase{p.Sentence, p.Passages})
		pool = append(pool, p.Passages...)
	}
	for range 300 {
		ps := make([]string, 1+rng.IntN(8))
		for i := range ps {
			ps[i] = pool[rng.IntN(len(pool))]
		}
		cases = append(cases, prepCase{pairs[rng.IntN(len(pairs))].Sentence, ps})
	}
	return cases
}

// TestPrepared proves a prepared check the same as an unprepared one, bit
// for bit: the alignment against the reference (the passages read for each
// claim), Prepare(p).Check(s) and Explain against Check(s, p) and Explain,
// and CheckIn against Check of the subset, field by field.
func TestPrepared(t *testing.T) {
	c := New(textproc.NewAnalyzer(), Config{})
	rng := rand.New(rand.NewPCG(3, 4))
	for i, tc := range prepCases(t) {
		p := c.Prepare(tc.passages)

		// The alignment.
		claimText, _ := YesNo(tc.sentence)
		clRef, clNew := c.analyzeClaim(claimText), c.analyzeClaim(claimText)
		if len(clRef.terms) > 0 {
			ref := c.alignReference(clRef, tc.passages)
			got := p.sentences(clNew, nil)
			if !reflect.DeepEqual(ref.passages, got.passages) || len(ref.sents) != len(got.sents) || !reflect.DeepEqual(clRef.terms, clNew.terms) {
				t.Fatalf("case %d %q: alignment differs:\n ref %+v\n got %+v\n ref terms %+v\n got terms %+v", i, tc.sentence, ref.sents, got.sents, clRef.terms, clNew.terms)
			}
			for k := range ref.sents {
				if !reflect.DeepEqual(ref.sents[k], got.sents[k]) {
					t.Fatalf("case %d %q: passage sentence %d: ref %+v, got %+v", i, tc.sentence, k, ref.sents[k], got.sents[k])
				}
			}
		}

		// Whole results.
		want, wantF := c.Explain(tc.sentence, tc.passages)
		if got, gotF := p.Explain(tc.sentence); got != want || gotF != wantF {
			t.Fatalf("case %d %q: Prepare.Explain = %+v %+v, Explain = %+v %+v", i, tc.sentence, got, gotF, want, wantF)
		}
		if got := p.Check(tc.sentence); got != want {
			t.Fatalf("case %d %q: Prepare.Check = %+v, Check = %+v", i, tc.sentence, got, want)
		}

		// A subset, in random order, possibly repeating a passage.
		if len(tc.passages) == 0 {
			continue
		}
		idx := make([]int, rng.IntN(len(tc.passages)+1))
		for k := range idx {
			idx[k] = rng.IntN(len(tc.passages))
		}
		sub := make([]string, len(idx))
		for k, pi := range idx {
			sub[k] = tc.passages[pi]
		}
		want, wantF = c.Explain(tc.sentence, sub)
		if got, gotF := p.ExplainIn(tc.sentence, idx); got != want || gotF != wantF {
			t.Fatalf("case %d %q, subset %v: ExplainIn = %+v %+v, Explain of the subset = %+v %+v", i, tc.sentence, idx, got, gotF, want, wantF)
		}
		clRef, clNew = c.analyzeClaim(claimText), c.analyzeClaim(claimText)
		if len(clRef.terms) > 0 {
			ref, got := c.alignReference(clRef, sub), p.sentences(clNew, idx)
			if !reflect.DeepEqual(ref.passages, got.passages) || !reflect.DeepEqual(ref.sents, got.sents) && len(ref.sents)+len(got.sents) > 0 || !reflect.DeepEqual(clRef.terms, clNew.terms) {
				t.Fatalf("case %d %q, subset %v: alignment differs from the reference's", i, tc.sentence, idx)
			}
		}
	}
}
