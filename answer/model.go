package answer

import "math"

// The answer model. The answerer anchors its answer on the candidate
// sentence with the best selection score among those that pass the question
// checks (names, answer type, negation), and a logistic regression over the
// anchor's evidence features, fitted by answer/train/fit.py on the tune
// halves of the development sets (pydocs-support even ids, SQuAD 2.0 even
// articles, each set weighing the same), gives the probability that the
// answer is right: Answer.Confidence. Below the minimum confidence the
// answer abstains. The weights are in weights.go.

// DefaultMinConfidence is the default abstention point: answers whose
// confidence is lower abstain. Chosen on the tune halves (see README,
// "Answering: confidence and abstention").
const DefaultMinConfidence = 0.2

// numExpanded is the length of expand's output.
const numExpanded = numFeatures + 6

// expand adds the interactions fit.py's expand adds, in its order.
func expand(f *[numFeatures]float64) [numExpanded]float64 {
	var x [numExpanded]float64
	copy(x[:], f[:])
	x[numFeatures+0] = f[fLex] * f[fLexRel]
	x[numFeatures+1] = f[fSoft] * f[fLexRel]
	x[numFeatures+2] = f[fLex] * f[fLex]
	x[numFeatures+3] = f[fSoft] * f[fSoft]
	x[numFeatures+4] = f[fWindow] * f[fHeading]
	// covered: the old rule, a sentence covering 0.56 of the question and
	// passing the question checks (tuned on SQuAD's tune half before).
	if f[fLex] >= 0.56 && passesChecks(f) {
		x[numFeatures+5] = 1
	}
	return x
}

func sigmoid(z float64) float64 { return 1 / (1 + math.Exp(-z)) }

// selectionScore ranks candidate anchors: lexical coverage decides, the
// word-vector coverage of a strong passage next, passage rank and adjacent
// question terms break ties. On the development sets (answering every
// question) it picks a right anchor more often than lexical coverage
// alone, the sentence's window, or the passage rank (answer/train).
func selectionScore(f *[numFeatures]float64) float64 {
	return f[fLex] + 0.5*f[fSoft]*f[fLexRel] + 0.05*f[fRank] + 0.05*f[fBigram]
}

// passesChecks reports whether a candidate passes the question checks.
func passesChecks(f *[numFeatures]float64) bool {
	return f[fNames] == 1 && f[fType] == 1 && f[fNegation] == 1
}

// confidenceOf is the probability that the answer anchored on a sentence
// with features f is right.
func confidenceOf(f *[numFeatures]float64) float64 {
	x := expand(f)
	z := confidenceWeights[0]
	for i, v := range x {
		z += confidenceWeights[i+1] * v
	}
	return sigmoid(z)
}
