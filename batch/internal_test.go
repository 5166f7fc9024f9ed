package batch

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestProgressBar(t *testing.T) {
	clock := time.Unix(1000, 0)
	var w bytes.Buffer
	p := newProgress(&w, true, 10, 2, func() time.Time { return clock })
	clock = clock.Add(time.Second)
	for range 4 {
		p.add()
	}
	if w.Len() != 0 {
		t.Errorf("a terminal's bar is drawn by its ticker, not on each job: %q", w.String())
	}
	p.show()
	want := "\r[##############..........] 6/10  60%  4.0 jobs/s  ETA 1s"
	if w.String() != want {
		t.Errorf("bar\n got %q\nwant %q", w.String(), want)
	}
	w.Reset()
	clock = clock.Add(time.Second)
	for range 4 {
		p.add()
	}
	p.finish()
	if got := w.String(); !strings.HasPrefix(got, "\r[########################] 10/10 100%  4.0 jobs/s  ETA 0s") || !strings.HasSuffix(got, "\n") {
		t.Errorf("final bar %q", got)
	}
}

func TestProgressPlainEveryTenth(t *testing.T) {
	clock := time.Unix(1000, 0)
	var w bytes.Buffer
	p := newProgress(&w, false, 20, 0, func() time.Time { return clock })
	for range 20 {
		clock = clock.Add(100 * time.Millisecond)
		p.add()
	}
	lines := strings.Split(strings.TrimSuffix(w.String(), "\n"), "\n")
	if len(lines) != 10 {
		t.Fatalf("%d lines for 20 jobs, want one per tenth:\n%s", len(lines), w.String())
	}
	if lines[9] != "batch: 20/20 jobs done (100%), 10.0 jobs/s, ETA 0s" {
		t.Errorf("last line %q", lines[9])
	}
}

// FuzzReadJobs holds readJobs to its contract on any input: one entry per
// non-blank line, in order, ids unique, and every entry without an error has
// a known op and fields that are one JSON object.
func FuzzReadJobs(f *testing.F) {
	f.Add([]byte(`{"id":"a","op":"echo","x":1}` + "\n" + `{"id":"a","op":"echo"}` + "\n\n" + `nope`))
	f.Add([]byte(`{"id":"line:3","op":"echo"}` + "\r\n" + `{"id":"b","op":"zap"}` + "\n" + `{"id":7}`))
	f.Add([]byte("{\"id\":\"\xff\",\"op\":\"echo\"}\n{}\n[]\nnull\n"))
	handlers := map[string]Handler{"echo": func(context.Context, json.RawMessage) (any, bool, error) { return nil, false, nil }}
	f.Fuzz(func(t *testing.T, in []byte) {
		entries, err := readJobs(bytes.NewReader(in), handlers, 64)
		if err != nil {
			t.Fatal(err)
		}
		nonBlank := 0
		for _, l := range strings.Split(string(in), "\n") {
			if len(bytes.TrimSpace([]byte(strings.TrimSuffix(l, "\r")))) > 0 || len(l) > 66 {
				nonBlank++
			}
		}
		if len(entries) != nonBlank {
			t.Errorf("%d entries for %d non-blank lines", len(entries), nonBlank)
		}
		ids := map[string]bool{}
		last := 0
		for _, e := range entries {
			if e.id == "" || ids[e.id] || e.line <= last {
				t.Fatalf("entry %+v: empty or repeated id, or out of order", e)
			}
			ids[e.id], last = true, e.line
			if e.err != nil {
				continue
			}
			var obj map[string]json.RawMessage
			if handlers[e.op] == nil || json.Unmarshal(e.fields, &obj) != nil || obj == nil {
				t.Fatalf("entry %+v: unknown op or fields not an object", e)
			}
		}
	})
}

// FuzzOpenOutput holds the resume reader to its contract on any file: it
// either refuses the file, leaving it as it was, or leaves a prefix of it
// made of whole result lines, whose ids are the ones it counts as done.
func FuzzOpenOutput(f *testing.F) {
	f.Add([]byte(`{"id":"a","ok":true,"result":1}` + "\n" + `{"id":"b","ok":fal`))
	f.Add([]byte(`{"id":"a","ok":false,"error":{"code":"x","message":"y"}}` + "\n{}\n"))
	f.Add([]byte("junk\n" + `{"id":"a","ok":true}` + "\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, retry := range []bool{false, true} {
			path := filepath.Join(t.TempDir(), "out.jsonl")
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			o, err := openOutput(path, retry)
			got, rerr := os.ReadFile(path)
			if rerr != nil {
				t.Fatal(rerr)
			}
			if err != nil {
				if !bytes.Equal(got, data) {
					t.Fatalf("refused the file (%v) but changed it", err)
				}
				continue
			}
			o.close()
			if !retry && !bytes.HasPrefix(data, got) {
				t.Fatalf("kept %q, not a prefix of %q", got, data)
			}
			ids := map[string]bool{}
			for _, l := range bytes.SplitAfter(got, []byte("\n")) {
				if len(l) == 0 {
					continue
				}
				id, ok, err := parseLine(l)
				if err != nil || l[len(l)-1] != '\n' || (retry && !ok) {
					t.Fatalf("kept line %q (%v)", l, err)
				}
				ids[id] = true
			}
			if len(ids) != len(o.done) {
				t.Fatalf("done %v, lines have %v", o.done, ids)
			}
		}
	})
}
