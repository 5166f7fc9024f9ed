package collection_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/groundedhq/grounded"
	"github.com/groundedhq/grounded/collection"
	"github.com/groundedhq/grounded/internal/textproc"
	"github.com/groundedhq/grounded/retrieval"
)

// TestCheck checks one answer against each kind of evidence: inline
// passages, documents, chunks and the passages retrieved for a question.
// Every quote is its passage's text at its offsets, and, for evidence
// from the collection, the document's text at the passage's start plus
// the quote's.
func TestCheck(t *testing.T) {
	ctx := context.Background()
	an := textproc.NewAnalyzer()
	set, err := collection.Open(collection.Config{Dir: t.TempDir(), Embedder: retrieval.HashEmbedder(64, an), Analyzer: an})
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	col, err := set.Create("support")
	if err != nil {
		t.Fatal(err)
	}
	refunds, err := col.Put(ctx, grounded.Upload{Source: "refunds.md", Data: []byte("# Refunds\n\nRefunds are paid within 14 days of the return. Store credit never expires.\n")})
	if err != nil {
		t.Fatal(err)
	}
	shipping, err := col.Put(ctx, grounded.Upload{Source: "shipping.md", Data: []byte("# Shipping\n\nShipping is free on orders over 50 euros.\n")})
	if err != nil {
		t.Fatal(err)
	}
	docs := map[string]*grounded.Document{}
	for _, id := range []string{refunds.Document.ID, shipping.Document.ID} {
		if docs[id], err = col.Document(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	const answer = "Shipping is free on orders over 50 euros [1]. Refunds are paid within 14 days of the return [2]."
	tests := []struct {
		name string
		req  grounded.CheckRequest
		// passage numbers cited after the check, per sentence
		cites [][]int
		// sources of the listed passages, in order; nil: none listed
		sources []string
	}{
		{
			name: "inline",
			req: grounded.CheckRequest{Answer: answer, Passages: []grounded.CheckPassage{
				{Text: "Shipping is free on orders over 50 euros."}, {Text: "Refunds are paid within 14 days of the return."}}},
			cites: [][]int{{1}, {2}},
		},
		{
			name:    "documents, re-attributed",
			req:     grounded.CheckRequest{Answer: answer, DocIDs: []string{refunds.Document.ID, shipping.Document.ID}},
			cites:   [][]int{{2}, {1}}, // both cited the wrong document
			sources: []string{"refunds.md", "shipping.md"},
		},
		{
			name:    "chunks",
			req:     grounded.CheckRequest{Answer: answer, ChunkIDs: []string{shipping.Document.ID + "-00000", refunds.Document.ID + "-00000"}},
			cites:   [][]int{{1}, {2}},
			sources: []string{"shipping.md", "refunds.md"},
		},
		{
			name:  "retrieved for a question",
			req:   grounded.CheckRequest{Sentences: []string{"Refunds are paid within 14 days of the return."}, Question: "How fast are refunds paid?", K: 1},
			cites: [][]int{{1}}, sources: []string{"refunds.md"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := col.Check(ctx, tt.req)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Sentences) != len(tt.cites) {
				t.Fatalf("%d sentences: %+v", len(res.Sentences), res.Sentences)
			}
			for i, st := range res.Sentences {
				if st.Verdict != grounded.VerdictSupported || !slices.Equal(st.Citations, tt.cites[i]) {
					t.Errorf("sentence %d: %+v, want supported citing %v", i+1, st, tt.cites[i])
				}
			}
			var got []string
			for i, p := range res.Passages {
				got = append(got, p.Source)
				d := docs[p.DocID]
				if p.N != i+1 || d == nil || d.Text[p.Start:p.End] != p.Text || p.Version != d.Version {
					t.Errorf("passage %d: %+v is not its document's text", i+1, p)
				}
			}
			if !slices.Equal(got, tt.sources) || (tt.sources == nil) != (res.Passages == nil) {
				t.Errorf("passages from %v, want %v", got, tt.sources)
			}
			for _, st := range res.Sentences {
				ev := st.Evidence
				if tt.req.Passages != nil {
					if tt.req.Passages[ev.Passage-1].Text[ev.Start:ev.End] != ev.Quote {
						t.Errorf("quote %q is not at %d:%d", ev.Quote, ev.Start, ev.End)
					}
					continue
				}
				p := res.Passages[ev.Passage-1]
				if p.Text[ev.Start:ev.End] != ev.Quote || docs[p.DocID].Text[p.Start+ev.Start:p.Start+ev.End] != ev.Quote {
					t.Errorf("quote %q is not at %d:%d of passage %+v", ev.Quote, ev.Start, ev.End, p)
				}
			}
		})
	}

	for _, bad := range []struct {
		req  grounded.CheckRequest
		code string
		msg  string
	}{
		{grounded.CheckRequest{Answer: answer, DocIDs: []string{"nope"}}, grounded.ENOTFOUND, `"nope" is not in collection "support"`},
		{grounded.CheckRequest{Answer: answer, ChunkIDs: []string{refunds.Document.ID + "-00099"}}, grounded.ENOTFOUND, "chunk"},
		{grounded.CheckRequest{Answer: answer, ChunkIDs: []string{"nodash"}}, grounded.ENOTFOUND, "chunk"},
		{grounded.CheckRequest{Answer: answer}, grounded.EINVALID, "give the evidence"},
	} {
		_, err := col.Check(ctx, bad.req)
		if grounded.ErrorCode(err) != bad.code || !strings.Contains(err.Error(), bad.msg) {
			t.Errorf("%+v: err = %v, want %s with %q", bad.req, err, bad.code, bad.msg)
		}
	}

	// A question nothing matches: no passages, every sentence unsupported.
	res, err := col.Check(ctx, grounded.CheckRequest{Answer: "Zebras migrate [1].", Question: "zebra migration"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Passages == nil || res.Sentences[0].Verdict != grounded.VerdictUnsupported {
		t.Errorf("nothing retrieved: %+v", res)
	}
}
