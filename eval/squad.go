package eval

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/groundedhq/grounded"
)

// SQuAD is a SQuAD 2.0 file: articles of paragraphs of questions.
type SQuAD struct {
	Data []SQuADArticle `json:"data"`
}

// SQuADArticle is one article of a SQuAD file.
type SQuADArticle struct {
	Title      string           `json:"title"`
	Paragraphs []SQuADParagraph `json:"paragraphs"`
}

// SQuADParagraph is one paragraph and the questions asked about it.
type SQuADParagraph struct {
	Context string    `json:"context"`
	QAs     []SQuADQA `json:"qas"`
}

// SQuADQA is one question with its gold answers (none when impossible).
type SQuADQA struct {
	ID           string `json:"id"`
	Question     string `json:"question"`
	IsImpossible bool   `json:"is_impossible"`
	Answers      []struct {
		Text string `json:"text"`
		// Start is the answer's character (not byte) offset in the
		// paragraph's context.
		Start int `json:"answer_start"`
	} `json:"answers"`
}

// LoadSQuAD reads a SQuAD 2.0 JSON file.
func LoadSQuAD(path string) (*SQuAD, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var s SQuAD
	if err := json.NewDecoder(f).Decode(&s); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	n := 0
	for _, a := range s.Data {
		for _, p := range a.Paragraphs {
			n += len(p.QAs)
		}
	}
	if n == 0 {
		return nil, fmt.Errorf("%s: no questions", path)
	}
	return &s, nil
}

// Paragraph is one SQuAD paragraph as a document to index.
type Paragraph struct {
	Key     string // "<article>-<paragraph>", the document's name
	Article int
	Title   string
	Context string
}

// Paragraphs lists every paragraph of the file.
func (s *SQuAD) Paragraphs() []Paragraph {
	var out []Paragraph
	for ai, a := range s.Data {
		for pi, p := range a.Paragraphs {
			out = append(out, Paragraph{Key: fmt.Sprintf("%03d-%04d", ai, pi), Article: ai, Title: a.Title, Context: p.Context})
		}
	}
	return out
}

// QAReport holds SQuAD 2.0 grounded-QA figures for a set of questions.
type QAReport struct {
	Questions        int     `json:"questions"`
	Answerable       int     `json:"answerable"`
	Unanswerable     int     `json:"unanswerable"`
	AnswerRecall     float64 `json:"answer_recall"`     // answerable answered with a gold answer in the text / answerable
	CitationHit      float64 `json:"citation_hit"`      // answerable with a citation of the gold paragraph / answerable
	NoAnsAbstain     float64 `json:"noans_abstain"`     // unanswerable abstained / unanswerable
	HasAnsAbstain    float64 `json:"hasans_abstain"`    // answerable abstained / answerable
	GroundedAccuracy float64 `json:"grounded_accuracy"` // (answerable answered with gold + unanswerable abstained) / questions
	// Calibration bins the answers given by confidence: of the answers in
	// a bin, the share that hold a gold answer (an answer to an
	// unanswerable question is wrong).
	Calibration Calibration `json:"calibration"`
}

// QAResult is the full report: all questions, and the two halves of the
// articles (even-numbered articles tune, odd-numbered confirm).
type QAResult struct {
	File     string         `json:"file"`
	All      *QAReport      `json:"all"`
	Tune     *QAReport      `json:"tune_half"`
	Confirm  *QAReport      `json:"confirm_half"`
	Seconds  float64        `json:"seconds"`
	P50Ms    float64        `json:"ask_p50_ms"`
	Abstains map[string]int `json:"abstentions_by_reason"`
}

// AskFunc is the answer path under test.
type AskFunc func(ctx context.Context, question string) (*grounded.Answer, error)

// QAOptions tune a run.
type QAOptions struct {
	Limit    int // ask only the first Limit questions (0: all)
	Progress io.Writer
	// Half, when "tune" or "confirm", asks only that half's questions.
	Half string
}

type tally struct {
	q, hasAns, noAns, ansGold, citeGold, noAbst, hasAbst int
}

func (t tally) report() *QAReport {
	div := func(a, b int) float64 {
		if b == 0 {
			return 0
		}
		return round4(float64(a) / float64(b))
	}
	return &QAReport{
		Questions: t.q, Answerable: t.hasAns, Unanswerable: t.noAns,
		AnswerRecall: div(t.ansGold, t.hasAns), CitationHit: div(t.citeGold, t.hasAns),
		NoAnsAbstain: div(t.noAbst, t.noAns), HasAnsAbstain: div(t.hasAbst, t.hasAns),
		GroundedAccuracy: div(t.ansGold+t.noAbst, t.q),
	}
}

// QA asks every question and scores the answers. paragraphOf maps a
// citation to the Paragraph.Key of the document it quotes.
func QA(ctx context.Context, s *SQuAD, ask AskFunc, paragraphOf func(grounded.Citation) string, opt QAOptions) (*QAResult, error) {
	if opt.Half != "" && opt.Half != "tune" && opt.Half != "confirm" {
		return nil, fmt.Errorf("half %q: want tune or confirm", opt.Half)
	}
	var all, tune, confirm tally
	confs, rights := map[string][]float64{}, map[string][]bool{}
	res := &QAResult{Abstains: map[string]int{}}
	var lat []time.Duration
	n := 0
	for ai, a := range s.Data {
		half := "tune"
		if ai%2 == 1 {
			half = "confirm"
		}
		if opt.Half != "" && opt.Half != half {
			continue
		}
		for pi, p := range a.Paragraphs {
			key := fmt.Sprintf("%03d-%04d", ai, pi)
			for _, qa := range p.QAs {
				if opt.Limit > 0 && n >= opt.Limit {
					break
				}
				n++
				began := time.Now()
				ans, err := ask(ctx, qa.Question)
				if err != nil {
					return nil, fmt.Errorf("question %s: %w", qa.ID, err)
				}
				lat = append(lat, time.Since(began))
				if ans.Abstained {
					res.Abstains[ans.Reason]++
				}
				var d tally
				d.q = 1
				if qa.IsImpossible || len(qa.Answers) == 0 {
					d.noAns = 1
					if ans.Abstained {
						d.noAbst = 1
					}
				} else {
					d.hasAns = 1
					if ans.Abstained {
						d.hasAbst = 1
					} else {
						text := NormalizeAnswer(ans.Answer)
						for _, g := range qa.Answers {
							if ng := NormalizeAnswer(g.Text); ng != "" && containsWords(text, ng) {
								d.ansGold = 1
								break
							}
						}
						for _, c := range ans.Citations {
							if paragraphOf(c) == key {
								d.citeGold = 1
								break
							}
						}
					}
				}
				if !ans.Abstained {
					for _, h := range []string{"all", half} {
						confs[h], rights[h] = append(confs[h], ans.Confidence), append(rights[h], d.ansGold == 1)
					}
				}
				all = add(all, d)
				if half == "tune" {
					tune = add(tune, d)
				} else {
					confirm = add(confirm, d)
				}
				if opt.Progress != nil && n%250 == 0 {
					fmt.Fprintf(opt.Progress, "\r%d questions", n)
				}
			}
		}
	}
	if opt.Progress != nil {
		fmt.Fprintln(opt.Progress)
	}
	res.All, res.Tune, res.Confirm = all.report(), tune.report(), confirm.report()
	res.All.Calibration = Calibrate(confs["all"], rights["all"], 10)
	res.Tune.Calibration = Calibrate(confs["tune"], rights["tune"], 10)
	res.Confirm.Calibration = Calibrate(confs["confirm"], rights["confirm"], 10)
	res.P50Ms = percentileMs(lat, 0.5)
	return res, nil
}

func add(a, b tally) tally {
	return tally{a.q + b.q, a.hasAns + b.hasAns, a.noAns + b.noAns, a.ansGold + b.ansGold,
		a.citeGold + b.citeGold, a.noAbst + b.noAbst, a.hasAbst + b.hasAbst}
}

// containsWords reports whether the normalized gold answer occurs in the
// normalized text on word boundaries.
func containsWords(text, gold string) bool {
	return strings.Contains(" "+text+" ", " "+gold+" ")
}

// asciiPunctuation is Python's string.punctuation, as SQuAD's script uses.
const asciiPunctuation = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"

func isWordChar(r rune) bool {
	return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)
}

// NormalizeAnswer is SQuAD's official answer normalization: lower case,
// punctuation removed, the articles a/an/the removed, white space collapsed.
func NormalizeAnswer(s string) string {
	s = strings.ToLower(s)
	s = strings.Map(func(r rune) rune {
		if strings.ContainsRune(asciiPunctuation, r) {
			return -1
		}
		return r
	}, s)
	// Python's re \b(a|an|the)\b, with Unicode word characters.
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if !isWordChar(r) {
			b.WriteRune(r)
			i += n
			continue
		}
		j := i
		for j < len(s) {
			r, n := utf8.DecodeRuneInString(s[j:])
			if !isWordChar(r) {
				break
			}
			j += n
		}
		switch w := s[i:j]; w {
		case "a", "an", "the":
			b.WriteByte(' ')
		default:
			b.WriteString(w)
		}
		i = j
	}
	return strings.Join(strings.Fields(b.String()), " ")
}
