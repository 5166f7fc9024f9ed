package ingest

// The PDF loader.
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
// So the library reads objects, and this file does the rest: pdfCheckXref
// reads the cross-reference sections as the library will and refuses the
// files above before the library sees them; then its own page-tree walk, a
// content-stream lexer and a text interpreter that places text by position
// (a gap of 0.15 em is a space, a new baseline a line break, a drop of
// over 1.7 em or a rise a blank line), /ToUnicode CMaps (parsed here, with
// their code lengths, so CID fonts decode), WinAnsi and MacRoman via
// golang.org/x/text, Form XObjects, inline images skipped, and a bound on
// every loop (the max* constants). A 1000-page ReportLab file (2.4 MB of
// text) loads in 0.32 s, 0.76 s with object streams (pdftotext: 0.5 s).
//
// Not handled: AES-256 and 40-bit RC4 encryption, passwords, the LZW and
// RunLength filters, fonts with neither /ToUnicode nor a Latin encoding
// (symbolic TrueType subsets decode as PDFDocEncoding), vertical writing,
// reading order across columns (text comes in content-stream order), page
// labels (Location counts pages from 1), annotations and form fields.

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/groundedhq/grounded"
	"github.com/ledongthuc/pdf"
	"golang.org/x/text/encoding/charmap"
)

// Limits on the work one PDF may cause. A file over one is refused whole,
// with EINVALID, rather than indexed in part.
const (
	maxPDFPages   = 5000
	maxPDFText    = 64 << 20  // bytes of extracted text
	maxPDFContent = 256 << 20 // decoded bytes of content streams, forms and CMaps, all pages
	maxPDFStreams = 1 << 16   // streams opened: content parts, forms drawn, CMaps
	maxPDFFonts   = 1 << 12   // fonts loaded; later ones decode as the fallback

	// Checked before the library opens the file (pdfCheckXref).
	maxPDFObjects     = 1 << 21           // highest object number in a cross-reference section
	maxPDFXrefEntries = 2 * maxPDFObjects // entries in all cross-reference tables
	maxPDFXrefChain   = 64                // cross-reference sections linked by /Prev
	maxPDFObjStm      = 256 << 20         // decoded bytes of all object streams
	// maxPDFObjStmEach bounds one object stream, which the library inflates
	// again from its start for every object it looks up in it.
	maxPDFObjStmEach = 4 << 20
	maxPDFColumns    = 1 << 20 // bytes in a predictor row, which the library allocates

	// Structure.
	maxPDFTreeNodes    = 4 * maxPDFPages // page tree nodes visited
	maxPDFTreeDepth    = 64
	maxPDFFormDepth    = 8
	maxPDFContentParts = 4096 // streams in one page's /Contents array
	maxPDFGStates      = 256  // depth of q nesting

	// The lexer and the font tables.
	maxPDFString      = 1 << 20 // bytes kept of one string
	maxPDFArray       = 1 << 16 // elements kept of one array
	maxPDFDictKeys    = 4096
	maxPDFNesting     = 32
	maxPDFOperands    = 1024
	maxPDFCMapEntries = 1 << 17 // bfchar and bfrange entries, CID widths
)

// errPDFLimit marks an error that stops the whole document.
var errPDFLimit = errors.New("over the limit")

// loadPDF extracts the text layer of a PDF. The document's title is the Info
// dictionary's /Title, else the file name. It returns an error for a file that
// is malformed, encrypted beyond the empty password, over a limit, or without
// any extractable text ("no text layer (scanned PDF?)"). Pages that fail while
// others yield text are left out. It never panics: the library's panics come
// back as errors.
func loadPDF(doc *grounded.Document, data []byte) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("malformed PDF: %v", r)
		}
	}()
	if err := pdfCheckXref(data); err != nil {
		return err
	}
	r, err := pdf.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return pdfOpenError(data, err)
	}
	encrypted := r.Trailer().Key("Encrypt").Kind() != pdf.Null
	title := pdfTitle(r.Trailer().Key("Info").Key("Title"))
	if title == "" {
		title = titleFromName(doc.Source)
	}
	pages, err := pdfPages(r.Trailer().Key("Root").Key("Pages"))
	if err != nil {
		return err
	}
	if len(pages) == 0 {
		return errors.New("malformed PDF: no pages")
	}

	x := &pdfExtractor{left: maxPDFContent, textLeft: maxPDFText}
	var b strings.Builder
	var firstErr error
	for i, p := range pages {
		text, err := x.page(p)
		if errors.Is(err, errPDFLimit) {
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

// pdfOpenError says why the library could not open a file.
func pdfOpenError(data []byte, err error) error {
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

// pdfTitle cleans an Info /Title: white space collapsed, control characters
// dropped, at most 200 bytes; "untitled" counts as none.
func pdfTitle(v pdf.Value) string {
	t := strings.Join(strings.Fields(pdfClean(v.Text())), " ")
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

// pdfPage is a page dictionary with the resources it inherits.
type pdfPage struct {
	v, res pdf.Value
}

// pdfPages walks the page tree in order. Its own walk, not the library's
// Page(i), which rescans the tree per page and follows /Parent without a bound.
func pdfPages(root pdf.Value) ([]pdfPage, error) {
	var pages []pdfPage
	nodes := 0
	var walk func(n, res pdf.Value, depth int) error
	walk = func(n, res pdf.Value, depth int) error {
		if nodes++; nodes > maxPDFTreeNodes || depth > maxPDFTreeDepth {
			return fmt.Errorf("malformed PDF: the page tree is over %d nodes deep or large, or loops: %w", maxPDFTreeNodes, errPDFLimit)
		}
		if n.Kind() != pdf.Dict {
			return nil
		}
		if r := n.Key("Resources"); r.Kind() == pdf.Dict {
			res = r
		}
		kids := n.Key("Kids")
		if kids.Kind() != pdf.Array || n.Key("Type").Name() == "Page" {
			if len(pages) == maxPDFPages {
				return fmt.Errorf("more than %d pages: %w", maxPDFPages, errPDFLimit)
			}
			pages = append(pages, pdfPage{n, res})
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

// pdfExtractor holds the budgets shared by a document's pages.
type pdfExtractor struct {
	left        int64 // decoded content bytes that may still be read
	textLeft    int   // bytes of text that may still be extracted
	undecodable int   // glyphs shown in a font with no Unicode mapping
	streams     int   // streams opened
	fontLoads   int   // fonts loaded
	loaded      map[string]*pdfFont
	fallback    *pdfFont
}

// page returns the text of one page, and the first error met reading it.
// The text read before an error is kept.
func (x *pdfExtractor) page(p pdfPage) (text string, err error) {
	var out pdfText
	defer func() {
		if r := recover(); r != nil && err == nil {
			err = fmt.Errorf("%v", r)
		}
		text = out.finish()
	}()
	gs := pdfGState{ctm: pdfIdentity, hscale: 1}
	return "", x.run(&out, p.v.Key("Contents"), p.res, gs, 0)
}

// pdfGState is the part of the graphics state that places text.
type pdfGState struct {
	ctm       pdfMatrix
	font      *pdfFont
	size      float64 // Tf
	charSpace float64 // Tc
	wordSpace float64 // Tw
	hscale    float64 // Tz / 100
	leading   float64 // TL
	rise      float64 // Ts
}

// run interprets one content stream (or array of streams) with resources res.
func (x *pdfExtractor) run(out *pdfText, contents, res pdf.Value, gs pdfGState, depth int) error {
	cr := &pdfContentReader{x: x, parts: contents}
	lx := newPDFLexer(cr)
	fonts := map[string]*pdfFont{}
	var (
		stack   []pdfObj
		saved   []pdfGState
		tm, tlm = pdfIdentity, pdfIdentity
	)
	nextLine := func() {
		tlm = pdfTranslate(0, -gs.leading).mul(tlm)
		tm = tlm
	}
	for {
		o, err := lx.next()
		if err != nil {
			if err == io.EOF {
				return cr.err
			}
			return err
		}
		if o.kind != pdfKeyword {
			if len(stack) == maxPDFOperands {
				stack = stack[:0]
			}
			stack = append(stack, o)
			continue
		}
		n := len(stack)
		switch o.str {
		case "q":
			if len(saved) < maxPDFGStates {
				saved = append(saved, gs)
			}
		case "Q":
			if k := len(saved); k > 0 {
				gs, saved = saved[k-1], saved[:k-1]
			}
		case "cm":
			if m, ok := pdfMatrixOf(stack); ok {
				gs.ctm = m.mul(gs.ctm)
			}
		case "BT":
			tm, tlm = pdfIdentity, pdfIdentity
		case "Tc", "Tw", "Tz", "TL", "Ts":
			if n > 0 && stack[n-1].kind == pdfNumber {
				v := stack[n-1].num
				switch o.str {
				case "Tc":
					gs.charSpace = v
				case "Tw":
					gs.wordSpace = v
				case "Tz":
					gs.hscale = v / 100
				case "TL":
					gs.leading = v
				case "Ts":
					gs.rise = v
				}
			}
		case "Tf":
			if n >= 2 && stack[n-2].kind == pdfName && stack[n-1].kind == pdfNumber {
				gs.font = x.font(fonts, res, stack[n-2].str)
				gs.size = stack[n-1].num
			}
		case "Td", "TD":
			if n >= 2 && stack[n-2].kind == pdfNumber && stack[n-1].kind == pdfNumber {
				if o.str == "TD" {
					gs.leading = -stack[n-1].num
				}
				tlm = pdfTranslate(stack[n-2].num, stack[n-1].num).mul(tlm)
				tm = tlm
			}
		case "T*":
			nextLine()
		case "Tm":
			if m, ok := pdfMatrixOf(stack); ok {
				tm, tlm = m, m
			}
		case "Tj", "'", "\"":
			if n == 0 || stack[n-1].kind != pdfString {
				break
			}
			if o.str == "\"" && n >= 3 {
				gs.wordSpace, gs.charSpace = stack[n-3].num, stack[n-2].num
			}
			if o.str != "Tj" {
				nextLine()
			}
			err = x.show(out, stack[n-1].str, &tm, &gs)
		case "TJ":
			if n == 0 || stack[n-1].kind != pdfArray {
				break
			}
			for _, e := range stack[n-1].arr {
				switch e.kind {
				case pdfString:
					err = x.show(out, e.str, &tm, &gs)
				case pdfNumber:
					tm = pdfTranslate(-e.num/1000*gs.size*gs.hscale, 0).mul(tm)
				}
				if err != nil {
					break
				}
			}
		case "Do":
			if n > 0 && stack[n-1].kind == pdfName {
				err = x.form(out, res, stack[n-1].str, gs, depth)
			}
		case "BI":
			err = lx.skipInlineImage()
		}
		stack = stack[:0]
		if err != nil {
			return err
		}
	}
}

// form runs a Form XObject's content with the current graphics state. A
// form that fails is skipped; the page goes on.
func (x *pdfExtractor) form(out *pdfText, res pdf.Value, name string, gs pdfGState, depth int) (err error) {
	if depth >= maxPDFFormDepth {
		return nil
	}
	defer func() {
		if r := recover(); r != nil {
			err = nil
		}
	}()
	xo := res.Key("XObject").Key(name)
	if xo.Kind() != pdf.Stream || xo.Key("Subtype").Name() != "Form" {
		return nil
	}
	if m, ok := pdfMatrixValue(xo.Key("Matrix")); ok {
		gs.ctm = m.mul(gs.ctm)
	}
	fres := xo.Key("Resources")
	if fres.Kind() != pdf.Dict {
		fres = res
	}
	err = x.run(out, xo, fres, gs, depth+1)
	if errors.Is(err, errPDFLimit) {
		return err
	}
	return nil
}

// show decodes and places one shown string, and moves the text matrix past it.
func (x *pdfExtractor) show(out *pdfText, raw string, tm *pdfMatrix, gs *pdfGState) error {
	f := gs.font
	if f == nil {
		f = x.font(nil, pdf.Value{}, "")
	}
	trm := tm.mul(gs.ctm)
	sx, sy := trm.apply(0, gs.rise)
	var b strings.Builder
	adv := x.decode(f, raw, gs, &b)
	*tm = pdfTranslate(adv, 0).mul(*tm)
	ex, ey := tm.mul(gs.ctm).apply(0, gs.rise)

	ux, uy := trm[0], trm[1]
	if l := math.Hypot(ux, uy); l > 0 && !math.IsInf(l, 0) {
		ux, uy = ux/l, uy/l
	} else {
		ux, uy = 1, 0
	}
	em := math.Abs(gs.size) * math.Hypot(trm[2], trm[3])
	if !(em > 1e-6) || math.IsInf(em, 0) {
		em = 1
	}
	if x.textLeft -= out.put(pdfClean(b.String()), sx, sy, ex, ey, ux, uy, em); x.textLeft < 0 {
		return fmt.Errorf("the extracted text is over %d MiB: %w", maxPDFText>>20, errPDFLimit)
	}
	return nil
}

// decode writes the text of the shown string raw to b and returns its
// advance in text space.
func (x *pdfExtractor) decode(f *pdfFont, raw string, gs *pdfGState, b *strings.Builder) float64 {
	adv := 0.0
	for i := 0; i < len(raw); {
		n := 1
		if f.composite {
			n = 2
			if f.cmap != nil {
				n = f.cmap.codeLen(raw[i:], n)
			}
			n = min(n, len(raw)-i)
		}
		code := pdfCode(raw[i : i+n])
		i += n
		if t, ok := f.cmap.lookup(code, n); ok {
			b.WriteString(t)
		} else if !f.composite {
			b.WriteString(f.simple[code&0xff])
		} else if f.ucs2 {
			b.WriteRune(rune(code)) // a lone surrogate half becomes U+FFFD, dropped by pdfClean
		} else {
			x.undecodable++
		}
		extra := gs.charSpace
		if n == 1 && code == ' ' {
			extra += gs.wordSpace
		}
		adv += (f.width(code)*f.scale*gs.size + extra) * gs.hscale
		// Some producers (Ghostscript) space words with Tc inside one string.
		if i < len(raw) && extra > 0.15*math.Abs(gs.size) && b.Len() > 0 && !strings.HasSuffix(b.String(), " ") {
			b.WriteByte(' ')
		}
	}
	return adv
}

// pdfText lays out a page's text in the order it is shown.
type pdfText struct {
	b       strings.Builder
	started bool
	ex, ey  float64 // where the last text ended, in device space
	ux, uy  float64 // its baseline direction, a unit vector
	em      float64 // its font size in device space
}

// put writes text shown from (sx, sy) to (ex, ey) along (ux, uy) at font
// size em, after a space, line break or blank line if its place calls for
// one, and returns the bytes written.
func (t *pdfText) put(s string, sx, sy, ex, ey, ux, uy, em float64) int {
	if s == "" {
		if t.started {
			t.ex, t.ey = ex, ey
		}
		return 0
	}
	n := t.b.Len()
	if t.started {
		dx, dy := sx-t.ex, sy-t.ey
		along := dx*t.ux + dy*t.uy
		across := dy*t.ux - dx*t.uy // up the page is positive
		size := max(em, t.em)
		switch {
		case across < -1.7*size || across > 0.6*size:
			t.b.WriteString("\n\n")
		case across < -0.6*size || ux*t.ux+uy*t.uy < 0.9:
			t.b.WriteByte('\n')
		case along > 0.15*size || along < -size:
			if !strings.HasSuffix(t.b.String(), " ") && s[0] != ' ' {
				t.b.WriteByte(' ')
			}
		}
	}
	t.b.WriteString(s)
	t.started = true
	t.ex, t.ey, t.ux, t.uy, t.em = ex, ey, ux, uy, em
	return t.b.Len() - n
}

// finish returns the page's text: lines trimmed, runs of blank lines cut to one.
func (t *pdfText) finish() string {
	var out strings.Builder
	blank := false
	for _, line := range strings.Split(t.b.String(), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			blank = out.Len() > 0
			continue
		}
		if out.Len() > 0 {
			if blank {
				out.WriteString("\n\n")
			} else {
				out.WriteByte('\n')
			}
		}
		blank = false
		out.WriteString(line)
	}
	return strings.ToValidUTF8(out.String(), "")
}

// pdfLigatures spells out the Latin ligature characters, so "ﬁnd" is found as "find".
var pdfLigatures = map[rune]string{
	'\uFB00': "ff", '\uFB01': "fi", '\uFB02': "fl", '\uFB03': "ffi", '\uFB04': "ffl", '\uFB05': "st", '\uFB06': "st",
}

// pdfClean makes decoded glyph text fit for the document: valid UTF-8,
// ligatures spelled out, tabs and line ends as spaces, and control
// characters, U+FFFD, soft hyphens and byte order marks dropped.
func pdfClean(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\t' || r == '\n' || r == '\r' || r == '\u00a0':
			b.WriteByte(' ')
		case r < 0x20 || (r >= 0x7f && r < 0xa0) || r == utf8.RuneError || r == '\u00ad' || r == '\ufeff':
		case pdfLigatures[r] != "":
			b.WriteString(pdfLigatures[r])
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// pdfContentReader reads a content stream, or the streams of a /Contents
// array one after another, charging the bytes to the document's budget.
// A stream that cannot be read is skipped; err keeps the first such error.
type pdfContentReader struct {
	x     *pdfExtractor
	parts pdf.Value
	next  int
	cur   io.Reader
	sep   bool // a newline is owed between two streams
	err   error
}

func (r *pdfContentReader) Read(p []byte) (int, error) {
	for {
		if r.cur == nil {
			if !r.open() {
				return 0, io.EOF
			}
		}
		if r.sep {
			r.sep = false
			p[0] = '\n'
			return 1, nil
		}
		if r.x.left <= 0 {
			return 0, fmt.Errorf("the page content is over %d MiB decoded: %w", maxPDFContent>>20, errPDFLimit)
		}
		if int64(len(p)) > r.x.left {
			p = p[:r.x.left]
		}
		n, err := pdfSafeRead(r.cur, p)
		r.x.left -= int64(n)
		if err != nil {
			if err != io.EOF && r.err == nil {
				r.err = err
			}
			r.cur = nil
			if n == 0 {
				continue
			}
		}
		return n, nil
	}
}

// open moves to the next stream that opens.
func (r *pdfContentReader) open() bool {
	for {
		var v pdf.Value
		switch {
		case r.parts.Kind() == pdf.Array && r.next < min(r.parts.Len(), maxPDFContentParts):
			v = r.parts.Index(r.next)
		case r.parts.Kind() == pdf.Stream && r.next == 0:
			v = r.parts
		default:
			return false
		}
		r.next++
		if v.Kind() != pdf.Stream {
			continue
		}
		if r.x.streams++; r.x.streams > maxPDFStreams {
			r.err = fmt.Errorf("over %d content streams: %w", maxPDFStreams, errPDFLimit)
			return false
		}
		rd, err := pdfStreamReader(v)
		if err != nil {
			if r.err == nil {
				r.err = err
			}
			continue
		}
		r.cur, r.sep = rd, r.next > 1
		return true
	}
}

// pdfStreamReader returns the decoded data of a stream. It refuses a
// predictor row the library would allocate whatever its size, and turns the
// library's panic on a filter it does not know into an error.
func pdfStreamReader(v pdf.Value) (rd io.Reader, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	parms := v.Key("DecodeParms")
	for i := -1; i < parms.Len(); i++ {
		p := parms
		if i >= 0 {
			p = parms.Index(i)
		}
		if p.Key("Columns").Int64() > maxPDFColumns {
			return nil, fmt.Errorf("a predictor row of over %d bytes", maxPDFColumns)
		}
	}
	return v.Reader(), nil
}

// pdfSafeRead reads from a library stream, whose decrypting readers may panic.
func pdfSafeRead(r io.Reader, p []byte) (n int, err error) {
	defer func() {
		if e := recover(); e != nil {
			n, err = 0, fmt.Errorf("%v", e)
		}
	}()
	return r.Read(p)
}

// budgeted charges what r yields to the document's content budget.
func (x *pdfExtractor) budgeted(r io.Reader) io.Reader {
	return &pdfContentReader{x: x, cur: r, next: 1}
}

// pdfFont is what the interpreter needs of a font: how to split a shown
// string into codes, each code's text, and each code's width.
type pdfFont struct {
	cmap      *pdfCMap    // from /ToUnicode; nil if none
	simple    [256]string // a simple font's text per code, from its /Encoding
	composite bool        // a Type0 font: multi-byte codes and CID widths
	ucs2      bool        // a Type0 font whose codes are UTF-16 (Uni*-UCS2-H)
	widths    []float64   // a simple font's /Widths from /FirstChar
	first     int         // its /FirstChar
	cidWidths map[uint32]float64
	defWidth  float64 // width of a code without one, in glyph units
	scale     float64 // glyph units to text space: 1/1000, or a Type3 font's matrix
}

// width returns a code's width in glyph units.
func (f *pdfFont) width(code uint32) float64 {
	if f.composite {
		if w, ok := f.cidWidths[code]; ok {
			return w
		}
		return f.defWidth
	}
	if i := int(code) - f.first; i >= 0 && i < len(f.widths) {
		return f.widths[i]
	}
	return f.defWidth
}

// font returns the font named in res. cache holds the fonts of one content
// stream by name; x.loaded holds the document's fonts by their dictionary's
// text (two fonts printed alike decode alike), so a font shared by pages or
// a form drawn again is loaded once. A missing font, and every font after
// maxPDFFonts, is the fallback: PDFDocEncoding with half-em glyphs.
func (x *pdfExtractor) font(cache map[string]*pdfFont, res pdf.Value, name string) *pdfFont {
	if f, ok := cache[name]; ok {
		return f
	}
	v := res.Key("Font").Key(name)
	var f *pdfFont
	key := ""
	if v.Kind() == pdf.Dict {
		if key = v.String(); len(key) > 4096 {
			key = ""
		}
		f = x.loaded[key]
	}
	if f == nil {
		switch {
		case v.Kind() != pdf.Dict || x.fontLoads >= maxPDFFonts:
			if x.fallback == nil {
				x.fallback = x.loadFont(pdf.Value{})
			}
			f = x.fallback
		default:
			x.fontLoads++
			f = x.loadFont(v)
			if key != "" {
				if x.loaded == nil {
					x.loaded = map[string]*pdfFont{}
				}
				x.loaded[key] = f
			}
		}
	}
	if cache != nil {
		cache[name] = f
	}
	return f
}

func (x *pdfExtractor) loadFont(v pdf.Value) (f *pdfFont) {
	f = &pdfFont{scale: 0.001, defWidth: 500}
	defer func() {
		if r := recover(); r != nil {
			f = &pdfFont{scale: 0.001, defWidth: 500}
			f.setEncoding(pdf.Value{})
		}
	}()
	if tu := v.Key("ToUnicode"); tu.Kind() == pdf.Stream {
		f.cmap = x.readCMap(tu)
	}
	if v.Key("Subtype").Name() == "Type0" {
		f.composite = true
		enc := v.Key("Encoding").Name()
		f.ucs2 = strings.Contains(enc, "UCS2") || strings.Contains(enc, "UTF16")
		d := v.Key("DescendantFonts").Index(0)
		f.defWidth = 1000
		if dw := d.Key("DW"); dw.Kind() == pdf.Integer || dw.Kind() == pdf.Real {
			f.defWidth = dw.Float64()
		}
		f.cidWidths = pdfCIDWidths(d.Key("W"))
		return f
	}
	if v.Key("Subtype").Name() == "Type3" {
		if s := math.Abs(v.Key("FontMatrix").Index(0).Float64()); s > 0 && s < 1 {
			f.scale = s
		}
	}
	f.first = int(v.Key("FirstChar").Int64())
	w := v.Key("Widths")
	for i := 0; i < min(w.Len(), 256); i++ {
		f.widths = append(f.widths, w.Index(i).Float64())
	}
	if len(f.widths) > 0 {
		f.defWidth = v.Key("FontDescriptor").Key("MissingWidth").Float64()
	}
	f.setEncoding(v)
	return f
}

// setEncoding fills a simple font's code table from its /Encoding:
// WinAnsi (read as Windows-1252) or MacRoman, with the library applying a
// /Differences array over it; else PDFDocEncoding, which agrees with the
// standard Latin encoding on letters and digits.
func (f *pdfFont) setEncoding(v pdf.Value) {
	enc := v.Key("Encoding")
	name := enc.Name()
	var diff pdf.TextEncoding
	if enc.Kind() == pdf.Dict {
		name = enc.Key("BaseEncoding").Name()
		if enc.Key("Differences").Len() <= 512 { // the library scans it per byte
			lib := pdf.Font{V: v}
			diff = lib.Encoder()
		}
	}
	pdfDoc := pdf.Font{} // no /Encoding, no /ToUnicode: the library's PDFDocEncoding
	base := pdfDoc.Encoder()
	for c := range 256 {
		code := string([]byte{byte(c)})
		var t string
		switch name {
		case "WinAnsiEncoding":
			t = string(charmap.Windows1252.DecodeByte(byte(c)))
		case "MacRomanEncoding":
			t = string(charmap.Macintosh.DecodeByte(byte(c)))
		default:
			t = base.Decode(code)
		}
		if diff != nil {
			if d := diff.Decode(code); d != string(rune(c)) {
				t = d
			}
		}
		f.simple[c] = t
	}
}

// pdfCIDWidths reads a CIDFont's /W array: "c [w1 w2 ...]" and "cfirst clast w".
func pdfCIDWidths(w pdf.Value) map[uint32]float64 {
	m := map[uint32]float64{}
	work := 0
	n := w.Len()
	for i := 0; i+1 < n && work < maxPDFCMapEntries; {
		c := w.Index(i).Int64()
		next := w.Index(i + 1)
		if next.Kind() == pdf.Array {
			for j := 0; j < next.Len() && work < maxPDFCMapEntries; j++ {
				m[uint32(c+int64(j))] = next.Index(j).Float64()
				work++
			}
			i += 2
			continue
		}
		if i+2 >= n {
			break
		}
		last, wd := next.Int64(), w.Index(i+2).Float64()
		for k := c; k <= last && work < maxPDFCMapEntries; k++ {
			m[uint32(k)] = wd
			work++
		}
		i += 3
	}
	return m
}

// pdfCMap is a ToUnicode CMap: the code space (which byte lengths codes
// have) and each code's text.
type pdfCMap struct {
	spaces []pdfCodeSpace
	chars  map[uint64]string // key: byte length << 32 | code
	ranges []pdfCMapRange    // sorted by byte length, then lo
}

type pdfCodeSpace struct {
	n      int
	lo, hi uint32
}

type pdfCMapRange struct {
	n      int
	lo, hi uint32
	dst    []uint16 // UTF-16 of lo's text; the last unit counts up through the range
	arr    []string // or each code's text
}

// readCMap parses a ToUnicode CMap's codespacerange, bfchar and bfrange
// blocks; other PostScript is skipped. It returns nil for a CMap that cannot
// be read or maps nothing.
func (x *pdfExtractor) readCMap(v pdf.Value) (m *pdfCMap) {
	defer func() {
		if r := recover(); r != nil {
			m = nil
		}
	}()
	if x.streams++; x.streams > maxPDFStreams {
		return nil
	}
	rd, err := pdfStreamReader(v)
	if err != nil {
		return nil
	}
	lx := newPDFLexer(x.budgeted(rd))
	m = &pdfCMap{chars: map[uint64]string{}}
	var stack []pdfObj
	for {
		o, err := lx.next()
		if err != nil {
			break
		}
		if o.kind != pdfKeyword {
			if len(stack) < 3*maxPDFOperands {
				stack = append(stack, o)
			}
			continue
		}
		switch o.str {
		case "endcodespacerange":
			for i := 0; i+1 < len(stack) && len(m.spaces) < 256; i += 2 {
				lo, hi := stack[i].str, stack[i+1].str
				if n := len(lo); n >= 1 && n <= 4 && len(hi) == n {
					m.spaces = append(m.spaces, pdfCodeSpace{n, pdfCode(lo), pdfCode(hi)})
				}
			}
		case "endbfchar":
			for i := 0; i+1 < len(stack) && len(m.chars) < maxPDFCMapEntries; i += 2 {
				if src := stack[i].str; len(src) >= 1 && len(src) <= 4 && stack[i+1].kind == pdfString {
					m.chars[uint64(len(src))<<32|uint64(pdfCode(src))] = pdfUTF16(stack[i+1].str)
				}
			}
		case "endbfrange":
			for i := 0; i+2 < len(stack) && len(m.ranges) < maxPDFCMapEntries; i += 3 {
				lo, hi, dst := stack[i].str, stack[i+1].str, stack[i+2]
				n := len(lo)
				if n < 1 || n > 4 || len(hi) != n || pdfCode(lo) > pdfCode(hi) {
					continue
				}
				r := pdfCMapRange{n: n, lo: pdfCode(lo), hi: pdfCode(hi)}
				switch dst.kind {
				case pdfString:
					r.dst = pdfUnits(dst.str)
				case pdfArray:
					for _, e := range dst.arr {
						r.arr = append(r.arr, pdfUTF16(e.str))
					}
				}
				m.ranges = append(m.ranges, r)
			}
		}
		stack = stack[:0]
	}
	if len(m.chars) == 0 && len(m.ranges) == 0 {
		return nil
	}
	sort.Slice(m.ranges, func(i, j int) bool {
		a, b := m.ranges[i], m.ranges[j]
		return a.n < b.n || a.n == b.n && a.lo < b.lo
	})
	return m
}

// codeLen returns the byte length of the code at the start of s: the first
// length whose code space holds it, else def.
func (m *pdfCMap) codeLen(s string, def int) int {
	for n := 1; n <= 4 && n <= len(s); n++ {
		c := pdfCode(s[:n])
		for _, sp := range m.spaces {
			if sp.n == n && sp.lo <= c && c <= sp.hi {
				return n
			}
		}
	}
	return def
}

// lookup returns the text of an n-byte code.
func (m *pdfCMap) lookup(code uint32, n int) (string, bool) {
	if m == nil {
		return "", false
	}
	if t, ok := m.chars[uint64(n)<<32|uint64(code)]; ok {
		return t, true
	}
	i := sort.Search(len(m.ranges), func(i int) bool {
		r := m.ranges[i]
		return r.n > n || r.n == n && r.lo > code
	}) - 1
	if i < 0 || m.ranges[i].n != n || code > m.ranges[i].hi {
		return "", false
	}
	r := m.ranges[i]
	k := code - r.lo
	if r.arr != nil {
		if int(k) < len(r.arr) {
			return r.arr[k], true
		}
		return "", false
	}
	if len(r.dst) == 0 {
		return "", false
	}
	u := append([]uint16(nil), r.dst...)
	u[len(u)-1] += uint16(k)
	return string(utf16.Decode(u)), true
}

func pdfCode(s string) uint32 {
	c := uint32(0)
	for i := 0; i < len(s) && i < 4; i++ {
		c = c<<8 | uint32(s[i])
	}
	return c
}

// pdfUnits reads big-endian UTF-16 code units; an odd byte count is read as
// one byte per unit.
func pdfUnits(s string) []uint16 {
	if len(s)%2 == 1 {
		u := make([]uint16, len(s))
		for i := range len(s) {
			u[i] = uint16(s[i])
		}
		return u
	}
	u := make([]uint16, len(s)/2)
	for i := range u {
		u[i] = uint16(s[2*i])<<8 | uint16(s[2*i+1])
	}
	return u
}

func pdfUTF16(s string) string { return string(utf16.Decode(pdfUnits(s))) }

// pdfMatrix is an affine transform [a b c d e f], as PDF writes it.
type pdfMatrix [6]float64

var pdfIdentity = pdfMatrix{1, 0, 0, 1, 0, 0}

func pdfTranslate(x, y float64) pdfMatrix { return pdfMatrix{1, 0, 0, 1, x, y} }

// mul returns m followed by n.
func (m pdfMatrix) mul(n pdfMatrix) pdfMatrix {
	return pdfMatrix{
		m[0]*n[0] + m[1]*n[2], m[0]*n[1] + m[1]*n[3],
		m[2]*n[0] + m[3]*n[2], m[2]*n[1] + m[3]*n[3],
		m[4]*n[0] + m[5]*n[2] + n[4], m[4]*n[1] + m[5]*n[3] + n[5],
	}
}

func (m pdfMatrix) apply(x, y float64) (float64, float64) {
	return x*m[0] + y*m[2] + m[4], x*m[1] + y*m[3] + m[5]
}

// pdfMatrixOf reads the six numbers on top of the operand stack.
func pdfMatrixOf(stack []pdfObj) (pdfMatrix, bool) {
	var m pdfMatrix
	if len(stack) < 6 {
		return m, false
	}
	for i, o := range stack[len(stack)-6:] {
		if o.kind != pdfNumber {
			return m, false
		}
		m[i] = o.num
	}
	return m, true
}

func pdfMatrixValue(v pdf.Value) (pdfMatrix, bool) {
	var m pdfMatrix
	if v.Len() != 6 {
		return m, false
	}
	for i := range m {
		m[i] = v.Index(i).Float64()
	}
	return m, true
}

// The PDF lexer reads content streams, CMaps and, for pdfCheckXref, the
// file's own objects. It reads whole arrays and dictionaries, folds "n g R"
// into a reference, and bounds strings, arrays, dictionaries and nesting.

type pdfKind uint8

const (
	pdfNumber pdfKind = iota + 1
	pdfString
	pdfName
	pdfArray
	pdfDict
	pdfRef // num is the object number
	pdfKeyword
)

type pdfObj struct {
	kind pdfKind
	num  float64
	str  string // a string's bytes, a name without its slash, a keyword, a number as written
	arr  []pdfObj
	dict map[string]pdfObj
}

type pdfLexer struct {
	r     *bufio.Reader
	pos   int64 // bytes read
	depth int
}

func newPDFLexer(r io.Reader) *pdfLexer { return &pdfLexer{r: bufio.NewReader(r)} }

func (l *pdfLexer) readByte() (byte, error) {
	c, err := l.r.ReadByte()
	if err == nil {
		l.pos++
	}
	return c, err
}

func (l *pdfLexer) unreadByte() {
	if l.r.UnreadByte() == nil {
		l.pos--
	}
}

func pdfSpace(c byte) bool {
	return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == 0
}

func pdfDelim(c byte) bool {
	return strings.IndexByte("()<>[]{}/%", c) >= 0
}

// next returns the next object or keyword; io.EOF at the end.
func (l *pdfLexer) next() (pdfObj, error) {
	for {
		c, err := l.readByte()
		if err != nil {
			return pdfObj{}, err
		}
		switch {
		case pdfSpace(c), c == ')', c == '{', c == '}':
		case c == '%':
			for c != '\n' && c != '\r' && err == nil {
				c, err = l.readByte()
			}
		case c == '(':
			return l.literal()
		case c == '<':
			if c, err := l.readByte(); err == nil && c == '<' {
				return l.container(">>")
			} else if err == nil {
				l.unreadByte()
			}
			return l.hex()
		case c == '>':
			if c, err := l.readByte(); err == nil && c == '>' {
				return pdfObj{kind: pdfKeyword, str: ">>"}, nil
			} else if err == nil {
				l.unreadByte()
			}
		case c == '[':
			return l.container("]")
		case c == ']':
			return pdfObj{kind: pdfKeyword, str: "]"}, nil
		case c == '/':
			return pdfObj{kind: pdfName, str: l.regular(true)}, nil
		default:
			l.unreadByte()
			s := l.regular(false)
			if strings.IndexByte("+-.0123456789", s[0]) >= 0 {
				if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
					return pdfObj{kind: pdfNumber, num: f, str: s}, nil
				}
			}
			return pdfObj{kind: pdfKeyword, str: s}, nil
		}
	}
}

// regular reads a run of regular characters (at most 256 are kept),
// decoding #xx escapes in names.
func (l *pdfLexer) regular(name bool) string {
	var b []byte
	for {
		c, err := l.readByte()
		if err != nil {
			break
		}
		if pdfSpace(c) || pdfDelim(c) {
			l.unreadByte()
			break
		}
		if name && c == '#' {
			h, _ := l.r.Peek(2)
			if v, err := strconv.ParseUint(string(h), 16, 8); err == nil && len(h) == 2 {
				l.readByte()
				l.readByte()
				c = byte(v)
			}
		}
		if len(b) < 256 {
			b = append(b, c)
		}
	}
	return string(b)
}

// container reads an array or dictionary up to its closing keyword.
func (l *pdfLexer) container(end string) (pdfObj, error) {
	if l.depth >= maxPDFNesting {
		return pdfObj{}, errors.New("objects nested too deep")
	}
	l.depth++
	defer func() { l.depth-- }()
	var items []pdfObj
	var err error
	for {
		var o pdfObj
		if o, err = l.next(); err != nil {
			break
		}
		if o.kind == pdfKeyword {
			if o.str == end {
				break
			}
			if o.str == "R" && len(items) >= 2 && items[len(items)-1].kind == pdfNumber && items[len(items)-2].kind == pdfNumber {
				items = append(items[:len(items)-2], pdfObj{kind: pdfRef, num: items[len(items)-2].num})
				continue
			}
		}
		if len(items) < maxPDFArray {
			items = append(items, o)
		}
	}
	if end == "]" {
		return pdfObj{kind: pdfArray, arr: items}, err
	}
	d := pdfObj{kind: pdfDict, dict: map[string]pdfObj{}}
	for i := 0; i+1 < len(items) && len(d.dict) < maxPDFDictKeys; i += 2 {
		if items[i].kind == pdfName {
			d.dict[items[i].str] = items[i+1]
		}
	}
	return d, err
}

// literal reads a (string) after its opening parenthesis.
func (l *pdfLexer) literal() (pdfObj, error) {
	var b []byte
	depth := 1
	for {
		c, err := l.readByte()
		if err != nil {
			break
		}
		switch c {
		case '\\':
			if c, err = l.readByte(); err != nil {
				return pdfObj{kind: pdfString, str: string(b)}, nil
			}
			switch c {
			case 'n':
				c = '\n'
			case 'r':
				c = '\r'
			case 't':
				c = '\t'
			case 'b':
				c = '\b'
			case 'f':
				c = '\f'
			case '\r':
				if c, err := l.readByte(); err == nil && c != '\n' {
					l.unreadByte()
				}
				continue
			case '\n':
				continue
			case '0', '1', '2', '3', '4', '5', '6', '7':
				v := int(c - '0')
				for range 2 {
					d, err := l.readByte()
					if err != nil {
						break
					}
					if d < '0' || d > '7' {
						l.unreadByte()
						break
					}
					v = v*8 + int(d-'0')
				}
				c = byte(v)
			}
		case '(':
			depth++
		case ')':
			if depth--; depth == 0 {
				return pdfObj{kind: pdfString, str: string(b)}, nil
			}
		}
		if len(b) < maxPDFString {
			b = append(b, c)
		}
	}
	return pdfObj{kind: pdfString, str: string(b)}, nil
}

// hex reads a <hex string> after its opening bracket.
func (l *pdfLexer) hex() (pdfObj, error) {
	var b []byte
	v, half := byte(0), false
	for {
		c, err := l.readByte()
		if err != nil || c == '>' {
			break
		}
		var d byte
		switch {
		case '0' <= c && c <= '9':
			d = c - '0'
		case 'a' <= c && c <= 'f':
			d = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			d = c - 'A' + 10
		default:
			continue
		}
		if half {
			if len(b) < maxPDFString {
				b = append(b, v<<4|d)
			}
		} else {
			v = d
		}
		half = !half
	}
	if half {
		b = append(b, v<<4)
	}
	return pdfObj{kind: pdfString, str: string(b)}, nil
}

// skipInlineImage skips from after BI past the image's EI: its parameters
// up to ID, one white-space byte, then binary data up to an EI that stands
// between white space.
func (l *pdfLexer) skipInlineImage() error {
	for {
		o, err := l.next()
		if err != nil {
			return err
		}
		if o.kind == pdfKeyword && o.str == "ID" {
			break
		}
	}
	if c, err := l.readByte(); err == nil && !pdfSpace(c) {
		l.unreadByte()
	}
	b3, b2, b1 := byte(' '), byte(0), byte(0)
	for {
		c, err := l.readByte()
		if b2 == 'E' && b1 == 'I' && pdfSpace(b3) && (err != nil || pdfSpace(c) || pdfDelim(c)) {
			if err == nil {
				l.unreadByte()
			}
			return nil
		}
		if err != nil {
			return err
		}
		b3, b2, b1 = b2, b1, c
	}
}

// pdfCheckXref reads the cross-reference sections the way the library will
// when it opens the file (the same startxref, /Prev chain, entries and
// decoding, integers where it wants integers) and refuses what would make it
// loop, recurse or allocate without bound: a /Prev chain that loops or is
// over maxPDFXrefChain long; object numbers over maxPDFObjects or entries
// over maxPDFXrefEntries; an xref stream field over 8 bytes or a predictor
// row over maxPDFColumns; an object stream stored in an object stream, or
// whose dictionary refers into one, or that /Extends in a loop; an object
// stream that claims over maxPDFObjects objects or decodes to over
// maxPDFObjStmEach (all of them: maxPDFObjStm). Where the library would fail
// on its own, safely, the check lets it.
func pdfCheckXref(data []byte) error {
	off, ok := pdfStartXref(data)
	if !ok {
		return nil
	}
	c := &pdfXrefCheck{data: data, containers: map[int]bool{}}
	seen := map[int64]bool{}
	for first := true; off >= 0 && off < int64(len(data)); first = false {
		if seen[off] {
			return errors.New("malformed PDF: the cross-reference sections loop (/Prev)")
		}
		if len(seen) == maxPDFXrefChain {
			return fmt.Errorf("malformed PDF: over %d cross-reference sections", maxPDFXrefChain)
		}
		seen[off] = true
		trailer, err := c.section(off)
		if err != nil {
			return err
		}
		if first {
			_, c.encrypted = trailer["Encrypt"]
		}
		if off, ok = trailer["Prev"].integer(); !ok {
			break
		}
	}
	return c.objectStreams()
}

// pdfStartXref finds the offset after the last "startxref" line in the
// file's last 100 bytes, which must end in %%EOF, as the library does.
func pdfStartXref(data []byte) (int64, bool) {
	if len(data) < 100 {
		return 0, false
	}
	end := bytes.TrimRight(data[len(data)-100:], "\r\n\t ")
	if !bytes.HasSuffix(end, []byte("%%EOF")) {
		return 0, false
	}
	line := func(c byte) bool { return c == '\n' || c == '\r' }
	for i := bytes.LastIndex(end, []byte("startxref")); i > 0; i = bytes.LastIndex(end[:i], []byte("startxref")) {
		if j := i + len("startxref"); j < len(end) && line(end[i-1]) && line(end[j]) {
			o, err := newPDFLexer(bytes.NewReader(end[j:])).next()
			if err != nil {
				return 0, false
			}
			return o.integer()
		}
	}
	return 0, false
}

// integer returns a number written as an integer, as the library reads one.
func (o pdfObj) integer() (int64, bool) {
	if o.kind != pdfNumber {
		return 0, false
	}
	n, err := strconv.ParseInt(o.str, 10, 64)
	return n, err == nil
}

// int64 is the library's Value.Int64: an integer, else 0.
func (o pdfObj) int64() int64 {
	n, _ := o.integer()
	return n
}

// pdfXrefEntry is one object's cross-reference entry: type 1 at an offset,
// type 2 inside the object stream numbered at, type 3 free; 0 is unset.
type pdfXrefEntry struct {
	typ uint8
	at  int64
}

type pdfXrefCheck struct {
	data       []byte
	encrypted  bool
	entries    int64          // cross-reference entries named so far
	table      []pdfXrefEntry // from xref streams, the newest entry for each object
	containers map[int]bool   // object streams that hold objects
}

// count adds n entries from start, refusing numbers and totals over the limits.
func (c *pdfXrefCheck) count(start, n int64) error {
	if start > maxPDFObjects || n > maxPDFObjects || start+n > maxPDFObjects {
		return fmt.Errorf("malformed PDF: object number %d is over the limit of %d", start+n, maxPDFObjects)
	}
	if c.entries += max(n, 0); c.entries > maxPDFXrefEntries {
		return fmt.Errorf("malformed PDF: over %d cross-reference entries", maxPDFXrefEntries)
	}
	return nil
}

// section checks the cross-reference section at off and returns its
// trailer (an xref stream's dictionary); nil where the library fails.
func (c *pdfXrefCheck) section(off int64) (map[string]pdfObj, error) {
	lx := newPDFLexer(bytes.NewReader(c.data[off:]))
	o, err := lx.next()
	if err != nil {
		return nil, nil
	}
	if o.kind == pdfKeyword && o.str == "xref" {
		for {
			first, err := lx.next()
			if err != nil {
				return nil, nil
			}
			if first.kind == pdfKeyword && first.str == "trailer" {
				break
			}
			count, _ := lx.next()
			start, ok1 := first.integer()
			n, ok2 := count.integer()
			if !ok1 || !ok2 {
				return nil, nil
			}
			if err := c.count(start, n); err != nil {
				return nil, err
			}
			for range 3 * max(n, 0) {
				if _, err := lx.next(); err != nil {
					return nil, nil
				}
			}
		}
		t, err := lx.next()
		if err != nil || t.kind != pdfDict {
			return nil, nil
		}
		return t.dict, nil
	}
	d, at, ok := c.streamObject(lx, o, off)
	if !ok {
		return nil, nil
	}
	return d, c.xrefStream(d, at)
}

// streamObject reads "n g obj <<dict>> stream" from lx, which started at
// offset base and has read o, and returns the dictionary and the offset of
// the stream's data.
func (c *pdfXrefCheck) streamObject(lx *pdfLexer, o pdfObj, base int64) (map[string]pdfObj, int64, bool) {
	g, _ := lx.next()
	kw, _ := lx.next()
	d, _ := lx.next()
	s, err := lx.next()
	if err != nil || o.kind != pdfNumber || g.kind != pdfNumber || kw.str != "obj" || d.kind != pdfDict || s.str != "stream" {
		return nil, 0, false
	}
	if b, err := lx.readByte(); err == nil && b == '\r' {
		if b, err := lx.readByte(); err == nil && b != '\n' {
			lx.unreadByte()
		}
	}
	return d.dict, base + lx.pos, true
}

// streamData returns the decoded bytes of the stream at offset at with
// dictionary d, as the library decodes them: /Length bytes (cut at the end
// of the file), then at most one FlateDecode with the PNG Up predictor.
// ok is false where the library fails; unsupported where it might not.
func (c *pdfXrefCheck) streamData(d map[string]pdfObj, at int64) (rd io.Reader, ok bool, err error) {
	end := int64(len(c.data))
	if n := c.length(d["Length"]); n >= 0 {
		end = min(at+n, end) // a negative length reads to the end (io.NewSectionReader)
	}
	rd = bytes.NewReader(c.data[at:end])
	var parms pdfObj
	switch f := d["Filter"]; {
	case f.kind == 0:
		return rd, true, nil
	case f.kind == pdfName && f.str == "FlateDecode":
		parms = d["DecodeParms"]
	case f.kind == pdfArray && len(f.arr) == 1 && f.arr[0].str == "FlateDecode":
		if dp := d["DecodeParms"]; dp.kind == pdfArray && len(dp.arr) > 0 {
			parms = dp.arr[0]
		}
	default:
		return nil, false, errors.New("unsupported PDF: a cross-reference or object stream filter other than Flate")
	}
	zr, err := zlib.NewReader(rd)
	if err != nil {
		return nil, false, nil
	}
	pred, ok := parms.dict["Predictor"]
	if !ok {
		return zr, true, nil
	}
	cols := parms.dict["Columns"].int64()
	if cols > maxPDFColumns {
		return nil, false, fmt.Errorf("malformed PDF: a predictor row of over %d bytes", maxPDFColumns)
	}
	if pred.int64() != 12 || cols < 0 {
		return nil, false, nil
	}
	return &pdfPNGUp{r: zr, row: make([]byte, 1+cols)}, true, nil
}

// length reads a stream's /Length: an integer, or a reference to one in an
// object the xref streams place in the file; else 0, as the library reads it.
func (c *pdfXrefCheck) length(v pdfObj) int64 {
	if v.kind != pdfRef {
		return v.int64()
	}
	x := int(v.num)
	if x < 0 || x >= len(c.table) || c.table[x].typ != 1 || c.table[x].at < 0 || c.table[x].at >= int64(len(c.data)) {
		return 0
	}
	lx := newPDFLexer(bytes.NewReader(c.data[c.table[x].at:]))
	for range 3 { // n g obj
		if _, err := lx.next(); err != nil {
			return 0
		}
	}
	n, _ := lx.next()
	return n.int64()
}

// xrefStream checks an xref stream's dictionary and records its entries.
func (c *pdfXrefCheck) xrefStream(d map[string]pdfObj, at int64) error {
	size, ok := d["Size"].integer()
	if !ok {
		return nil
	}
	if err := c.count(0, size); err != nil {
		return err
	}
	var w []int
	total := 0
	for _, x := range d["W"].arr {
		n, ok := x.integer()
		if !ok {
			return nil
		}
		if n < 0 || n > 8 {
			return errors.New("malformed PDF: an xref stream field is over 8 bytes")
		}
		w = append(w, int(n))
		total += int(n)
	}
	if len(w) < 3 {
		return nil
	}
	index := d["Index"].arr
	if index == nil {
		index = []pdfObj{{kind: pdfNumber, str: "0"}, d["Size"]}
	}
	if len(index)%2 != 0 {
		return nil
	}
	var ranges [][2]int64
	for i := 0; i < len(index); i += 2 {
		start, ok1 := index[i].integer()
		n, ok2 := index[i+1].integer()
		if !ok1 || !ok2 {
			return nil
		}
		if err := c.count(start, n); err != nil {
			return err
		}
		ranges = append(ranges, [2]int64{start, n})
	}
	rd, ok, err := c.streamData(d, at)
	if !ok {
		return err
	}
	buf := make([]byte, total)
	for _, r := range ranges {
		for j := range r[1] {
			if _, err := io.ReadFull(rd, buf); err != nil {
				return nil
			}
			var f [3]int64
			p := 0
			for k := range 3 {
				for range w[k] {
					f[k] = f[k]<<8 | int64(buf[p])
					p++
				}
			}
			if w[0] == 0 {
				f[0] = 1
			}
			c.record(r[0]+j, f[0], f[1])
		}
	}
	return nil
}

// record keeps the first entry seen for object x, the newest, as the
// library does.
func (c *pdfXrefCheck) record(x, typ, f2 int64) {
	if x < 0 || x >= maxPDFObjects || typ < 0 || typ > 2 {
		return // the library leaves such entries unset too
	}
	if x >= int64(len(c.table)) {
		c.table = append(c.table, make([]pdfXrefEntry, x+1-int64(len(c.table)))...)
	}
	if c.table[x].typ != 0 {
		return
	}
	switch typ {
	case 0:
		c.table[x] = pdfXrefEntry{typ: 3}
	case 1:
		c.table[x] = pdfXrefEntry{typ: 1, at: f2}
	case 2:
		in := int64(uint32(f2)) // as the library stores it
		c.table[x] = pdfXrefEntry{typ: 2, at: in}
		c.containers[int(in)] = true
	}
}

// objectStreams checks each object stream that holds objects, and the ones
// it /Extends; a chain is marked checked once it ends without a loop.
func (c *pdfXrefCheck) objectStreams() error {
	checked := map[int]bool{}
	decoded := int64(0)
	for s := range c.containers {
		var chain []int
		for cur := s; !checked[cur]; {
			if slices.Contains(chain, cur) || len(chain) == maxPDFXrefChain {
				return errors.New("malformed PDF: object streams /Extends in a loop")
			}
			chain = append(chain, cur)
			if cur < 0 || cur >= len(c.table) || c.table[cur].typ != 1 {
				if cur >= 0 && cur < len(c.table) && c.table[cur].typ == 2 {
					return errors.New("malformed PDF: an object stream is stored in an object stream")
				}
				break // the library finds no stream there
			}
			at := c.table[cur].at
			if at < 0 || at >= int64(len(c.data)) {
				break
			}
			lx := newPDFLexer(bytes.NewReader(c.data[at:]))
			o, err := lx.next()
			if err != nil {
				break
			}
			d, stm, ok := c.streamObject(lx, o, at)
			if !ok {
				return fmt.Errorf("malformed PDF: cannot read object stream %d", cur)
			}
			if err := c.noCompressedRefs(pdfObj{kind: pdfDict, dict: d}); err != nil {
				return err
			}
			if n := d["N"].int64(); n > maxPDFObjects {
				return fmt.Errorf("malformed PDF: an object stream claims %d objects", n)
			}
			if !c.encrypted {
				rd, ok, err := c.streamData(d, stm)
				if err != nil {
					return err
				}
				if ok {
					n, _ := io.Copy(io.Discard, io.LimitReader(rd, min(maxPDFObjStmEach, maxPDFObjStm-decoded)+1))
					if n > maxPDFObjStmEach {
						return fmt.Errorf("malformed PDF: an object stream decodes to over %d MiB", maxPDFObjStmEach>>20)
					}
					if decoded += n; decoded > maxPDFObjStm {
						return fmt.Errorf("malformed PDF: object streams decode to over %d MiB", maxPDFObjStm>>20)
					}
				}
			} else if cols := d["DecodeParms"].dict["Columns"].int64(); cols > maxPDFColumns {
				return fmt.Errorf("malformed PDF: a predictor row of over %d bytes", maxPDFColumns)
			}
			ext := d["Extends"]
			if ext.kind != pdfRef {
				break
			}
			cur = int(ext.num)
		}
		for _, k := range chain {
			checked[k] = true
		}
	}
	return nil
}

// noCompressedRefs refuses an object stream whose dictionary refers to an
// object stored in an object stream: the library would recurse for ever.
func (c *pdfXrefCheck) noCompressedRefs(o pdfObj) error {
	switch o.kind {
	case pdfRef:
		if x := int(o.num); x >= 0 && x < len(c.table) && c.table[x].typ == 2 {
			return errors.New("malformed PDF: an object stream's dictionary refers into an object stream")
		}
	case pdfArray:
		for _, e := range o.arr {
			if err := c.noCompressedRefs(e); err != nil {
				return err
			}
		}
	case pdfDict:
		for _, e := range o.dict {
			if err := c.noCompressedRefs(e); err != nil {
				return err
			}
		}
	}
	return nil
}

// pdfPNGUp undoes the PNG Up predictor the way the library does: every row's
// filter byte must be 2.
type pdfPNGUp struct {
	r    io.Reader
	row  []byte // the previous row, filter byte first
	tmp  []byte
	pend []byte
}

func (p *pdfPNGUp) Read(b []byte) (int, error) {
	n := 0
	for len(b) > 0 {
		if len(p.pend) > 0 {
			m := copy(b, p.pend)
			n += m
			b = b[m:]
			p.pend = p.pend[m:]
			continue
		}
		if p.tmp == nil {
			p.tmp = make([]byte, len(p.row))
		}
		if _, err := io.ReadFull(p.r, p.tmp); err != nil {
			return n, err
		}
		if p.tmp[0] != 2 {
			return n, errors.New("malformed PNG-Up encoding")
		}
		for i, c := range p.tmp {
			p.row[i] += c
		}
		p.pend = p.row[1:]
	}
	return n, nil
}
