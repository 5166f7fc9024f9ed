package store_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/groundedhq/grounded"
	"github.com/groundedhq/grounded/store"
)

// TestOpenMigratesSchema1: a database written by schema version 1 (no chunk
// location or metadata) opens, keeps its data, and takes the new fields.
func TestOpenMigratesSchema1(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)`,
		`CREATE TABLE documents (id TEXT PRIMARY KEY, source TEXT NOT NULL UNIQUE, title TEXT NOT NULL, format TEXT NOT NULL,
			content_hash TEXT NOT NULL, text TEXT NOT NULL, sections TEXT NOT NULL, ingested_at INTEGER NOT NULL)`,
		`CREATE TABLE chunks (id TEXT PRIMARY KEY, doc_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
			ord INTEGER NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL, section TEXT NOT NULL,
			tokens INTEGER NOT NULL, vector BLOB NOT NULL)`,
		`INSERT INTO meta VALUES ('schema_version', '1')`,
		`INSERT INTO documents VALUES ('d', 's.md', 'T', 'markdown', 'h', 'hello world', '[]', 0)`,
		`INSERT INTO chunks VALUES ('d-00000', 'd', 0, 0, 11, '', 2, x'0000803f')`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()

	st := openStore(t, path)
	var got []grounded.Chunk
	if err := st.ForEachChunk(context.Background(), func(c grounded.Chunk, v []float32) error {
		got = append(got, c)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Text != "hello world" || got[0].Location != "" || got[0].Meta != nil {
		t.Fatalf("chunks after migration: %+v", got)
	}
	doc := &grounded.Document{ID: "e", Source: "t.csv", Title: "T", Format: "csv", Text: "a,b\n1,2\n", ContentHash: "h2"}
	err = st.Put(context.Background(), []grounded.IndexedDocument{{Document: doc,
		Chunks:  []grounded.Chunk{{ID: "e-00000", DocID: "e", Start: 4, End: 7, Location: "row 1", Meta: map[string]string{"a": "1"}}},
		Vectors: [][]float32{{1}}}})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	st2, err := store.Open(path) // reopening does not migrate again
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	var row grounded.Chunk
	st2.ForEachChunk(context.Background(), func(c grounded.Chunk, v []float32) error {
		if c.DocID == "e" {
			row = c
		}
		return nil
	})
	if row.Location != "row 1" || row.Meta["a"] != "1" || row.Text != "1,2" {
		t.Fatalf("the new fields did not round-trip: %+v", row)
	}
}
