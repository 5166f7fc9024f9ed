package wordvec

import (
	"math"
	"strings"

	"github.com/groundedhq/grounded/internal/textproc"
)

// sifA is the smoothing constant of SIF weights (Arora, Liang and Ma 2017):
// a word of probability p weighs a/(a+p), so the commonest words count
// little and rare ones fully.
const sifA = 1e-3

// zipfNorm is the harmonic number of GloVe's 400k-word vocabulary: under
// Zipf's law the word of rank r (from 0) has probability 1/((r+1)·zipfNorm).
const zipfNorm = 13.5

// Weight is the SIF weight of a lower-case word, from its frequency rank; 0
// for a stop word or a word the table lacks.
func (t *Table) Weight(word string) float32 {
	w, _ := t.Weighted(word)
	return w
}

// Weighted returns the SIF weight of a lower-case word and its vector, or
// 0 and nil for a stop word or a word the table lacks.
func (t *Table) Weighted(word string) (float32, []float32) {
	r, ok := t.index[word]
	if !ok || textproc.IsStopWord(word) {
		return 0, nil
	}
	p := 1 / (float64(r+1) * zipfNorm)
	return float32(sifA / (sifA + p)), t.vecs[int(r)*t.dim : int(r+1)*t.dim]
}

// Embed returns the SIF-weighted average of the vectors of text's words
// (lower-cased; stop words and unknown words skipped), normalized to unit
// length; all zeros when no word is known. into, when long enough, is
// reused.
func (t *Table) Embed(text string, into []float32) []float32 {
	if cap(into) >= t.dim {
		into = into[:t.dim]
		clear(into)
	} else {
		into = make([]float32, t.dim)
	}
	for _, sp := range textproc.Words(text) {
		w := text[sp.Start:sp.End]
		if len(w) > 32 {
			continue
		}
		w = strings.ToLower(w)
		i, ok := t.index[w]
		if !ok {
			continue
		}
		wt := t.Weight(w)
		if wt == 0 {
			continue
		}
		v := t.vecs[int(i)*t.dim : int(i+1)*t.dim]
		for j, x := range v {
			into[j] += wt * x
		}
	}
	Normalize(into)
	return into
}

// Normalize scales v to unit length (a zero vector stays zero).
func Normalize(v []float32) {
	var ss float64
	for _, x := range v {
		ss += float64(x) * float64(x)
	}
	if ss > 0 {
		inv := float32(1 / math.Sqrt(ss))
		for j := range v {
			v[j] *= inv
		}
	}
}
