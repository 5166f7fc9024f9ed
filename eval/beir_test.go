package eval_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/groundedhq/grounded/eval"
)

func TestLoadBEIR(t *testing.T) {
	b, err := eval.LoadBEIR("testdata/beir")
	if err != nil {
		t.Fatal(err)
	}
	wantCorpus := []eval.BEIRDoc{
		{ID: "d1", Title: "Normandy", Text: "Normandy is a region in northern France."},
		{ID: "d2", Title: "", Text: "The Normans were descended from Norse raiders."},
		{ID: "d3", Title: "Rollo", Text: "Rollo was the first ruler of Normandy."},
		{ID: "d4", Title: "Unrelated", Text: "Photosynthesis turns light into sugar."},
	}
	if !reflect.DeepEqual(b.Corpus, wantCorpus) {
		t.Errorf("Corpus = %+v, want %+v", b.Corpus, wantCorpus)
	}
	// q2 has no judgement; q9 is judged but not in queries.jsonl.
	wantQueries := []eval.BEIRQuery{
		{ID: "q1", Text: "Where is Normandy?"},
		{ID: "q3", Text: "Who were the Normans?"},
	}
	if !reflect.DeepEqual(b.Queries, wantQueries) {
		t.Errorf("Queries = %+v, want %+v", b.Queries, wantQueries)
	}
	wantQrels := map[string]map[string]int{
		"q1": {"d1": 1, "d4": 0},
		"q3": {"d2": 2, "d3": 1},
		"q9": {"d1": 1},
	}
	if !reflect.DeepEqual(b.Qrels, wantQrels) {
		t.Errorf("Qrels = %v, want %v", b.Qrels, wantQrels)
	}
}

// beirFiles is a small valid data set; cases replace one file at a time.
type beirFiles struct{ corpus, queries, qrels string }

var goodBEIR = beirFiles{
	corpus:  `{"_id": "d1", "text": "one"}` + "\n" + `{"_id": "d2", "text": "two"}` + "\n",
	queries: `{"_id": "q1", "text": "first"}` + "\n",
	qrels:   "query-id\tcorpus-id\tscore\nq1\td1\t1\n",
}

func writeBEIR(t *testing.T, f beirFiles) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "qrels"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string]string{
		"corpus.jsonl":   f.corpus,
		"queries.jsonl":  f.queries,
		"qrels/test.tsv": f.qrels,
	} {
		if data == "<missing>" {
			continue
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestLoadBEIRVariants(t *testing.T) {
	tests := []struct {
		name        string
		files       beirFiles
		wantQueries int
		wantQrels   map[string]int // of q1
	}{
		{"good", goodBEIR, 1, map[string]int{"d1": 1}},
		{"CRLF line ends", beirFiles{
			corpus:  strings.ReplaceAll(goodBEIR.corpus, "\n", "\r\n"),
			queries: strings.ReplaceAll(goodBEIR.queries, "\n", "\r\n"),
			qrels:   strings.ReplaceAll(goodBEIR.qrels, "\n", "\r\n"),
		}, 1, map[string]int{"d1": 1}},
		{"no final newline, no header", beirFiles{
			corpus:  strings.TrimSuffix(goodBEIR.corpus, "\n"),
			queries: strings.TrimSuffix(goodBEIR.queries, "\n"),
			qrels:   "q1 d1 2\nq1 d2 1",
		}, 1, map[string]int{"d1": 2, "d2": 1}},
		{"blank lines", beirFiles{
			corpus:  "\n" + goodBEIR.corpus + "\n\n",
			queries: "\n\n" + goodBEIR.queries,
			qrels:   "query-id\tcorpus-id\tscore\n\nq1\td1\t1\n\n",
		}, 1, map[string]int{"d1": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := eval.LoadBEIR(writeBEIR(t, tt.files))
			if err != nil {
				t.Fatal(err)
			}
			if len(b.Corpus) != 2 || len(b.Queries) != tt.wantQueries {
				t.Errorf("%d documents and %d queries, want 2 and %d", len(b.Corpus), len(b.Queries), tt.wantQueries)
			}
			if !reflect.DeepEqual(b.Qrels["q1"], tt.wantQrels) {
				t.Errorf("Qrels[q1] = %v, want %v", b.Qrels["q1"], tt.wantQrels)
			}
		})
	}
}

func TestLoadBEIRErrors(t *testing.T) {
	tests := []struct {
		name  string
		files beirFiles
		where string // "file:line" the error must name, "" for none
		want  string // more text the error must hold
	}{
		{"corpus not JSON", beirFiles{goodBEIR.corpus + "{not json\n", goodBEIR.queries, goodBEIR.qrels},
			"corpus.jsonl:3", ""},
		{"corpus line without _id, after a blank line", beirFiles{`{"_id": "d1"}` + "\n\n" + `{"title": "t", "text": "x"}` + "\n", goodBEIR.queries, goodBEIR.qrels},
			"corpus.jsonl:3", "without _id"},
		{"corpus _id not a string", beirFiles{`{"_id": 7, "text": "x"}` + "\n", goodBEIR.queries, goodBEIR.qrels},
			"corpus.jsonl:1", ""},
		{"queries not JSON", beirFiles{goodBEIR.corpus, goodBEIR.queries + "[1, 2\n", goodBEIR.qrels},
			"queries.jsonl:2", ""},
		{"qrels with two fields", beirFiles{goodBEIR.corpus, goodBEIR.queries, goodBEIR.qrels + "q1\td2\n"},
			"test.tsv:3", "want query-id corpus-id score"},
		{"qrels with four fields", beirFiles{goodBEIR.corpus, goodBEIR.queries, "q1\t0\td1\t1\n"},
			"test.tsv:1", ""},
		{"qrels score not a number", beirFiles{goodBEIR.corpus, goodBEIR.queries, "q1\td1\thigh\n"},
			"test.tsv:1", "score"},
		{"qrels header not first", beirFiles{goodBEIR.corpus, goodBEIR.queries, "q1\td1\t1\nquery-id\tcorpus-id\tscore\n"},
			"test.tsv:2", "score"},
		{"no judged queries", beirFiles{goodBEIR.corpus, goodBEIR.queries, "q9\td1\t1\n"},
			"", "0 judged queries"},
		{"empty corpus", beirFiles{"\n", goodBEIR.queries, goodBEIR.qrels},
			"", "0 documents"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeBEIR(t, tt.files)
			b, err := eval.LoadBEIR(dir)
			if err == nil {
				t.Fatalf("LoadBEIR = %+v, want an error", b)
			}
			if tt.where != "" {
				file, line, _ := strings.Cut(tt.where, ":")
				path := filepath.Join(dir, file)
				if file == "test.tsv" {
					path = filepath.Join(dir, "qrels", file)
				}
				if !strings.Contains(err.Error(), path+":"+line+":") {
					t.Errorf("error %q does not name %s:%s", err, path, line)
				}
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not say %q", err, tt.want)
			}
		})
	}
}

func TestLoadBEIRMissingFile(t *testing.T) {
	for _, f := range []beirFiles{
		{"<missing>", goodBEIR.queries, goodBEIR.qrels},
		{goodBEIR.corpus, "<missing>", goodBEIR.qrels},
		{goodBEIR.corpus, goodBEIR.queries, "<missing>"},
	} {
		if _, err := eval.LoadBEIR(writeBEIR(t, f)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("LoadBEIR with a file missing: %v, want fs.ErrNotExist", err)
		}
	}
}

// FuzzLoadBEIRQrels feeds arbitrary qrels to the loader: it must not panic,
// and what it accepts must be consistent.
func FuzzLoadBEIRQrels(f *testing.F) {
	f.Add(goodBEIR.qrels)
	f.Add("q1 d1 1\nq1 d2 -1\n")
	f.Add("query-id\tcorpus-id\tscore\nq1\td1\t99999999999999999999\n")
	f.Add("\x00\t\t\n\r\n")
	f.Fuzz(func(t *testing.T, qrels string) {
		b, err := eval.LoadBEIR(writeBEIR(t, beirFiles{goodBEIR.corpus, goodBEIR.queries, qrels}))
		if err != nil {
			return
		}
		for _, q := range b.Queries {
			if len(b.Qrels[q.ID]) == 0 {
				t.Errorf("query %s kept without judgements", q.ID)
			}
		}
	})
}
