// Package store is grounded's durable source of truth: documents, their
// extracted text, chunks and chunk vectors in one SQLite database
// (modernc.org/sqlite, pure Go). The in-memory search indexes (BM25 and the
// chromem-go vector collection) are rebuilt from it at open, so chromem-go's
// persistence, which can lose documents silently, is never relied on.
//
// Crash safety: the database runs in WAL mode with synchronous=FULL, and each
// call to Put is one transaction, so a process killed at any moment leaves
// every document either wholly as before or wholly replaced. Re-running the
// ingest finishes the job.
//
// Schema (version 2; a version 1 database is migrated at open):
//
//	meta(key PRIMARY KEY, value)        -- schema_version, embedder, dim
//	documents(id PRIMARY KEY, source UNIQUE, title, format, content_hash,
//	          text, sections JSON, ingested_at unix nanoseconds)
//	chunks(id PRIMARY KEY, doc_id -> documents ON DELETE CASCADE, ord,
//	       start, end, section, tokens, vector BLOB little-endian float32,
//	       location, meta JSON)                  -- location, meta: version 2
//
// A chunk's text is not stored twice: it is documents.text[start:end].
package store

import (
	"context"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/groundedhq/grounded"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

const schemaVersion = "2"

const schema = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
	id TEXT PRIMARY KEY,
	source TEXT NOT NULL UNIQUE,
	title TEXT NOT NULL,
	format TEXT NOT NULL,
	content_hash TEXT NOT NULL,
	text TEXT NOT NULL,
	sections TEXT NOT NULL,
	ingested_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS chunks (
	id TEXT PRIMARY KEY,
	doc_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
	ord INTEGER NOT NULL,
	start INTEGER NOT NULL,
	"end" INTEGER NOT NULL,
	section TEXT NOT NULL,
	tokens INTEGER NOT NULL,
	vector BLOB NOT NULL,
	location TEXT NOT NULL DEFAULT '',
	meta TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id, ord);
`

// Store is an open grounded database. It is safe for concurrent use; writes
// are serialized.
type Store struct {
	db *sql.DB
}

// Open opens or creates the database file at path.
func Open(path string) (*Store, error) {
	q := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "synchronous(FULL)", "busy_timeout(10000)", "foreign_keys(1)"} {
		q.Add("_pragma", p)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	s := &Store{db: db}
	v, err := s.meta("schema_version")
	switch {
	case err != nil:
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	case v == "":
		if err := s.setMeta("schema_version", schemaVersion); err != nil {
			db.Close()
			return nil, err
		}
	case v == "1":
		if err := s.migrate1to2(); err != nil {
			db.Close()
			return nil, fmt.Errorf("open %s: migrate to schema 2: %w", path, err)
		}
	case v != schemaVersion:
		db.Close()
		return nil, grounded.Errorf(grounded.ECONFLICT, "%s has schema version %s; this grounded reads version %s", path, v, schemaVersion)
	}
	return s, nil
}

// migrate1to2 adds the chunk location and metadata columns, in one transaction.
func (s *Store) migrate1to2() error {
	tx, err := s.db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, q := range []string{
		`ALTER TABLE chunks ADD COLUMN location TEXT NOT NULL DEFAULT ''`,
		`ALTER TABLE chunks ADD COLUMN meta TEXT NOT NULL DEFAULT ''`,
		`UPDATE meta SET value = '2' WHERE key = 'schema_version'`,
	} {
		if _, err := tx.Exec(q); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

func (s *Store) meta(key string) (string, error) {
	var v string
	err := s.db.QueryRow(`SELECT value FROM meta WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return v, err
}

func (s *Store) setMeta(key, value string) error {
	_, err := s.db.Exec(`INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`, key, value)
	return err
}

// UseEmbedder records which embedder builds the index's vectors, or checks
// that it is the one recorded. Mixing embedders is an ECONFLICT error that
// names both.
func (s *Store) UseEmbedder(name string, dim int) error {
	have, err := s.meta("embedder")
	if err != nil {
		return fmt.Errorf("read embedder: %w", err)
	}
	haveDim, err := s.meta("dim")
	if err != nil {
		return fmt.Errorf("read embedder: %w", err)
	}
	if have == "" {
		if err := s.setMeta("embedder", name); err != nil {
			return err
		}
		return s.setMeta("dim", strconv.Itoa(dim))
	}
	if have != name || haveDim != strconv.Itoa(dim) {
		return grounded.Errorf(grounded.ECONFLICT,
			"the index was built with embedder %s (dimension %s), not %s (dimension %d): use the same embedder or a new data folder",
			have, haveDim, name, dim)
	}
	return nil
}

// Put stores entries in one transaction, each replacing any document with the
// same id or source and all of its chunks.
func (s *Store) Put(ctx context.Context, entries []grounded.IndexedDocument) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("put: %w", err)
	}
	defer tx.Rollback()
	for _, e := range entries {
		if len(e.Chunks) != len(e.Vectors) {
			return fmt.Errorf("put %s: %d chunks but %d vectors", e.Document.Source, len(e.Chunks), len(e.Vectors))
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM documents WHERE id = ? OR source = ?`, e.Document.ID, e.Document.Source); err != nil {
			return fmt.Errorf("put %s: %w", e.Document.Source, err)
		}
		sections, err := json.Marshal(e.Document.Sections)
		if err != nil {
			return fmt.Errorf("put %s: %w", e.Document.Source, err)
		}
		at := e.Document.IngestedAt
		if at.IsZero() {
			at = time.Now()
		}
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO documents(id, source, title, format, content_hash, text, sections, ingested_at) VALUES(?,?,?,?,?,?,?,?)`,
			e.Document.ID, e.Document.Source, e.Document.Title, e.Document.Format, e.Document.ContentHash, e.Document.Text, string(sections), at.UnixNano()); err != nil {
			return fmt.Errorf("put %s: %w", e.Document.Source, err)
		}
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO chunks(id, doc_id, ord, start, "end", section, tokens, vector, location, meta) VALUES(?,?,?,?,?,?,?,?,?,?)`)
		if err != nil {
			return fmt.Errorf("put %s: %w", e.Document.Source, err)
		}
		for i, c := range e.Chunks {
			meta := ""
			if len(c.Meta) > 0 {
				b, err := json.Marshal(c.Meta)
				if err != nil {
					stmt.Close()
					return fmt.Errorf("put %s: %w", e.Document.Source, err)
				}
				meta = string(b)
			}
			if _, err := stmt.ExecContext(ctx, c.ID, e.Document.ID, c.Ord, c.Start, c.End, c.Section, c.Tokens, encodeVector(e.Vectors[i]), c.Location, meta); err != nil {
				stmt.Close()
				return fmt.Errorf("put %s: %w", e.Document.Source, err)
			}
		}
		stmt.Close()
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("put: %w", err)
	}
	return nil
}

// Delete removes a document and its chunks. It returns grounded.ErrNotFound
// when there is no such document.
func (s *Store) Delete(ctx context.Context, id string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM documents WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("delete %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return grounded.ErrNotFound
	}
	return nil
}

// Hashes returns the content hash of every stored document, by source.
func (s *Store) Hashes(ctx context.Context) (map[string]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT source, content_hash FROM documents`)
	if err != nil {
		return nil, fmt.Errorf("read hashes: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var src, h string
		if err := rows.Scan(&src, &h); err != nil {
			return nil, fmt.Errorf("read hashes: %w", err)
		}
		out[src] = h
	}
	return out, rows.Err()
}

// Counts returns the number of documents and chunks.
func (s *Store) Counts(ctx context.Context) (docs, chunks int, err error) {
	err = s.db.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM documents), (SELECT count(*) FROM chunks)`).Scan(&docs, &chunks)
	if err != nil {
		err = fmt.Errorf("count: %w", err)
	}
	return docs, chunks, err
}

// Document returns one document with its text and sections, or
// grounded.ErrNotFound.
func (s *Store) Document(ctx context.Context, id string) (*grounded.Document, error) {
	d := &grounded.Document{}
	var sections string
	var at int64
	err := s.db.QueryRowContext(ctx, `SELECT id, source, title, format, content_hash, text, sections, ingested_at FROM documents WHERE id = ?`, id).
		Scan(&d.ID, &d.Source, &d.Title, &d.Format, &d.ContentHash, &d.Text, &sections, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, grounded.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read document %s: %w", id, err)
	}
	d.IngestedAt = time.Unix(0, at).UTC()
	if err := json.Unmarshal([]byte(sections), &d.Sections); err != nil {
		return nil, fmt.Errorf("read document %s: sections: %w", id, err)
	}
	d.Version = grounded.VersionOf(d.ContentHash)
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM chunks WHERE doc_id = ?`, id).Scan(&d.Chunks); err != nil {
		return nil, fmt.Errorf("read document %s: %w", id, err)
	}
	return d, nil
}

// Documents lists up to limit documents in source order, starting after
// the source after ("" starts at the first), without their text and
// sections but with their chunk counts; total counts all documents.
func (s *Store) Documents(ctx context.Context, after string, limit int) (docs []grounded.Document, total int, err error) {
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM documents`).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("list documents: %w", err)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT d.id, d.source, d.title, d.format, d.content_hash, d.ingested_at,
		(SELECT count(*) FROM chunks c WHERE c.doc_id = d.id)
		FROM documents d WHERE d.source > ? ORDER BY d.source LIMIT ?`, after, limit)
	if err != nil {
		return nil, 0, fmt.Errorf("list documents: %w", err)
	}
	defer rows.Close()
	docs = []grounded.Document{}
	for rows.Next() {
		var d grounded.Document
		var at int64
		if err := rows.Scan(&d.ID, &d.Source, &d.Title, &d.Format, &d.ContentHash, &at, &d.Chunks); err != nil {
			return nil, 0, fmt.Errorf("list documents: %w", err)
		}
		d.IngestedAt = time.Unix(0, at).UTC()
		d.Version = grounded.VersionOf(d.ContentHash)
		docs = append(docs, d)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("list documents: %w", err)
	}
	return docs, total, nil
}

// ForEachChunk calls fn with every chunk (text filled in from its document)
// and its vector, in document and chunk order. The vector is fn's to keep.
// It stops at fn's first error and returns it.
func (s *Store) ForEachChunk(ctx context.Context, fn func(grounded.Chunk, []float32) error) error {
	return s.forEachChunk(ctx, "", fn)
}

// DocumentChunks returns one document's chunks and their vectors, in order;
// none (and no error) when the document does not exist.
func (s *Store) DocumentChunks(ctx context.Context, docID string) ([]grounded.Chunk, [][]float32, error) {
	var chunks []grounded.Chunk
	var vecs [][]float32
	err := s.forEachChunk(ctx, docID, func(c grounded.Chunk, v []float32) error {
		chunks = append(chunks, c)
		vecs = append(vecs, v)
		return nil
	})
	return chunks, vecs, err
}

// forEachChunk walks every chunk, or one document's when docID is set.
func (s *Store) forEachChunk(ctx context.Context, docID string, fn func(grounded.Chunk, []float32) error) error {
	// Documents are read once (their text is shared by their chunks), then
	// chunks in index order, without joining the text onto every row.
	type docText struct{ source, title, format, hash, text string }
	docs := map[string]docText{}
	docQuery, chunkQuery := `SELECT id, source, title, format, content_hash, text FROM documents`,
		`SELECT doc_id, id, ord, start, "end", section, tokens, vector, location, meta FROM chunks ORDER BY doc_id, ord`
	var args []any
	if docID != "" {
		docQuery += ` WHERE id = ?`
		chunkQuery = strings.Replace(chunkQuery, " ORDER BY", " WHERE doc_id = ? ORDER BY", 1)
		args = []any{docID}
	}
	drows, err := s.db.QueryContext(ctx, docQuery, args...)
	if err != nil {
		return fmt.Errorf("read documents: %w", err)
	}
	for drows.Next() {
		var id string
		var d docText
		if err := drows.Scan(&id, &d.source, &d.title, &d.format, &d.hash, &d.text); err != nil {
			drows.Close()
			return fmt.Errorf("read documents: %w", err)
		}
		docs[id] = d
	}
	if err := drows.Close(); err != nil {
		return fmt.Errorf("read documents: %w", err)
	}
	if err := drows.Err(); err != nil {
		return fmt.Errorf("read documents: %w", err)
	}
	rows, err := s.db.QueryContext(ctx, chunkQuery, args...)
	if err != nil {
		return fmt.Errorf("read chunks: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var c grounded.Chunk
		var vec []byte
		var meta string
		if err := rows.Scan(&c.DocID, &c.ID, &c.Ord, &c.Start, &c.End, &c.Section, &c.Tokens, &vec, &c.Location, &meta); err != nil {
			return fmt.Errorf("read chunks: %w", err)
		}
		if meta != "" {
			if err := json.Unmarshal([]byte(meta), &c.Meta); err != nil {
				return fmt.Errorf("read chunk %s: metadata: %w", c.ID, err)
			}
		}
		d, ok := docs[c.DocID]
		if !ok {
			return fmt.Errorf("read chunks: chunk %s belongs to no document", c.ID)
		}
		if c.Start < 0 || c.End > len(d.text) || c.Start > c.End {
			return fmt.Errorf("read chunks: chunk %s has range [%d,%d) outside its document (%d bytes)", c.ID, c.Start, c.End, len(d.text))
		}
		c.Source, c.Title, c.Format, c.Text = d.source, d.title, d.format, d.text[c.Start:c.End]
		c.Version = grounded.VersionOf(d.hash)
		v, err := decodeVector(vec)
		if err != nil {
			return fmt.Errorf("read chunk %s: %w", c.ID, err)
		}
		if err := fn(c, v); err != nil {
			return err
		}
	}
	return rows.Err()
}

func encodeVector(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, f := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(f))
	}
	return b
}

func decodeVector(b []byte) ([]float32, error) {
	if len(b)%4 != 0 {
		return nil, fmt.Errorf("vector blob of %d bytes", len(b))
	}
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v, nil
}
