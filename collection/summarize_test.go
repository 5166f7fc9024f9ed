package collection_test

import (
	"context"
	"io/fs"
	"strings"
	"testing"

	"github.com/groundedhq/grounded"
	"github.com/groundedhq/grounded/collection"
	"github.com/groundedhq/grounded/corpus"
)

// summaryCollection is the default corpus plus three of its documents
// again under team/ and one under teamwork.md (a source that shares the
// prefix "team" but not "team/").
func summaryCollection(t *testing.T) *collection.Collection {
	t.Helper()
	ctx := context.Background()
	col, err := openSet(t, t.TempDir()).Get(collection.Default)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := col.IngestFS(ctx, corpus.FS, "corpus", nil); err != nil {
		t.Fatal(err)
	}
	for src, name := range map[string]string{
		"team/video.md": "video-and-3d-generation.md", "team/image.md": "image-generation-models.md",
		"team/audio.md": "audio-and-speech-generation.md", "teamwork.md": "agentic-workflows.md",
	} {
		data, err := fs.ReadFile(corpus.FS, name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := col.Put(ctx, grounded.Upload{Source: src, Data: data}); err != nil {
			t.Fatal(err)
		}
	}
	return col
}

// checkQuotes checks that every summary sentence cites, and every
// citation quotes its document's text exactly, in source and document order.
func checkQuotes(t *testing.T, col *collection.Collection, sum *grounded.Summary) {
	t.Helper()
	if len(sum.Sentences) == 0 || len(sum.Citations) != len(sum.Sentences) {
		t.Fatalf("%d sentences, %d citations: %q", len(sum.Sentences), len(sum.Citations), sum.Summary)
	}
	for i, c := range sum.Citations {
		d, err := col.Document(context.Background(), c.DocID)
		if err != nil {
			t.Fatal(err)
		}
		if c.Source != d.Source || c.Version != d.Version || c.End > len(d.Text) || d.Text[c.Start:c.End] != c.Quote {
			t.Errorf("citation [%d] %s [%d:%d) %q is not its document's text", c.N, c.Source, c.Start, c.End, c.Quote)
		}
		if len(sum.Sentences[i].Citations) == 0 {
			t.Errorf("sentence %q cites nothing", sum.Sentences[i].Text)
		}
		if i > 0 {
			p := sum.Citations[i-1]
			if p.Source > c.Source || p.Source == c.Source && p.Start >= c.Start {
				t.Errorf("citations [%d] and [%d] are out of source and document order", p.N, c.N)
			}
		}
	}
}

func sources(sum *grounded.Summary) map[string]bool {
	out := map[string]bool{}
	for _, c := range sum.Citations {
		out[c.Source] = true
	}
	return out
}

func TestSummarize(t *testing.T) {
	ctx := context.Background()
	col := summaryCollection(t)
	choosing := "corpus/choosing-a-generative-model.md"
	docs, _, err := col.Documents(ctx, "corpus/choosing", 1)
	if err != nil || len(docs) != 1 || docs[0].Source != choosing {
		t.Fatalf("documents after corpus/choosing: %+v, %v", docs, err)
	}
	t.Run("doc id", func(t *testing.T) {
		sum, err := col.Summarize(ctx, grounded.SummaryRequest{DocIDs: []string{docs[0].ID}})
		if err != nil {
			t.Fatal(err)
		}
		checkQuotes(t, col, sum)
		if len(sum.Sentences) != grounded.DefaultSummaryLength || !sources(sum)[choosing] || len(sources(sum)) != 1 {
			t.Errorf("summary of %s: %q", choosing, sum.Summary)
		}
		if sum.Coverage.Documents != 1 || sum.Coverage.Chunks != docs[0].Chunks || sum.Coverage.ChunksSummarized != docs[0].Chunks {
			t.Errorf("coverage %+v, want 1 document of %d chunks", sum.Coverage, docs[0].Chunks)
		}
	})
	t.Run("source", func(t *testing.T) {
		sum, err := col.Summarize(ctx, grounded.SummaryRequest{Sources: []string{choosing}, Length: 3})
		if err != nil {
			t.Fatal(err)
		}
		checkQuotes(t, col, sum)
		if len(sum.Sentences) != 3 || len(sources(sum)) != 1 {
			t.Errorf("summary of %s in 3: %q", choosing, sum.Summary)
		}
	})
	t.Run("prefix", func(t *testing.T) {
		sum, err := col.Summarize(ctx, grounded.SummaryRequest{Sources: []string{"team/*"}, Length: 9})
		if err != nil {
			t.Fatal(err)
		}
		checkQuotes(t, col, sum)
		for src := range sources(sum) {
			if !strings.HasPrefix(src, "team/") {
				t.Errorf("a summary of team/* cites %s", src)
			}
		}
		if len(sources(sum)) < 2 || sum.Coverage.Documents != 3 {
			t.Errorf("cites %v, coverage %+v; want 3 documents read, several cited", sources(sum), sum.Coverage)
		}
	})
	t.Run("prefix and where", func(t *testing.T) {
		sum, err := col.Summarize(ctx, grounded.SummaryRequest{Sources: []string{"team/*"}, Where: grounded.Filter{"source": "team/v*"}})
		if err != nil {
			t.Fatal(err)
		}
		checkQuotes(t, col, sum)
		if s := sources(sum); len(s) != 1 || !s["team/video.md"] {
			t.Errorf("team/* where source=team/v* cites %v", s)
		}
	})
	t.Run("several", func(t *testing.T) {
		sum, err := col.Summarize(ctx, grounded.SummaryRequest{Sources: []string{"team/image.md", "corpus/fine-tuning.md", "team/image.md"}, Length: 8})
		if err != nil {
			t.Fatal(err)
		}
		checkQuotes(t, col, sum)
		if sum.Coverage.Documents != 2 || len(sources(sum)) != 2 {
			t.Errorf("two sources (one named twice): coverage %+v, cites %v", sum.Coverage, sources(sum))
		}
	})
	t.Run("query", func(t *testing.T) {
		const q = "How do diffusion models generate images?"
		hits, err := col.Search(ctx, grounded.SearchRequest{Query: q, K: 6})
		if err != nil {
			t.Fatal(err)
		}
		sum, err := col.Summarize(ctx, grounded.SummaryRequest{Query: q, K: 6, Length: 4})
		if err != nil {
			t.Fatal(err)
		}
		checkQuotes(t, col, sum)
		for _, c := range sum.Citations {
			in := false
			for _, h := range hits {
				in = in || h.DocID == c.DocID && h.Start <= c.Start && c.End <= h.End
			}
			if !in {
				t.Errorf("citation [%d] %s [%d:%d) is in no retrieved passage", c.N, c.Source, c.Start, c.End)
			}
		}
		cov := sum.Coverage
		if cov.Chunks != 6 || !cov.Truncated || !strings.Contains(cov.Note, "k=6") {
			t.Errorf("coverage %+v, want 6 passages, truncated at k", cov)
		}
	})
	t.Run("query without evidence", func(t *testing.T) {
		sum, err := col.Summarize(ctx, grounded.SummaryRequest{Query: "zyzzyva quokka"})
		if err != nil {
			t.Fatal(err)
		}
		if len(sum.Sentences) != 0 || sum.Coverage.Note == "" {
			t.Errorf("summary of an unknown topic: %+v", sum)
		}
	})
}

func TestSummarizeErrors(t *testing.T) {
	col := summaryCollection(t)
	for _, tc := range []struct {
		name string
		req  grounded.SummaryRequest
		code string
	}{
		{"nothing", grounded.SummaryRequest{}, grounded.EINVALID},
		{"two kinds", grounded.SummaryRequest{DocIDs: []string{"x"}, Query: "q"}, grounded.EINVALID},
		{"length", grounded.SummaryRequest{Sources: []string{"team/*"}, Length: grounded.MaxSummaryLength + 1}, grounded.EINVALID},
		{"negative length", grounded.SummaryRequest{Sources: []string{"team/*"}, Length: -1}, grounded.EINVALID},
		{"k with sources", grounded.SummaryRequest{Sources: []string{"team/*"}, K: 3}, grounded.EINVALID},
		{"empty source", grounded.SummaryRequest{Sources: []string{" "}}, grounded.EINVALID},
		{"unknown id", grounded.SummaryRequest{DocIDs: []string{"0000000000000000"}}, grounded.ENOTFOUND},
		{"unknown source", grounded.SummaryRequest{Sources: []string{"corpus/nope.md"}}, grounded.ENOTFOUND},
		{"prefix without match", grounded.SummaryRequest{Sources: []string{"teams/*"}}, grounded.ENOTFOUND},
		{"one of two unknown", grounded.SummaryRequest{Sources: []string{"team/image.md", "team/nope.md"}}, grounded.ENOTFOUND},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := col.Summarize(context.Background(), tc.req)
			if code := grounded.ErrorCode(err); code != tc.code {
				t.Errorf("error %v (code %q), want code %q", err, code, tc.code)
			}
		})
	}
}
