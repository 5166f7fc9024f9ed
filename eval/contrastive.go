package eval

import (
	"context"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"time"
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
//	negation  a negation removed ("not", "n't", "never", "no"; not "not
//	          only", "whether or not", "no longer") or, when there is none,
//	          "not" inserted after the first auxiliary verb
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
	negRe = regexp.MustCompile(`\b(not |never |no )|n't\b|\bcannot\b`)
	auxRe = regexp.MustCompile(`\b(is|are|was|were|has|have|had|can|could|will|would|should|may|might|must|does|do|did)\b`)
)

// flipNegation removes the first negation of s, or inserts "not" after its
// first auxiliary verb; "" when it has neither.
func flipNegation(s string) string {
	for _, loc := range negRe.FindAllStringIndex(s, -1) {
		if strings.HasSuffix(s[:loc[0]], "or ") || strings.HasPrefix(s[loc[1]:], "only") || strings.HasPrefix(s[loc[1]:], "longer") {
			continue // "whether or not", "not only", "no longer"
		}
		switch m := s[loc[0]:loc[1]]; m {
		case "cannot":
			return s[:loc[0]] + "can" + s[loc[1]:]
		default:
			return s[:loc[0]] + s[loc[1]:]
		}
	}
	if negRe.MatchString(s) {
		return ""
	}
	for _, loc := range auxRe.FindAllStringIndex(s, -1) {
		if next := firstWord(s[loc[1]:]); next != "only" && next != "not" && next != "no" {
			return s[:loc[1]] + " not" + s[loc[1]:]
		}
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

// ContrastiveHalf is the figures of one half of the contrastive set.
type ContrastiveHalf struct {
	Pairs     int `json:"pairs"`
	Positives int `json:"positives"` // KindOriginal pairs
	Negatives int `json:"negatives"`
	// BalancedAccuracy is the mean of the share of positives judged
	// supported and the share of negatives judged not supported.
	BalancedAccuracy float64 `json:"balanced_accuracy"`
	// Caught is, per kind, the share judged as its label says: for
	// KindOriginal the share supported, for the others the share not
	// supported. Pairs counts them.
	Caught map[string]float64 `json:"caught"`
	Kinds  map[string]int     `json:"pairs_by_kind"`
	// Contradicted is, per kind, the share judged contradicted.
	Contradicted map[string]float64 `json:"contradicted"`
	// Reasons counts verdicts by kind and reason ("supported" for none).
	Reasons     map[string]map[string]int `json:"reasons"`
	Calibration Calibration               `json:"calibration"`
}

// ContrastiveReport is the result of checking the contrastive set.
type ContrastiveReport struct {
	File       string          `json:"file"`
	Pairs      int             `json:"pairs"`
	Tune       ContrastiveHalf `json:"tune_half"`
	Confirm    ContrastiveHalf `json:"confirm_half"`
	CheckP50Us float64         `json:"check_p50_us"`
	CheckP99Us float64         `json:"check_p99_us"`
	Seconds    float64         `json:"seconds"`
}

// ContrastiveSupport checks every pair and scores the halves.
func ContrastiveSupport(ctx context.Context, pairs []ContrastivePair, check SupportFunc) (*ContrastiveReport, error) {
	if len(pairs) == 0 {
		return nil, fmt.Errorf("no contrastive pairs")
	}
	began := time.Now()
	rep := &ContrastiveReport{Pairs: len(pairs)}
	var lat []time.Duration
	type judgedPair struct {
		p ContrastivePair
		v SupportVerdict
	}
	js := make([]judgedPair, 0, len(pairs))
	for _, p := range pairs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		t := time.Now()
		v := check(p.Sentence, p.Passages)
		lat = append(lat, time.Since(t))
		js = append(js, judgedPair{p, v})
	}
	for half, out := range []*ContrastiveHalf{&rep.Tune, &rep.Confirm} {
		out.Caught, out.Kinds, out.Contradicted, out.Reasons = map[string]float64{}, map[string]int{}, map[string]float64{}, map[string]map[string]int{}
		caught, contra := map[string]int{}, map[string]int{}
		var scores []float64
		var labels []bool
		for _, j := range js {
			if j.p.Article%2 != half {
				continue
			}
			k := j.p.Kind
			out.Pairs++
			out.Kinds[k]++
			if j.p.Supported {
				out.Positives++
			} else {
				out.Negatives++
			}
			if j.v.Supported == j.p.Supported {
				caught[k]++
			}
			if j.v.Verdict == "contradicted" {
				contra[k]++
			}
			if out.Reasons[k] == nil {
				out.Reasons[k] = map[string]int{}
			}
			r := j.v.Reason
			if j.v.Supported {
				r = "supported"
			}
			out.Reasons[k][r]++
			scores = append(scores, j.v.Score)
			labels = append(labels, j.p.Supported)
		}
		negCaught := 0
		for k, n := range out.Kinds {
			out.Caught[k] = ratio(caught[k], n)
			out.Contradicted[k] = ratio(contra[k], n)
			if k != KindOriginal {
				negCaught += caught[k]
			}
		}
		if out.Positives > 0 && out.Negatives > 0 {
			out.BalancedAccuracy = round4((float64(caught[KindOriginal])/float64(out.Positives) + float64(negCaught)/float64(out.Negatives)) / 2)
		}
		out.Calibration = Calibrate(scores, labels, 10)
	}
	rep.CheckP50Us = percentileUs(lat, 0.50)
	rep.CheckP99Us = percentileUs(lat, 0.99)
	rep.Seconds = round4(time.Since(began).Seconds())
	return rep, nil
}

// Calibration says how well scores read as probabilities: bins of equal
// width over [0, 1], each with its mean score and the share of its pairs
// that are positive, and the expected calibration error, Σ n_b/N ·
// |mean score_b - positive share_b|, and the Brier score, the mean of
// (score - label)².
type Calibration struct {
	Bins  []CalibrationBin `json:"bins"`
	ECE   float64          `json:"ece"`
	Brier float64          `json:"brier"`
}

// CalibrationBin is one bin of a Calibration: scores in [Lo, Hi) (the
// last bin holds 1).
type CalibrationBin struct {
	Lo        float64 `json:"lo"`
	Hi        float64 `json:"hi"`
	Pairs     int     `json:"pairs"`
	MeanScore float64 `json:"mean_score"`
	Positive  float64 `json:"positive_share"`
}

// Calibrate bins scores (0..1) against their labels.
func Calibrate(scores []float64, labels []bool, bins int) Calibration {
	var c Calibration
	if len(scores) == 0 || bins <= 0 {
		return c
	}
	sum, pos := make([]float64, bins), make([]int, bins)
	n := make([]int, bins)
	brier := 0.0
	for i, s := range scores {
		b := min(bins-1, max(0, int(s*float64(bins))))
		n[b]++
		sum[b] += s
		y := 0.0
		if labels[i] {
			pos[b]++
			y = 1
		}
		brier += (s - y) * (s - y)
	}
	ece := 0.0
	for b := range bins {
		bin := CalibrationBin{Lo: float64(b) / float64(bins), Hi: float64(b+1) / float64(bins), Pairs: n[b]}
		if n[b] > 0 {
			bin.MeanScore = round4(sum[b] / float64(n[b]))
			bin.Positive = round4(float64(pos[b]) / float64(n[b]))
			ece += float64(n[b]) / float64(len(scores)) * math.Abs(sum[b]/float64(n[b])-float64(pos[b])/float64(n[b]))
		}
		c.Bins = append(c.Bins, bin)
	}
	c.ECE = round4(ece)
	c.Brier = round4(brier / float64(len(scores)))
	return c
}
