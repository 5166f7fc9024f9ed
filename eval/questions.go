package eval

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/groundedhq/grounded"
)

// Question is one line of a support-question set (the pydocs-support JSONL
// format): a question as users write it, and either the pages that answer it
// with the strings a correct answer must quote, or answerable=false.
type Question struct {
	ID          string   `json:"id"`
	Question    string   `json:"question"`
	Answerable  bool     `json:"answerable"`
	Pages       []string `json:"pages"`
	MustContain []string `json:"must_contain"`
	Kind        string   `json:"kind"`
	Why         string   `json:"why"`
}

// LoadQuestions reads a support-question JSONL file.
func LoadQuestions(path string) ([]Question, error) {
	var qs []Question
	err := readJSONL(path, func(b []byte) error {
		var q Question
		if err := json.Unmarshal(b, &q); err != nil {
			return err
		}
		if q.ID == "" || strings.TrimSpace(q.Question) == "" {
			return fmt.Errorf("a question needs an id and a question")
		}
		if q.Answerable && (len(q.Pages) == 0 || len(q.MustContain) == 0) {
			return fmt.Errorf("%s: an answerable question needs pages and must_contain", q.ID)
		}
		qs = append(qs, q)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("questions %s: %w", path, err)
	}
	return qs, nil
}

// HalfOf is the half a question belongs to by the parity of the number in
// its id: "tune" (even) or "confirm" (odd, or no number).
func HalfOf(id string) string {
	digits := strings.TrimLeftFunc(id, func(r rune) bool { return r < '0' || r > '9' })
	n, err := strconv.Atoi(digits)
	if err == nil && n%2 == 0 {
		return "tune"
	}
	return "confirm"
}

var sourcesCopy = regexp.MustCompile(`(?:^|/)_sources/(.+)\.rst\.txt$`)

// SourcePage is a citation's source as a comparable path, the way the
// pydocs-support scorer compares them: no scheme, query or fragment, forward
// slashes, and a reST copy _sources/X.rst.txt mapped to X.html.
func SourcePage(source string) string {
	s := strings.TrimPrefix(strings.TrimSpace(source), "file://")
	s, _, _ = strings.Cut(s, "#")
	s, _, _ = strings.Cut(s, "?")
	s = strings.ReplaceAll(s, `\`, "/")
	if u, err := url.PathUnescape(s); err == nil {
		s = u
	}
	if m := sourcesCopy.FindStringSubmatchIndex(s); m != nil {
		prefix := s[:m[0]]
		if prefix != "" {
			prefix += "/"
		}
		s = prefix + s[m[2]:m[3]] + ".html"
	}
	return s
}

// PageMatches reports whether source is page (a path relative to the
// document folder).
func PageMatches(source, page string) bool {
	s, page := SourcePage(source), strings.Trim(page, "/")
	return s == page || strings.HasSuffix(s, "/"+page)
}

func normSpace(s string) string { return strings.ToLower(strings.Join(strings.Fields(s), " ")) }

// Judge scores one answer: for an answerable question a hit needs an answer
// (not an abstention), a citation from one of its pages, and every
// must_contain string in the answer and its quotes (case-insensitive,
// whitespace collapsed); an unanswerable question is right when abstained.
// why says what failed.
func Judge(q Question, ans *grounded.Answer) (ok bool, why string) {
	if !q.Answerable {
		if ans.Abstained {
			return true, "abstained"
		}
		return false, "answered"
	}
	if ans.Abstained {
		return false, "abstained (" + ans.Reason + ")"
	}
	var cited []string
	page := false
	text := []string{ans.Answer}
	for _, c := range ans.Citations {
		text = append(text, c.Quote)
		cited = append(cited, SourcePage(c.Source))
		for _, p := range q.Pages {
			page = page || PageMatches(c.Source, p)
		}
	}
	if !page {
		return false, fmt.Sprintf("no citation from %s (cited %s)", strings.Join(q.Pages, ", "), strings.Join(textUnique(cited), ", "))
	}
	all := normSpace(strings.Join(text, " "))
	var missing []string
	for _, m := range q.MustContain {
		if !strings.Contains(all, normSpace(m)) {
			missing = append(missing, strconv.Quote(m))
		}
	}
	if len(missing) > 0 {
		return false, "missing " + strings.Join(missing, ", ")
	}
	return true, "hit"
}

func textUnique(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return slices.Compact(s)
}

// QuestionsReport is the score of a set of support questions.
type QuestionsReport struct {
	Questions    int `json:"questions"`
	Answerable   int `json:"answerable"`
	Unanswerable int `json:"unanswerable"`
	// HitRate is the share of answerable questions that were hits.
	HitRate float64 `json:"hit_rate"`
	// AbstainRate is the share of unanswerable questions abstained on.
	AbstainRate float64 `json:"abstain_rate"`
	// FalseAbstainRate is the share of answerable questions abstained on.
	FalseAbstainRate float64 `json:"false_abstain_rate"`
	// Accuracy is the share of all questions judged right.
	Accuracy float64 `json:"accuracy"`
	// ByKind is the hit rate per kind of answerable question.
	ByKind map[string]float64 `json:"by_kind"`
	// ChunkRecall5 is the share of answerable questions whose top 5
	// search results hold a passage from a listed page with every
	// must_contain string; PageRecall1 and PageRecall5 ask only for the page.
	ChunkRecall5 float64 `json:"chunk_recall5"`
	PageRecall1  float64 `json:"page_recall1"`
	PageRecall5  float64 `json:"page_recall5"`
	// Calibration bins the answers given (not abstained) by confidence:
	// of the answers in a bin, the share that were right.
	Calibration Calibration `json:"calibration"`
}

// QuestionResult is one question's outcome.
type QuestionResult struct {
	ID         string  `json:"id"`
	Half       string  `json:"half"`
	Kind       string  `json:"kind"`
	Answerable bool    `json:"answerable"`
	OK         bool    `json:"ok"`
	Why        string  `json:"why"`
	Abstained  bool    `json:"abstained"`
	Confidence float64 `json:"confidence"`
	ChunkRank  int     `json:"chunk_rank,omitempty"`
	PageRank   int     `json:"page_rank,omitempty"`
}

// QuestionsResult is the whole run: all questions and each half.
type QuestionsResult struct {
	File    string           `json:"file"`
	Seconds float64          `json:"seconds"`
	P50Ms   float64          `json:"ask_p50_ms"`
	All     *QuestionsReport `json:"all"`
	Tune    *QuestionsReport `json:"tune"`
	Confirm *QuestionsReport `json:"confirm"`
	Results []QuestionResult `json:"results"`
}

// QuestionsOptions limit a run.
type QuestionsOptions struct {
	Limit int    // ask only the first Limit questions (0: all)
	Half  string // "", "tune" or "confirm"
}

// Questions asks every question, judges the answers and, through search,
// where retrieval put the answering passage.
func Questions(ctx context.Context, qs []Question, ask AskFunc, search SearchFunc, opt QuestionsOptions) (*QuestionsResult, error) {
	res := &QuestionsResult{}
	var lat []time.Duration
	for i, q := range qs {
		if opt.Limit > 0 && i >= opt.Limit {
			break
		}
		half := HalfOf(q.ID)
		if opt.Half != "" && half != opt.Half {
			continue
		}
		began := time.Now()
		ans, err := ask(ctx, q.Question)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", q.ID, err)
		}
		lat = append(lat, time.Since(began))
		ok, why := Judge(q, ans)
		r := QuestionResult{ID: q.ID, Half: half, Kind: q.Kind, Answerable: q.Answerable, OK: ok, Why: why, Abstained: ans.Abstained, Confidence: ans.Confidence}
		if q.Answerable && search != nil {
			hits, err := search(ctx, q.Question, 20)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", q.ID, err)
			}
			for j, h := range hits {
				if !slices.ContainsFunc(q.Pages, func(p string) bool { return PageMatches(h.Source, p) }) {
					continue
				}
				if r.PageRank == 0 {
					r.PageRank = j + 1
				}
				t := normSpace(h.Text)
				if r.ChunkRank == 0 && !slices.ContainsFunc(q.MustContain, func(m string) bool { return !strings.Contains(t, normSpace(m)) }) {
					r.ChunkRank = j + 1
				}
			}
		}
		res.Results = append(res.Results, r)
	}
	res.P50Ms = percentileMs(lat, 0.5)
	res.All = tallyQuestions(res.Results, "")
	res.Tune = tallyQuestions(res.Results, "tune")
	res.Confirm = tallyQuestions(res.Results, "confirm")
	return res, nil
}

func tallyQuestions(rs []QuestionResult, half string) *QuestionsReport {
	rep := &QuestionsReport{ByKind: map[string]float64{}}
	kinds := map[string][2]int{}
	var hits, abst, falseAbst, right, c5, p1, p5 int
	var confs []float64
	var rights []bool
	for _, r := range rs {
		if half != "" && r.Half != half {
			continue
		}
		rep.Questions++
		if r.OK {
			right++
		}
		if !r.Abstained {
			confs, rights = append(confs, r.Confidence), append(rights, r.OK)
		}
		if !r.Answerable {
			rep.Unanswerable++
			if r.Abstained {
				abst++
			}
			continue
		}
		rep.Answerable++
		k := kinds[r.Kind]
		k[1]++
		if r.OK {
			hits++
			k[0]++
		}
		kinds[r.Kind] = k
		if r.Abstained {
			falseAbst++
		}
		if r.ChunkRank > 0 && r.ChunkRank <= 5 {
			c5++
		}
		if r.PageRank == 1 {
			p1++
		}
		if r.PageRank > 0 && r.PageRank <= 5 {
			p5++
		}
	}
	rep.HitRate = round4(ratioOf(hits, rep.Answerable))
	rep.AbstainRate = round4(ratioOf(abst, rep.Unanswerable))
	rep.FalseAbstainRate = round4(ratioOf(falseAbst, rep.Answerable))
	rep.Accuracy = round4(ratioOf(right, rep.Questions))
	rep.ChunkRecall5 = round4(ratioOf(c5, rep.Answerable))
	rep.PageRecall1 = round4(ratioOf(p1, rep.Answerable))
	rep.PageRecall5 = round4(ratioOf(p5, rep.Answerable))
	for k, v := range kinds {
		rep.ByKind[k] = round4(ratioOf(v[0], v[1]))
	}
	rep.Calibration = Calibrate(confs, rights, 10)
	return rep
}

func ratioOf(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}
