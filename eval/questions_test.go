package eval_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/groundedhq/grounded"
	"github.com/groundedhq/grounded/eval"
)

func TestSourcePage(t *testing.T) {
	for _, tc := range []struct{ source, page string }{
		{"/usr/share/doc/python3.11/html/library/subprocess.html", "library/subprocess.html"},
		{"/usr/share/doc/python3.11/html/_sources/library/subprocess.rst.txt", "library/subprocess.html"},
		{"file:///docs/library/os.html#os.walk", "library/os.html"},
		{`C:\docs\library\os.html`, "library/os.html"},
	} {
		if !eval.PageMatches(tc.source, tc.page) {
			t.Errorf("PageMatches(%q, %q) = false (page %q)", tc.source, tc.page, eval.SourcePage(tc.source))
		}
	}
	if eval.PageMatches("/docs/xlibrary/os.html", "library/os.html") {
		t.Error("a path that only ends in the page's letters matched")
	}
}

func TestJudge(t *testing.T) {
	q := eval.Question{ID: "py-2", Answerable: true, Pages: []string{"library/functools.html"}, MustContain: []string{"lru_cache(maxsize=None)", "Returns the same"}}
	cite := func(src, quote string) grounded.Citation { return grounded.Citation{Source: src, Quote: quote} }
	for _, tc := range []struct {
		name string
		ans  grounded.Answer
		ok   bool
	}{
		{"hit", grounded.Answer{Answer: "x", Citations: []grounded.Citation{cite("/h/library/functools.html", "Returns the same as\n  LRU_CACHE(maxsize=None), creating")}}, true},
		{"abstained", grounded.Answer{Abstained: true, Reason: "weak_evidence"}, false},
		{"wrong page", grounded.Answer{Citations: []grounded.Citation{cite("/h/library/os.html", "Returns the same as lru_cache(maxsize=None)")}}, false},
		{"missing string", grounded.Answer{Citations: []grounded.Citation{cite("/h/library/functools.html", "lru_cache(maxsize=None)")}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if ok, why := eval.Judge(q, &tc.ans); ok != tc.ok {
				t.Errorf("Judge = %v (%s), want %v", ok, why, tc.ok)
			}
		})
	}
	no := eval.Question{ID: "py-3"}
	if ok, _ := eval.Judge(no, &grounded.Answer{Abstained: true}); !ok {
		t.Error("an abstention on an unanswerable question is wrong")
	}
	if ok, _ := eval.Judge(no, &grounded.Answer{Answer: "x"}); ok {
		t.Error("an answer to an unanswerable question is right")
	}
}

func TestQuestions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "q.jsonl")
	lines := `{"id": "q-1", "question": "one?", "answerable": true, "pages": ["a.html"], "must_contain": ["alpha"], "kind": "what-is"}
{"id": "q-2", "question": "two?", "answerable": true, "pages": ["b.html"], "must_contain": ["beta"], "kind": "how-to"}
{"id": "q-3", "question": "three?", "answerable": false, "why": "not there"}
{"id": "q-4", "question": "four?", "answerable": false}
`
	if err := os.WriteFile(path, []byte(lines), 0o644); err != nil {
		t.Fatal(err)
	}
	qs, err := eval.LoadQuestions(path)
	if err != nil || len(qs) != 4 {
		t.Fatalf("LoadQuestions: %d, %v", len(qs), err)
	}
	answers := map[string]*grounded.Answer{
		"one?":   {Answer: "alpha", Confidence: 0.85, Citations: []grounded.Citation{{Source: "/d/a.html", Quote: "alpha"}}},
		"two?":   {Answer: "gamma", Confidence: 0.82, Citations: []grounded.Citation{{Source: "/d/b.html", Quote: "gamma"}}},
		"three?": {Abstained: true, Confidence: 0.1},
		"four?":  {Answer: "x", Confidence: 0.15, Citations: []grounded.Citation{{Source: "/d/a.html", Quote: "x"}}},
	}
	ask := func(_ context.Context, q string) (*grounded.Answer, error) { return answers[q], nil }
	search := func(_ context.Context, q string, k int) ([]grounded.Hit, error) {
		return []grounded.Hit{{Chunk: grounded.Chunk{Source: "/d/b.html", Text: "beta here"}}, {Chunk: grounded.Chunk{Source: "/d/a.html", Text: "Alpha"}}}, nil
	}
	res, err := eval.Questions(context.Background(), qs, ask, search, eval.QuestionsOptions{})
	if err != nil {
		t.Fatal(err)
	}
	all := res.All
	if all.HitRate != 0.5 || all.AbstainRate != 0.5 || all.Accuracy != 0.5 || all.ByKind["what-is"] != 1 || all.ByKind["how-to"] != 0 {
		t.Errorf("report %+v", all)
	}
	if all.PageRecall1 != 0.5 || all.PageRecall5 != 1 || all.ChunkRecall5 != 1 {
		t.Errorf("retrieval recall %v %v %v", all.PageRecall1, all.PageRecall5, all.ChunkRecall5)
	}
	// Calibration bins the three answers given: two at 0.8-0.9 (one
	// right), one at 0.1-0.2 (wrong).
	bins := all.Calibration.Bins
	if len(bins) != 10 || bins[8].Pairs != 2 || bins[8].Positive != 0.5 || bins[1].Pairs != 1 || bins[1].Positive != 0 {
		t.Errorf("calibration %+v", all.Calibration)
	}
	if res.Tune.Questions != 2 || res.Confirm.Questions != 2 {
		t.Errorf("halves %d / %d, want 2 / 2 (by id parity)", res.Tune.Questions, res.Confirm.Questions)
	}
}
