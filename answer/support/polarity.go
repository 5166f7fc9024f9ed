package support

import (
	"strings"

	"github.com/groundedhq/grounded/internal/textproc"
)

// Polarity is compared between the sentence and the clauses of the
// evidence that it aligns to. The evidence is cut into clauses at , ; : ( )
// . ! ? (a window of two sentences is two clauses at least) and at "but", "while", "whereas", "although", "though", "however",
// "which", "who"; a clause is aligned when it holds at least half as many of
// the sentence's content terms as the clause that holds most (and one at
// least). Then:
//
//   - negation: each clause of the sentence is negated (not, no, never,
//     without, n't, lack, fail, ...; not "not only", "whether or not", "but
//     not", and not a hyphenated "not-for-profit"; an even number of them
//     cancel) exactly when the evidence clause sharing most of its content
//     terms is;
//   - direction: the sentence and the aligned clauses must not state
//     opposite directions ("increases" against "reduces", "promotes"
//     against "inhibits");
//   - antonyms: a word of the sentence that the aligned clauses lack while
//     they have its opposite ("north" / "south", "won" / "lost", a word
//     with a negating prefix added or removed) contradicts;
//   - comparisons: a superlative of the sentence ("largest", "first"), or
//     a comparative before "than", must be in the evidence; the opposite
//     one there contradicts.

// checkPolarity compares cl with the aligned clauses of ev.
func (c *Checker) checkPolarity(cl *claim, ev *evidence) failure {
	if c.negationDiffers(cl, ev) {
		return failure{ReasonNegation, true}
	}
	aligned := c.alignedWords(cl, ev)
	evWords := map[string]bool{}
	var alignedLowers []string
	for i, ok := range aligned {
		if ok {
			evWords[ev.lowers[i]] = true
			alignedLowers = append(alignedLowers, ev.lowers[i])
		}
	}
	if d := direction(alignedLowers); cl.dir != 0 && d != 0 && cl.dir != d {
		return failure{ReasonAntonym, true}
	}
	claimWords := map[string]bool{}
	for _, lw := range cl.lowers {
		claimWords[lw] = true
	}
	for _, w := range cl.lowers {
		if evWords[w] {
			continue
		}
		for _, a := range antonyms[w] {
			if evWords[a] && !claimWords[a] {
				if comparative[w] || comparative[a] {
					return failure{ReasonComparison, true}
				}
				return failure{ReasonAntonym, true}
			}
		}
		if len(w) < 5 {
			continue
		}
		for _, p := range negPrefixes {
			if evWords[p+w] && !claimWords[p+w] {
				return failure{ReasonAntonym, true}
			}
			if base, ok := strings.CutPrefix(w, p); ok && len(base) >= 4 && evWords[base] && !claimWords[base] {
				return failure{ReasonAntonym, true}
			}
		}
	}
	for _, cw := range cl.comps {
		found := false
		for _, lw := range ev.lowers {
			if lw == cw {
				found = true
				break
			}
		}
		if !found {
			return failure{reason: ReasonComparison}
		}
	}
	return failure{}
}

// clause is words[first:end] of a text.
type clause struct {
	first, end int
	neg        bool // odd count of negations
}

// clausesOf cuts a text into clauses (see above).
func clausesOf(text string, words []textproc.Span, lowers []string) []clause {
	var out []clause
	cur := clause{}
	for i := range words {
		if i > 0 && (clauseBreak(text[words[i-1].End:words[i].Start]) || clauseWords[lowers[i]]) {
			cur.end = i
			out = append(out, cur)
			cur = clause{first: i}
		}
	}
	cur.end = len(words)
	out = append(out, cur)
	for k := range out {
		out[k].neg = negationCount(text, words, lowers, out[k].first, out[k].end)%2 == 1
	}
	return out
}

// negationDiffers reports whether a clause of the sentence and the clause
// of the evidence that shares most of its content terms disagree about
// negation (an odd number of negations: "no X is not known" is not
// negated). When clauses tie, one that agrees is enough.
func (c *Checker) negationDiffers(cl *claim, ev *evidence) bool {
	evClauses := clausesOf(ev.text, ev.words, ev.lowers)
	for _, k := range clausesOf(cl.text, cl.words, cl.lowers) {
		terms := map[string]bool{}
		for i := k.first; i < k.end; i++ {
			if s := cl.stems[i]; s != "" {
				terms[s] = true
			}
		}
		if len(terms) == 0 {
			continue
		}
		best, agree, differ := 0, false, false
		for _, e := range evClauses {
			hits := 0
			seen := map[string]bool{}
			for i := e.first; i < e.end; i++ {
				if s := ev.stems[i]; terms[s] && !seen[s] {
					seen[s] = true
					hits++
				}
			}
			if hits == 0 || hits < best {
				continue
			}
			if hits > best {
				best, agree, differ = hits, false, false
			}
			if e.neg == k.neg {
				agree = true
			} else {
				differ = true
			}
		}
		if differ && !agree {
			return true
		}
	}
	return false
}

// alignedWords marks the words of ev that are in its aligned clauses.
func (c *Checker) alignedWords(cl *claim, ev *evidence) []bool {
	have := map[string]bool{}
	for _, t := range cl.terms {
		have[t.term] = true
	}
	type clause struct{ first, end, hits int }
	var clauses []clause
	cur := clause{}
	seen := map[string]bool{}
	for i := range ev.words {
		cut := i > 0 && (clauseBreak(ev.text[ev.words[i-1].End:ev.words[i].Start]) || clauseWords[ev.lowers[i]])
		if cut {
			cur.end = i
			clauses = append(clauses, cur)
			cur = clause{first: i}
			clear(seen)
		}
		if s := ev.stems[i]; s != "" && have[s] && !seen[s] {
			seen[s] = true
			cur.hits++
		}
	}
	cur.end = len(ev.words)
	clauses = append(clauses, cur)
	most := 0
	for _, k := range clauses {
		most = max(most, k.hits)
	}
	out := make([]bool, len(ev.words))
	for _, k := range clauses {
		if k.hits >= 1 && 2*k.hits >= most {
			for i := k.first; i < k.end; i++ {
				out[i] = true
			}
		}
	}
	return out
}

func clauseBreak(between string) bool { return strings.ContainsAny(between, ",;:()[].!?") }

var clauseWords = map[string]bool{
	"but": true, "while": true, "whereas": true, "although": true, "though": true,
	"however": true, "which": true, "who": true,
}

// negations are the words that negate a sentence. "no" is one only when
// it is not the abbreviation of number ("No. 5").
var negations = map[string]bool{
	"not": true, "no": true, "never": true, "none": true, "nor": true, "neither": true,
	"cannot": true, "without": true, "nothing": true, "nobody": true, "lack": true,
	"lacks": true, "lacked": true, "fail": true, "fails": true, "failed": true,
	"unable": true, "unaffected": true, "unchanged": true,
}

// isNegated reports whether text holds a negation.
func isNegated(text string, words []textproc.Span, lowers []string) bool {
	return negationCount(text, words, lowers, 0, len(words)) > 0
}

// negationCount counts the negation words and "n't" contractions among
// words[first:end], not counting "not only", "whether or not", "but not"
// (which negates what follows it, not the sentence), "nor" (of "neither
// ... nor"), and negation words joined by hyphens ("not-for-profit",
// "no-fly").
func negationCount(text string, words []textproc.Span, lowers []string, first, end int) int {
	n := 0
	for i := first; i < end; i++ {
		lw := lowers[i]
		w := words[i]
		if lw == "t" && i > 0 && strings.HasSuffix(lowers[i-1], "n") &&
			(strings.HasSuffix(text[:w.Start], "'") || strings.HasSuffix(text[:w.Start], "’")) {
			n++
			continue
		}
		if !negations[lw] || lw == "nor" {
			continue
		}
		if strings.HasPrefix(text[w.End:], "-") || strings.HasSuffix(text[:w.Start], "-") {
			continue
		}
		prev, next := "", ""
		if i > 0 {
			prev = lowers[i-1]
		}
		if i+1 < len(lowers) {
			next = lowers[i+1]
		}
		switch {
		case lw == "not" && (next == "only" || prev == "or" || prev == "but"):
			continue
		case lw == "no" && strings.HasPrefix(text[w.End:], "."):
			continue
		}
		n++
	}
	return n
}

// direction is the direction lowers state: +1 up ("increases",
// "promotes"), -1 down ("reduces", "inhibits"), 0 neither or both.
func direction(lowers []string) int8 {
	up, down := false, false
	for _, lw := range lowers {
		switch directions[lw] {
		case 1:
			up = true
		case -1:
			down = true
		}
	}
	switch {
	case up && !down:
		return 1
	case down && !up:
		return -1
	}
	return 0
}

// directions are words that say a quantity or an effect goes up (+1) or
// down (-1).
var directions = func() map[string]int8 {
	m := map[string]int8{}
	for _, w := range strings.Fields(`increase increases increased increasing higher elevated elevates elevate
		greater raise raises raised rise rises rose augment augments augmented upregulates upregulated upregulation
		promote promotes promoted promoting enhance enhances enhanced enhancing stimulate stimulates stimulated
		accelerate accelerates accelerated amplify amplifies amplified`) {
		m[w] = 1
	}
	for _, w := range strings.Fields(`decrease decreases decreased decreasing reduce reduces reduced reducing reduction
		lower lowers lowered lowering diminish diminishes diminished fewer decline declines declined
		downregulates downregulated downregulation inhibit inhibits inhibited inhibiting suppress suppresses
		suppressed suppressing impair impairs impaired attenuate attenuates attenuated`) {
		m[w] = -1
	}
	return m
}()

// antonyms pairs words whose swap turns a true statement false.
var antonyms = func() map[string][]string {
	pairs := [][2]string{
		{"largest", "smallest"}, {"biggest", "smallest"}, {"most", "least"}, {"more", "less"}, {"more", "fewer"},
		{"first", "last"}, {"before", "after"}, {"earliest", "latest"}, {"earlier", "later"}, {"highest", "lowest"},
		{"higher", "lower"}, {"maximum", "minimum"}, {"north", "south"}, {"east", "west"},
		{"northern", "southern"}, {"eastern", "western"}, {"northernmost", "southernmost"}, {"won", "lost"}, {"win", "lose"},
		{"wins", "loses"}, {"older", "younger"}, {"oldest", "youngest"}, {"inside", "outside"}, {"upper", "lower"},
		{"above", "below"}, {"longest", "shortest"}, {"longer", "shorter"}, {"larger", "smaller"}, {"bigger", "smaller"},
		{"major", "minor"}, {"positive", "negative"}, {"true", "false"}, {"richest", "poorest"}, {"richer", "poorer"},
		{"strongest", "weakest"}, {"stronger", "weaker"}, {"private", "public"}, {"internal", "external"},
		{"success", "failure"}, {"successful", "unsuccessful"}, {"legal", "illegal"}, {"allowed", "forbidden"},
		{"accepted", "rejected"}, {"accept", "reject"}, {"included", "excluded"}, {"imports", "exports"},
		{"bought", "sold"}, {"male", "female"}, {"men", "women"}, {"modern", "ancient"}, {"cheaper", "expensive"},
		{"faster", "slower"}, {"fastest", "slowest"}, {"better", "worse"}, {"best", "worst"}, {"good", "poor"},
		{"good", "bad"}, {"benefit", "harm"}, {"beneficial", "harmful"}, {"safe", "unsafe"}, {"safe", "dangerous"},
		{"increase", "decrease"}, {"increased", "decreased"}, {"increases", "decreases"}, {"rise", "fall"},
		{"rose", "fell"}, {"gain", "loss"}, {"gained", "lost"}, {"abolished", "established"},
		{"supported", "opposed"}, {"support", "oppose"}, {"supports", "opposes"}, {"agreed", "refused"},
		{"victory", "defeat"}, {"defeated", "lost"}, {"majority", "minority"}, {"always", "never"},
		{"present", "absent"}, {"presence", "absence"}, {"alive", "dead"}, {"maximal", "minimal"},
		{"high", "low"}, {"early", "late"}, {"younger", "older"}, {"survived", "died"},
	}
	m := map[string][]string{}
	for _, p := range pairs {
		m[p[0]] = append(m[p[0]], p[1])
		m[p[1]] = append(m[p[1]], p[0])
	}
	return m
}()

// negPrefixes turn a word into its opposite: "appropriate", "inappropriate".
var negPrefixes = []string{"un", "in", "im", "il", "ir", "dis", "non"}

// comparative lists comparison words: comparatives and superlatives.
var comparative = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`more less fewer greater larger smaller bigger higher lower longer shorter
		older younger earlier later better worse faster slower stronger weaker richer poorer cheaper
		largest smallest biggest highest lowest greatest longest shortest oldest youngest earliest latest
		best worst most least first last fastest slowest strongest weakest richest poorest deepest tallest
		heaviest newest wealthiest busiest northernmost southernmost easternmost westernmost before after`) {
		m[w] = true
	}
	return m
}()

// superlatives must be stated by the evidence when a sentence uses them.
var superlatives = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`largest smallest biggest highest lowest greatest longest shortest oldest
		youngest earliest latest best worst fastest slowest strongest weakest richest poorest deepest tallest
		heaviest newest wealthiest busiest northernmost southernmost easternmost westernmost first last`) {
		m[w] = true
	}
	return m
}()

// comparisons returns the comparison words of a sentence that evidence
// must state: superlatives, and comparatives followed by "than" within
// three words ("started earlier than", "more common than").
func comparisons(lowers []string) []string {
	var out []string
	for i, lw := range lowers {
		switch {
		case superlatives[lw]:
			out = append(out, lw)
		case comparative[lw] && lw != "before" && lw != "after":
			for k := i + 1; k < len(lowers) && k <= i+3; k++ {
				if lowers[k] == "than" {
					out = append(out, lw)
					break
				}
			}
		}
	}
	return out
}

// YesNo splits an answer sentence that opens with "Yes" or "No" (alone,
// or followed by a comma, a period or a dash) into the rest of it and the
// answer: +1 yes, -1 no, 0 neither (rest is then the sentence).
func YesNo(sentence string) (rest string, answer int) {
	s := strings.TrimSpace(sentence)
	for _, yn := range []struct {
		word string
		v    int
	}{{"yes", 1}, {"no", -1}} {
		if len(s) < len(yn.word) || !strings.EqualFold(s[:len(yn.word)], yn.word) {
			continue
		}
		after := s[len(yn.word):]
		if after == "" {
			return "", yn.v
		}
		switch after[0] {
		case ',', '.', '!', ';', ':', '-':
			return strings.TrimSpace(strings.TrimLeft(after, ",.!;:- –—")), yn.v
		case ' ':
			if t := strings.TrimSpace(after); strings.HasPrefix(t, "—") || strings.HasPrefix(t, "–") || strings.HasPrefix(t, "- ") {
				return strings.TrimSpace(strings.TrimLeft(t, "—–- ")), yn.v
			}
		}
	}
	return sentence, 0
}
