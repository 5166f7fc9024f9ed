package collection_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/groundedhq/grounded"
	"github.com/groundedhq/grounded/answer"
	"github.com/groundedhq/grounded/answer/grounding"
	"github.com/groundedhq/grounded/collection"
	"github.com/groundedhq/grounded/internal/textproc"
	"github.com/groundedhq/grounded/retrieval"
)

func TestExtract(t *testing.T) {
	ctx := context.Background()
	data, err := os.ReadFile("../answer/extract/testdata/contract.md")
	if err != nil {
		t.Fatal(err)
	}
	// A model that answers the effective date from the passage holding it.
	var prompt string
	llm := &grounded.LLM{Provider: "fake", Model: "m", Generate: func(ctx context.Context, req grounded.GenerateRequest) (*grounded.GenerateReply, error) {
		prompt = req.Prompt
		before, _, ok := strings.Cut(req.Prompt, "takes effect on March 1, 2024")
		if !ok {
			return &grounded.GenerateReply{Text: `{"fields": {}}`}, nil
		}
		n := before[strings.LastIndex(before, `<passage n="`)+len(`<passage n="`):]
		n = n[:strings.IndexByte(n, '"')]
		return &grounded.GenerateReply{Text: `{"fields": {"effective_date": {"value": "2024-03-01", "passage": ` + n + `, "quote": "takes effect on March 1, 2024"}}}`}, nil
	}}
	schema := &grounded.Schema{Fields: []grounded.SchemaField{
		{Name: "effective_date", Type: grounded.FieldDate, Description: "When does the contract take effect?"},
		{Name: "monthly_fee", Type: grounded.FieldNumber, Description: "What is the monthly fee?"},
	}}
	for _, withLLM := range []bool{false, true} {
		an := textproc.NewAnalyzer()
		cfg := collection.Config{Dir: t.TempDir(), Embedder: retrieval.HashEmbedder(64, an), Analyzer: an}
		if withLLM {
			cfg.Answer = answer.Config{Model: &grounding.Model{LLM: *llm}}
		}
		set, err := collection.Open(cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer set.Close()
		col, err := set.Create("contracts")
		if err != nil {
			t.Fatal(err)
		}
		put, err := col.Put(ctx, grounded.Upload{Source: "contracts/northwind.md", Data: data})
		if err != nil {
			t.Fatal(err)
		}
		doc, err := col.Document(ctx, put.Document.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, req := range []grounded.ExtractRequest{{Schema: schema, DocID: put.Document.ID}, {Schema: schema, Source: "contracts/northwind.md"}} {
			x, err := col.Extract(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			if x.DocID != doc.ID || x.Version != doc.Version || x.Source != doc.Source {
				t.Errorf("extraction names %s %s %s", x.DocID, x.Source, x.Version)
			}
			f := x.Field("effective_date")
			if f.Value != "2024-03-01" || doc.Text[f.Evidence.Start:f.Evidence.End] != f.Evidence.Quote {
				t.Errorf("llm=%v: effective_date %#v evidence %+v", withLLM, f.Value, f.Evidence)
			}
			if withLLM {
				if x.Generator != "fake" || !strings.Contains(prompt, "<passage n=\"1\"") {
					t.Errorf("generator %q; prompt %q", x.Generator, prompt)
				}
				// The model did not answer the fee: null, not a guess.
				if g := x.Field("monthly_fee"); g.Value != nil || g.Reason != grounded.FieldNotFound {
					t.Errorf("monthly_fee %#v %q", g.Value, g.Reason)
				}
			} else if g := x.Field("monthly_fee"); g.Value != 1250.5 {
				t.Errorf("monthly_fee %#v", g.Value)
			}
		}
		for _, bad := range []struct {
			req  grounded.ExtractRequest
			code string
		}{
			{grounded.ExtractRequest{Schema: schema}, grounded.EINVALID},
			{grounded.ExtractRequest{Schema: schema, DocID: put.Document.ID, Source: "contracts/northwind.md"}, grounded.EINVALID},
			{grounded.ExtractRequest{DocID: put.Document.ID}, grounded.EINVALID},
			{grounded.ExtractRequest{Schema: schema, DocID: "nope"}, grounded.ENOTFOUND},
			{grounded.ExtractRequest{Schema: schema, Source: "contracts/other.md"}, grounded.ENOTFOUND},
		} {
			if _, err := col.Extract(ctx, bad.req); grounded.ErrorCode(err) != bad.code {
				t.Errorf("%+v: err %v, want %s", bad.req, err, bad.code)
			}
		}
	}
}
