package retrieval

import (
	"container/heap"
	"math"
	"slices"
	"sync"
)

// BM25Params are the Okapi BM25 parameters.
//
// Defaults k1=0.9, b=0.75, chosen on BEIR SciFact (grounded eval retrieval)
// by tuning on the even-numbered queries and confirming on the odd ones,
// nDCG@10 even / odd:
//
//	k1=0.9 b=0.4 (Anserini's BEIR default)  0.7014 / 0.6723
//	k1=0.9 b=0.6                             0.7117 / 0.6763
//	k1=0.9 b=0.75                            0.7127 / 0.6797   <- default
//	k1=1.2 b=0.6                             0.7081 / 0.6848
//	k1=1.2 b=0.75                            0.7086 / 0.6743
//	k1=1.5 b=0.4                             0.7064 / 0.6768
//	k1=1.5 b=0.75                            0.7046 / 0.6796
type BM25Params struct {
	K1 float64
	B  float64
}

func (p BM25Params) withDefaults() BM25Params {
	if p.K1 <= 0 {
		p.K1 = 0.9
	}
	if p.B <= 0 || p.B > 1 { // zero means the default; for no length normalisation pass a tiny b
		p.B = 0.75
	}
	return p
}

type posting struct {
	slot int32
	tf   int32
}

// lexical is an in-memory inverted index scored with BM25. Slots are dense
// chunk numbers; removed slots are tombstoned and skipped, and their
// postings dropped once they are half of all postings. Document frequencies
// count live chunks only, so replacing a document leaves every idf exactly
// as if it had been indexed once (in a small collection a stale df would
// swing idf far, not nudge it).
type lexical struct {
	params   BM25Params
	terms    map[string]int32
	postings [][]posting
	df       []int32 // live chunks holding each term
	docLen   []int32
	live     []bool
	nLive    int
	sumLen   int64
	total    int       // postings held
	dead     int       // postings of removed slots
	scratch  sync.Pool // *[]float32 accumulators of len(docLen)
}

func newLexical(p BM25Params) *lexical {
	return &lexical{params: p.withDefaults(), terms: map[string]int32{}}
}

// add indexes terms under a new slot, which must be len(docLen).
func (l *lexical) add(slot int32, terms []string) {
	tf := map[string]int32{}
	for _, t := range terms {
		tf[t]++
	}
	for t, n := range tf {
		id, ok := l.terms[t]
		if !ok {
			id = int32(len(l.postings))
			l.terms[t] = id
			l.postings = append(l.postings, nil)
			l.df = append(l.df, 0)
		}
		l.postings[id] = append(l.postings[id], posting{slot, n})
		l.df[id]++
		l.total++
	}
	l.docLen = append(l.docLen, int32(len(terms)))
	l.live = append(l.live, true)
	l.nLive++
	l.sumLen += int64(len(terms))
}

// remove tombstones slot, whose terms (as add got them) are given.
func (l *lexical) remove(slot int32, terms []string) {
	if int(slot) >= len(l.live) || !l.live[slot] {
		return
	}
	l.live[slot] = false
	l.nLive--
	l.sumLen -= int64(l.docLen[slot])
	seen := make(map[string]bool, len(terms))
	for _, t := range terms {
		if seen[t] {
			continue
		}
		seen[t] = true
		if id, ok := l.terms[t]; ok {
			l.df[id]--
			l.dead++
		}
	}
	if l.dead > 4096 && 2*l.dead > l.total {
		l.compact()
	}
}

// compact drops the postings of removed slots.
func (l *lexical) compact() {
	for id, ps := range l.postings {
		kept := ps[:0]
		for _, p := range ps {
			if l.live[p.slot] {
				kept = append(kept, p)
			}
		}
		clear(ps[len(kept):])
		l.postings[id] = slices.Clip(kept)
	}
	l.total -= l.dead
	l.dead = 0
}

// docFreq returns the number of live chunks holding term.
func (l *lexical) docFreq(term string) int {
	id, ok := l.terms[term]
	if !ok {
		return 0
	}
	return int(l.df[id])
}

// idf is Lucene's BM25 idf: ln(1 + (N - df + 0.5) / (df + 0.5)). A term that
// is in no chunk gets the idf of df=0, the largest there is.
func (l *lexical) idf(term string) float64 {
	n := float64(l.nLive)
	df := float64(min(l.docFreq(term), l.nLive))
	return math.Log(1 + (n-df+0.5)/(df+0.5))
}

type scored struct {
	slot  int32
	score float64
}

// search returns the n best live slots for the query terms, best first. A
// repeated query term counts once per repetition.
func (l *lexical) search(query []string, n int, keep func(int32) bool) []scored {
	qtf := map[string]float64{}
	for _, t := range query {
		qtf[t]++
	}
	return l.searchWeighted(qtf, n, keep)
}

// searchWeighted scores with a weight per query term (BM25's query term
// frequency generalised), in a fixed term order so results are repeatable.
// A nil keep accepts every slot; otherwise only slots it accepts score.
func (l *lexical) searchWeighted(qtf map[string]float64, n int, keep func(int32) bool) []scored {
	if len(l.docLen) == 0 || n <= 0 {
		return nil
	}
	order := make([]string, 0, len(qtf))
	for t := range qtf {
		order = append(order, t)
	}
	slices.Sort(order)
	accp, _ := l.scratch.Get().(*[]float32)
	if accp == nil || len(*accp) < len(l.docLen) {
		a := make([]float32, len(l.docLen))
		accp = &a
	}
	acc := (*accp)[:len(l.docLen)]
	var touched []int32
	avg := float64(l.sumLen) / float64(max(l.nLive, 1))
	k1, b := l.params.K1, l.params.B
	for _, t := range order {
		w := qtf[t]
		id, ok := l.terms[t]
		if !ok {
			continue
		}
		idf := l.idf(t) * w
		for _, p := range l.postings[id] {
			if !l.live[p.slot] || (keep != nil && !keep(p.slot)) {
				continue
			}
			tf := float64(p.tf)
			norm := k1 * (1 - b + b*float64(l.docLen[p.slot])/avg)
			if acc[p.slot] == 0 {
				touched = append(touched, p.slot)
			}
			acc[p.slot] += float32(idf * tf * (k1 + 1) / (tf + norm))
		}
	}
	h := make(minHeap, 0, n)
	for _, s := range touched {
		v := float64(acc[s])
		acc[s] = 0
		if len(h) < n {
			heap.Push(&h, scored{s, v})
		} else if v > h[0].score || (v == h[0].score && s < h[0].slot) {
			h[0] = scored{s, v}
			heap.Fix(&h, 0)
		}
	}
	l.scratch.Put(accp)
	out := make([]scored, len(h))
	for i := len(h) - 1; i >= 0; i-- {
		out[i] = heap.Pop(&h).(scored)
	}
	return out
}

// minHeap keeps the n best results with the worst on top; ties go to the
// lower slot so results are deterministic.
type minHeap []scored

func (h minHeap) Len() int { return len(h) }
func (h minHeap) Less(i, j int) bool {
	if h[i].score != h[j].score {
		return h[i].score < h[j].score
	}
	return h[i].slot > h[j].slot
}
func (h minHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *minHeap) Push(x any)   { *h = append(*h, x.(scored)) }
func (h *minHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
