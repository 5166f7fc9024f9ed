package eval_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/groundedhq/grounded/eval"
)

const (
	supportClaims = "testdata/support/scifact-claims/claims_dev.jsonl"
	supportCorpus = "testdata/support/scifact/corpus.jsonl"
)

func loadSupport(t *testing.T) *eval.SupportSet {
	t.Helper()
	set, err := eval.LoadSupport(supportClaims, supportCorpus)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

func TestLoadSupport(t *testing.T) {
	set := loadSupport(t)
	if set.Claims != 8 || set.Skipped != 1 {
		t.Errorf("claims %d, skipped %d; want 8 and 1", set.Claims, set.Skipped)
	}
	type pair struct {
		id, pos  int
		kind     string
		passages []string
	}
	got := func(ps []eval.SupportPair) []pair {
		var out []pair
		for _, p := range ps {
			out = append(out, pair{p.ClaimID, p.Position, p.Kind, p.Passages})
		}
		return out
	}
	d1 := "Aspirin reduces the risk of heart attacks in adults. The trial enrolled 500 patients. Side effects were rare."
	d2 := "Vitamin C does not prevent the common cold. Zinc shortened colds by a day."
	d3 := "Coffee consumption was linked to lower mortality in a Japanese cohort."
	d4 := "The Eiffel Tower was completed in 1889."
	d5 := "The Louvre museum opened to the public in 1793."
	nei := []pair{
		{3, 2, eval.PairNEI, []string{d3}},
		{5, 4, eval.PairNEI, []string{d4}},
		{7, 6, eval.PairNEI, []string{d3}},
		{8, 7, eval.PairNEI, []string{d4, d5}},
	}
	wantRationale := []pair{
		{1, 0, eval.PairSupport, []string{"Aspirin reduces the risk of heart attacks in adults."}},
		{2, 1, eval.PairContradict, []string{"Vitamin C does not prevent the common cold."}},
		nei[0],
		{4, 3, eval.PairSupport, []string{"The trial enrolled 500 patients."}},
		nei[1],
		{6, 5, eval.PairSupport, []string{"Zinc shortened colds by a day."}},
		nei[2], nei[3],
	}
	if g := got(set.Rationale); !reflect.DeepEqual(g, wantRationale) {
		t.Errorf("rationale pairs\n got %v\nwant %v", g, wantRationale)
	}
	wantAbstract := []pair{
		{1, 0, eval.PairSupport, []string{d1}},
		{2, 1, eval.PairContradict, []string{d2}},
		nei[0],
		{4, 3, eval.PairSupport, []string{d1}},
		nei[1],
		{6, 5, eval.PairSupport, []string{d2}},
		nei[2], nei[3],
	}
	if g := got(set.Abstract); !reflect.DeepEqual(g, wantAbstract) {
		t.Errorf("abstract pairs\n got %v\nwant %v", g, wantAbstract)
	}
	if r := set.Abstract[3].Rationale; !reflect.DeepEqual(r, []string{"The trial enrolled 500 patients."}) {
		t.Errorf("abstract pair of claim 4 has rationale %q", r)
	}
}

func TestLoadSupportErrors(t *testing.T) {
	corpus := `{"_id": "d1", "text": "Some text."}` + "\n"
	tests := []struct {
		name, claims, corpus, want string
	}{
		{"not JSON", `{"id": 1, "claim": `, corpus, "claims.jsonl:1"},
		{"unknown label", `{"id": 1, "claim": "c", "cited_doc_ids": ["d1"], "evidence": [{"doc_id": "d1", "label": "MAYBE", "sentences": ["s"]}]}`, corpus, "MAYBE"},
		{"empty claim", `{"id": 1, "claim": " ", "cited_doc_ids": ["d1"], "evidence": []}`, corpus, "no text"},
		{"nothing cited", `{"id": 1, "claim": "c", "cited_doc_ids": [], "evidence": []}`, corpus, "neither evidence nor cited"},
		{"cited document missing", `{"id": 1, "claim": "c", "cited_doc_ids": ["d9"], "evidence": []}`, corpus, `no document "d9"`},
		{"evidence document missing", `{"id": 1, "claim": "c", "cited_doc_ids": ["d1"], "evidence": [{"doc_id": "d8", "label": "SUPPORT", "sentences": ["s"]}]}`, corpus, `no document "d8"`},
		{"bad document id", `{"id": 1, "claim": "c", "cited_doc_ids": [true], "evidence": []}`, corpus, "document id"},
		{"no claims", "\n\n", corpus, "no claims"},
		{"corpus not JSON", `{"id": 1, "claim": "c", "cited_doc_ids": ["d1"], "evidence": []}`, "{", "corpus.jsonl:1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			claims, corpus := filepath.Join(dir, "claims.jsonl"), filepath.Join(dir, "corpus.jsonl")
			if err := os.WriteFile(claims, []byte(tt.claims), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(corpus, []byte(tt.corpus), 0o644); err != nil {
				t.Fatal(err)
			}
			set, err := eval.LoadSupport(claims, corpus)
			if err == nil {
				t.Fatalf("LoadSupport = %+v, want an error", set)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not say %q", err, tt.want)
			}
		})
	}
	if _, err := eval.LoadSupport(filepath.Join(t.TempDir(), "missing.jsonl"), supportCorpus); err == nil {
		t.Error("LoadSupport of a missing claims file: no error")
	}
	if _, err := eval.LoadSupport(supportClaims, filepath.Join(t.TempDir(), "missing.jsonl")); err == nil {
		t.Error("LoadSupport of a missing corpus: no error")
	}
}

func TestLoadSupportNumericIDs(t *testing.T) {
	dir := t.TempDir()
	claims, corpus := filepath.Join(dir, "claims.jsonl"), filepath.Join(dir, "corpus.jsonl")
	if err := os.WriteFile(claims, []byte(`{"id": 1, "claim": "c", "cited_doc_ids": [42], "evidence": [{"doc_id": 42, "label": "SUPPORT", "sentences": ["s"]}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(corpus, []byte(`{"_id": "42", "text": "t"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	set, err := eval.LoadSupport(claims, corpus)
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Abstract) != 1 || set.Abstract[0].Passages[0] != "t" {
		t.Errorf("abstract pairs %+v, want one with document 42's text", set.Abstract)
	}
}

// fakeVerdicts decide by claim id: a score, a hard-check failure, and the
// text the best span points at in the first passage.
var fakeVerdicts = map[string]struct {
	score  float64
	reason string // a hard failure, or ""
	span   string
}{
	"Aspirin reduces the risk of heart attacks.":                 {1, "", "Aspirin reduces"},
	"Vitamin C prevents the common cold.":                        {0.8, "negation", "Vitamin C"},
	"Tea drinking improves memory in the elderly.":               {0.1, "", "Coffee"},
	"The trial enrolled 500 patients.":                           {0.6, "", "Aspirin"}, // wrong sentence
	"The Eiffel Tower was completed in 1890.":                    {0.7, "numbers", "The Eiffel"},
	"Zinc shortens colds.":                                       {0.3, "", "Zinc"},
	"Coffee consumption was linked to lower mortality in Japan.": {0.55, "", "Coffee"},
	"The Louvre opened in 1793.":                                 {0.2, "", "The"},
}

func fakeCheck(threshold float64) eval.SupportFunc {
	return func(sentence string, passages []string) eval.SupportVerdict {
		f, ok := fakeVerdicts[sentence]
		if !ok {
			panic("unknown claim " + sentence)
		}
		v := eval.SupportVerdict{Score: f.score, Reason: f.reason, Vetoed: f.reason != "", Passage: -1}
		if i := strings.Index(passages[0], f.span); i >= 0 {
			v.Passage, v.Start, v.End = 0, i, i+len(f.span)
		}
		switch {
		case v.Vetoed:
		case f.score >= threshold:
			v.Supported = true
		default:
			v.Reason = "coverage"
		}
		return v
	}
}

func TestSupport(t *testing.T) {
	rep, err := eval.Support(context.Background(), loadSupport(t), fakeCheck(0.5))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Claims != 8 || rep.Skipped != 1 {
		t.Errorf("claims %d, skipped %d; want 8 and 1", rep.Claims, rep.Skipped)
	}
	// Positives: claims 1 (TP), 4 (TP), 6 (FN); negatives 3 (TN), 5 (TN,
	// vetoed), 7 (FP), 8 (TN). Tune: positions 0, 2, 4, 6 = claims 1, 3, 5,
	// 7; confirm: 4, 6, 8 (claim 2 contradicts).
	wantAll := eval.SupportMetrics{Pairs: 7, Positives: 3, Negatives: 4, TP: 2, FP: 1, TN: 3, FN: 1,
		Accuracy: 0.7143, Precision: 0.6667, Recall: 0.6667, F1: 0.6667, BalancedAccuracy: 0.7083}
	wantTune := eval.SupportMetrics{Pairs: 4, Positives: 1, Negatives: 3, TP: 1, FP: 1, TN: 2,
		Accuracy: 0.75, Precision: 0.5, Recall: 1, F1: 0.6667, BalancedAccuracy: 0.8333}
	wantConfirm := eval.SupportMetrics{Pairs: 3, Positives: 2, Negatives: 1, TP: 1, TN: 1, FN: 1,
		Accuracy: 0.6667, Precision: 1, Recall: 0.5, F1: 0.6667, BalancedAccuracy: 0.75}
	wantContradict := eval.ContradictMetrics{Pairs: 1, Rejected: 1, RejectRate: 1, PrecisionAsNegatives: 0.6667}
	wantReasons := map[string]map[string]int{
		eval.PairSupport:    {"supported": 2, "coverage": 1},
		eval.PairNEI:        {"coverage": 2, "numbers": 1, "supported": 1},
		eval.PairContradict: {"negation": 1},
	}
	for _, s := range []struct {
		name string
		s    *eval.SupportSetting
	}{{"rationale", rep.Rationale}, {"abstract", rep.Abstract}} {
		t.Run(s.name, func(t *testing.T) {
			if s.s.All != wantAll {
				t.Errorf("all\n got %+v\nwant %+v", s.s.All, wantAll)
			}
			if s.s.Tune != wantTune {
				t.Errorf("tune half\n got %+v\nwant %+v", s.s.Tune, wantTune)
			}
			if s.s.Confirm != wantConfirm {
				t.Errorf("confirm half\n got %+v\nwant %+v", s.s.Confirm, wantConfirm)
			}
			if s.s.Contradict != wantContradict {
				t.Errorf("contradict %+v, want %+v", s.s.Contradict, wantContradict)
			}
			if !reflect.DeepEqual(s.s.Reasons, wantReasons) {
				t.Errorf("reasons %v, want %v", s.s.Reasons, wantReasons)
			}
			// Tune-half balanced accuracy is 1 from 0.60 (claim 7 out) to
			// 0.95 (claim 1 still in); the highest such threshold wins.
			if len(s.s.Sweep) != 19 || s.s.BestTuneThreshold != 0.95 {
				t.Errorf("%d sweep points, best tune threshold %v; want 19 and 0.95", len(s.s.Sweep), s.s.BestTuneThreshold)
			}
			for _, p := range s.s.Sweep {
				want := 1.0
				switch {
				case p.Threshold <= 0.1:
					want = 0.6667 // claims 3 and 7 pass
				case p.Threshold <= 0.55:
					want = 0.8333 // claim 7 passes
				}
				if p.Tune.BalancedAccuracy != want {
					t.Errorf("threshold %.2f: tune balanced accuracy %v, want %v", p.Threshold, p.Tune.BalancedAccuracy, want)
				}
				// The vetoed contradiction stays rejected at every threshold.
				if p.ContradictRejects != 1 {
					t.Errorf("threshold %.2f: contradiction reject rate %v, want 1", p.Threshold, p.ContradictRejects)
				}
			}
		})
	}
	// Only the abstract setting locates spans: claim 1's span is in its
	// rationale, claim 4's is not.
	if rep.Rationale.SpanPairs != 0 || rep.Abstract.SpanPairs != 2 || rep.Abstract.SpanHit != 0.5 {
		t.Errorf("span pairs %d/%d, abstract span hit %v; want 0/2 and 0.5", rep.Rationale.SpanPairs, rep.Abstract.SpanPairs, rep.Abstract.SpanHit)
	}
}

func TestSupportCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := eval.Support(ctx, loadSupport(t), fakeCheck(0.5)); !errors.Is(err, context.Canceled) {
		t.Errorf("Support on a cancelled context: %v, want context.Canceled", err)
	}
}
