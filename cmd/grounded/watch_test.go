package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/groundedhq/grounded"
	"github.com/groundedhq/grounded/ingest"
)

// TestWatchKeepsTheServedIndexInSync: with serve --watch's watcher running,
// a file added, changed and deleted in the folder shows up in, changes in
// and leaves the live index, each after one sync.
func TestWatchKeepsTheServedIndexInSync(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := t.TempDir()
	a, err := openServing(ctx, commonFlags{data: filepath.Join(t.TempDir(), "data")}, llmFlags{}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	synced := make(chan ingest.Summary)
	w := &watcher{col: a.col, root: dir, interval: 20 * time.Millisecond, log: slog.New(slog.NewTextHandler(io.Discard, nil)), synced: synced}
	done := make(chan struct{})
	go func() { defer close(done); w.run(ctx) }()
	defer func() { cancel(); <-done }()

	wait := func(what string, ok func(ingest.Summary) bool) {
		t.Helper()
		timeout := time.After(20 * time.Second) // a watchdog, not synchronisation
		for {
			select {
			case s := <-synced:
				if ok(s) {
					return
				}
			case <-timeout:
				t.Fatalf("no sync saw %s", what)
			}
		}
	}
	wait("the first pass", func(ingest.Summary) bool { return true })

	found := func(query, source string) bool {
		hits, err := a.col.Search(ctx, grounded.SearchRequest{Query: query, K: 5})
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range hits {
			if h.Source == source && h.LexicalRank > 0 {
				return true
			}
		}
		return false
	}
	path := filepath.Join(dir, "zorblax.md")
	if err := os.WriteFile(path, []byte("# Zorblax\n\nThe Zorblax 9000 battery lasts 73 hours.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	wait("the new file", func(s ingest.Summary) bool { return s.Added == 1 })
	if !found("Zorblax battery", path) {
		t.Fatal("the added file is not searchable")
	}
	if err := os.WriteFile(path, []byte("# Zorblax\n\nThe Zorblax 9000 now runs on quokka power.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	wait("the change", func(s ingest.Summary) bool { return s.Updated == 1 })
	if !found("quokka power", path) || found("battery 73 hours", path) {
		t.Fatal("the served index does not hold exactly the new version")
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	wait("the deletion", func(s ingest.Summary) bool { return s.Removed == 1 })
	if found("Zorblax quokka", path) {
		t.Fatal("the deleted file is still searchable")
	}
}
