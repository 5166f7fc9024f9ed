package main

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/groundedhq/grounded/answer/support"
	"github.com/groundedhq/grounded/eval"
)

var supportFixture = filepath.Join("..", "..", "eval", "testdata", "support")

func runEvalSupport(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := cmdEvalSupport(context.Background(), args, &out, &errOut)
	return out.String(), err
}

func TestEvalSupportJSON(t *testing.T) {
	claims := filepath.Join(supportFixture, "scifact-claims", "claims_dev.jsonl")
	out, err := runEvalSupport(t, "--claims", claims, "--json")
	if err != nil {
		t.Fatal(err)
	}
	var rep eval.SupportReport
	decodeStrict(t, out, &rep)
	// The corpus defaults to ../scifact/corpus.jsonl from the claims folder.
	if want := filepath.Join(supportFixture, "scifact", "corpus.jsonl"); rep.CorpusFile != want {
		t.Errorf("corpus %q, want %q", rep.CorpusFile, want)
	}
	if rep.Claims != 8 || rep.Skipped != 1 || rep.Threshold != support.DefaultThreshold {
		t.Errorf("claims %d, skipped %d, threshold %v; want 8, 1, %v", rep.Claims, rep.Skipped, rep.Threshold, support.DefaultThreshold)
	}
	for _, s := range []*eval.SupportSetting{rep.Rationale, rep.Abstract} {
		if s.All.Positives != 3 || s.All.Negatives != 4 || s.Contradict.Pairs != 1 {
			t.Errorf("%d positives, %d negatives, %d contradictions; want 3, 4, 1", s.All.Positives, s.All.Negatives, s.Contradict.Pairs)
		}
		// The checker's verdicts on the fixture: every rationale supports
		// its claim; the Eiffel Tower's year is wrong (another year for
		// the same event: contradicted); vitamin C's rationale is negated.
		if got := s.Reasons[eval.PairSupport]["supported"]; got != 3 {
			t.Errorf("%d of 3 supporting rationales judged supported (%v)", got, s.Reasons)
		}
		if got := s.Reasons[eval.PairNEI][support.ReasonWrongNumber]; got != 1 {
			t.Errorf("%d unsupported claims rejected for a wrong number, want 1 (%v)", got, s.Reasons)
		}
		if got := s.Reasons[eval.PairContradict][support.ReasonNegation]; got != 1 {
			t.Errorf("%d contradictions rejected for negation, want 1 (%v)", got, s.Reasons)
		}
	}
	if rep.Abstract.SpanPairs != 3 || rep.Abstract.SpanHit != 1 {
		t.Errorf("abstract setting: span hit %v over %d pairs, want 1 over 3", rep.Abstract.SpanHit, rep.Abstract.SpanPairs)
	}
}

func TestEvalSupportText(t *testing.T) {
	claims := filepath.Join(supportFixture, "scifact-claims", "claims_dev.jsonl")
	corpus := filepath.Join(supportFixture, "scifact", "corpus.jsonl")
	out, err := runEvalSupport(t, "--claims", claims, "--corpus", corpus, "--threshold", "0.9", "--no-number-check")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"threshold  0.90",
		"rationale setting",
		"abstract setting",
		"contradicting rationales (not in the figures above): 1 pairs",
		"best tune-half balanced accuracy at threshold",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "numbers:") {
		t.Errorf("--no-number-check, yet a verdict for numbers:\n%s", out)
	}
}

func TestEvalSupportErrors(t *testing.T) {
	claims := filepath.Join(supportFixture, "scifact-claims", "claims_dev.jsonl")
	for _, args := range [][]string{
		{},
		{"--claims"},
		{"--claims", claims, "extra"},
		{"--claims", claims, "--threshold", "1.5"},
		{"--claims", claims, "--threshold", "-0.1"},
		{"--claims", claims, "--bogus"},
	} {
		if _, err := runEvalSupport(t, args...); !errors.Is(err, errUsage) {
			t.Errorf("eval support %q: %v, want a usage error", args, err)
		}
	}
	missing := filepath.Join(t.TempDir(), "corpus.jsonl")
	_, err := runEvalSupport(t, "--claims", claims, "--corpus", missing)
	if err == nil || errors.Is(err, errUsage) || !strings.Contains(err.Error(), missing) {
		t.Errorf("eval support with a missing corpus: %v, want an error naming it", err)
	}
}

func TestEvalSupportContrastive(t *testing.T) {
	squad := filepath.Join("..", "..", "eval", "testdata", "squad.json")
	features := filepath.Join(t.TempDir(), "features.jsonl")
	out, err := runEvalSupport(t, "--contrastive", "--squad", squad, "--json", "--features", features)
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Contrastive *eval.ContrastiveReport `json:"contrastive"`
	}
	decodeStrict(t, out, &rep)
	if rep.Contrastive == nil || rep.Contrastive.Pairs == 0 || rep.Contrastive.Tune.Positives == 0 {
		t.Fatalf("report %s", out)
	}
	if _, err := runEvalSupport(t, "--contrastive"); !errors.Is(err, errUsage) {
		t.Errorf("--contrastive without --squad: %v, want a usage error", err)
	}
}
