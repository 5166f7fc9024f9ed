// Package pdf extracts the text layer of a PDF into a grounded.Document, one
// section per page. In its code, pdf names the library below.
//
// Library: github.com/ledongthuc/pdf reads the file's objects. It is pure Go
// (no cgo), BSD-3, a maintained fork of rsc.io/pdf (commits through
// 2026-09), and parses cross-reference tables and streams, object streams,
// the Flate and ASCII85 filters, RC4-128 and AES-128 encryption with the
// empty user password, and the glyph names of /Differences encodings.
// Candidates were measured on PDFs written by hand and by ReportLab
// (standard fonts; embedded TrueType with accents, Cyrillic, Greek), cairo
// (Identity-H CID fonts, Chinese and Japanese), Ghostscript (from groff) and
// qpdf (object streams; RC4 and AES encryption):
//   - ledongthuc/pdf opened all but AES-256 and 40-bit RC4 (it does not cut
//     the object key to 5+5 bytes). Its own Page.GetPlainText loses a whole
//     page that uses the ' or " operator, runs words placed by position
//     together ("Separatewords", "GroffDocumentFirst page") and ignores
//     /ToUnicode beside a named encoding. Its reader loops forever on a /Prev
//     cycle, an /Extends cycle or an object stream claiming 10^18 objects,
//     overflows the stack (fatal) on an object stream stored in itself, and
//     allocates whatever an xref entry number or a predictor's /Columns
//     says (28 GB and 1 TB in our tests: fatal, not a panic).
//   - github.com/dslipak/pdf v0.0.2 (2024-01) is an older fork with the same
//     faults and no break between text objects ("First block.Second block.").
//   - github.com/pdfcpu/pdfcpu v0.15.0 parses and validates well but has no
//     text extraction, only raw content streams.
//   - github.com/klippa-app/go-pdfium's WebAssembly build is pure Go and
//     extracts well, but took 4.3 s to start on two cores, adds 12 MB to the
//     binary and 60 packages (gRPC, go-plugin) and needs a long-lived
//     instance pool; it too joins positioned words ("GroffDocument").
//
// So the library reads objects and this package does the rest: xref.go
// checks the cross-reference sections as the library will read them and
// refuses the files above; pdf.go walks the page tree; lex.go lexes content
// streams; text.go interprets them and places text by position (a gap of
// 0.15 em is a space, a new baseline a line break, a drop of over 1.7 em or a
// rise a blank line); font.go parses /ToUnicode CMaps (with code lengths, so
// CID fonts decode) and WinAnsi and MacRoman via golang.org/x/text. Form
// XObjects are drawn, inline images skipped, and every loop is bounded (the
// max* constants). A 1000-page ReportLab file (2.4 MB of text) loads in
// 0.32 s, 0.76 s with object streams (pdftotext: 0.5 s).
//
// Not handled: AES-256 and 40-bit RC4 encryption, passwords, the LZW and
// RunLength filters, fonts with neither /ToUnicode nor a Latin encoding
// (symbolic TrueType subsets decode as PDFDocEncoding), vertical writing,
// reading order across columns (text comes in content-stream order), page
// labels (Location counts pages from 1), annotations and form fields.
package pdf

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/groundedhq/grounded"
	"github.com/ledongthuc/pdf"
)

// Limits on the work one PDF may cause. A file over one is refused whole,
// with EINVALID, rather than indexed in part.
const (
	maxPages   = 5000
	maxText    = 64 << 20  // bytes of extracted text
	maxContent = 256 << 20 // decoded bytes of content streams, forms and CMaps, all pages
	maxStreams = 1 << 16   // streams opened: content parts, forms drawn, CMaps
	maxFonts   = 1 << 12   // fonts loaded; later ones decode as the fallback

	// Checked before the library opens the file (checkXref).
	maxObjects     = 1 << 21        // highest object number in a cross-reference section
	maxXrefEntries = 2 * maxObjects // entries in all cross-reference tables
	maxXrefChain   = 64             // cross-reference sections linked by /Prev
	maxObjStm      = 256 << 20      // decoded bytes of all object streams
	// maxObjStmEach bounds one object stream, which the library inflates
	// again from its start for every object it looks up in it.
	maxObjStmEach = 4 << 20
	maxColumns    = 1 << 20 // bytes in a predictor row, which the library allocates

	// Structure.
	maxTreeNodes    = 4 * maxPages // page tree nodes visited
	maxTreeDepth    = 64
	maxFormDepth    = 8
	maxContentParts = 4096 // streams in one page's /Contents array
	maxGStates      = 256  // depth of q nesting

	// The lexer and the font tables.
	maxString      = 1 << 20 // bytes kept of one string
	maxArray       = 1 << 16 // elements kept of one array
	maxDictKeys    = 4096
	maxNesting     = 32
	maxOperands    = 1024
	maxCMapEntries = 1 << 17 // bfchar and bfrange entries, CID widths
)

// errLimit marks an error that stops the whole document.
var errLimit = errors.New("over the limit")

// Load extracts the text layer of a PDF into doc: its Text, one Section per
// page with text (located "p. N"), and its Title, the Info dictionary's
// /Title, else the title the caller set (ingest sets one from the file name). It returns an error for a file that
// is malformed, encrypted beyond the empty password, over a limit, or without
// any extractable text ("no text layer (scanned PDF?)"). Pages that fail while
// others yield text are left out. It never panics: the library's panics come
// back as errors.
func Load(doc *grounded.Document, data []byte) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("malformed PDF: %v", r)
		}
	}()
	if err := checkXref(data); err != nil {
		return err
	}
	r, err := pdf.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return openError(data, err)
	}
	encrypted := r.Trailer().Key("Encrypt").Kind() != pdf.Null
	title := infoTitle(r.Trailer().Key("Info").Key("Title"))
	if title == "" {
		title = doc.Title
	}
	pages, err := walkPages(r.Trailer().Key("Root").Key("Pages"))
	if err != nil {
		return err
	}
	if len(pages) == 0 {
		return errors.New("malformed PDF: no pages")
	}

	x := &extractor{left: maxContent, textLeft: maxText}
	var b strings.Builder
	var firstErr error
	for i, p := range pages {
		text, err := x.page(p)
		if errors.Is(err, errLimit) {
			return err
		}
		if err != nil && firstErr == nil {
			firstErr = fmt.Errorf("page %d: %v", i+1, err)
		}
		if text == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteString("\n\n")
		}
		start := b.Len()
		b.WriteString(text)
		doc.Sections = append(doc.Sections, grounded.Section{
			Path: []string{title}, Start: start, End: b.Len(), Location: "p. " + strconv.Itoa(i+1),
		})
	}
	if b.Len() == 0 {
		switch {
		case firstErr != nil && encrypted:
			return fmt.Errorf("encrypted PDF: cannot decrypt it (%v)", firstErr)
		case firstErr != nil:
			return fmt.Errorf("malformed PDF: %v", firstErr)
		case x.undecodable > 0:
			return errors.New("no extractable text: its fonts map no characters to Unicode")
		}
		return errors.New("no text layer (scanned PDF?)")
	}
	doc.Text = b.String()
	doc.Title = title
	return nil
}

// openError says why the library could not open a file.
func openError(data []byte, err error) error {
	switch {
	case errors.Is(err, pdf.ErrInvalidPassword):
		return errors.New("encrypted PDF: it needs a password")
	case bytes.Contains(data, []byte("/Encrypt")):
		return fmt.Errorf("encrypted PDF: cannot decrypt it (%v)", err)
	case bytes.HasPrefix(data, []byte("%PDF-")) && strings.Contains(err.Error(), "missing %%EOF"):
		return errors.New("malformed PDF: truncated, no %%EOF at its end")
	case strings.HasPrefix(err.Error(), "malformed PDF"), strings.HasPrefix(err.Error(), "not a PDF"),
		strings.HasPrefix(err.Error(), "unsupported PDF"):
		return err
	}
	return fmt.Errorf("malformed PDF: %v", err)
}

// infoTitle cleans an Info /Title: white space collapsed, control characters
// dropped, at most 200 bytes; "untitled" counts as none.
func infoTitle(v pdf.Value) string {
	t := strings.Join(strings.Fields(cleanText(v.Text())), " ")
	if strings.EqualFold(t, "untitled") {
		return ""
	}
	return prefixRunes(t, 200)
}

func prefixRunes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// pageRef is a page dictionary with the resources it inherits.
type pageRef struct {
	v, res pdf.Value
}

// walkPages walks the page tree in order. Its own walk, not the library's
// Page(i), which rescans the tree per page and follows /Parent without a bound.
func walkPages(root pdf.Value) ([]pageRef, error) {
	var pages []pageRef
	nodes := 0
	var walk func(n, res pdf.Value, depth int) error
	walk = func(n, res pdf.Value, depth int) error {
		if nodes++; nodes > maxTreeNodes || depth > maxTreeDepth {
			return fmt.Errorf("malformed PDF: the page tree is over %d nodes deep or large, or loops: %w", maxTreeNodes, errLimit)
		}
		if n.Kind() != pdf.Dict {
			return nil
		}
		if r := n.Key("Resources"); r.Kind() == pdf.Dict {
			res = r
		}
		kids := n.Key("Kids")
		if kids.Kind() != pdf.Array || n.Key("Type").Name() == "Page" {
			if len(pages) == maxPages {
				return fmt.Errorf("more than %d pages: %w", maxPages, errLimit)
			}
			pages = append(pages, pageRef{n, res})
			return nil
		}
		for i := 0; i < kids.Len(); i++ {
			if err := walk(kids.Index(i), res, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	return pages, walk(root, pdf.Value{}, 0)
}
