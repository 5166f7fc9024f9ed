package support

import "github.com/groundedhq/grounded/internal/textproc"

// Prepared is a set of passages analysed once (cut into sentences, their
// words into terms) for checking many sentences against them, or against
// subsets of them, without analysing them again: the check of a whole
// answer, or of a model's reply against its prompt. Its checks are the
// Checker's, bit for bit: Prepare(passages).Check(s) == Check(s, passages),
// and CheckIn(s, idx) is Check(s, the passages idx names). A Prepared is
// safe for concurrent use.
type Prepared struct {
	c        *Checker
	passages []string
	// Passage i's sentences are sents[first[i]:first[i+1]].
	first []int
	sents []prepSent
	// ids are the distinct term ids of the sentences, each sentence's
	// ids[sent.ids:next sentence's].
	ids []int32
	// terms[id] is a term; prefixOf[id] the id of its first prefixLen
	// bytes in prefixes (-1 when shorter), byPrefix[pid] the term ids
	// with prefix pid.
	termID   map[string]int32
	terms    []string
	prefixOf []int32
	prefixID map[string]int32
	byPrefix [][]int32
}

// prepSent is one sentence of a prepared passage.
type prepSent struct {
	span     textproc.Span
	ids, end int // its term ids are Prepared.ids[ids:end]
	// lowers are its words, lower-cased (a claim's acronym may be spelled
	// out by them); acros the acronymKeys of its acronyms of minReverse
	// letters or more; joined the term ids of its hyphenated compounds
	// written as one word ("non-teaching" as "nonteaching").
	lowers []string
	acros  []string
	joined []int32
}

// Prepare analyses passages for checking sentences against them.
func (c *Checker) Prepare(passages []string) *Prepared {
	p := &Prepared{c: c, passages: passages, first: make([]int, 0, len(passages)+1),
		termID: map[string]int32{}, prefixID: map[string]int32{}}
	var seen []bool // per term id, in the sentence being read
	for _, text := range passages {
		p.first = append(p.first, len(p.sents))
		for _, s := range textproc.Sentences(text, 0, len(text)) {
			st := text[s.Start:s.End]
			ps := prepSent{span: s.Span, ids: len(p.ids)}
			words := textproc.Words(st)
			for wi, w := range words {
				word := st[w.Start:w.End]
				ps.lowers = append(ps.lowers, lower(word))
				if key, ok := acronymKey(word); ok && len(key) >= minReverse {
					ps.acros = append(ps.acros, key)
				}
				// As align read passages: the term of the word as written.
				id := p.id(c.an.Term(word))
				if id < 0 {
					continue
				}
				if wi > 0 && hyphenated(st, words, wi-1) {
					if j := p.id(c.an.Term(ps.lowers[wi-1] + ps.lowers[wi])); j >= 0 {
						ps.joined = append(ps.joined, j)
					}
				}
				if int(id) >= len(seen) {
					seen = append(seen, make([]bool, int(id)+1-len(seen))...)
				}
				if !seen[id] {
					seen[id] = true
					p.ids = append(p.ids, id)
				}
			}
			ps.end = len(p.ids)
			for _, id := range p.ids[ps.ids:ps.end] {
				seen[id] = false
			}
			p.sents = append(p.sents, ps)
		}
	}
	p.first = append(p.first, len(p.sents))
	return p
}

// id returns term's id, adding it; -1 for "" (a stop word).
func (p *Prepared) id(term string) int32 {
	if term == "" {
		return -1
	}
	if id, ok := p.termID[term]; ok {
		return id
	}
	id := int32(len(p.terms))
	p.termID[term] = id
	p.terms = append(p.terms, term)
	pid := int32(-1)
	if len(term) >= prefixLen {
		pre := term[:prefixLen]
		var ok bool
		if pid, ok = p.prefixID[pre]; !ok {
			pid = int32(len(p.byPrefix))
			p.prefixID[pre] = pid
			p.byPrefix = append(p.byPrefix, nil)
		}
		p.byPrefix[pid] = append(p.byPrefix[pid], id)
	}
	p.prefixOf = append(p.prefixOf, pid)
	return id
}

// Passages returns the passages p was prepared from.
func (p *Prepared) Passages() []string { return p.passages }

// Check checks sentence against the prepared passages: Check's Result.
func (p *Prepared) Check(sentence string) Result {
	r, _ := p.c.explain(sentence, p, nil)
	return r
}

// Explain checks sentence against the prepared passages: Explain's Result
// and Features.
func (p *Prepared) Explain(sentence string) (Result, Features) {
	return p.c.explain(sentence, p, nil)
}

// CheckIn checks sentence against the prepared passages that idx names
// (indexes into the prepared passages, in the order given): Check's Result
// for sentence against those passages, whose Result.Passage is a position
// in idx. A nil idx names all the passages, an empty one none; an index
// out of range panics.
func (p *Prepared) CheckIn(sentence string, idx []int) Result {
	r, _ := p.ExplainIn(sentence, idx)
	return r
}

// ExplainIn is CheckIn's Explain: the Result and Features of sentence
// against the prepared passages that idx names.
func (p *Prepared) ExplainIn(sentence string, idx []int) (Result, Features) {
	return p.c.explain(sentence, p, idx)
}

// sentences returns the aligned passage sentences of the passages idx
// names (nil: all of them) with cl's credits, and counts each claim term's
// df among them: what align scores windows from.
func (p *Prepared) sentences(cl *claim, idx []int) *alignment {
	terms := cl.terms
	// slot[id]-1 is the entry of term id when cl has it, or a term with
	// its prefix.
	type entry struct {
		exact  int   // claim term index, -1
		joined []int // claim terms of a hyphenated compound written as this term
		prefix []int
	}
	var entries []entry
	slot := make([]int32, len(p.terms))
	at := func(id int32) *entry {
		if slot[id] == 0 {
			entries = append(entries, entry{exact: -1})
			slot[id] = int32(len(entries))
		}
		return &entries[slot[id]-1]
	}
	for i, t := range terms {
		if id, ok := p.termID[t.term]; ok {
			at(id).exact = i
		}
	}
	for key, ks := range cl.joined {
		if id, ok := p.termID[key]; ok {
			e := at(id)
			e.joined = append(e.joined, ks...)
		}
	}
	for i, t := range terms {
		if t.prefix == "" {
			continue
		}
		if pid, ok := p.prefixID[t.prefix]; ok {
			for _, id := range p.byPrefix[pid] {
				e := at(id)
				e.prefix = append(e.prefix, i)
			}
		}
	}

	al := &alignment{passages: p.passages}
	n := len(p.sents)
	if idx != nil {
		al.passages = make([]string, len(idx))
		n = 0
		for k, pi := range idx {
			al.passages[k] = p.passages[pi]
			n += p.first[pi+1] - p.first[pi]
		}
	}
	al.sents = make([]psent, 0, n)
	credits := make([]float64, n*len(terms))
	seen := make([]bool, len(terms)) // credited in full in the sentence
	add := func(pos, pi int) {
		for _, s := range p.sents[p.first[pi]:p.first[pi+1]] {
			ps := psent{passage: pos, span: s.span, credit: credits[:len(terms):len(terms)]}
			credits = credits[len(terms):]
			clear(seen)
			credit := func(i int) {
				ps.credit[i] = 1
				if !seen[i] {
					seen[i] = true
					terms[i].df++
				}
			}
			for _, id := range p.ids[s.ids:s.end] {
				k := slot[id]
				if k == 0 {
					continue
				}
				e := &entries[k-1]
				if e.exact >= 0 {
					credit(e.exact)
				}
				for _, i := range e.joined {
					credit(i) // "nonteaching" for "non-teaching"
				}
				for _, i := range e.prefix {
					ps.credit[i] = max(ps.credit[i], prefixCredit)
				}
			}
			for _, id := range s.joined {
				// "non-teaching" for "nonteaching"
				if k := slot[id]; k != 0 && entries[k-1].exact >= 0 {
					credit(entries[k-1].exact)
				}
			}
			for _, key := range s.acros {
				// The sentence's acronym stands for the claim's words that
				// spell it: "ROS" for "reactive oxygen species".
				for _, i := range cl.spelledTerms(key) {
					credit(i)
				}
			}
			for _, a := range cl.acronyms {
				// The claim's acronym spelled out: "TNF" by "tumor necrosis
				// factor".
				if ps.credit[a.term] < 1 && spells(a.key, s.lowers) {
					credit(a.term)
				}
			}
			al.sents = append(al.sents, ps)
		}
	}
	if idx == nil {
		for pi := range p.passages {
			add(pi, pi)
		}
	} else {
		for k, pi := range idx {
			add(k, pi)
		}
	}
	return al
}

// pushTop adds w, the latest window, to top, the best of the windows so
// far, best first, when it is among the maxCands best: what the first
// maxCands windows of a stable sort of them all by score, best first,
// would be.
func pushTop(top []window, w window) []window {
	if len(top) == maxCands && w.score <= top[len(top)-1].score {
		return top // a tie stays behind the windows before it
	}
	i := len(top)
	for i > 0 && w.score > top[i-1].score {
		i--
	}
	if len(top) < maxCands {
		top = append(top, window{})
	}
	copy(top[i+1:], top[i:len(top)-1])
	top[i] = w
	return top
}
