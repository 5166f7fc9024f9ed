package main

import (
	"context"
	"io/fs"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/groundedhq/grounded/collection"
	"github.com/groundedhq/grounded/ingest"
)

// watcher keeps the served index in sync with a folder while serving. It
// polls the folder's file names, sizes and modification times; when they
// change, it waits for one quiet interval (debounce), then runs the same
// sync as `ingest --sync`, which applies each changed document to the live
// index in one step (retrieval.Index.Add replaces a document's chunks under
// its lock), so a query sees a document's old version or its new one,
// never a mix or half of it.
type watcher struct {
	col      *collection.Collection
	root     string
	interval time.Duration
	log      *slog.Logger
	// synced, if not nil, receives the summary of every sync (tests wait on it).
	synced chan<- ingest.Summary
}

type fileStamp struct {
	size int64
	mod  time.Time
}

// scan stamps every file under root, skipping names that start with a dot.
func scan(root string) map[string]fileStamp {
	out := map[string]fileStamp{}
	filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if path != root && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.Type().IsRegular() {
			if info, err := d.Info(); err == nil {
				out[path] = fileStamp{info.Size(), info.ModTime()}
			}
		}
		return nil
	})
	return out
}

func sameStamps(a, b map[string]fileStamp) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// run syncs once, then polls until ctx ends.
func (w *watcher) run(ctx context.Context) {
	last := scan(w.root)
	w.sync(ctx)
	pending := false
	t := time.NewTicker(w.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		cur := scan(w.root)
		if !sameStamps(cur, last) {
			last, pending = cur, true // changing: wait for a quiet interval
			continue
		}
		if pending {
			pending = false
			w.sync(ctx)
		}
	}
}

// sync runs ingest --sync; the collection applies each change to the live
// index one whole document at a time.
func (w *watcher) sync(ctx context.Context) {
	sum, err := w.col.Sync(ctx, w.root, nil)
	if err != nil {
		w.log.Error("watch: sync failed", "root", w.root, "err", err)
		return
	}
	if sum.Added+sum.Updated+sum.Removed > 0 || sum.Failed > 0 {
		w.log.Info("watch: synced", "root", w.root, "collection", w.col.Name(), "added", sum.Added, "updated", sum.Updated, "removed", sum.Removed, "failed", sum.Failed, "chunks", w.col.Len())
	}
	if w.synced != nil {
		select {
		case w.synced <- sum:
		case <-ctx.Done():
		}
	}
}
