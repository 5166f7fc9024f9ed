// Package eval measures grounded on public benchmarks: BEIR-format retrieval
// (nDCG@10, Recall@100, MRR@10) and SQuAD 2.0 grounded question answering
// (answer recall, citation hits, abstention). It reads the benchmark files,
// drives the same search and answer paths as the CLI, and scores them with
// the standard formulas, documented where they are computed.
package eval

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// BEIRDoc is one line of corpus.jsonl.
type BEIRDoc struct {
	ID    string `json:"_id"`
	Title string `json:"title"`
	Text  string `json:"text"`
}

// BEIRQuery is one line of queries.jsonl.
type BEIRQuery struct {
	ID   string `json:"_id"`
	Text string `json:"text"`
}

// BEIR is a loaded BEIR data set: corpus, queries, and graded relevance
// judgements (query id -> doc id -> gain).
type BEIR struct {
	Corpus  []BEIRDoc
	Queries []BEIRQuery // only queries with at least one judgement, in file order
	Qrels   map[string]map[string]int
}

// LoadBEIR reads dir/corpus.jsonl, dir/queries.jsonl and dir/qrels/test.tsv.
func LoadBEIR(dir string) (*BEIR, error) {
	b := &BEIR{Qrels: map[string]map[string]int{}}
	if err := readJSONL(filepath.Join(dir, "corpus.jsonl"), func(line []byte) error {
		var d BEIRDoc
		if err := json.Unmarshal(line, &d); err != nil {
			return err
		}
		if d.ID == "" {
			return fmt.Errorf("document without _id")
		}
		b.Corpus = append(b.Corpus, d)
		return nil
	}); err != nil {
		return nil, err
	}
	if err := readQrels(filepath.Join(dir, "qrels", "test.tsv"), b.Qrels); err != nil {
		return nil, err
	}
	if err := readJSONL(filepath.Join(dir, "queries.jsonl"), func(line []byte) error {
		var q BEIRQuery
		if err := json.Unmarshal(line, &q); err != nil {
			return err
		}
		if len(b.Qrels[q.ID]) > 0 {
			b.Queries = append(b.Queries, q)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	if len(b.Corpus) == 0 || len(b.Queries) == 0 {
		return nil, fmt.Errorf("%s: %d documents and %d judged queries; need both", dir, len(b.Corpus), len(b.Queries))
	}
	return b, nil
}

func readJSONL(path string, fn func([]byte) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<20)
	for n := 1; ; n++ {
		line, err := r.ReadBytes('\n')
		if len(strings.TrimSpace(string(line))) > 0 {
			if perr := fn(line); perr != nil {
				return fmt.Errorf("%s:%d: %w", path, n, perr)
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
}

func readQrels(path string, into map[string]map[string]int) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for n := 1; sc.Scan(); n++ {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 || (n == 1 && fields[0] == "query-id") {
			continue
		}
		if len(fields) != 3 {
			return fmt.Errorf("%s:%d: want query-id corpus-id score", path, n)
		}
		gain, err := strconv.Atoi(fields[2])
		if err != nil {
			return fmt.Errorf("%s:%d: score: %w", path, n, err)
		}
		if into[fields[0]] == nil {
			into[fields[0]] = map[string]int{}
		}
		into[fields[0]][fields[1]] = gain
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
