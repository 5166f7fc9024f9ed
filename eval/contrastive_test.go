package eval_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/groundedhq/grounded/eval"
)

func TestContrastive(t *testing.T) {
	s, err := eval.LoadSQuAD("testdata/squad.json")
	if err != nil {
		t.Fatal(err)
	}
	pairs := eval.Contrastive(s)
	kinds := map[string]int{}
	originals := map[string]string{} // question id -> sentence
	for _, p := range pairs {
		if !slices.Contains(eval.ContrastiveKinds, p.Kind) || p.Supported != (p.Kind == eval.KindOriginal) || len(p.Passages) != 1 {
			t.Fatalf("pair %+v", p)
		}
		kinds[p.Kind]++
		if p.Kind == eval.KindOriginal {
			if !strings.Contains(p.Passages[0], p.Sentence) {
				t.Errorf("original %q is not in its paragraph", p.Sentence)
			}
			originals[p.QID] = p.Sentence
		}
	}
	for _, p := range pairs {
		switch p.Kind {
		case eval.KindOriginal:
		case eval.KindCitation:
			if p.Sentence != originals[p.QID] || strings.Contains(p.Passages[0], p.Sentence) {
				t.Errorf("citation pair %q against a paragraph that holds it", p.Sentence)
			}
		default:
			if p.Sentence == originals[p.QID] || strings.Contains(p.Passages[0], p.Sentence) {
				t.Errorf("%s pair %q is not changed", p.Kind, p.Sentence)
			}
		}
	}
	if kinds[eval.KindOriginal] == 0 || kinds[eval.KindNegation] == 0 {
		t.Errorf("kinds %v", kinds)
	}
	if again := eval.Contrastive(s); !slices.EqualFunc(again, pairs, func(a, b eval.ContrastivePair) bool { return a.Sentence == b.Sentence && a.Kind == b.Kind }) {
		t.Error("the set differs between runs")
	}
	// A checker that passes exactly the originals catches everything.
	orig := map[string]bool{}
	for _, p := range pairs {
		if p.Kind == eval.KindOriginal {
			orig[p.Sentence+"\x00"+p.Passages[0]] = true
		}
	}
	rep, err := eval.ContrastiveSupport(context.Background(), pairs, func(sentence string, passages []string) eval.SupportVerdict {
		ok := orig[sentence+"\x00"+passages[0]]
		score := 0.0
		if ok {
			score = 1
		}
		return eval.SupportVerdict{Supported: ok, Score: score}
	})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Tune.BalancedAccuracy != 1 || rep.Tune.Calibration.ECE != 0 || rep.Tune.Caught[eval.KindOriginal] != 1 {
		t.Errorf("perfect checker: %+v", rep.Tune)
	}
}

func TestCalibrate(t *testing.T) {
	c := eval.Calibrate([]float64{0.05, 0.05, 0.95, 0.95, 1}, []bool{false, true, true, true, true}, 10)
	if len(c.Bins) != 10 || c.Bins[0].Pairs != 2 || c.Bins[9].Pairs != 3 || c.Bins[0].Positive != 0.5 {
		t.Fatalf("bins %+v", c.Bins)
	}
	// |0.05 - 0.5|·2/5 + |0.9667 - 1|·3/5 = 0.18 + 0.02
	if c.ECE != 0.2 {
		t.Errorf("ECE %v, want 0.2", c.ECE)
	}
}
