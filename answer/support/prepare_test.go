package support

import (
	"math"
	"math/rand/v2"
	"os"
	"reflect"
	"slices"
	"testing"

	"github.com/groundedhq/grounded/eval"
	"github.com/groundedhq/grounded/internal/textproc"
)

// alignReference is align as it was before Prepare (with the acronym,
// hyphen and compound credits of acronym.go): it reads every passage for
// every claim, and sorts all windows to find the candidates.
// TestPrepared holds the prepared alignment to it.
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
	var lowers []string
	for pi, p := range passages {
		for _, s := range textproc.Sentences(p, 0, len(p)) {
			text := p[s.Start:s.End]
			ps := psent{passage: pi, span: s.Span, credit: make([]float64, len(terms))}
			clear(seen)
			words := textproc.Words(text)
			lowers = lowers[:0]
			credit := func(i int) {
				ps.credit[i] = 1
				if !seen[i] {
					seen[i] = true
					terms[i].df++
				}
			}
			for _, w := range words {
				word := text[w.Start:w.End]
				lowers = append(lowers, lower(word))
				// The sentence's acronym stands for the claim's words that
				// spell it: "ROS" for "reactive oxygen species".
				if key, ok := acronymKey(word); ok && len(key) >= minReverse {
					for _, i := range cl.spelledTerms(key) {
						credit(i)
					}
				}
				st := c.an.Term(word)
				if st == "" {
					continue
				}
				if i, ok := index[st]; ok {
					credit(i)
				}
				for _, i := range cl.joined[st] {
					credit(i) // "nonteaching" for "non-teaching"
				}
				if n := len(lowers); n > 1 && hyphenated(text, words, n-2) {
					// "non-teaching" for "nonteaching"
					if i, ok := index[c.an.Term(lowers[n-2]+lowers[n-1])]; ok {
						credit(i)
					}
				}
				if len(st) >= prefixLen {
					for _, i := range byPrefix[st[:prefixLen]] {
						ps.credit[i] = max(ps.credit[i], prefixCredit)
					}
				}
			}
			for _, a := range cl.acronyms {
				// The claim's acronym spelled out: "TNF" by "tumor
				// necrosis factor".
				if ps.credit[a.term] < 1 && spells(a.key, lowers) {
					credit(a.term)
				}
			}
			al.sents = append(al.sents, ps)
		}
	}
	if len(al.sents) == 0 {
		return nil
	}

	// Weights: idf over the passage sentences times a length factor.
	n := float64(len(al.sents))
	total := 0.0
	for i := range terms {
		w := math.Log(1+n/float64(max(terms[i].df, 1))) * math.Sqrt(float64(min(len(terms[i].term), maxLenWeight)))
		terms[i].weight = w
		total += w
	}

	var all []window
	cover := make([]float64, len(terms))
	for i := range al.sents {
		clear(cover)
		for j := i; j < len(al.sents) && j < i+maxWindow && al.sents[j].passage == al.sents[i].passage; j++ {
			got := 0.0
			for k, cr := range al.sents[j].credit {
				cover[k] = max(cover[k], cr)
				got += cover[k] * terms[k].weight
			}
			all = append(all, window{score: got/total - windowCost*float64(j-i), first: i, end: j + 1})
		}
	}
	slices.SortStableFunc(all, func(a, b window) int {
		switch {
		case a.score > b.score:
			return -1
		case a.score < b.score:
			return 1
		}
		return 0
	})
	best := all[0].score
	for _, w := range all {
		if len(al.cands) == maxCands || w.score < best-margin {
			break
		}
		al.cands = append(al.cands, w)
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
			sameAlignment(t, c.alignReference(clRef, tc.passages), c.align(clNew, p, nil), clRef, clNew, "case %d %q", i, tc.sentence)
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
			sameAlignment(t, c.alignReference(clRef, sub), c.align(clNew, p, idx), clRef, clNew, "case %d %q, subset %v", i, tc.sentence, idx)
		}
	}
}

// sameAlignment fails unless got, of claim clGot, is ref, of clRef: the
// passage sentences with their credits, the claim terms with their df and
// weights, and the candidate windows.
func sameAlignment(t *testing.T, ref, got *alignment, clRef, clGot *claim, format string, args ...any) {
	t.Helper()
	if (ref == nil) != (got == nil) {
		t.Fatalf(format+": alignment %v, reference %v", append(args, got, ref)...)
	}
	if !reflect.DeepEqual(clRef.terms, clGot.terms) {
		t.Fatalf(format+": terms\n%+v\nreference\n%+v", append(args, clGot.terms, clRef.terms)...)
	}
	if ref == nil {
		return
	}
	if !reflect.DeepEqual(ref.passages, got.passages) || len(ref.sents) != len(got.sents) {
		t.Fatalf(format+": %d passages, %d sentences; reference %d, %d", append(args, len(got.passages), len(got.sents), len(ref.passages), len(ref.sents))...)
	}
	for k := range ref.sents {
		if !reflect.DeepEqual(ref.sents[k], got.sents[k]) {
			t.Fatalf(format+": passage sentence %d: %+v, reference %+v", append(args, k, got.sents[k], ref.sents[k])...)
		}
	}
	if !reflect.DeepEqual(ref.cands, got.cands) {
		t.Fatalf(format+": candidates %+v, reference %+v", append(args, got.cands, ref.cands)...)
	}
}
