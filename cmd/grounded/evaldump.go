package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/groundedhq/grounded"
	"github.com/groundedhq/grounded/answer"
	"github.com/groundedhq/grounded/collection"
	"github.com/groundedhq/grounded/eval"
)

// dumpLine is one question's candidate sentences and their features, what
// answer/train/fit.py learns the answer model from.
type dumpLine struct {
	Set        string     `json:"set"`
	ID         string     `json:"id"`
	Half       string     `json:"half"`
	Question   string     `json:"question"`
	Answerable bool       `json:"answerable"`
	Pages      []string   `json:"pages,omitempty"`
	Must       []string   `json:"must_contain,omitempty"`
	Paragraph  string     `json:"paragraph,omitempty"`
	Gold       []string   `json:"gold,omitempty"`
	Hits       []string   `json:"hits"` // sources, by rank
	Cands      []dumpCand `json:"cands"`
}

type dumpCand struct {
	Hit   int       `json:"hit"`
	Start int       `json:"start"`
	Text  string    `json:"text"`
	F     []float64 `json:"f"`
}

type dumper struct {
	f *os.File
	w *bufio.Writer
}

func newDumper(path string) (*dumper, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	w := bufio.NewWriter(f)
	names, _ := json.Marshal(answer.FeatureNames())
	fmt.Fprintf(w, "{\"features\": %s}\n", names)
	return &dumper{f: f, w: w}, nil
}

func (d *dumper) add(ctx context.Context, col *collection.Collection, line dumpLine) error {
	hits, cands, err := col.Candidates(ctx, grounded.AskRequest{Question: line.Question})
	if err != nil {
		return err
	}
	line.Hits = []string{}
	for _, h := range hits {
		line.Hits = append(line.Hits, h.Source)
	}
	for _, c := range cands {
		line.Cands = append(line.Cands, dumpCand{Hit: c.Hit, Start: c.Start, Text: c.Text, F: c.Features[:]})
	}
	b, err := json.Marshal(line)
	if err != nil {
		return err
	}
	d.w.Write(b)
	return d.w.WriteByte('\n')
}

func (d *dumper) close() error {
	if err := d.w.Flush(); err != nil {
		d.f.Close()
		return err
	}
	return d.f.Close()
}

// dumpQuestions writes every support question's candidates to path.
func dumpQuestions(ctx context.Context, a *app, qs []eval.Question, path string) error {
	d, err := newDumper(path)
	if err != nil {
		return err
	}
	for _, q := range qs {
		if err := d.add(ctx, a.col, dumpLine{Set: "questions", ID: q.ID, Half: eval.HalfOf(q.ID), Question: q.Question, Answerable: q.Answerable, Pages: q.Pages, Must: q.MustContain}); err != nil {
			d.close()
			return err
		}
	}
	return d.close()
}

// dumpSQuAD writes every SQuAD question's candidates to path.
func dumpSQuAD(ctx context.Context, a *app, sq *eval.SQuAD, path string) error {
	d, err := newDumper(path)
	if err != nil {
		return err
	}
	for ai, art := range sq.Data {
		half := "tune"
		if ai%2 == 1 {
			half = "confirm"
		}
		for pi, p := range art.Paragraphs {
			for _, qa := range p.QAs {
				line := dumpLine{Set: "squad", ID: qa.ID, Half: half, Question: qa.Question, Answerable: !qa.IsImpossible && len(qa.Answers) > 0, Paragraph: fmt.Sprintf("squad/%03d-%04d.md", ai, pi)}
				for _, g := range qa.Answers {
					line.Gold = append(line.Gold, g.Text)
				}
				if err := d.add(ctx, a.col, line); err != nil {
					d.close()
					return err
				}
			}
		}
	}
	return d.close()
}
