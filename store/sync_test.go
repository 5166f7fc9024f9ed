package store_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestSyncMatchesTheFolder: after files are added, changed, deleted, renamed
// to an unsupported type and broken, Sync leaves the index holding exactly
// the folder's loadable files (a broken file keeps its earlier version) and
// never touches documents from elsewhere.
func TestSyncMatchesTheFolder(t *testing.T) {
	ctx := context.Background()
	dir, other := t.TempDir(), t.TempDir()
	writeDocs(t, dir, 5, "first")
	writeDocs(t, other, 2, "elsewhere")
	st := openStore(t, filepath.Join(t.TempDir(), "g.db"))
	p := newPipeline(t, st)
	if _, err := p.Paths(ctx, []string{other}, nil); err != nil {
		t.Fatal(err)
	}
	if sum, err := p.Sync(ctx, dir, nil); err != nil || sum.Added != 5 || sum.Removed != 0 {
		t.Fatalf("first sync: %s, %v", sum, err)
	}
	path := func(i string) string { return filepath.Join(dir, "doc-"+i+".md") }
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.Remove(path("000")))                                                          // deleted
	must(os.WriteFile(path("001"), []byte("# Changed\n\nA new text entirely.\n"), 0o644)) // changed
	must(os.Rename(path("002"), filepath.Join(dir, "doc-002.png")))                       // no longer loadable
	must(os.WriteFile(path("003"), []byte("broken \xff\xfe bytes"), 0o644))               // fails to load now
	must(os.WriteFile(filepath.Join(dir, "new.txt"), []byte("A new note.\n"), 0o644))
	before := snap(t, st)

	sum, err := p.Sync(ctx, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Added != 1 || sum.Updated != 1 || sum.Removed != 2 || sum.Failed != 1 || sum.Unchanged != 1 {
		t.Fatalf("sync summary: %s", sum)
	}
	after := snap(t, st)
	var sources []string
	for src := range after.hash {
		sources = append(sources, src)
	}
	slices.Sort(sources)
	want := []string{path("001"), path("003"), path("004"), filepath.Join(dir, "new.txt"),
		filepath.Join(other, "doc-000.md"), filepath.Join(other, "doc-001.md")}
	slices.Sort(want)
	if !slices.Equal(sources, want) {
		t.Fatalf("after sync the index holds\n%v\nwant\n%v", sources, want)
	}
	if after.hash[path("003")] != before.hash[path("003")] || !slices.Equal(after.chunks[path("003")], before.chunks[path("003")]) {
		t.Errorf("the file that failed to load lost its earlier version")
	}
	// A second sync with nothing changed does nothing.
	sum, err = p.Sync(ctx, dir, nil)
	if err != nil || sum.Added+sum.Updated+sum.Removed != 0 {
		t.Fatalf("idle sync: %s, %v", sum, err)
	}
}
