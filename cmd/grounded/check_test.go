package main

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/groundedhq/grounded"
)

const (
	refundsText  = "# Refunds\n\nRefunds are paid within 14 days of the return. Store credit never expires.\n"
	shippingText = "Shipping is free on orders over 50 euros.\n"
)

// TestCLICheck checks an answer against passage files (text and JSON), then
// against passages retrieved from the built-in corpus, and refuses bad
// command lines.
func TestCLICheck(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	refunds, shipping := filepath.Join(dir, "refunds.md"), filepath.Join(dir, "shipping.txt")
	for path, text := range map[string]string{refunds: refundsText, shipping: shippingText} {
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The first sentence cites the wrong file, the second a passage that
	// does not exist, the third is not in either.
	answer := "Refunds are paid within 14 days of the return [2]. Shipping is free on orders over 50 euros [3]. Gift cards can be refunded in cash [1]."
	out, _ := mustRunCLI(t, "check", "--data", data, "--answer", answer, "--passage", refunds, "--passage", shipping)
	for _, re := range []string{
		`(?m)^Score 0\.\d+: 2 of 3 sentences supported, 2 re-attributed, 1 markers naming no passage\.$`,
		`(?m)^1\. supported\s+0\.\d\d  Refunds are paid within 14 days of the return\. \[1\]$`,
		`(?m)^   re-attributed: it cites \[2\], which does not support it .*; passage 1 does$`,
		`(?m)^   \[1\] bytes 11-57: "Refunds are paid within 14 days of the return\."$`,
		`(?m)^2\. supported\s+0\.\d\d  Shipping is free on orders over 50 euros\. \[2\]$`,
		`(?m)^   re-attributed: it cites \[3\], which does not exist \(there are 2 passages\); passage 2 supports it$`,
		`(?m)^3\. unsupported\s+0\.\d+  Gift cards can be refunded in cash\. \[1\]$`,
		`(?m)^\[2\] ` + regexp.QuoteMeta(shipping) + `$`,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("no line matching %s in:\n%s", re, out)
		}
	}

	out, _ = mustRunCLI(t, "check", "--json", "--data", data, "--sentence", "Store credit never expires. [1]", "--sentence", "Shipping is free.", "--passage", refunds, "--passage", shipping)
	var res grounded.CheckResult
	decodeStrict(t, out, &res)
	files := []string{refundsText, shippingText}
	if len(res.Sentences) != 2 || res.Supported != 2 || res.Passages != nil {
		t.Fatalf("--json: %+v", res)
	}
	for _, st := range res.Sentences {
		ev := st.Evidence
		if ev == nil || files[ev.Passage-1][ev.Start:ev.End] != ev.Quote {
			t.Errorf("sentence %q: evidence %+v is not its file's bytes", st.Text, ev)
		}
	}
	if c := res.Sentences[1].Citations; len(c) != 1 || c[0] != 2 {
		t.Errorf("a sentence citing nothing is attributed to %v, want [2]", c)
	}

	// Evidence retrieved from the built-in corpus: the passages are listed.
	const claim = "A large language model on its own generates text and cannot generate images [1]."
	out, _ = mustRunCLI(t, "check", "--json", "--data", data, "--answer", claim, "--question", "Can a large language model generate images?", "-k", "3")
	res = grounded.CheckResult{}
	decodeStrict(t, out, &res)
	if len(res.Passages) != 3 || res.Supported != 1 || res.Sentences[0].Evidence == nil {
		t.Fatalf("--question: %+v", res)
	}
	ev, p := res.Sentences[0].Evidence, res.Passages[res.Sentences[0].Evidence.Passage-1]
	if p.ChunkID == "" || p.DocID == "" || !strings.HasPrefix(p.Source, "corpus/") || p.Text[ev.Start:ev.End] != ev.Quote {
		t.Errorf("--question: evidence %+v in passage %+v", ev, p)
	}
	out, _ = mustRunCLI(t, "check", "--data", data, "--answer", claim, "--doc", p.DocID)
	if !strings.Contains(out, "1. supported") || !strings.Contains(out, "[1] "+p.Source+" (document "+p.DocID+", bytes 0-") {
		t.Errorf("--doc:\n%s", out)
	}

	for _, bad := range []struct {
		args  []string
		usage bool
		msg   string
	}{
		{[]string{"--answer", answer}, true, "give the evidence"},
		{[]string{"--passage", refunds}, true, "say what to check"},
		{[]string{"--answer", answer, "--sentence", "x", "--passage", refunds}, true, "not both"},
		{[]string{"--answer", answer, "--passage", refunds, "--question", "q"}, true, "one way"},
		{[]string{"--answer", answer, "--passage", refunds, "stray"}, true, "no arguments"},
		{[]string{"--answer", answer, "--passage", filepath.Join(dir, "missing.md")}, false, "missing.md"},
		{[]string{"--answer", answer, "--doc", "nope"}, false, `"nope" is not in collection`},
	} {
		_, _, err := runCLI(t, append([]string{"check", "--data", data}, bad.args...)...)
		if err == nil || errors.Is(err, errUsage) != bad.usage || !strings.Contains(err.Error(), bad.msg) {
			t.Errorf("check %q: err = %v, want usage=%v with %q", bad.args, err, bad.usage, bad.msg)
		}
	}
}

// TestBatchCheck runs check jobs: inline passages and passages retrieved
// from the batch's collection.
func TestBatchCheck(t *testing.T) {
	dir := t.TempDir()
	in, out := filepath.Join(dir, "jobs.jsonl"), filepath.Join(dir, "out.jsonl")
	jobs := `{"id": "inline", "op": "check", "answer": "Refunds are paid within 14 days [2].", "passages": [{"text": "Shipping is free."}, {"text": "Refunds are paid within 14 days."}]}
{"id": "retrieved", "op": "check", "sentences": ["A large language model on its own generates text and cannot generate images."], "question": "Can a large language model generate images?"}
{"id": "bad", "op": "check", "answer": "x", "passages": [{"txt": "y"}]}
`
	if err := os.WriteFile(in, []byte(jobs), 0o644); err != nil {
		t.Fatal(err)
	}
	mustRunCLI(t, "batch", "--data", filepath.Join(dir, "data"), "--in", in, "--out", out)
	lines, _ := readBatchOutput(t, out)
	var res grounded.CheckResult
	decodeStrict(t, string(lines["inline"].Result), &res)
	if res.Supported != 1 || res.Sentences[0].Evidence.Quote != "Refunds are paid within 14 days." {
		t.Errorf("inline: %+v", res)
	}
	res = grounded.CheckResult{}
	decodeStrict(t, string(lines["retrieved"].Result), &res)
	if res.Supported != 1 || len(res.Passages) == 0 {
		t.Errorf("retrieved: %+v", res)
	}
	if l := lines["bad"]; l.OK || l.Error == nil || !strings.Contains(l.Error.Message, `unknown field "txt"`) {
		t.Errorf("bad: %+v", l)
	}
}
