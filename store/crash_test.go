package store_test

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/groundedhq/grounded/ingest"
	"github.com/groundedhq/grounded/store"
)

// TestCrashChild is the child process of TestCrashDuringIngest: it ingests
// $GROUNDED_CRASH_DIR into $GROUNDED_CRASH_DB and prints a line per file as
// soon as that file is durable.
func TestCrashChild(t *testing.T) {
	dir, db := os.Getenv("GROUNDED_CRASH_DIR"), os.Getenv("GROUNDED_CRASH_DB")
	if dir == "" {
		t.Skip("child process of TestCrashDuringIngest")
	}
	st, err := store.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	out := bufio.NewWriter(os.Stdout)
	pp, err := ingest.New(ingest.Config{
		Chunker: mustChunker(t), Embedder: testEmbedder(), Sink: st, BatchDocs: 3, Workers: 2,
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pp.Paths(context.Background(), []string{dir}, func(e ingest.Event) {
		fmt.Fprintf(out, "%s %s\n", e.Kind, e.Source)
		out.Flush()
	}); err != nil {
		t.Fatal(err)
	}
}

// expected returns, per source, the content hash and chunk count a clean
// ingest of dir's files gives.
func expected(t *testing.T, dir string) map[string][2]string {
	t.Helper()
	ch := mustChunker(t)
	files, err := filepath.Glob(filepath.Join(dir, "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][2]string{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := ingest.Load(f, data)
		if err != nil {
			t.Fatal(err)
		}
		out[f] = [2]string{ingest.ContentHash(data), fmt.Sprint(len(ch.Chunk(doc)))}
	}
	return out
}

// check opens the database and verifies that every document is wholly one
// of the allowed versions: its hash is that version's and it has exactly
// that version's chunks. It returns how many documents are at the newest.
func check(t *testing.T, db string, versions ...map[string][2]string) (atNewest int) {
	t.Helper()
	st, err := store.Open(db)
	if err != nil {
		t.Fatalf("reopen after kill: %v", err)
	}
	defer st.Close()
	s := snap(t, st)
	newest := versions[len(versions)-1]
	if len(s.hash) > len(newest) {
		t.Fatalf("%d documents, more than the %d files", len(s.hash), len(newest))
	}
	for src, h := range s.hash {
		ok := false
		for i, v := range versions {
			if v[src][0] == h {
				if got := fmt.Sprint(len(s.chunks[src])); got != v[src][1] {
					t.Fatalf("%s at version %d has %s chunks, want %s: a partial document", src, i, got, v[src][1])
				}
				ok = true
				if i == len(versions)-1 {
					atNewest++
				}
				break
			}
		}
		if !ok {
			t.Fatalf("%s has hash %s, which is no version of the file", src, h)
		}
	}
	return atNewest
}

func TestCrashDuringIngest(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns child processes")
	}
	dir := t.TempDir()
	db := filepath.Join(t.TempDir(), "g.db")
	const files = 24
	writeDocs(t, dir, files, "v0")
	prev := expected(t, dir)
	// Version 0, ingested cleanly in this process.
	st, err := store.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := newPipeline(t, st).Paths(context.Background(), []string{dir}, nil); err != nil {
		t.Fatal(err)
	}
	st.Close()
	if n := check(t, db, prev); n != files {
		t.Fatalf("clean ingest: %d of %d documents", n, files)
	}

	rng := rand.New(rand.NewPCG(1, 2))
	child := func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), "GROUNDED_CRASH_DIR="+dir, "GROUNDED_CRASH_DB="+db)
		return cmd
	}
	for round := 1; round <= 20; round++ {
		writeDocs(t, dir, files, fmt.Sprintf("v%d", round))
		next := expected(t, dir)

		// Kill the child after it reports a random number of durable files.
		killAfter := 1 + rng.IntN(files-2)
		cmd := child()
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(stdout)
		durable := 0
		for durable < killAfter && sc.Scan() {
			if strings.HasPrefix(sc.Text(), ingest.Updated+" ") {
				durable++
			}
		}
		cmd.Process.Kill()
		cmd.Wait()
		if durable < killAfter {
			t.Fatalf("round %d: child ended after %d files, before the kill at %d", round, durable, killAfter)
		}
		got := check(t, db, prev, next)
		if got < killAfter {
			t.Fatalf("round %d: %d files were reported durable but only %d are at the new version", round, killAfter, got)
		}
		t.Logf("round %d: killed after %d durable files; %d of %d at the new version", round, killAfter, got, files)

		// A re-run finishes the job: every document at the new version.
		out, err := child().CombinedOutput()
		if err != nil {
			t.Fatalf("re-run: %v\n%s", err, out)
		}
		if n := check(t, db, next); n != files {
			t.Fatalf("round %d: after the re-run %d of %d documents are current", round, n, files)
		}
		prev = next
	}
}
