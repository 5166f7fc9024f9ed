package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/groundedhq/grounded"
	"github.com/groundedhq/grounded/batch"
	"github.com/groundedhq/grounded/server"
)

// readBatchOutput returns a batch output file's lines by id, failing the test
// unless every line is whole, strict JSON and of an id seen once.
func readBatchOutput(t *testing.T, path string) (map[string]batch.Line, []string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > 0 && b[len(b)-1] != '\n' {
		t.Fatalf("%s does not end in a line break: ...%q", path, b[max(0, len(b)-80):])
	}
	lines := map[string]batch.Line{}
	var order []string
	for i, s := range strings.SplitAfter(string(b), "\n") {
		if s == "" {
			continue
		}
		var l batch.Line
		decodeStrict(t, s, &l)
		if _, dup := lines[l.ID]; dup || l.ID == "" {
			t.Fatalf("%s line %d: id %q empty or again", path, i+1, l.ID)
		}
		lines[l.ID] = l
		order = append(order, l.ID)
	}
	return lines, order
}

func TestBatchCommand(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	in := filepath.Join(dir, "jobs.jsonl")
	out := filepath.Join(dir, "out.jsonl")
	input := strings.Join([]string{
		`{"id": "grounded", "op": "ask", "question": "Can a large language model generate images?"}`,
		`{"id": "abstains", "op": "ask", "question": "What is the capital of France?", "k": 3}`,
		`{"id": "search", "op": "search", "query": "retrieval augmented generation", "k": 2}`,
		`{"id": "filtered", "op": "search", "query": "model", "where": {"source": "corpus/retrieval-*"}}`,
		`{"id": "typo", "op": "ask", "questoin": "Can a model draw?"}`,
		`{"id": "k", "op": "search", "query": "model", "k": 500}`,
		`{"id": "empty", "op": "ask", "question": " "}`,
		`{"id": "op", "op": "translate", "text": "hola"}`,
		`{"op": "ask", "question": "no id"}`,
		`{"id": "grounded", "op": "search", "query": "same id again"}`,
		`{"id": "where", "op": "ask", "question": "What is RAG?", "where": ["source=x"]}`,
		`not JSON at all`,
	}, "\n") + "\n"
	if err := os.WriteFile(in, []byte(input), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, stderr := mustRunCLI(t, "batch", "--data", data, "--in", in, "--out", out, "--concurrency", "3")
	lines, _ := readBatchOutput(t, out)
	if len(lines) != 12 {
		t.Fatalf("%d lines for 12 jobs:\n%v", len(lines), lines)
	}
	var ans grounded.Answer
	decodeStrict(t, string(lines["grounded"].Result), &ans)
	if ans.Abstained || ans.Question != "Can a large language model generate images?" {
		t.Errorf("grounded: %+v", ans)
	}
	checkAnswer(t, &ans)
	var abst grounded.Answer
	decodeStrict(t, string(lines["abstains"].Result), &abst)
	if !abst.Abstained {
		t.Errorf("abstains: answered %q", abst.Answer)
	}
	var res server.SearchResponse
	decodeStrict(t, string(lines["search"].Result), &res)
	if len(res.Results) != 2 {
		t.Errorf("search: %d results, want 2", len(res.Results))
	}
	for _, r := range res.Results {
		checkSpan(t, "search result", r.Source, r.Start, r.End, r.Text)
	}
	decodeStrict(t, string(lines["filtered"].Result), &res)
	for _, r := range res.Results {
		if !strings.HasPrefix(r.Source, "corpus/retrieval-") {
			t.Errorf("filtered: result from %s", r.Source)
		}
	}
	errs := map[string]string{
		"typo": grounded.EINVALID, "k": grounded.EINVALID, "empty": grounded.EINVALID, "op": grounded.EINVALID,
		"line:9": grounded.EINVALID, "line:10": grounded.ECONFLICT, "where": grounded.EINVALID, "line:12": grounded.EINVALID,
	}
	for id, code := range errs {
		if l := lines[id]; l.OK || l.Error == nil || l.Error.Code != code {
			t.Errorf("%s: %+v, want error %s", id, l, code)
		}
	}
	if !strings.Contains(lines["typo"].Error.Message, "questoin") || !strings.Contains(lines["op"].Error.Message, "ask, check, extract, search, summarize") {
		t.Errorf("error messages do not name the problem: %q, %q", lines["typo"].Error.Message, lines["op"].Error.Message)
	}
	if want := "batch: 12 jobs: 4 ok (1 abstained), 8 errors, 0 skipped (already done); "; !strings.HasPrefix(stdout, want) {
		t.Errorf("summary:\n%s\nwant it to start %q", stdout, want)
	}
	if !strings.Contains(stderr, "12/12 jobs done (100%)") {
		t.Errorf("no progress line on stderr:\n%s", stderr)
	}

	// Again: everything is done; with --retry-errors the failed jobs run
	// again (and fail again), each id keeping one line.
	stdout, _ = mustRunCLI(t, "batch", "--data", data, "--in", in, "--out", out)
	if !strings.Contains(stdout, "0 ok (0 abstained), 0 errors, 12 skipped (already done, 8 of them errors)") || !strings.Contains(stdout, "--retry-errors") {
		t.Errorf("second run:\n%s", stdout)
	}
	stdout, _ = mustRunCLI(t, "batch", "--data", data, "--in", in, "--out", out, "--retry-errors")
	if !strings.Contains(stdout, "0 ok (0 abstained), 8 errors, 4 skipped") {
		t.Errorf("retry run:\n%s", stdout)
	}
	if again, _ := readBatchOutput(t, out); len(again) != 12 {
		t.Errorf("%d lines after --retry-errors", len(again))
	}
}

func TestBatchCommandErrors(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "jobs.jsonl")
	if err := os.WriteFile(in, []byte(`{"id":"a","op":"search","query":"model"}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	cases := []struct {
		name  string
		args  []string
		usage bool
		want  string
	}{
		{"no --in", []string{"--out", "o.jsonl"}, true, "--in"},
		{"no --out", []string{"--in", in}, true, "--out"},
		{"positional", []string{"--in", in, "--out", "o", "extra"}, true, "no arguments"},
		{"concurrency", []string{"--in", in, "--out", "o", "--concurrency", "0"}, true, "concurrency"},
		{"out is in", []string{"--in", in, "--out", in}, true, "--out is the --in file"},
		{"missing input", []string{"--in", filepath.Join(dir, "nope.jsonl"), "--out", filepath.Join(dir, "o")}, false, "no such file"},
		{"input is a folder", []string{"--in", dir, "--out", filepath.Join(dir, "o")}, false, "folder"},
		{"output folder missing", []string{"--in", in, "--out", filepath.Join(dir, "no", "o")}, false, "open output"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := runCLI(t, append([]string{"batch", "--data", data}, c.args...)...)
			if err == nil || errors.Is(err, errUsage) != c.usage || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err %v; want a usage error %v saying %q", err, c.usage, c.want)
			}
		})
	}
}

// TestBatchSurvivesKill runs `grounded batch` as a child process and kills it
// with SIGKILL three times, once it has written some lines, then lets a last
// run finish. The output must hold exactly one whole line per input id, with
// the same results as one uninterrupted run.
func TestBatchSurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "grounded")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	data := filepath.Join(dir, "data")
	mustRunCLI(t, "search", "--data", data, "model") // fills data with the default corpus

	questions := []string{
		"Can a large language model generate images?",
		"What is the capital of France?",
		"How does retrieval grounding reduce hallucination?",
		"What is a vector database?",
		"How are embeddings used in search?",
		"What does fine-tuning change in a model?",
		"How much does it cost to self-host a model?",
		"What is BM25?",
		"What is a context window?",
		"Why do language models hallucinate?",
	}
	const n = 300
	var input bytes.Buffer
	for i := range n {
		q := questions[i%len(questions)]
		if i%3 == 2 {
			fmt.Fprintf(&input, `{"id": "j%03d", "op": "search", "query": %q, "k": %d}`+"\n", i, q, 1+i%7)
		} else {
			fmt.Fprintf(&input, `{"id": "j%03d", "op": "ask", "question": %q, "k": %d}`+"\n", i, q, 3+i%5)
		}
	}
	in := filepath.Join(dir, "jobs.jsonl")
	if err := os.WriteFile(in, input.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	// The reference: one uninterrupted run, in process.
	want := filepath.Join(dir, "want.jsonl")
	mustRunCLI(t, "batch", "--data", data, "--in", in, "--out", want)
	wantLines, _ := readBatchOutput(t, want)
	if len(wantLines) != n {
		t.Fatalf("reference run: %d lines", len(wantLines))
	}

	out := filepath.Join(dir, "out.jsonl")
	countLines := func() int {
		b, _ := os.ReadFile(out)
		return bytes.Count(b, []byte("\n"))
	}
	var prev []string
	for round, at := range []int{20, 110, 200} {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		cmd := exec.CommandContext(ctx, bin, "batch", "--data", data, "--in", in, "--out", out, "--concurrency", "2")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			cancel()
			t.Fatal(err)
		}
		deadline := time.Now().Add(time.Minute)
		for countLines() < at && time.Now().Before(deadline) {
			time.Sleep(2 * time.Millisecond)
		}
		cmd.Process.Signal(syscall.SIGKILL)
		err := cmd.Wait()
		cancel()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Fatalf("round %d: the run was not killed mid-way (%v; %d lines)\n%s", round+1, err, countLines(), stderr.String())
		}
		lines, order := readBatchOutputTolerant(t, out)
		if len(order) < at || len(order) >= n {
			t.Fatalf("round %d: killed at %d lines, want at least %d and fewer than %d", round+1, len(order), at, n)
		}
		// What was there before the kill is still there, in order.
		if len(order) < len(prev) || strings.Join(order[:len(prev)], ",") != strings.Join(prev, ",") {
			t.Fatalf("round %d: lines before the kill changed", round+1)
		}
		prev = order
		t.Logf("round %d: killed at %d lines", round+1, len(lines))
	}
	cmd := exec.Command(bin, "batch", "--data", data, "--in", in, "--out", out)
	res, err := cmd.Output()
	if err != nil {
		t.Fatalf("the last run: %v\n%s", err, res)
	}
	if !strings.Contains(string(res), fmt.Sprintf("%d skipped", len(prev))) {
		t.Errorf("the last run did not skip the %d lines done:\n%s", len(prev), res)
	}
	got, order := readBatchOutput(t, out)
	if len(got) != n || len(order) != n {
		t.Fatalf("%d lines (%d ids) after resuming, want %d", len(order), len(got), n)
	}
	for id, w := range wantLines {
		g, ok := got[id]
		if !ok {
			t.Errorf("no line for %s", id)
			continue
		}
		if !g.OK || !jsonEqual(t, g.Result, w.Result) {
			t.Errorf("%s: resumed result differs from the reference:\n got %.300s\nwant %.300s", id, g.Result, w.Result)
		}
	}
}

// readBatchOutputTolerant is readBatchOutput for a file a killed run left: a
// torn last line, which the next run cuts away, is allowed and left out.
func readBatchOutputTolerant(t *testing.T, path string) (map[string]batch.Line, []string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if i := bytes.LastIndexByte(b, '\n'); i+1 < len(b) {
		t.Logf("a torn last line: %q", b[i+1:])
		tmp := filepath.Join(t.TempDir(), "whole.jsonl")
		if err := os.WriteFile(tmp, b[:i+1], 0o644); err != nil {
			t.Fatal(err)
		}
		path = tmp
	}
	return readBatchOutput(t, path)
}

// jsonEqual compares two results, leaving out an answer's timing (which
// differs from run to run).
func jsonEqual(t *testing.T, a, b json.RawMessage) bool {
	t.Helper()
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	for _, v := range []any{x, y} {
		if m, ok := v.(map[string]any); ok {
			delete(m, "timing")
		}
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return bytes.Equal(xa, ya)
}

func TestBatchSummarizeAndExtract(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	schema := `{"fields": [{"name": "weights_memory", "type": "number", "description": "How many gigabytes does a seventy billion parameter model need for its weights?"}, {"name": "mascot", "type": "string", "description": "What is the project's mascot animal?"}]}`
	if err := os.MkdirAll(filepath.Join(dir, "schemas"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "schemas", "cost.json"), []byte(schema), 0o644); err != nil {
		t.Fatal(err)
	}
	input := strings.Join([]string{
		`{"id": "sum-doc", "op": "summarize", "source": "corpus/retrieval-grounding.md", "length": 3}`,
		`{"id": "sum-query", "op": "summarize", "query": "image generation", "length": 2}`,
		`{"id": "sum-none", "op": "summarize", "source": "corpus/nope.md"}`,
		`{"id": "sum-two", "op": "summarize", "source": "corpus/fine-tuning.md", "query": "both"}`,
		`{"id": "sum-collection", "op": "summarize", "query": "models", "collection": "other"}`,
		`{"id": "x-inline", "op": "extract", "source": "corpus/cost-trade-offs.md", "schema": ` + schema + `}`,
		`{"id": "x-file", "op": "extract", "source": "corpus/cost-trade-offs.md", "schema_file": "schemas/cost.json"}`,
		`{"id": "x-nothing", "op": "extract", "source": "corpus/fine-tuning.md", "schema": {"fields": [{"name": "mascot", "type": "string", "description": "What is the project's mascot animal?"}]}}`,
		`{"id": "x-no-file", "op": "extract", "source": "corpus/cost-trade-offs.md", "schema_file": "schemas/missing.json"}`,
		`{"id": "x-no-doc", "op": "extract", "doc_id": "0000", "schema_file": "schemas/cost.json"}`,
		`{"id": "x-bad-schema", "op": "extract", "source": "corpus/cost-trade-offs.md", "schema": {"fields": [{"name": "a", "type": "colour"}]}}`,
	}, "\n") + "\n"
	in := filepath.Join(dir, "jobs.jsonl")
	out := filepath.Join(dir, "out.jsonl")
	if err := os.WriteFile(in, []byte(input), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, _ := mustRunCLI(t, "batch", "--data", data, "--in", in, "--out", out)
	lines, _ := readBatchOutput(t, out)
	for _, id := range []string{"sum-doc", "sum-query"} {
		var s grounded.Summary
		decodeStrict(t, string(lines[id].Result), &s)
		if len(s.Sentences) == 0 || len(s.Citations) == 0 {
			t.Errorf("%s: %+v", id, s)
		}
		for _, c := range s.Citations {
			checkSpan(t, id+" citation", c.Source, c.Start, c.End, c.Quote)
		}
	}
	for _, id := range []string{"x-inline", "x-file"} {
		var x grounded.Extraction
		decodeStrict(t, string(lines[id].Result), &x)
		f := x.Field("weights_memory")
		if x.Source != "corpus/cost-trade-offs.md" || f == nil || f.Value == nil || f.Evidence == nil {
			t.Fatalf("%s: %s", id, lines[id].Result)
		}
		checkSpan(t, id+" evidence", f.Evidence.Source, f.Evidence.Start, f.Evidence.End, f.Evidence.Quote)
		if m := x.Field("mascot"); m == nil || m.Value != nil {
			t.Errorf("%s: mascot %+v, want null", id, m)
		}
	}
	if string(lines["x-inline"].Result) != string(lines["x-file"].Result) {
		t.Errorf("the inline schema and the schema file differ:\n%s\n%s", lines["x-inline"].Result, lines["x-file"].Result)
	}
	errs := map[string]string{"sum-none": grounded.ENOTFOUND, "sum-two": grounded.EINVALID, "sum-collection": grounded.EINVALID,
		"x-no-file": grounded.EINVALID, "x-no-doc": grounded.ENOTFOUND, "x-bad-schema": grounded.EINVALID}
	for id, code := range errs {
		if l := lines[id]; l.OK || l.Error == nil || l.Error.Code != code {
			t.Errorf("%s: %+v, want error %s", id, l, code)
		}
	}
	if !strings.Contains(lines["x-no-file"].Error.Message, "missing.json") {
		t.Errorf("x-no-file: %q does not name the file", lines["x-no-file"].Error.Message)
	}
	// x-nothing extracts no field: an abstention, like no other job here.
	if want := "batch: 11 jobs: 5 ok (1 abstained), 6 errors"; !strings.HasPrefix(stdout, want) {
		t.Errorf("summary %q, want it to start %q", stdout, want)
	}
}
