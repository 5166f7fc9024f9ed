package support

import "math"

// Features are what the score is computed from: the alignment of a
// sentence with its chosen evidence. Vector lists them in the order of the
// weights (weights.go).
type Features struct {
	// Terms is the sentence's count of distinct content terms.
	Terms int
	// BestCoverage is the best window's weighted coverage, Coverage the
	// chosen evidence's (see align.go).
	BestCoverage, Coverage float64
	// Exact is the share of the sentence's content terms found as such
	// (not by prefix) in the evidence.
	Exact float64
	// Bigrams is the share of the sentence's pairs of consecutive content
	// terms that are consecutive content terms of the evidence too.
	Bigrams float64
	// Absent is the share of content terms found in no passage sentence.
	Absent float64
	// Missing is the count of content terms the evidence lacks (not even
	// by prefix): a long sentence missing a third of its words adds more
	// than a short one.
	Missing int
	// Facts is the number of names and numbers of the sentence.
	Facts int
	// Failure flags: the chosen evidence failed this check.
	WrongEntity, WrongNumber, Names, Numbers, Negation, Antonym, Comparison bool
	// Window2 is true when the evidence is two sentences.
	Window2 bool
}

// NumFeatures is the length of Features.Vector.
const NumFeatures = 17

// Vector returns the features as numbers, in the order of the weights.
func (f Features) Vector() [NumFeatures]float64 {
	b := func(x bool) float64 {
		if x {
			return 1
		}
		return 0
	}
	return [NumFeatures]float64{
		math.Log1p(float64(f.Terms)),
		f.BestCoverage, f.Coverage, f.Exact, f.Bigrams, f.Absent,
		math.Log1p(float64(f.Missing)), f.Coverage * f.Coverage,
		math.Log1p(float64(f.Facts)),
		b(f.WrongEntity), b(f.WrongNumber), b(f.Names), b(f.Numbers),
		b(f.Negation), b(f.Antonym), b(f.Comparison), b(f.Window2),
	}
}

// FeatureNames name Vector's entries, for the fitting script.
var FeatureNames = [NumFeatures]string{
	"log_terms", "best_coverage", "coverage", "exact", "bigrams", "absent", "log_missing", "coverage_sq", "log_facts",
	"wrong_entity", "wrong_number", "names", "numbers", "negation", "antonym", "comparison", "window2",
}

// Probability is the logistic model's probability that the sentence is
// supported: 1 / (1 + exp(-(bias + Σ weight·feature))).
func (f Features) Probability() float64 {
	if f.Terms == 0 {
		return 0
	}
	x := f.Vector()
	z := bias
	for i, w := range weights {
		z += w * x[i]
	}
	return 1 / (1 + math.Exp(-z))
}

// fill sets the features of the evidence w chosen for cl, which failed
// fail.
func (c *Checker) fill(f *Features, cl *claim, al *alignment, w *window, fail failure) {
	f.Coverage = w.score
	f.Window2 = w.end-w.first > 1
	f.Facts = len(cl.names) + len(cl.nums)
	absent, exact := 0, 0
	for k, t := range cl.terms {
		if t.df == 0 {
			absent++
		}
		best := 0.0
		for j := w.first; j < w.end; j++ {
			best = max(best, al.sents[j].credit[k])
		}
		if best == 1 {
			exact++
		} else if best == 0 {
			f.Missing++
		}
	}
	n := float64(len(cl.terms))
	f.Absent, f.Exact = float64(absent)/n, float64(exact)/n
	if len(cl.seq) > 1 {
		first, last := al.sents[w.first], al.sents[w.end-1]
		text := al.passages[first.passage][first.span.Start:last.span.End]
		f.Bigrams = bigramShare(cl, c.an.Terms(text))
	} else {
		f.Bigrams = f.Exact
	}
	switch fail.reason {
	case ReasonWrongEntity:
		f.WrongEntity = true
	case ReasonWrongNumber:
		f.WrongNumber = true
	case ReasonNames:
		f.Names = true
	case ReasonNumbers:
		f.Numbers = true
	case ReasonNegation:
		f.Negation = true
	case ReasonAntonym:
		f.Antonym = true
	case ReasonComparison:
		f.Comparison = true
	}
}

// bigramShare is the share of cl's consecutive content-term pairs that are
// consecutive in evTerms too.
func bigramShare(cl *claim, evTerms []string) float64 {
	pairs := make(map[[2]string]bool, len(evTerms))
	for i := 1; i < len(evTerms); i++ {
		pairs[[2]string{evTerms[i-1], evTerms[i]}] = true
	}
	hit := 0
	for i := 1; i < len(cl.seq); i++ {
		if pairs[[2]string{cl.terms[cl.seq[i-1]].term, cl.terms[cl.seq[i]].term}] {
			hit++
		}
	}
	return float64(hit) / float64(len(cl.seq)-1)
}
