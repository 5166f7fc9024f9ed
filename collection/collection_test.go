package collection_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/groundedhq/grounded"
	"github.com/groundedhq/grounded/collection"
	"github.com/groundedhq/grounded/internal/textproc"
	"github.com/groundedhq/grounded/retrieval"
)

func openSet(t *testing.T, dir string) *collection.Set {
	t.Helper()
	an := textproc.NewAnalyzer()
	set, err := collection.Open(collection.Config{Dir: dir, Embedder: retrieval.HashEmbedder(64, an), Analyzer: an})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { set.Close() })
	return set
}

const returnsV1 = "# Returns\n\nCustomers may return a product within 30 days of delivery for a full refund.\n"
const returnsV2 = "# Returns\n\nCustomers may return a product within 60 days of delivery for a full refund.\n"

func TestPutVersionsAndDelete(t *testing.T) {
	ctx := context.Background()
	set := openSet(t, t.TempDir())
	col, err := set.Get(collection.Default)
	if err != nil {
		t.Fatal(err)
	}
	if err := col.LoadIndex(ctx); err != nil {
		t.Fatal(err)
	}
	put := func(text, want string) *grounded.PutResult {
		t.Helper()
		res, err := col.Put(ctx, grounded.Upload{Source: "policies/returns.md", Data: []byte(text)})
		if err != nil {
			t.Fatal(err)
		}
		if res.Outcome != want {
			t.Fatalf("outcome %q, want %q", res.Outcome, want)
		}
		return res
	}
	// Other documents give the terms their usual weights.
	for i, text := range []string{
		"# Shipping\n\nOrders ship within two business days from our warehouse.\n",
		"# Warranty\n\nEvery device carries a one-year warranty against defects.\n",
		"# Contact\n\nMany customers reach support by email or phone.\n",
	} {
		if _, err := col.Put(ctx, grounded.Upload{Source: fmt.Sprintf("policies/other-%d.md", i), Data: []byte(text)}); err != nil {
			t.Fatal(err)
		}
	}
	v1 := put(returnsV1, "added")
	put(returnsV1, "unchanged")
	if v1.Document.Chunks != 1 || v1.Document.Version == "" || v1.Document.Version != grounded.VersionOf(v1.Document.ContentHash) {
		t.Fatalf("stored document %+v", v1.Document)
	}

	ans, err := col.Ask(ctx, grounded.AskRequest{Question: "Within how many days may customers return a product?", K: 5})
	if err != nil {
		t.Fatal(err)
	}
	if ans.Abstained || len(ans.Citations) == 0 || !strings.Contains(ans.Answer, "30 days") {
		t.Fatalf("answer before the update: %+v", ans)
	}
	cited := ans.Citations[0]
	if cited.Version != v1.Document.Version {
		t.Fatalf("citation version %q, want %q", cited.Version, v1.Document.Version)
	}

	v2 := put(returnsV2, "updated")
	if v2.Document.Version == v1.Document.Version || v2.Document.ID != v1.Document.ID {
		t.Fatalf("update kept the version or changed the id: %+v vs %+v", v2.Document, v1.Document)
	}
	ans, err = col.Ask(ctx, grounded.AskRequest{Question: "Within how many days may customers return a product?", K: 5})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(ans.Answer, "60 days") || strings.Contains(ans.Answer, "30 days") {
		t.Fatalf("the live index still answers from the old version: %q", ans.Answer)
	}
	if ans.Citations[0].Version != v2.Document.Version {
		t.Fatalf("citation version %q after the update, want %q", ans.Citations[0].Version, v2.Document.Version)
	}
	doc, err := col.Document(ctx, cited.DocID)
	if err != nil {
		t.Fatal(err)
	}
	if doc.Version == cited.Version {
		t.Fatal("the old citation's version still reads as current")
	}
	if got := doc.Text[ans.Citations[0].Start:ans.Citations[0].End]; got != ans.Citations[0].Quote {
		t.Fatalf("quote %q is not the document's text %q", ans.Citations[0].Quote, got)
	}

	if err := col.Delete(ctx, doc.ID); err != nil {
		t.Fatal(err)
	}
	if err := col.Delete(ctx, doc.ID); grounded.ErrorCode(err) != grounded.ENOTFOUND {
		t.Fatalf("second delete: %v, want not_found", err)
	}
	hits, err := col.Search(ctx, grounded.SearchRequest{Query: "return a product within 60 days", K: 10})
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hits {
		if h.DocID == doc.ID {
			t.Fatalf("search finds a deleted document: %+v", h)
		}
	}
	if _, err := col.Document(ctx, doc.ID); grounded.ErrorCode(err) != grounded.ENOTFOUND {
		t.Fatalf("read of a deleted document: %v", err)
	}
}

func TestPutRejectsBadInput(t *testing.T) {
	ctx := context.Background()
	col, err := openSet(t, t.TempDir()).Get(collection.Default)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := col.Put(ctx, grounded.Upload{Source: "ok.md", Data: []byte(returnsV1)}); err != nil {
		t.Fatal(err)
	}
	for _, up := range []grounded.Upload{
		{Source: "", Data: []byte("text")},
		{Source: "ok.md", Data: []byte("   ")},
		{Source: "bad.txt", Data: []byte("caf\xe9")},
		{Source: "x.pdf", Data: []byte("not a pdf")},
		{Source: "x", Format: "rtf", Data: []byte("text")},
	} {
		if _, err := col.Put(ctx, up); grounded.ErrorCode(err) != grounded.EINVALID {
			t.Errorf("Put(%q, %q): %v, want an invalid error", up.Source, up.Data, err)
		}
	}
	// A failed re-upload of ok.md left the earlier version in place.
	docs, total, err := col.Documents(ctx, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	if total != 1 || docs[0].Source != "ok.md" || docs[0].Chunks != 1 {
		t.Fatalf("documents after bad uploads: %d %+v", total, docs)
	}
}

func TestCollectionsAreSeparate(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	set := openSet(t, dir)
	if _, err := set.Get("support"); grounded.ErrorCode(err) != grounded.ENOTFOUND {
		t.Fatalf("Get of a missing collection: %v", err)
	}
	for _, bad := range []string{"", "Upper", "a/b", "../x", strings.Repeat("a", 65), "-x"} {
		if _, err := set.Create(bad); grounded.ErrorCode(err) != grounded.EINVALID {
			t.Errorf("Create(%q): %v, want invalid", bad, err)
		}
	}
	support, err := set.Create("support")
	if err != nil {
		t.Fatal(err)
	}
	def, err := set.Get(collection.Default)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := support.Put(ctx, grounded.Upload{Source: "returns.md", Data: []byte(returnsV1)}); err != nil {
		t.Fatal(err)
	}
	if _, err := def.Put(ctx, grounded.Upload{Source: "moon.md", Data: []byte("# Moon\n\nThe Moon orbits the Earth every 27 days.\n")}); err != nil {
		t.Fatal(err)
	}
	ans, err := def.Ask(ctx, grounded.AskRequest{Question: "Within how many days may customers return a product?", K: 5})
	if err != nil {
		t.Fatal(err)
	}
	if !ans.Abstained {
		t.Fatalf("the default collection answered from another collection's document: %+v", ans)
	}
	hits, err := support.Search(ctx, grounded.SearchRequest{Query: "Moon orbits Earth", K: 5})
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hits {
		if h.Source != "returns.md" {
			t.Fatalf("support found %s", h.Source)
		}
	}
	names, err := set.Names()
	if err != nil || strings.Join(names, ",") != "default,support" {
		t.Fatalf("Names = %v, %v", names, err)
	}
	// Reopened, the collections and their documents are still there.
	set.Close()
	set2 := openSet(t, dir)
	again, err := set2.Get("support")
	if err != nil {
		t.Fatal(err)
	}
	if docs, _, _ := again.Counts(ctx); docs != 1 {
		t.Fatalf("support holds %d documents after reopening", docs)
	}
}

// TestQueriesSeeWholeDocuments replaces a document over and over while
// searches run: every search sees all of one version's chunks, never a mix
// or a part (run with -race).
func TestQueriesSeeWholeDocuments(t *testing.T) {
	ctx := context.Background()
	col, err := openSet(t, t.TempDir()).Get(collection.Default)
	if err != nil {
		t.Fatal(err)
	}
	version := func(v int) string {
		var b strings.Builder
		fmt.Fprintf(&b, "# Release %d\n\n", v)
		for i := range 40 {
			fmt.Fprintf(&b, "## Part %d\n\nZebra marker %d belongs to release v%d. %s\n\n", i, i, v, strings.Repeat("Filler words about nothing much. ", 30))
		}
		return b.String()
	}
	if _, err := col.Put(ctx, grounded.Upload{Source: "release.md", Data: []byte(version(0))}); err != nil {
		t.Fatal(err)
	}
	if err := col.LoadIndex(ctx); err != nil {
		t.Fatal(err)
	}
	first, err := col.Search(ctx, grounded.SearchRequest{Query: "zebra marker release", K: 100})
	if err != nil {
		t.Fatal(err)
	}
	want := len(first) // every version has the same shape
	if want < 5 {
		t.Fatalf("the test document gave only %d hits", want)
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				hits, err := col.Search(ctx, grounded.SearchRequest{Query: "zebra marker release", K: 100})
				if err != nil {
					errs <- err
					return
				}
				versions := map[string]int{}
				for _, h := range hits {
					versions[h.Version]++
				}
				if len(hits) != want || len(versions) != 1 {
					errs <- fmt.Errorf("a search saw %d chunks of versions %v, want %d of one version", len(hits), versions, want)
					return
				}
			}
		}()
	}
	for v := 1; v <= 15; v++ {
		if _, err := col.Put(ctx, grounded.Upload{Source: "release.md", Data: []byte(version(v))}); err != nil {
			t.Fatal(err)
		}
	}
	close(done)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// TestSmallCollectionAnswers: a collection of one short document answers a
// question it covers, though the question has a word ("many") no chunk has
// (see retrieval.IDFPrior).
func TestSmallCollectionAnswers(t *testing.T) {
	ctx := context.Background()
	col, err := openSet(t, t.TempDir()).Create("support")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := col.Put(ctx, grounded.Upload{Source: "refunds.md", Data: []byte("# Refunds\n\nRefunds are paid within 14 days of the return.\n")}); err != nil {
		t.Fatal(err)
	}
	ans, err := col.Ask(ctx, grounded.AskRequest{Question: "Within how many days are refunds paid?", K: 5})
	if err != nil {
		t.Fatal(err)
	}
	if ans.Abstained || !strings.Contains(ans.Answer, "14 days") {
		t.Fatalf("answer %+v", ans)
	}
	ans, err = col.Ask(ctx, grounded.AskRequest{Question: "What is the capital of France?", K: 5})
	if err != nil {
		t.Fatal(err)
	}
	if !ans.Abstained {
		t.Fatalf("answered an unrelated question: %+v", ans)
	}
}
