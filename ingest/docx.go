package ingest

// DOCX (Office Open XML WordprocessingML, ECMA-376) loading.
//
// A .docx file is a zip archive of XML parts. Two are read, nothing else:
//
//	word/document.xml  the body, required
//	docProps/core.xml  the document properties, optional; dc:title names the document
//
// The body is a sequence of paragraphs and tables:
//
//	<w:p>                       a paragraph
//	  <w:pPr><w:pStyle w:val="Heading2"/></w:pPr>   its style: Title, Heading1..Heading9
//	  <w:r><w:t>text</w:t><w:tab/><w:br/></w:r>     runs of text, tabs and line breaks
//	</w:p>
//	<w:tbl><w:tr><w:tc><w:p>…</w:p></w:tc></w:tr></w:tbl>   a table: rows of cells of paragraphs
//
// The document's text is its paragraphs, trimmed and separated by a blank
// line; a tab is "\t", a line break "\n". A table is one paragraph: its cells
// (their paragraphs joined by a space) separated by " | ", its rows by "\n"
// (a table inside a cell becomes cell text with rows separated by "; ").
// Paragraphs styled Title (level 0) or Heading1..Heading9 (also "heading 1",
// or with a direct w:outlineLvl) start sections whose paths run from the top
// heading down, as for Markdown. Left out: hidden runs (w:vanish), text
// moved or deleted under tracked changes (w:moveFrom, w:del), the fallback
// copy of alternate content (mc:Fallback), field codes, and every other part
// (headers, footers, footnotes, comments). The title is core.xml's dc:title,
// else the first Title-styled paragraph, else empty (Load names the
// document after its file).
//
// The archive is untrusted. Each part is decompressed as a stream through an
// io.LimitedReader, and the parts together may expand to docxMaxBytes at
// most; a part whose declared size is over what is left, or that claims to
// expand more than docxMaxRatio times past its first docxRatioFloor bytes,
// is rejected before it is read (archive/zip itself fails a part that
// expands past its declared size). So a zip bomb costs a header check, not
// a gigabyte of inflating.

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/groundedhq/grounded"
)

const (
	// docxMaxBytes caps the uncompressed bytes read from one DOCX archive.
	docxMaxBytes = 64 << 20
	// docxMaxRatio caps a part's uncompressed:compressed size ratio (the
	// 1:100 that Apache POI's ZipSecureFile uses); XML text inflates 5 to 20 times.
	docxMaxRatio = 100
	// docxRatioFloor is the size under which a part's ratio is not checked:
	// small parts of repeated markup may inflate more and cost nothing.
	docxRatioFloor = 1 << 20

	docxBody  = "word/document.xml"
	docxProps = "docProps/core.xml"
)

// XML name spaces of the elements read.
const (
	nsWord       = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
	nsWordStrict = "http://purl.oclc.org/ooxml/wordprocessingml/main"
	nsCompat     = "http://schemas.openxmlformats.org/markup-compatibility/2006"
	nsDC         = "http://purl.org/dc/elements/1.1/"
)

// errPartTooLarge marks a part that would expand past the archive's limits.
var errPartTooLarge = errors.New("DOCX limit")

// loadDOCX reads a DOCX archive into doc (see the format notes above). It
// returns an *grounded.Error: EINVALID when data is not a DOCX file or its
// body is not well-formed XML, ETOOLARGE when a part expands past the limits.
func loadDOCX(doc *grounded.Document, data []byte) error {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil && !(errors.Is(err, zip.ErrInsecurePath) && zr != nil) {
		return grounded.Errorf(grounded.EINVALID, "%s: not a DOCX file: %v", doc.Source, err)
	}
	var body, props *zip.File
	for _, f := range zr.File {
		switch {
		case f.Name == docxBody && body == nil:
			body = f
		case f.Name == docxProps && props == nil:
			props = f
		}
	}
	if body == nil {
		return grounded.Errorf(grounded.EINVALID, "%s: not a DOCX file: no %s", doc.Source, docxBody)
	}
	budget := int64(docxMaxBytes)
	p := &docxParser{}
	if err := readPart(body, &budget, p.parse); err != nil {
		if errors.Is(err, errPartTooLarge) {
			return grounded.Errorf(grounded.ETOOLARGE, "%s: %s %v", doc.Source, docxBody, err)
		}
		return grounded.Errorf(grounded.EINVALID, "%s: %s: %v", doc.Source, docxBody, err)
	}
	title := ""
	if props != nil {
		err := readPart(props, &budget, func(r io.Reader) error {
			var err error
			title, err = coreTitle(r)
			return err
		})
		if errors.Is(err, errPartTooLarge) {
			return grounded.Errorf(grounded.ETOOLARGE, "%s: %s %v", doc.Source, docxProps, err)
		}
		// Other errors in the optional properties part only cost the title.
	}
	if title == "" {
		title = p.firstTitle
	}
	doc.Text = p.out.String()
	doc.Title = title
	doc.Sections = p.sections()
	return nil
}

// readPart decompresses f through an io.LimitedReader into parse, taking
// what it reads from *budget. It fails with errPartTooLarge, before reading,
// when f's declared size is over the budget or its ratio over docxMaxRatio,
// and after, when parse read more than the budget.
func readPart(f *zip.File, budget *int64, parse func(io.Reader) error) error {
	size, packed := f.UncompressedSize64, f.CompressedSize64
	if size > uint64(*budget) {
		return fmt.Errorf("expands to %d bytes, past the %d left of the %d-byte %w", size, *budget, docxMaxBytes, errPartTooLarge)
	}
	if size > docxRatioFloor && size/docxMaxRatio > packed {
		return fmt.Errorf("expands %d times (%d to %d bytes), past the %d-times %w", size/max(packed, 1), packed, size, docxMaxRatio, errPartTooLarge)
	}
	rc, err := f.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	lr := &io.LimitedReader{R: rc, N: *budget + 1}
	err = parse(lr)
	used := *budget + 1 - lr.N
	if used > *budget {
		return fmt.Errorf("expands past the %d-byte %w", docxMaxBytes, errPartTooLarge)
	}
	*budget -= used
	return err
}

// coreTitle returns the dc:title of a docProps/core.xml part, white space collapsed.
func coreTitle(r io.Reader) (string, error) {
	d := xml.NewDecoder(r)
	var b strings.Builder
	depth := 0 // inside dc:title
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return "", nil
		}
		if err != nil {
			return "", err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if depth > 0 || (t.Name.Space == nsDC && t.Name.Local == "title") {
				depth++
			}
		case xml.EndElement:
			if depth > 0 {
				if depth--; depth == 0 {
					return strings.Join(strings.Fields(b.String()), " "), nil
				}
			}
		case xml.CharData:
			if depth > 0 {
				b.Write(t)
			}
		}
	}
}

// docxParser turns word/document.xml's tokens into text and headings.
type docxParser struct {
	out        strings.Builder
	heads      []heading // level 0 for Title, 1..9 for Heading1..Heading9
	firstTitle string

	stack  []xml.Name   // open elements
	skip   int          // depth inside a left-out element, 0 outside
	paras  []*docxPara  // open paragraphs, innermost last (text boxes nest them)
	runs   []bool       // open runs, innermost last: true when hidden
	tables []*docxTable // open tables, innermost last
	inText bool         // inside a w:t of a visible run
}

type docxPara struct {
	text  strings.Builder
	style int // heading level, -1 for body text
	outln int // heading level from w:outlineLvl, -1 for none
}

type docxTable struct {
	rows [][]string
	row  []string
	cell strings.Builder
	open bool // a cell is open
}

func isWord(n xml.Name) bool { return n.Space == nsWord || n.Space == nsWordStrict }

// parent returns the name of the element k levels above the current one
// (k = 0: the current element), or the zero Name.
func (p *docxParser) parent(k int) xml.Name {
	if i := len(p.stack) - 1 - k; i >= 0 {
		return p.stack[i]
	}
	return xml.Name{}
}

func (p *docxParser) is(k int, local string) bool {
	n := p.parent(k)
	return isWord(n) && n.Local == local
}

// wordVal returns the value of t's w:val attribute.
func wordVal(t xml.StartElement) (string, bool) {
	for _, a := range t.Attr {
		if a.Name.Local == "val" && (a.Name.Space == "" || isWord(a.Name)) {
			return a.Value, true
		}
	}
	return "", false
}

func (p *docxParser) parse(r io.Reader) error {
	d := xml.NewDecoder(r)
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			p.start(t)
		case xml.EndElement:
			p.end()
		case xml.CharData:
			if p.inText && p.skip == 0 && len(p.paras) > 0 {
				p.paras[len(p.paras)-1].text.Write(t)
			}
		}
	}
}

func (p *docxParser) start(t xml.StartElement) {
	p.stack = append(p.stack, t.Name)
	if p.skip > 0 {
		p.skip++
		return
	}
	n := t.Name
	if n.Space == nsCompat && n.Local == "Fallback" || isWord(n) && (n.Local == "moveFrom" || n.Local == "del") {
		p.skip = 1
		return
	}
	if !isWord(n) {
		return
	}
	para := func() *docxPara {
		if len(p.paras) == 0 {
			return nil
		}
		return p.paras[len(p.paras)-1]
	}
	inRun := p.is(1, "r") && len(p.runs) > 0 && !p.runs[len(p.runs)-1]
	switch n.Local {
	case "p":
		p.paras = append(p.paras, &docxPara{style: -1, outln: -1})
	case "pStyle":
		if v, ok := wordVal(t); ok && p.is(1, "pPr") && p.is(2, "p") && para() != nil {
			para().style = styleLevel(v)
		}
	case "outlineLvl":
		if v, ok := wordVal(t); ok && p.is(1, "pPr") && p.is(2, "p") && para() != nil {
			if len(v) == 1 && '0' <= v[0] && v[0] <= '8' {
				para().outln = int(v[0]-'0') + 1
			}
		}
	case "r":
		p.runs = append(p.runs, false)
	case "vanish":
		if p.is(1, "rPr") && p.is(2, "r") && len(p.runs) > 0 {
			v, _ := wordVal(t)
			p.runs[len(p.runs)-1] = v != "false" && v != "0" && v != "off"
		}
	case "t":
		p.inText = inRun
	case "tab", "ptab":
		if inRun && para() != nil {
			para().text.WriteByte('\t')
		}
	case "br", "cr":
		if inRun && para() != nil {
			para().text.WriteByte('\n')
		}
	case "noBreakHyphen":
		if inRun && para() != nil {
			para().text.WriteByte('-')
		}
	case "tbl":
		p.tables = append(p.tables, &docxTable{})
	case "tr":
		if tb := p.table(); tb != nil {
			tb.endRow()
		}
	case "tc":
		if tb := p.table(); tb != nil {
			tb.endCell()
			tb.open = true
		}
	}
}

func (p *docxParser) end() {
	n := p.parent(0)
	p.stack = p.stack[:len(p.stack)-1]
	if p.skip > 0 {
		p.skip--
		return
	}
	if !isWord(n) {
		return
	}
	switch n.Local {
	case "t":
		p.inText = false
	case "r":
		if len(p.runs) > 0 {
			p.runs = p.runs[:len(p.runs)-1]
		}
	case "p":
		if len(p.paras) > 0 {
			para := p.paras[len(p.paras)-1]
			p.paras = p.paras[:len(p.paras)-1]
			level := para.style
			if level < 0 {
				level = para.outln
			}
			p.emit(para.text.String(), level)
		}
	case "tc":
		if tb := p.table(); tb != nil {
			tb.endCell()
		}
	case "tr":
		if tb := p.table(); tb != nil {
			tb.endRow()
		}
	case "tbl":
		if tb := p.table(); tb != nil {
			p.tables = p.tables[:len(p.tables)-1]
			sep := "\n"
			if len(p.tables) > 0 {
				sep = "; " // a table in a cell: keep the outer row on one line
			}
			p.emit(tb.render(sep), -1)
		}
	}
}

func (p *docxParser) table() *docxTable {
	if len(p.tables) == 0 {
		return nil
	}
	return p.tables[len(p.tables)-1]
}

// emit adds a finished paragraph: to the open table's cell, or to the text
// as a paragraph of its own, a heading when level >= 0.
func (p *docxParser) emit(text string, level int) {
	text = strings.TrimSpace(text)
	if text == "" {
		return
	}
	if tb := p.table(); tb != nil {
		if !tb.open {
			tb.open = true // a paragraph outside any cell: give it one
		}
		if tb.cell.Len() > 0 {
			tb.cell.WriteByte(' ')
		}
		tb.cell.WriteString(text)
		return
	}
	if p.out.Len() > 0 {
		p.out.WriteString("\n\n")
	}
	if level >= 0 {
		title := strings.Join(strings.Fields(text), " ")
		if level == 0 && p.firstTitle == "" {
			p.firstTitle = title
		}
		p.heads = append(p.heads, heading{level, title, p.out.Len()})
	}
	p.out.WriteString(text)
}

// styleLevel returns the heading level a paragraph style id selects: 0 for
// Title, 1..9 for Heading1..Heading9 (or "heading 1"), -1 otherwise.
func styleLevel(style string) int {
	s := strings.ToLower(strings.ReplaceAll(style, " ", ""))
	if s == "title" {
		return 0
	}
	if rest, ok := strings.CutPrefix(s, "heading"); ok && len(rest) == 1 && '1' <= rest[0] && rest[0] <= '9' {
		return int(rest[0] - '0')
	}
	return -1
}

func (tb *docxTable) endCell() {
	if !tb.open {
		return
	}
	tb.row = append(tb.row, strings.Join(strings.Fields(tb.cell.String()), " "))
	tb.cell.Reset()
	tb.open = false
}

func (tb *docxTable) endRow() {
	tb.endCell()
	if len(tb.row) > 0 {
		tb.rows = append(tb.rows, tb.row)
	}
	tb.row = nil
}

// render returns the table's text: cells separated by " | ", rows by sep,
// rows of empty cells left out.
func (tb *docxTable) render(sep string) string {
	tb.endRow()
	var lines []string
	for _, r := range tb.rows {
		line := strings.TrimSpace(strings.Join(r, " | "))
		if strings.Trim(line, " |") != "" {
			lines = append(lines, line)
		}
	}
	return strings.Join(lines, sep)
}

// sections returns the text before the first heading (when it holds any)
// and one section per heading, up to the next heading, with its path.
func (p *docxParser) sections() []grounded.Section {
	return headingSections(p.out.String(), p.heads)
}
