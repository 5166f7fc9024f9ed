package eval_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/groundedhq/grounded"
	"github.com/groundedhq/grounded/eval"
)

func loadSQuAD(t *testing.T) *eval.SQuAD {
	t.Helper()
	s, err := eval.LoadSQuAD("testdata/squad.json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSQuADParagraphs(t *testing.T) {
	s := loadSQuAD(t)
	got := s.Paragraphs()
	want := []struct {
		key     string
		article int
		title   string
		prefix  string
	}{
		{"000-0000", 0, "Normans", "The Normans were the people"},
		{"000-0001", 0, "Normans", "The Norman dynasty"},
		{"001-0000", 1, "Computational_complexity_theory", "Computational complexity theory classifies"},
	}
	if len(got) != len(want) {
		t.Fatalf("%d paragraphs, want %d", len(got), len(want))
	}
	for i, w := range want {
		p := got[i]
		if p.Key != w.key || p.Article != w.article || p.Title != w.title || !strings.HasPrefix(p.Context, w.prefix) {
			t.Errorf("paragraph %d = %+v, want key %s article %d title %s context %q...", i, p, w.key, w.article, w.title, w.prefix)
		}
	}
	qa := s.Data[0].Paragraphs[0].QAs[1]
	if qa.ID != "n2" || !qa.IsImpossible || len(qa.Answers) != 0 {
		t.Errorf("question n2 = %+v, want an unanswerable question without answers", qa)
	}
}

func TestLoadSQuADErrors(t *testing.T) {
	tests := []struct {
		name, data, want string
	}{
		{"not JSON", `{"data": [`, "squad.json"},
		{"wrong shape", `{"data": {"title": "x"}}`, "squad.json"},
		{"no questions", `{"version": "v2.0", "data": [{"title": "x", "paragraphs": [{"context": "c", "qas": []}]}]}`, "no questions"},
		{"no data", `{}`, "no questions"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "squad.json")
			if err := os.WriteFile(path, []byte(tt.data), 0o644); err != nil {
				t.Fatal(err)
			}
			s, err := eval.LoadSQuAD(path)
			if err == nil {
				t.Fatalf("LoadSQuAD = %+v, want an error", s)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not say %q", err, tt.want)
			}
		})
	}
	if _, err := eval.LoadSQuAD(filepath.Join(t.TempDir(), "missing.json")); err == nil {
		t.Error("LoadSQuAD of a missing file: no error")
	}
}

// fakeAsk answers each question of testdata/squad.json with a canned answer
// and records the questions asked. Citations carry the paragraph key in
// DocID, which paragraphOf reads back.
type fakeAsk struct {
	answers map[string]*grounded.Answer
	err     map[string]error
	asked   []string
}

var _ eval.AskFunc = (*fakeAsk)(nil).ask

func (f *fakeAsk) ask(_ context.Context, question string) (*grounded.Answer, error) {
	f.asked = append(f.asked, question)
	if err := f.err[question]; err != nil {
		return nil, err
	}
	a, ok := f.answers[question]
	if !ok {
		return nil, fmt.Errorf("fake: unexpected question %q", question)
	}
	return a, nil
}

func paragraphOf(c grounded.Citation) string { return c.DocID }

func cite(keys ...string) []grounded.Citation {
	var out []grounded.Citation
	for i, k := range keys {
		out = append(out, grounded.Citation{N: i + 1, DocID: k})
	}
	return out
}

// The questions of testdata/squad.json, in file order, and what happens:
//
//	article 0 (tune)
//	n1 answerable    answered "France" in the text, cites its paragraph
//	n2 unanswerable  abstains (no_evidence)
//	n3 answerable    second gold answer in the text, cites the wrong paragraph
//	article 1 (confirm)
//	c1 answerable    gold answer only inside a longer word, cites its paragraph
//	c2 unanswerable  answers anyway
//	c3 answerable    abstains (weak_evidence) though it lists its paragraph
//	c4 answerable    gold answer, no citation
var (
	tuneQuestions = []string{
		"In what country is Normandy located?",
		"Who gave their name to Normandy in the 1000s and 1100s?",
		"What kind of impact did the Norman dynasty have?",
	}
	confirmQuestions = []string{
		"What does complexity theory classify?",
		"What does complexity theory ignore?",
		"What measure does the theory use?",
		"When was the founding work published?",
	}
)

func newFakeAsk() *fakeAsk {
	return &fakeAsk{answers: map[string]*grounded.Answer{
		tuneQuestions[0]:    {Answer: "It is in France.", Citations: cite("000-0000")},
		tuneQuestions[1]:    {Abstained: true, Reason: grounded.ReasonNoEvidence},
		tuneQuestions[2]:    {Answer: "The dynasty had a major political impact [1].", Citations: cite("000-0000")},
		confirmQuestions[0]: {Answer: "It classifies computational problemsets by difficulty.", Citations: cite("000-0001", "001-0000")},
		confirmQuestions[1]: {Answer: "Nothing.", Citations: cite("001-0000")},
		confirmQuestions[2]: {Abstained: true, Reason: grounded.ReasonWeakEvidence, Citations: cite("001-0000")},
		confirmQuestions[3]: {Answer: "In 1971."},
	}}
}

var (
	// tune: 3 questions, 2 answerable (both with gold, 1 cited), 1 unanswerable abstained.
	tuneReport = eval.QAReport{Questions: 3, Answerable: 2, Unanswerable: 1,
		AnswerRecall: 1, CitationHit: 0.5, NoAnsAbstain: 1, HasAnsAbstain: 0, GroundedAccuracy: 1}
	// confirm: 4 questions, 3 answerable (c4 gold, c1 cited, c3 abstained),
	// 1 unanswerable answered.
	confirmReport = eval.QAReport{Questions: 4, Answerable: 3, Unanswerable: 1,
		AnswerRecall: 0.3333, CitationHit: 0.3333, NoAnsAbstain: 0, HasAnsAbstain: 0.3333, GroundedAccuracy: 0.25}
	// all: 7 questions, 5 answerable: 3 gold, 2 cited, 1 abstained; 2
	// unanswerable: 1 abstained. Grounded accuracy (3+1)/7.
	allReport = eval.QAReport{Questions: 7, Answerable: 5, Unanswerable: 2,
		AnswerRecall: 0.6, CitationHit: 0.4, NoAnsAbstain: 0.5, HasAnsAbstain: 0.2, GroundedAccuracy: 0.5714}
	emptyReport = eval.QAReport{}
)

func TestQA(t *testing.T) {
	tests := []struct {
		name         string
		opt          eval.QAOptions
		asked        []string
		all          eval.QAReport
		tune         eval.QAReport
		confirm      eval.QAReport
		wantAbstains map[string]int
	}{
		{"all questions", eval.QAOptions{}, append(append([]string{}, tuneQuestions...), confirmQuestions...),
			allReport, tuneReport, confirmReport,
			map[string]int{grounded.ReasonNoEvidence: 1, grounded.ReasonWeakEvidence: 1}},
		{"tune half", eval.QAOptions{Half: "tune"}, tuneQuestions,
			tuneReport, tuneReport, emptyReport,
			map[string]int{grounded.ReasonNoEvidence: 1}},
		{"confirm half", eval.QAOptions{Half: "confirm"}, confirmQuestions,
			confirmReport, emptyReport, confirmReport,
			map[string]int{grounded.ReasonWeakEvidence: 1}},
		{"limit", eval.QAOptions{Limit: 2}, tuneQuestions[:2],
			eval.QAReport{Questions: 2, Answerable: 1, Unanswerable: 1, AnswerRecall: 1, CitationHit: 1, NoAnsAbstain: 1, GroundedAccuracy: 1},
			eval.QAReport{Questions: 2, Answerable: 1, Unanswerable: 1, AnswerRecall: 1, CitationHit: 1, NoAnsAbstain: 1, GroundedAccuracy: 1},
			emptyReport,
			map[string]int{grounded.ReasonNoEvidence: 1}},
		{"limit across articles", eval.QAOptions{Limit: 4}, append(append([]string{}, tuneQuestions...), confirmQuestions[0]),
			eval.QAReport{Questions: 4, Answerable: 3, Unanswerable: 1, AnswerRecall: 0.6667, CitationHit: 0.6667, NoAnsAbstain: 1, GroundedAccuracy: 0.75},
			tuneReport,
			eval.QAReport{Questions: 1, Answerable: 1, CitationHit: 1},
			map[string]int{grounded.ReasonNoEvidence: 1}},
		{"limit within the confirm half", eval.QAOptions{Limit: 1, Half: "confirm"}, confirmQuestions[:1],
			eval.QAReport{Questions: 1, Answerable: 1, CitationHit: 1},
			emptyReport,
			eval.QAReport{Questions: 1, Answerable: 1, CitationHit: 1},
			map[string]int{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeAsk()
			res, err := eval.QA(context.Background(), loadSQuAD(t), f.ask, paragraphOf, tt.opt)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(f.asked, tt.asked) {
				t.Errorf("asked %q, want %q", f.asked, tt.asked)
			}
			for _, c := range []struct {
				half      string
				got, want *eval.QAReport
			}{{"all", res.All, &tt.all}, {"tune", res.Tune, &tt.tune}, {"confirm", res.Confirm, &tt.confirm}} {
				if c.got == nil {
					t.Fatalf("%s: no report", c.half)
				}
				got := *c.got
				got.Calibration = eval.Calibration{} // the fake's answers carry no confidence
				if !reflect.DeepEqual(got, *c.want) {
					t.Errorf("%s: %+v, want %+v", c.half, got, *c.want)
				}
			}
			if !reflect.DeepEqual(res.Abstains, tt.wantAbstains) {
				t.Errorf("abstentions %v, want %v", res.Abstains, tt.wantAbstains)
			}
		})
	}
}

func TestQAAskError(t *testing.T) {
	f := newFakeAsk()
	boom := errors.New("generator down")
	f.err = map[string]error{tuneQuestions[2]: boom}
	res, err := eval.QA(context.Background(), loadSQuAD(t), f.ask, paragraphOf, eval.QAOptions{})
	if !errors.Is(err, boom) || !strings.Contains(fmt.Sprint(err), "n3") {
		t.Errorf("QA = %+v, %v; want an error wrapping %v that names n3", res, err, boom)
	}
	if len(f.asked) != 3 {
		t.Errorf("asked %d questions, want QA to stop at the failing third", len(f.asked))
	}
}
