package eval

import "math"

// NDCG returns nDCG@k of a ranking (doc ids, best first) against graded
// judgements: DCG = sum over ranks i=1..k of gain_i / log2(i+1), divided by
// the DCG of the ideal ordering of the query's judged gains. Documents
// without a judgement have gain 0. A ranking that repeats a document counts
// it once, at its first rank.
func NDCG(ranking []string, qrels map[string]int, k int) float64 {
	var dcg float64
	seen := map[string]bool{}
	for i, id := range ranking {
		if i >= k {
			break
		}
		if seen[id] {
			continue
		}
		seen[id] = true
		if g := qrels[id]; g > 0 {
			dcg += float64(g) / math.Log2(float64(i+2))
		}
	}
	gains := make([]int, 0, len(qrels))
	for _, g := range qrels {
		if g > 0 {
			gains = append(gains, g)
		}
	}
	// Ideal: gains in decreasing order.
	for i := range gains {
		for j := i + 1; j < len(gains); j++ {
			if gains[j] > gains[i] {
				gains[i], gains[j] = gains[j], gains[i]
			}
		}
	}
	var idcg float64
	for i, g := range gains {
		if i >= k {
			break
		}
		idcg += float64(g) / math.Log2(float64(i+2))
	}
	if idcg == 0 {
		return 0
	}
	return dcg / idcg
}

// Recall returns the share of the query's relevant documents (gain > 0)
// found in the first k of the ranking.
func Recall(ranking []string, qrels map[string]int, k int) float64 {
	rel := 0
	for _, g := range qrels {
		if g > 0 {
			rel++
		}
	}
	if rel == 0 {
		return 0
	}
	found := map[string]bool{}
	for i, id := range ranking {
		if i >= k {
			break
		}
		if qrels[id] > 0 {
			found[id] = true
		}
	}
	return float64(len(found)) / float64(rel)
}

// MRR returns 1/rank of the first relevant document within the first k,
// or 0.
func MRR(ranking []string, qrels map[string]int, k int) float64 {
	for i, id := range ranking {
		if i >= k {
			break
		}
		if qrels[id] > 0 {
			return 1 / float64(i+1)
		}
	}
	return 0
}
