package eval

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// SciFact support data (scifact-claims/claims_dev.jsonl), one claim a line:
//
//	{"id": 3, "claim": "...", "cited_doc_ids": ["14717500"],
//	 "evidence": [{"doc_id": "14717500", "label": "SUPPORT",
//	               "sentence_ids": [2, 5], "sentences": ["...", "..."]}]}
//
// sentences are the rationale sentences of the cited abstract for that
// label; a claim with an empty evidence list is NOT ENOUGH INFO with respect
// to its cited abstracts. The abstracts are read from a BEIR corpus.jsonl
// (the scifact folder's) by doc id.

// sciFactClaim is one line of claims_dev.jsonl.
type sciFactClaim struct {
	ID          int               `json:"id"`
	Claim       string            `json:"claim"`
	CitedDocIDs []docID           `json:"cited_doc_ids"`
	Evidence    []sciFactEvidence `json:"evidence"`
}

// sciFactEvidence is one rationale: sentences of one abstract that support
// or contradict the claim.
type sciFactEvidence struct {
	DocID       docID    `json:"doc_id"`
	Label       string   `json:"label"` // "SUPPORT" or "CONTRADICT"
	SentenceIDs []int    `json:"sentence_ids"`
	Sentences   []string `json:"sentences"`
}

// docID is a document id written as a JSON string or number.
type docID string

func (d *docID) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*d = docID(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("document id %s: want a string or a number", b)
	}
	*d = docID(n.String())
	return nil
}

// Kinds of support pairs.
const (
	// PairSupport: the claim with a rationale that supports it (positive).
	PairSupport = "support"
	// PairNEI: a claim without evidence with its cited abstracts (negative).
	PairNEI = "nei"
	// PairContradict: the claim with a rationale that contradicts it. A
	// checker should not pass it, but it is not counted as a negative in
	// precision and recall: a contradicting rationale is about the claim's
	// subject and shares most of its words, so counting it would mix two
	// questions (is the passage about what the sentence says; does it agree)
	// and tune the threshold up to reject paraphrased support, which no
	// coverage threshold separates from contradiction. It is reported
	// apart (SupportSetting.Contradict): the share rejected, by the
	// negation check mostly, and the precision had it counted as negative.
	PairContradict = "contradict"
)

// SupportPair is one sentence to check against passages.
type SupportPair struct {
	ClaimID int
	// Position is the claim's line position in the file, from 0: even
	// positions make the tune half, odd ones the confirm half.
	Position int
	Claim    string
	Kind     string // PairSupport, PairNEI or PairContradict
	Passages []string
	// Rationale, in the abstract setting, holds the rationale sentences the
	// checker's best span should overlap.
	Rationale []string
}

// SupportSet holds the pairs of both settings.
type SupportSet struct {
	Claims int
	// Rationale: each SUPPORT or CONTRADICT evidence entry gives the claim
	// and one passage, its rationale sentences joined by spaces; each claim
	// without evidence gives the claim and its cited abstracts, one passage
	// each. This is the setting the threshold is chosen on.
	Rationale []SupportPair
	// Abstract: as Rationale, but a claim with evidence is paired with the
	// whole abstract (one pair per claim, abstract and label), as a checker
	// meets it in use: the supporting sentence must be found in a longer
	// passage. The NEI pairs are the same.
	Abstract []SupportPair
	// Skipped counts evidence entries without sentences.
	Skipped int
}

// LoadSupport reads SciFact claims and the abstracts they cite. It fails on
// unreadable files, malformed lines, unknown labels and cited documents that
// the corpus lacks (negatives would silently go missing).
func LoadSupport(claimsPath, corpusPath string) (*SupportSet, error) {
	var claims []sciFactClaim
	need := map[string]bool{}
	if err := readJSONL(claimsPath, func(line []byte) error {
		var c sciFactClaim
		if err := json.Unmarshal(line, &c); err != nil {
			return err
		}
		if strings.TrimSpace(c.Claim) == "" {
			return fmt.Errorf("claim %d has no text", c.ID)
		}
		for _, e := range c.Evidence {
			if e.Label != "SUPPORT" && e.Label != "CONTRADICT" {
				return fmt.Errorf("claim %d: evidence label %q: want SUPPORT or CONTRADICT", c.ID, e.Label)
			}
			need[string(e.DocID)] = true
		}
		if len(c.Evidence) == 0 {
			if len(c.CitedDocIDs) == 0 {
				return fmt.Errorf("claim %d has neither evidence nor cited documents", c.ID)
			}
			for _, d := range c.CitedDocIDs {
				need[string(d)] = true
			}
		}
		claims = append(claims, c)
		return nil
	}); err != nil {
		return nil, err
	}
	if len(claims) == 0 {
		return nil, fmt.Errorf("%s: no claims", claimsPath)
	}
	abstracts := map[string]string{}
	if err := readJSONL(corpusPath, func(line []byte) error {
		var d BEIRDoc
		if err := json.Unmarshal(line, &d); err != nil {
			return err
		}
		if need[d.ID] {
			abstracts[d.ID] = d.Text
		}
		return nil
	}); err != nil {
		return nil, err
	}
	for id := range need {
		if _, ok := abstracts[id]; !ok {
			return nil, fmt.Errorf("%s: no document %q, which %s cites", corpusPath, id, claimsPath)
		}
	}

	set := &SupportSet{Claims: len(claims)}
	for pos, c := range claims {
		base := SupportPair{ClaimID: c.ID, Position: pos, Claim: c.Claim}
		if len(c.Evidence) == 0 {
			p := base
			p.Kind = PairNEI
			for _, d := range c.CitedDocIDs {
				p.Passages = append(p.Passages, abstracts[string(d)])
			}
			set.Rationale = append(set.Rationale, p)
			set.Abstract = append(set.Abstract, p)
			continue
		}
		type key struct{ doc, kind string }
		var order []key
		byDoc := map[key][]string{}
		for _, e := range c.Evidence {
			if len(e.Sentences) == 0 {
				set.Skipped++
				continue
			}
			kind := PairSupport
			if e.Label == "CONTRADICT" {
				kind = PairContradict
			}
			p := base
			p.Kind = kind
			p.Passages = []string{strings.Join(e.Sentences, " ")}
			set.Rationale = append(set.Rationale, p)
			k := key{string(e.DocID), kind}
			if _, ok := byDoc[k]; !ok {
				order = append(order, k)
			}
			byDoc[k] = append(byDoc[k], e.Sentences...)
		}
		for _, k := range order {
			p := base
			p.Kind = k.kind
			p.Passages = []string{abstracts[k.doc]}
			p.Rationale = byDoc[k]
			set.Abstract = append(set.Abstract, p)
		}
	}
	return set, nil
}

// SupportVerdict is a checker's answer for one pair.
type SupportVerdict struct {
	Supported bool
	// Verdict is "supported", "unsupported" or "contradicted" (a checker
	// that does not tell the last two apart says "unsupported").
	Verdict string
	Score   float64 // 0..1, compared with the threshold
	// Vetoed is true when a check that no threshold overturns failed (a
	// missing name or number, a negation mismatch); the threshold sweep
	// keeps such pairs unsupported.
	Vetoed bool
	Reason string // why not supported; "" when supported
	// Passage, Start and End locate the best supporting span
	// (passages[Passage][Start:End]); Passage is -1 when there is none.
	Passage, Start, End int
}

// SupportFunc is the checker under test.
type SupportFunc func(sentence string, passages []string) SupportVerdict

// SupportMetrics score "supported" as the positive class: positives are
// PairSupport, negatives PairNEI.
type SupportMetrics struct {
	Pairs     int     `json:"pairs"`
	Positives int     `json:"positives"`
	Negatives int     `json:"negatives"`
	TP        int     `json:"tp"` // positives judged supported
	FP        int     `json:"fp"` // negatives judged supported
	TN        int     `json:"tn"`
	FN        int     `json:"fn"`
	Accuracy  float64 `json:"accuracy"`  // (tp+tn) / pairs
	Precision float64 `json:"precision"` // tp / (tp+fp)
	Recall    float64 `json:"recall"`    // tp / positives
	F1        float64 `json:"f1"`        // 2·precision·recall / (precision+recall)
	// BalancedAccuracy is the mean of the recall of positives and of
	// negatives: accuracy as if both classes were the same size.
	BalancedAccuracy float64 `json:"balanced_accuracy"`
}

// ContradictMetrics say what the checker does with contradicting rationales.
type ContradictMetrics struct {
	Pairs      int     `json:"pairs"`
	Rejected   int     `json:"rejected"`    // judged unsupported
	RejectRate float64 `json:"reject_rate"` // rejected / pairs
	// PrecisionAsNegatives is the precision of "supported" had these pairs
	// counted as negatives too.
	PrecisionAsNegatives float64 `json:"precision_if_negatives"`
}

// SweepPoint is the tune and confirm halves scored at one threshold. The
// sweep reuses each pair's one verdict: a vetoed pair stays unsupported,
// any other is supported when its score reaches the threshold. A check
// that a checker runs only above its own threshold (support's negation
// check) is thus skipped below it; rerun with that threshold for exact
// figures there.
type SweepPoint struct {
	Threshold         float64    `json:"threshold"`
	Tune              SweepStats `json:"tune_half"`
	Confirm           SweepStats `json:"confirm_half"`
	ContradictRejects float64    `json:"contradict_reject_rate"`
}

// SweepStats are one half's figures at one threshold (see SupportMetrics).
type SweepStats struct {
	Accuracy         float64 `json:"accuracy"`
	BalancedAccuracy float64 `json:"balanced_accuracy"`
	Precision        float64 `json:"precision"`
	Recall           float64 `json:"recall"`
	F1               float64 `json:"f1"`
}

func (m SupportMetrics) sweepStats() SweepStats {
	return SweepStats{m.Accuracy, m.BalancedAccuracy, m.Precision, m.Recall, m.F1}
}

// SupportSetting is the report for one way of pairing claims with text.
type SupportSetting struct {
	All        SupportMetrics    `json:"all"`
	Tune       SupportMetrics    `json:"tune_half"`
	Confirm    SupportMetrics    `json:"confirm_half"`
	Contradict ContradictMetrics `json:"contradict"`
	// Reasons counts verdicts by pair kind and reason ("supported" for none).
	Reasons map[string]map[string]int `json:"reasons"`
	// SpanHit is, over the positive pairs judged supported that have a
	// rationale, the share whose best span overlaps a rationale sentence
	// (abstract setting only; the rationale setting's passage is the rationale).
	SpanHit   float64 `json:"span_hit,omitempty"`
	SpanPairs int     `json:"span_pairs,omitempty"`
	// Sweep scores thresholds 0.05, 0.10, ... 0.95; BestTuneThreshold is the
	// one with the highest tune-half balanced accuracy (ties: the higher
	// threshold). Balanced, because SciFact's two-to-one ratio of supported
	// to unsupported pairs says nothing about how often a generated sentence
	// is unsupported.
	Sweep             []SweepPoint `json:"sweep"`
	BestTuneThreshold float64      `json:"best_tune_threshold"`
	// ContradictedShare is the share of contradicting pairs the checker
	// judged contradicted (not merely unsupported).
	ContradictedShare float64 `json:"contradicted_share"`
	// Calibration of the scores: supporting pairs positive, the others
	// (no evidence, contradicting) negative; tune and confirm halves.
	CalibrationTune    Calibration `json:"calibration_tune"`
	CalibrationConfirm Calibration `json:"calibration_confirm"`
}

// SupportReport is the result of a support run.
type SupportReport struct {
	ClaimsFile string          `json:"claims_file"`
	CorpusFile string          `json:"corpus_file"`
	Claims     int             `json:"claims"`
	Threshold  float64         `json:"threshold"`
	Skipped    int             `json:"skipped_evidence"`
	Rationale  *SupportSetting `json:"rationale"`
	Abstract   *SupportSetting `json:"abstract"`
	CheckP50Us float64         `json:"check_p50_us"`
	CheckP99Us float64         `json:"check_p99_us"`
	Seconds    float64         `json:"seconds"`
}

// Support runs check over both settings of set and scores it.
func Support(ctx context.Context, set *SupportSet, check SupportFunc) (*SupportReport, error) {
	began := time.Now()
	rep := &SupportReport{Claims: set.Claims, Skipped: set.Skipped}
	var lat []time.Duration
	var err error
	if rep.Rationale, err = scoreSetting(ctx, set.Rationale, check, &lat); err != nil {
		return nil, err
	}
	if rep.Abstract, err = scoreSetting(ctx, set.Abstract, check, &lat); err != nil {
		return nil, err
	}
	rep.CheckP50Us = percentileUs(lat, 0.50)
	rep.CheckP99Us = percentileUs(lat, 0.99)
	rep.Seconds = round4(time.Since(began).Seconds())
	return rep, nil
}

type judged struct {
	pair SupportPair
	v    SupportVerdict
}

func scoreSetting(ctx context.Context, pairs []SupportPair, check SupportFunc, lat *[]time.Duration) (*SupportSetting, error) {
	if len(pairs) == 0 {
		return nil, fmt.Errorf("no pairs to check")
	}
	out := &SupportSetting{Reasons: map[string]map[string]int{}}
	js := make([]judged, 0, len(pairs))
	spanHits := 0
	for _, p := range pairs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		t := time.Now()
		v := check(p.Claim, p.Passages)
		*lat = append(*lat, time.Since(t))
		js = append(js, judged{p, v})
		if out.Reasons[p.Kind] == nil {
			out.Reasons[p.Kind] = map[string]int{}
		}
		r := v.Reason
		if v.Supported {
			r = "supported"
		}
		out.Reasons[p.Kind][r]++
		if p.Kind == PairSupport && v.Supported && len(p.Rationale) > 0 {
			out.SpanPairs++
			if spanOverlaps(p, v) {
				spanHits++
			}
		}
	}
	if out.SpanPairs > 0 {
		out.SpanHit = round4(float64(spanHits) / float64(out.SpanPairs))
	}
	var scores [2][]float64
	var labels [2][]bool
	contra, contraN := 0, 0
	for _, j := range js {
		h := j.pair.Position % 2
		scores[h] = append(scores[h], j.v.Score)
		labels[h] = append(labels[h], j.pair.Kind == PairSupport)
		if j.pair.Kind == PairContradict {
			contraN++
			if j.v.Verdict == "contradicted" {
				contra++
			}
		}
	}
	out.CalibrationTune = Calibrate(scores[0], labels[0], 10)
	out.CalibrationConfirm = Calibrate(scores[1], labels[1], 10)
	out.ContradictedShare = ratio(contra, contraN)
	verdict := func(j judged) bool { return j.v.Supported }
	out.All = tallySupport(js, -1, verdict)
	out.Tune = tallySupport(js, 0, verdict)
	out.Confirm = tallySupport(js, 1, verdict)
	out.Contradict = tallyContradict(js, verdict)

	best := -1.0
	for i := 1; i <= 19; i++ {
		th := float64(i) / 20
		at := func(j judged) bool { return !j.v.Vetoed && j.v.Score >= th }
		tune, confirm := tallySupport(js, 0, at), tallySupport(js, 1, at)
		out.Sweep = append(out.Sweep, SweepPoint{
			Threshold: th, Tune: tune.sweepStats(), Confirm: confirm.sweepStats(),
			ContradictRejects: tallyContradict(js, at).RejectRate,
		})
		if tune.BalancedAccuracy >= best {
			best, out.BestTuneThreshold = tune.BalancedAccuracy, th
		}
	}
	return out, nil
}

// spanOverlaps reports whether the verdict's span overlaps one of the
// pair's rationale sentences in its passage. Rationale sentences are found
// by their text; one whose text the passage lacks (white space differs)
// counts by its first 40 bytes.
func spanOverlaps(p SupportPair, v SupportVerdict) bool {
	if v.Passage < 0 || v.Passage >= len(p.Passages) {
		return false
	}
	text := p.Passages[v.Passage]
	for _, r := range p.Rationale {
		probe := r
		i := strings.Index(text, probe)
		if i < 0 && len(r) > 40 {
			probe = r[:40]
			i = strings.Index(text, probe)
		}
		if i < 0 {
			continue
		}
		end := i + len(r)
		if v.Start < end && i < v.End {
			return true
		}
	}
	return false
}

// tallySupport scores the PairSupport and PairNEI pairs of one half (0:
// even positions, 1: odd, -1: all) with supported deciding each.
func tallySupport(js []judged, half int, supported func(judged) bool) SupportMetrics {
	var m SupportMetrics
	for _, j := range js {
		if half >= 0 && j.pair.Position%2 != half {
			continue
		}
		yes := supported(j)
		switch j.pair.Kind {
		case PairSupport:
			m.Positives++
			if yes {
				m.TP++
			} else {
				m.FN++
			}
		case PairNEI:
			m.Negatives++
			if yes {
				m.FP++
			} else {
				m.TN++
			}
		default:
			continue
		}
		m.Pairs++
	}
	m.Accuracy = ratio(m.TP+m.TN, m.Pairs)
	m.Precision = ratio(m.TP, m.TP+m.FP)
	m.Recall = ratio(m.TP, m.Positives)
	m.F1 = ratio(2*m.TP, 2*m.TP+m.FP+m.FN)
	if m.Positives > 0 && m.Negatives > 0 {
		m.BalancedAccuracy = round4((float64(m.TP)/float64(m.Positives) + float64(m.TN)/float64(m.Negatives)) / 2)
	}
	return m
}

func tallyContradict(js []judged, supported func(judged) bool) ContradictMetrics {
	var c ContradictMetrics
	tp, fp := 0, 0
	for _, j := range js {
		yes := supported(j)
		switch j.pair.Kind {
		case PairContradict:
			c.Pairs++
			if yes {
				fp++
			} else {
				c.Rejected++
			}
		case PairNEI:
			if yes {
				fp++
			}
		case PairSupport:
			if yes {
				tp++
			}
		}
	}
	c.RejectRate = ratio(c.Rejected, c.Pairs)
	c.PrecisionAsNegatives = ratio(tp, tp+fp)
	return c
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return round4(float64(a) / float64(b))
}

func percentileUs(d []time.Duration, p float64) float64 {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(math.Round(p * float64(len(s)-1)))
	return round4(float64(s[i].Nanoseconds()) / 1000)
}
