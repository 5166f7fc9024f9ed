// Package ingest turns files into documents and documents into chunks: the
// loaders (Markdown, plain text, HTML, PDF, DOCX, CSV, JSONL), the token-aware, structure-aware
// chunker, and the pipeline that walks folders, embeds chunks, hands them to
// a store in crash-safe batches and emits an Event per committed document.
package ingest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/groundedhq/grounded"
	"github.com/groundedhq/grounded/ingest/pdf"
)

// ErrUnsupported is returned by Load for a file type no loader handles.
var ErrUnsupported = errors.New("unsupported file type")

// Format names, as recorded in grounded.Document.Format.
const (
	FormatMarkdown = "markdown"
	FormatText     = "text"
	FormatHTML     = "html"
	FormatDOCX     = "docx"
	FormatCSV      = "csv"
	FormatJSONL    = "jsonl"
	FormatPDF      = "pdf"
)

// FormatOf returns the format a file name's extension selects, or "".
func FormatOf(name string) string {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".md", ".markdown":
		return FormatMarkdown
	case ".txt":
		return FormatText
	case ".html", ".htm":
		return FormatHTML
	case ".docx":
		return FormatDOCX
	case ".csv":
		return FormatCSV
	case ".jsonl", ".ndjson":
		return FormatJSONL
	case ".pdf":
		return FormatPDF
	}
	return ""
}

// DocID is the stable id of the document at source: the first 16 hex digits
// of sha256(source). Re-ingesting the same source replaces that document.
func DocID(source string) string {
	sum := sha256.Sum256([]byte(source))
	return hex.EncodeToString(sum[:8])
}

// HashFor is the content hash recorded for a file: ContentHash of its bytes,
// and for CSV and JSONL with table options also of the options, since they
// decide the rows' text: changing --text-column re-ingests the table.
func HashFor(source string, data []byte, opt LoadOptions) string {
	f := FormatOf(source)
	if (f == FormatCSV || f == FormatJSONL) && opt.Table != (TableOptions{}) {
		return ContentHash(append(append([]byte{}, data...), "\x00text-column="+opt.Table.TextColumn+"\x00template="+opt.Table.Template...))
	}
	return ContentHash(data)
}

// ContentHash is the hex sha256 of a file's bytes.
func ContentHash(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// Load parses one file's bytes into a document named source with the
// default options: LoadWith(source, data, LoadOptions{}).
func Load(source string, data []byte) (*grounded.Document, error) {
	return LoadWith(source, data, LoadOptions{})
}

// LoadOptions tune how files are read. The zero value is Load's defaults.
type LoadOptions struct {
	// Table chooses the text of each CSV and JSONL row.
	Table TableOptions
}

// LoadWith parses one file's bytes into a document named source. It returns
// ErrUnsupported (wrapped) for an unknown extension, and an *grounded.Error
// with code EINVALID for empty files, invalid UTF-8 (text formats), a file
// that is not in its extension's format, bad table options or a table with
// no usable row, and ETOOLARGE for a DOCX that expands past its limits.
func LoadWith(source string, data []byte, opt LoadOptions) (*grounded.Document, error) {
	return load(source, FormatOf(source), HashFor(source, data, opt), data, opt)
}

// load parses data in format ("" for unsupported) into a document named
// source with content hash hash.
func load(source, format, hash string, data []byte, opt LoadOptions) (*grounded.Document, error) {
	if format == "" {
		return nil, fmt.Errorf("%s: %w", source, ErrUnsupported)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, grounded.Errorf(grounded.EINVALID, "%s: empty file", source)
	}
	if format != FormatDOCX && format != FormatPDF && !utf8.Valid(data) {
		return nil, grounded.Errorf(grounded.EINVALID, "%s: invalid UTF-8 at byte %d", source, invalidAt(data))
	}
	doc := &grounded.Document{ID: DocID(source), Source: source, Format: format, ContentHash: hash}
	switch format {
	case FormatMarkdown:
		loadMarkdown(doc, data)
	case FormatHTML:
		if err := loadHTML(doc, data); err != nil {
			return nil, grounded.Errorf(grounded.EINVALID, "%s: %v", source, err)
		}
	case FormatDOCX:
		if err := loadDOCX(doc, data); err != nil {
			return nil, err
		}
	case FormatCSV, FormatJSONL:
		if err := loadTable(doc, format, data, opt.Table); err != nil {
			return nil, err
		}
	case FormatPDF:
		doc.Title = titleFromName(source)
		if err := pdf.Load(doc, data); err != nil {
			return nil, grounded.Errorf(grounded.EINVALID, "%s: %v", source, err)
		}
	default:
		loadText(doc, data)
	}
	if strings.TrimSpace(doc.Text) == "" || len(doc.Sections) == 0 {
		return nil, grounded.Errorf(grounded.EINVALID, "%s: no text", source)
	}
	if doc.Title == "" {
		doc.Title = titleFromName(source)
	}
	return doc, nil
}

func invalidAt(data []byte) int {
	for i := 0; i < len(data); {
		r, n := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return -1
}

// titleFromName makes a title from a file name: "cost-trade-offs.md" -> "cost trade offs".
func titleFromName(source string) string {
	base := filepath.Base(source)
	base = strings.TrimSuffix(base, filepath.Ext(base))
	return strings.TrimSpace(strings.NewReplacer("-", " ", "_", " ").Replace(base))
}

// loadText keeps the file as the text; the title is the first line when it is
// short and does not read as a sentence.
func loadText(doc *grounded.Document, data []byte) {
	doc.Text = string(data)
	first := strings.TrimSpace(strings.SplitN(strings.TrimLeft(doc.Text, " \t\r\n"), "\n", 2)[0])
	if first != "" && len(first) <= 100 && !strings.HasSuffix(first, ".") {
		doc.Title = first
	}
	doc.Sections = []grounded.Section{{Start: 0, End: len(doc.Text)}}
}
