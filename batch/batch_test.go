package batch_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/iotest"
	"time"

	"github.com/groundedhq/grounded"
	"github.com/groundedhq/grounded/batch"
)

// echoFields are the fields of the test's "echo" op.
type echoFields struct {
	Text    string `json:"text"`
	Abstain bool   `json:"abstain"`
	Fail    string `json:"fail"` // an error code to fail with
	Panic   bool   `json:"panic"`
}

// echo returns {"echo": text}; it fails, abstains or panics when asked to.
func echo(ctx context.Context, fields json.RawMessage) (any, bool, error) {
	var f echoFields
	if err := batch.Decode(fields, &f); err != nil {
		return nil, false, err
	}
	if f.Panic {
		panic("asked to")
	}
	if f.Fail != "" {
		return nil, false, grounded.Errorf(f.Fail, "failed as asked")
	}
	return map[string]string{"echo": f.Text}, f.Abstain, nil
}

func handlers() map[string]batch.Handler {
	return map[string]batch.Handler{"echo": echo}
}

// readOutput returns the output file's lines by id, failing the test unless
// every line is whole, valid and of an id seen once.
func readOutput(t *testing.T, path string) map[string]batch.Line {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > 0 && b[len(b)-1] != '\n' {
		t.Fatalf("output does not end in a line break: %q", b)
	}
	lines := map[string]batch.Line{}
	for i, s := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		if s == "" && len(b) == 0 {
			break
		}
		var l batch.Line
		dec := json.NewDecoder(strings.NewReader(s))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&l); err != nil {
			t.Fatalf("output line %d %q: %v", i+1, s, err)
		}
		if _, dup := lines[l.ID]; dup {
			t.Fatalf("output line %d: id %q again", i+1, l.ID)
		}
		if l.OK == (l.Error != nil) || l.OK != (l.Result != nil) {
			t.Fatalf("output line %d %q: ok, result and error disagree", i+1, s)
		}
		lines[l.ID] = l
	}
	return lines
}

func run(t *testing.T, input, out string, cfg batch.Config) batch.Summary {
	t.Helper()
	if cfg.Handlers == nil {
		cfg.Handlers = handlers()
	}
	sum, err := batch.Run(context.Background(), strings.NewReader(input), out, cfg)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return sum
}

func TestBadLinesBecomeErrorLines(t *testing.T) {
	long := `{"id": "long", "op": "echo", "text": "` + strings.Repeat("x", 300) + `"}`
	cases := []struct {
		name, line string
		id, code   string // code "" means ok
	}{
		{"good", `{"id": "a", "op": "echo", "text": "hi"}`, "a", ""},
		{"not JSON", `{"id": "b", "op": `, "line:2", grounded.EINVALID},
		{"not an object", `["c"]`, "line:3", grounded.EINVALID},
		{"null", `null`, "line:4", grounded.EINVALID},
		{"no id", `{"op": "echo", "text": "x"}`, "line:5", grounded.EINVALID},
		{"number id", `{"id": 7, "op": "echo"}`, "line:6", grounded.EINVALID},
		{"empty id", `{"id": " ", "op": "echo"}`, "line:7", grounded.EINVALID},
		{"duplicate id", `{"id": "a", "op": "echo", "text": "again"}`, "line:8", grounded.ECONFLICT},
		{"unknown op", `{"id": "d", "op": "translate"}`, "d", grounded.EINVALID},
		{"no op", `{"id": "e"}`, "e", grounded.EINVALID},
		{"unknown field", `{"id": "f", "op": "echo", "txt": "typo"}`, "f", grounded.EINVALID},
		{"field of the wrong type", `{"id": "g", "op": "echo", "text": 3}`, "g", grounded.EINVALID},
		{"trailing data", `{"id": "h", "op": "echo"} {"id": "i"}`, "line:13", grounded.EINVALID},
		{"reserved id", `{"id": "line:1", "op": "echo"}`, "line:14", grounded.EINVALID},
		{"too long", long, "line:15", grounded.ETOOLARGE},
		{"not UTF-8", "{\"id\": \"j\", \"op\": \"echo\", \"text\": \"\xff\"}", "line:16", grounded.EINVALID},
		{"job error", `{"id": "k", "op": "echo", "fail": "not_found"}`, "k", grounded.ENOTFOUND},
		{"panic", `{"id": "l", "op": "echo", "panic": true}`, "l", grounded.EINTERNAL},
		{"abstained", `{"id": "m", "op": "echo", "abstain": true}`, "m", ""},
		{"CRLF", "{\"id\": \"n\", \"op\": \"echo\", \"text\": \"crlf\"}\r", "n", ""},
	}
	var in strings.Builder
	for _, c := range cases {
		in.WriteString(c.line + "\n")
	}
	in.WriteString("\n   \n") // blank lines are not jobs
	out := filepath.Join(t.TempDir(), "out.jsonl")
	sum := run(t, in.String(), out, batch.Config{MaxLineBytes: 200})
	lines := readOutput(t, out)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l, ok := lines[c.id]
			switch {
			case !ok:
				t.Fatalf("no line for id %q", c.id)
			case c.code == "" && !l.OK:
				t.Fatalf("line %+v: want ok", l)
			case c.code != "" && (l.OK || l.Error.Code != c.code || l.Error.Message == ""):
				t.Fatalf("line %+v: want error %s", l, c.code)
			}
		})
	}
	if len(lines) != len(cases) {
		t.Errorf("%d output lines for %d input lines", len(lines), len(cases))
	}
	if string(lines["a"].Result) != `{"echo":"hi"}` {
		t.Errorf("result of a: %s", lines["a"].Result)
	}
	want := batch.Summary{Jobs: len(cases), OK: 3, Abstained: 1, Errors: len(cases) - 3}
	if sum.Jobs != want.Jobs || sum.OK != want.OK || sum.Abstained != want.Abstained || sum.Errors != want.Errors || sum.Skipped != 0 || sum.NotRun != 0 {
		t.Errorf("summary %+v, want %+v", sum, want)
	}
}

// countingEcho is echo that counts its calls by id and fails the jobs in
// failOnce the first time only.
type countingEcho struct {
	mu       sync.Mutex
	calls    map[string]int
	failOnce map[string]bool
}

func (c *countingEcho) handlers() map[string]batch.Handler {
	return map[string]batch.Handler{"echo": func(ctx context.Context, fields json.RawMessage) (any, bool, error) {
		var f struct {
			ID   string `json:"text"`
			Fail string `json:"fail"`
		}
		if err := batch.Decode(fields, &f); err != nil {
			return nil, false, err
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.calls == nil {
			c.calls = map[string]int{}
		}
		c.calls[f.ID]++
		if c.failOnce[f.ID] && c.calls[f.ID] == 1 {
			return nil, false, grounded.Errorf(grounded.EUNAVAILABLE, "the model is down")
		}
		return f.ID, false, nil
	}}
}

// jobs returns echo jobs for ids, each echoing its id.
func jobs(ids ...string) string {
	var b strings.Builder
	for _, id := range ids {
		fmt.Fprintf(&b, `{"id": %q, "op": "echo", "text": %q}`+"\n", id, id)
	}
	return b.String()
}

func TestResumeSkipsDoneIDs(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out.jsonl")
	// A previous run finished a (ok) and b (failed).
	prev := `{"id":"a","ok":true,"result":"a"}` + "\n" + `{"id":"b","ok":false,"error":{"code":"unavailable","message":"down"}}` + "\n"
	if err := os.WriteFile(out, []byte(prev), 0o644); err != nil {
		t.Fatal(err)
	}
	h := &countingEcho{failOnce: map[string]bool{"c": true}}
	input := jobs("a", "b", "c", "d")
	sum := run(t, input, out, batch.Config{Handlers: h.handlers(), Concurrency: 2})
	if h.calls["a"] != 0 || h.calls["b"] != 0 || h.calls["c"] != 1 || h.calls["d"] != 1 {
		t.Errorf("calls %v: want c and d once, a and b not at all", h.calls)
	}
	if sum.Skipped != 2 || sum.SkippedErrors != 1 || sum.OK != 1 || sum.Errors != 1 {
		t.Errorf("summary %+v", sum)
	}
	lines := readOutput(t, out)
	if len(lines) != 4 || !lines["a"].OK || lines["b"].OK || lines["c"].OK || !lines["d"].OK {
		t.Fatalf("output %v", lines)
	}
	if b, _ := os.ReadFile(out); !strings.HasPrefix(string(b), prev) {
		t.Errorf("the lines already there changed:\n%s", b)
	}

	// Again: nothing left to do.
	sum = run(t, input, out, batch.Config{Handlers: h.handlers()})
	if sum.Skipped != 4 || sum.OK+sum.Errors != 0 || len(readOutput(t, out)) != 4 {
		t.Errorf("second run: summary %+v", sum)
	}

	// RetryErrors: b and c run again, and each id still has one line.
	sum = run(t, input, out, batch.Config{Handlers: h.handlers(), RetryErrors: true})
	if h.calls["b"] != 1 || h.calls["c"] != 2 || h.calls["a"] != 0 || h.calls["d"] != 1 {
		t.Errorf("calls %v after --retry-errors", h.calls)
	}
	if sum.RetriedErrors != 2 || sum.Skipped != 2 || sum.OK != 2 || sum.Errors != 0 {
		t.Errorf("retry run: summary %+v", sum)
	}
	lines = readOutput(t, out)
	for _, id := range []string{"a", "b", "c", "d"} {
		if !lines[id].OK {
			t.Errorf("after retry, %s: %+v", id, lines[id])
		}
	}
	if len(lines) != 4 {
		t.Errorf("%d lines after retry", len(lines))
	}
	if m, _ := filepath.Glob(out + ".*"); len(m) != 0 {
		t.Errorf("temporary files left: %v", m)
	}
}

func TestTornLastLineIsRepaired(t *testing.T) {
	done := `{"id":"a","ok":true,"result":"a"}` + "\n"
	cases := []struct{ name, tail string }{
		{"no line break", `{"id":"b","ok":tr`},
		{"whole JSON without line break", `{"id":"b","ok":true,"result":"b"}`},
		{"not JSON", "{\"id\":\"b\",\"ok\n"},
		{"not a result line", "{}\n"},
		{"only a line break", "\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out.jsonl")
			if err := os.WriteFile(out, []byte(done+c.tail), 0o644); err != nil {
				t.Fatal(err)
			}
			h := &countingEcho{}
			sum := run(t, jobs("a", "b", "c"), out, batch.Config{Handlers: h.handlers()})
			if sum.TornBytes != int64(len(c.tail)) {
				t.Errorf("TornBytes %d, want %d", sum.TornBytes, len(c.tail))
			}
			if h.calls["a"] != 0 || h.calls["b"] != 1 || h.calls["c"] != 1 {
				t.Errorf("calls %v", h.calls)
			}
			lines := readOutput(t, out)
			if len(lines) != 3 {
				t.Errorf("lines %v", lines)
			}
			if b, _ := os.ReadFile(out); !strings.HasPrefix(string(b), done) {
				t.Errorf("the whole line before the torn one changed: %q", b)
			}
		})
	}
}

func TestRunLevelFailures(t *testing.T) {
	dir := t.TempDir()
	corrupt := filepath.Join(dir, "corrupt.jsonl")
	body := "not a result\n" + `{"id":"a","ok":true,"result":1}` + "\n"
	if err := os.WriteFile(corrupt, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		inErr error // reading the input fails with it
		out   string
		want  string
	}{
		{"output with a bad line before the last", nil, corrupt, "line 1 is not a batch result line"},
		{"output is a folder", nil, dir, "output"},
		{"output folder missing", nil, filepath.Join(dir, "missing", "out.jsonl"), "open output"},
		{"input unreadable", errors.New("disk on fire"), filepath.Join(dir, "x.jsonl"), "disk on fire"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var r io.Reader = strings.NewReader(jobs("a", "b"))
			if c.inErr != nil {
				r = iotest.ErrReader(c.inErr)
			}
			_, err := batch.Run(context.Background(), r, c.out, batch.Config{Handlers: handlers()})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err %v, want one saying %q", err, c.want)
			}
		})
	}
	if b, _ := os.ReadFile(corrupt); string(b) != body {
		t.Errorf("a corrupt output was changed: %q", b)
	}
	if _, err := batch.Run(context.Background(), strings.NewReader(""), filepath.Join(dir, "y"), batch.Config{}); !errors.Is(err, batch.ErrNoHandlers) {
		t.Errorf("no handlers: %v", err)
	}
}

// poll waits until cond holds, failing the test after a deadline.
func poll(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestConcurrencyBound(t *testing.T) {
	const limit, n = 3, 20
	var inFlight, most atomic.Int32
	release := make(chan struct{})
	h := map[string]batch.Handler{"echo": func(ctx context.Context, fields json.RawMessage) (any, bool, error) {
		now := inFlight.Add(1)
		for {
			m := most.Load()
			if now <= m || most.CompareAndSwap(m, now) {
				break
			}
		}
		<-release
		inFlight.Add(-1)
		return "done", false, nil
	}}
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprint(i)
	}
	out := filepath.Join(t.TempDir(), "out.jsonl")
	done := make(chan error, 1)
	go func() {
		_, err := batch.Run(context.Background(), strings.NewReader(jobs(ids...)), out, batch.Config{Handlers: h, Concurrency: limit})
		done <- err
	}()
	poll(t, "the pool to fill", func() bool { return inFlight.Load() == limit })
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if m := most.Load(); m != limit {
		t.Errorf("at most %d jobs ran at once, want %d", m, limit)
	}
	if lines := readOutput(t, out); len(lines) != n {
		t.Errorf("%d lines", len(lines))
	}
}

func TestCancelLeavesWholeLines(t *testing.T) {
	const quick = 7
	// Jobs 0..quick-1 finish at once; the rest wait for the cancellation
	// and fail with it, so they must leave no line.
	h := map[string]batch.Handler{"echo": func(ctx context.Context, fields json.RawMessage) (any, bool, error) {
		var f struct {
			Text string `json:"text"`
		}
		if err := batch.Decode(fields, &f); err != nil {
			return nil, false, err
		}
		var i int
		fmt.Sscan(f.Text, &i)
		if i < quick {
			return f.Text, false, nil
		}
		<-ctx.Done()
		return nil, false, fmt.Errorf("ask: %w", ctx.Err())
	}}
	ids := make([]string, 30)
	for i := range ids {
		ids[i] = fmt.Sprint(i)
	}
	input := jobs(ids...)
	out := filepath.Join(t.TempDir(), "out.jsonl")
	ctx, cancel := context.WithCancel(context.Background())
	type ret struct {
		sum batch.Summary
		err error
	}
	done := make(chan ret, 1)
	go func() {
		sum, err := batch.Run(ctx, strings.NewReader(input), out, batch.Config{Handlers: h, Concurrency: 4})
		done <- ret{sum, err}
	}()
	poll(t, "the quick jobs' lines", func() bool {
		b, _ := os.ReadFile(out)
		return strings.Count(string(b), "\n") >= quick
	})
	cancel()
	r := <-done
	if !errors.Is(r.err, context.Canceled) {
		t.Errorf("Run after cancel: %v, want context.Canceled", r.err)
	}
	lines := readOutput(t, out)
	if len(lines) != quick || r.sum.OK != quick || r.sum.NotRun != len(ids)-quick {
		t.Fatalf("after cancel: %d lines, summary %+v", len(lines), r.sum)
	}
	for id, l := range lines {
		if !l.OK {
			t.Errorf("line %s: %+v (a cancelled job must leave no line)", id, l)
		}
	}
	// The rest, resumed.
	sum := run(t, input, out, batch.Config{Handlers: handlersEchoingText()})
	if sum.Skipped != quick || sum.OK != len(ids)-quick {
		t.Errorf("resume: %+v", sum)
	}
	if lines := readOutput(t, out); len(lines) != len(ids) {
		t.Errorf("%d lines after resuming, want %d", len(lines), len(ids))
	}
}

func handlersEchoingText() map[string]batch.Handler {
	return map[string]batch.Handler{"echo": func(ctx context.Context, fields json.RawMessage) (any, bool, error) {
		var f struct {
			Text string `json:"text"`
		}
		err := batch.Decode(fields, &f)
		return f.Text, false, err
	}}
}

// syncBuffer records what is written to it from several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestProgressLines(t *testing.T) {
	ids := make([]string, 40)
	for i := range ids {
		ids[i] = fmt.Sprint(i)
	}
	out := filepath.Join(t.TempDir(), "out.jsonl")
	var progress syncBuffer
	run(t, jobs(ids...), out, batch.Config{Progress: &progress, Concurrency: 1})
	got := progress.String()
	// One line per tenth of the jobs (and perhaps a periodic one).
	for pct := 10; pct <= 100; pct += 10 {
		if want := fmt.Sprintf("batch: %d/40 jobs done (%d%%)", pct*40/100, pct); !strings.Contains(got, want) {
			t.Errorf("no %q in\n%s", want, got)
		}
	}
	if strings.Contains(got, "\r") {
		t.Errorf("a plain progress report redraws: %q", got)
	}
}

func TestSummaryString(t *testing.T) {
	s := batch.Summary{Jobs: 10, OK: 5, Abstained: 2, Errors: 1, Skipped: 4, SkippedErrors: 1, Elapsed: 2 * time.Second}
	want := "10 jobs: 5 ok (2 abstained), 1 errors, 4 skipped (already done, 1 of them errors); 2.0s, 3.0 jobs/s"
	if s.String() != want {
		t.Errorf("got  %s\nwant %s", s, want)
	}
}
