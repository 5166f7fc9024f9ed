package eval

import (
	"hash/fnv"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/groundedhq/grounded/internal/textproc"
)

// The contrastive support set is generated from a SQuAD 2.0 file: for every
// paragraph sentence that holds the answer to an answerable question (the
// first gold answer, located by its answer_start), one supported pair and
// up to five unsupported ones, each checked against one paragraph:
//
//	original  the sentence as written, against its paragraph: supported
//	entity    the answer swapped for another answer of the same type
//	          (a name, a number or a date) from the same article
//	number    a number of the sentence (not a year) changed
//	date      a year shifted or a month name swapped
//	negation  a negation removed ("not", "n't", "never") or, when there is
//	          none, "not" inserted after the first auxiliary verb
//	citation  the sentence against another paragraph of the same article
//	          (the one sharing most words with it that lacks the answer)
//
// A sentence is used once, with the first question whose answer it holds.
// Every choice is seeded by the question id, so the set is the same on
// every run. Articles at even positions of the file make the tune half,
// odd ones the confirm half, as in eval qa.

// Contrastive pair kinds.
const (
	KindOriginal = "original"
	KindEntity   = "entity"
	KindNumber   = "number"
	KindDate     = "date"
	KindNegation = "negation"
	KindCitation = "citation"
)

// ContrastiveKinds are the kinds in report order, the supported one first.
var ContrastiveKinds = []string{KindOriginal, KindEntity, KindNumber, KindDate, KindNegation, KindCitation}

// ContrastivePair is one sentence to check against one passage.
type ContrastivePair struct {
	// Article is the article's position in the file: even tune, odd confirm.
	Article  int
	QID      string
	Question string
	Kind     string
	Sentence string
	Passages []string
	// Supported is the label: true for KindOriginal only.
	Supported bool
}

// Contrastive generates the contrastive pairs of s (see above).
func Contrastive(s *SQuAD) []ContrastivePair {
	var out []ContrastivePair
	for ai, a := range s.Data {
		pool := map[string][]string{} // answer type -> answers of the article
		seenAns := map[string]bool{}
		for _, p := range a.Paragraphs {
			for _, q := range p.QAs {
				for _, an := range q.Answers {
					t := strings.TrimSpace(an.Text)
					if typ := answerType(t); typ != "" && !seenAns[t] {
						seenAns[t] = true
						pool[typ] = append(pool[typ], t)
					}
				}
			}
		}
		for pi, p := range a.Paragraphs {
			ctx := p.Context
			sents := textproc.Sentences(ctx, 0, len(ctx))
			used := map[int]bool{}
			for _, q := range p.QAs {
				if q.IsImpossible || len(q.Answers) == 0 {
					continue
				}
				an := q.Answers[0]
				an.Start = byteOffset(ctx, an.Start)
				if an.Start < 0 || an.Start+len(an.Text) > len(ctx) || ctx[an.Start:an.Start+len(an.Text)] != an.Text || an.Text == "" {
					continue
				}
				si := -1
				for i, sp := range sents {
					if sp.Start <= an.Start && an.Start+len(an.Text) <= sp.End {
						si = i
					}
				}
				if si < 0 || used[si] {
					continue
				}
				used[si] = true
				sent := ctx[sents[si].Start:sents[si].End]
				at := an.Start - sents[si].Start
				h := fnv.New64a()
				h.Write([]byte(q.ID))
				rng := rand.New(rand.NewPCG(h.Sum64(), 13))
				base := ContrastivePair{Article: ai, QID: q.ID, Question: q.Question, Passages: []string{ctx}}
				add := func(kind, text string) {
					if text == "" || kind != KindOriginal && text == sent {
						return
					}
					c := base
					c.Kind, c.Sentence, c.Supported = kind, text, kind == KindOriginal
					out = append(out, c)
				}
				add(KindOriginal, sent)
				if typ := answerType(an.Text); typ != "" {
					var cands []string
					for _, o := range pool[typ] {
						if !strings.Contains(strings.ToLower(sent), strings.ToLower(o)) && !strings.Contains(strings.ToLower(o), strings.ToLower(an.Text)) {
							cands = append(cands, o)
						}
					}
					if len(cands) > 0 {
						o := cands[rng.IntN(len(cands))]
						add(KindEntity, sent[:at]+o+sent[at+len(an.Text):])
					}
				}
				add(KindNumber, changeNumber(sent, rng, false))
				add(KindDate, changeNumber(sent, rng, true))
				add(KindNegation, flipNegation(sent))
				if other := otherParagraph(a.Paragraphs, pi, an.Text, sent); other != "" {
					c := base
					c.Kind, c.Sentence, c.Passages = KindCitation, sent, []string{other}
					out = append(out, c)
				}
			}
		}
	}
	return out
}

// byteOffset is the byte offset of the character at position chars of s
// (SQuAD counts characters), -1 past the end.
func byteOffset(s string, chars int) int {
	n := 0
	for i := range s {
		if n == chars {
			return i
		}
		n++
	}
	if n == chars {
		return len(s)
	}
	return -1
}

var months = strings.Fields("January February March April May June July August September October November December")

var (
	yearRe   = regexp.MustCompile(`\b(1[0-9]{3}|20[0-9]{2})\b`)
	numberRe = regexp.MustCompile(`\d[\d,]*(\.\d+)?`)
	monthRe  = regexp.MustCompile(`\b(` + strings.Join(months, "|") + `)\b`)
)

// answerType is "date" for an answer naming a month or a year, "number"
// for another one with a digit, "name" for one whose words are capitalized
// (small words aside), "" for any other.
func answerType(t string) string {
	switch {
	case t == "":
		return ""
	case monthRe.MatchString(t) || yearRe.MatchString(t) && len(t) < 20 && !hasCapital(monthRe.ReplaceAllString(t, "")):
		return "date"
	case strings.IndexFunc(t, unicode.IsDigit) >= 0:
		if len(t) < 25 {
			return "number"
		}
		return ""
	}
	words := strings.Fields(t)
	if len(words) > 5 {
		return ""
	}
	caps := 0
	for i, w := range words {
		r, _ := utf8.DecodeRuneInString(w)
		switch {
		case unicode.IsUpper(r):
			caps++
		case i > 0 && textproc.IsStopWord(strings.ToLower(w)):
		default:
			return ""
		}
	}
	if caps == 0 {
		return ""
	}
	return "name"
}

// changeNumber changes one number of s: with dates, a year (shifted by 1
// to 9 years either way) or else a month (another month); without, a
// number that is not a year (scaled, or shifted when small). "" when s has
// none of the kind.
func changeNumber(s string, rng *rand.Rand, dates bool) string {
	if dates {
		if m := yearRe.FindAllStringIndex(s, -1); len(m) > 0 {
			loc := m[rng.IntN(len(m))]
			y, _ := strconv.Atoi(s[loc[0]:loc[1]])
			d := 1 + rng.IntN(9)
			if rng.IntN(2) == 0 {
				d = -d
			}
			return s[:loc[0]] + strconv.Itoa(y+d) + s[loc[1]:]
		}
		if m := monthRe.FindAllStringIndex(s, -1); len(m) > 0 {
			loc := m[rng.IntN(len(m))]
			cur := s[loc[0]:loc[1]]
			for {
				o := months[rng.IntN(len(months))]
				if o != cur {
					return s[:loc[0]] + o + s[loc[1]:]
				}
			}
		}
		return ""
	}
	var cands [][]int
	for _, loc := range numberRe.FindAllStringIndex(s, -1) {
		tok := s[loc[0]:loc[1]]
		tok = strings.TrimRight(tok, ",")
		loc[1] = loc[0] + len(tok)
		if yearRe.MatchString(tok) && len(tok) == 4 {
			continue
		}
		if loc[0] > 0 {
			if r, _ := utf8.DecodeLastRuneInString(s[:loc[0]]); unicode.IsLetter(r) {
				continue // "CD4", "B52"
			}
		}
		if monthRe.MatchString(lastWord(s[:loc[0]])) || monthRe.MatchString(firstWord(s[loc[1]:])) {
			continue // a day of the month is a date
		}
		cands = append(cands, loc)
	}
	if len(cands) == 0 {
		return ""
	}
	loc := cands[rng.IntN(len(cands))]
	tok := s[loc[0]:loc[1]]
	f, err := strconv.ParseFloat(strings.ReplaceAll(tok, ",", ""), 64)
	if err != nil {
		return ""
	}
	var nf float64
	switch {
	case f < 10:
		nf = f + float64(1+rng.IntN(4))
	default:
		nf = f * []float64{0.5, 0.75, 1.5, 2, 3}[rng.IntN(5)]
	}
	var repl string
	if strings.Contains(tok, ".") {
		repl = strconv.FormatFloat(nf, 'f', len(tok)-strings.IndexByte(tok, '.')-1, 64)
	} else {
		repl = strconv.FormatInt(int64(nf+0.5), 10)
		if strings.Contains(tok, ",") {
			repl = commas(repl)
		}
	}
	if repl == tok {
		repl = strconv.FormatInt(int64(f)+1, 10)
	}
	return s[:loc[0]] + repl + s[loc[1]:]
}

func hasCapital(s string) bool { return strings.IndexFunc(s, unicode.IsUpper) >= 0 }

func lastWord(s string) string {
	f := strings.Fields(s)
	if len(f) == 0 {
		return ""
	}
	return f[len(f)-1]
}

func firstWord(s string) string {
	f := strings.Fields(s)
	if len(f) == 0 {
		return ""
	}
	return strings.Trim(f[0], ",.;:")
}

func commas(d string) string {
	var b strings.Builder
	for i, c := range d {
		if i > 0 && (len(d)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

var (
	negRe = regexp.MustCompile(`\b(not |never )|n't\b|\bcannot\b`)
	auxRe = regexp.MustCompile(`\b(is|are|was|were|has|have|had|can|could|will|would|should|may|might|must|does|do|did)\b`)
)

// flipNegation removes the first negation of s, or inserts "not" after its
// first auxiliary verb; "" when it has neither.
func flipNegation(s string) string {
	if loc := negRe.FindStringIndex(s); loc != nil {
		switch m := s[loc[0]:loc[1]]; m {
		case "cannot":
			return s[:loc[0]] + "can" + s[loc[1]:]
		default:
			return s[:loc[0]] + s[loc[1]:]
		}
	}
	if loc := auxRe.FindStringIndex(s); loc != nil {
		return s[:loc[1]] + " not" + s[loc[1]:]
	}
	return ""
}

// otherParagraph is the paragraph of ps, other than ps[self], that shares
// the most words with sent and does not hold answer; "" when none.
func otherParagraph(ps []SQuADParagraph, self int, answer, sent string) string {
	words := map[string]bool{}
	for _, w := range textproc.Words(sent) {
		lw := strings.ToLower(sent[w.Start:w.End])
		if !textproc.IsStopWord(lw) {
			words[lw] = true
		}
	}
	best, bestN := "", -1
	la := strings.ToLower(answer)
	for i, p := range ps {
		if i == self || strings.Contains(strings.ToLower(p.Context), la) {
			continue
		}
		n := 0
		seen := map[string]bool{}
		for _, w := range textproc.Words(p.Context) {
			lw := strings.ToLower(p.Context[w.Start:w.End])
			if words[lw] && !seen[lw] {
				seen[lw] = true
				n++
			}
		}
		if n > bestN {
			best, bestN = p.Context, n
		}
	}
	return best
}
