package pdf_test

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/groundedhq/grounded"
	"github.com/groundedhq/grounded/ingest"
	"github.com/groundedhq/grounded/ingest/internal/ingesttest"
)

// pdfWriter writes a PDF file from object bodies numbered from 1.
type pdfWriter struct {
	objs []string
}

func (p *pdfWriter) add(body string) int {
	p.objs = append(p.objs, body)
	return len(p.objs)
}

func (p *pdfWriter) stream(dict, data string) int {
	return p.add(fmt.Sprintf("<< %s /Length %d >>\nstream\n%s\nendstream", dict, len(data), data))
}

// bytes writes the header, the objects, an xref table and a trailer with
// /Size and the given entries.
func (p *pdfWriter) bytes(trailer string) []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	offs := p.write(&b)
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(p.objs)+1)
	for _, o := range offs {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d %s >>\nstartxref\n%d\n%%%%EOF\n", len(p.objs)+1, trailer, xref)
	return b.Bytes()
}

func (p *pdfWriter) write(b *bytes.Buffer) []int {
	offs := make([]int, len(p.objs))
	for i, o := range p.objs {
		offs[i] = b.Len()
		fmt.Fprintf(b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	return offs
}

// xrefStream writes the objects and an uncompressed xref stream (W [1 4 2])
// as the last object. compressed lists objects numbered after it that the
// stream says are stored in object streams: number -> the object stream's number.
func (p *pdfWriter) xrefStream(trailer string, compressed map[int]int) []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.5\n%\xe2\xe3\xcf\xd3\n")
	offs := p.write(&b)
	self := len(p.objs) + 1
	size := self + 1 + len(compressed)
	row := func(typ byte, f2 uint32, f3 uint16) []byte {
		r := []byte{typ, 0, 0, 0, 0, 0, 0}
		binary.BigEndian.PutUint32(r[1:], f2)
		binary.BigEndian.PutUint16(r[5:], f3)
		return r
	}
	var rows []byte
	rows = append(rows, row(0, 0, 65535)...)
	for _, o := range offs {
		rows = append(rows, row(1, uint32(o), 0)...)
	}
	at := b.Len()
	rows = append(rows, row(1, uint32(at), 0)...)
	for n := self + 1; n < size; n++ {
		rows = append(rows, row(2, uint32(compressed[n]), 0)...)
	}
	fmt.Fprintf(&b, "%d 0 obj\n<< /Type /XRef /Size %d /W [1 4 2] %s /Length %d >>\nstream\n%s\nendstream\nendobj\n",
		self, size, trailer, len(rows), rows)
	fmt.Fprintf(&b, "startxref\n%d\n%%%%EOF\n", at)
	return b.Bytes()
}

// pdfTestCMap is the ToUnicode CMap of /F2: two-byte codes; 0001 "H", 0002
// "é", 0003 an emoji (a surrogate pair), 0010-0019 the digits, 0020 "C" and
// 0021 "DE".
const pdfTestCMap = `/CIDInit /ProcSet findresource begin
12 dict begin
begincmap
/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def
/CMapName /Adobe-Identity-UCS def
/CMapType 2 def
1 begincodespacerange
<0000> <FFFF>
endcodespacerange
3 beginbfchar
<0001> <0048>
<0002> <00E9>
<0003> <D83DDE00>
endbfchar
2 beginbfrange
<0010> <0019> <0030>
<0020> <0021> [<0043> <00440045>]
endbfrange
endcmap
CMapName currentdict /CMap defineresource pop
end
end`

// pdfTestPage is one page of a built PDF.
type pdfTestPage struct {
	content string // the content stream
	flate   bool   // stored Flate-compressed
	form    string // the content of the Form XObject /Fm1
}

// buildPDF writes a PDF whose pages can use the fonts /F1 (Helvetica,
// WinAnsi, no widths), /F2 (Type0, Identity-H, pdfTestCMap), /F3 (Times,
// WinAnsi with /Differences: 1 fi, 2 fl, 65 B), /F4 (Type0 without a
// ToUnicode) and the XObjects /Im1 (a 2×2 gray image) and /Fm1.
func buildPDF(title string, pages ...pdfTestPage) []byte {
	p := &pdfWriter{}
	p.add("<< /Type /Catalog /Pages 2 0 R >>")
	p.add("") // the page tree, below
	f1 := p.add("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
	cid := p.add("<< /Type /Font /Subtype /CIDFontType2 /BaseFont /TestCID /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /DW 1000 /W [1 [600 500] 16 25 550] >>")
	f2 := p.add(fmt.Sprintf("<< /Type /Font /Subtype /Type0 /BaseFont /TestCID /Encoding /Identity-H /DescendantFonts [%d 0 R] /ToUnicode %d 0 R >>", cid, p.stream("", pdfTestCMap)))
	f3 := p.add("<< /Type /Font /Subtype /Type1 /BaseFont /Times-Roman /Encoding << /Type /Encoding /BaseEncoding /WinAnsiEncoding /Differences [1 /fi /fl 65 /B] >> >>")
	f4 := p.add(fmt.Sprintf("<< /Type /Font /Subtype /Type0 /BaseFont /TestCID /Encoding /Identity-H /DescendantFonts [%d 0 R] >>", cid))
	img := p.stream("/Type /XObject /Subtype /Image /Width 2 /Height 2 /ColorSpace /DeviceGray /BitsPerComponent 8", "\x00\xff\xff\x00")
	fonts := fmt.Sprintf("/Font << /F1 %d 0 R /F2 %d 0 R /F3 %d 0 R /F4 %d 0 R >>", f1, f2, f3, f4)
	trailer := "/Root 1 0 R"
	if title != "" {
		trailer += fmt.Sprintf(" /Info %d 0 R", p.add(fmt.Sprintf("<< /Title (%s) /Producer (pdf_test.go) >>", title)))
	}
	var kids []string
	for _, pg := range pages {
		xobjects := fmt.Sprintf("/Im1 %d 0 R", img)
		if pg.form != "" {
			xobjects += fmt.Sprintf(" /Fm1 %d 0 R", p.stream("/Type /XObject /Subtype /Form /BBox [0 0 612 792] /Resources << "+fonts+" >>", pg.form))
		}
		var content int
		if pg.flate {
			content = p.stream("/Filter /FlateDecode", pdfDeflate(pg.content))
		} else {
			content = p.stream("", pg.content)
		}
		page := p.add(fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << %s /XObject << %s >> >> /Contents %d 0 R >>",
			fonts, xobjects, content))
		kids = append(kids, fmt.Sprintf("%d 0 R", page))
	}
	p.objs[1] = fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), len(kids))
	return p.bytes(trailer)
}

// line shows s in /F1 at 12 points, on its own line at height y.
func pdfLine(y int, s string) string {
	return fmt.Sprintf("BT /F1 12 Tf 72 %d Td (%s) Tj ET\n", y, s)
}

func pdfThreePages() []byte {
	return buildPDF("Grounded PDF Test",
		pdfTestPage{content: pdfLine(720, "Hello page one")},
		pdfTestPage{content: pdfLine(720, "Hello page two"), flate: true},
		pdfTestPage{content: pdfLine(720, "Hello page three")},
	)
}

// checkPDFDoc asserts what every loaded PDF holds beyond checkDoc: one
// section per page with text, located "p. N" in page order, headed by the
// title, separated by blank lines that are the only text between them.
func checkPDFDoc(t *testing.T, doc *grounded.Document) {
	t.Helper()
	ingesttest.CheckDoc(t, doc)
	if doc.Format != ingest.FormatPDF {
		t.Errorf("Format = %q, want %q", doc.Format, ingest.FormatPDF)
	}
	prevPage, prevEnd := 0, 0
	for i, s := range doc.Sections {
		n, err := strconv.Atoi(strings.TrimPrefix(s.Location, "p. "))
		if err != nil || !strings.HasPrefix(s.Location, "p. ") || n <= prevPage {
			t.Errorf("section %d location %q does not follow page %d", i, s.Location, prevPage)
		}
		if len(s.Path) != 1 || s.Path[0] != doc.Title {
			t.Errorf("section %d path %q, want [%q]", i, s.Path, doc.Title)
		}
		sep := "\n\n"
		if i == 0 {
			sep = ""
		}
		if s.Start < prevEnd || doc.Text[prevEnd:s.Start] != sep {
			t.Errorf("section %d starts at %d after %q, want %q", i, s.Start, doc.Text[prevEnd:max(prevEnd, s.Start)], sep)
		}
		if page := doc.Text[s.Start:s.End]; page == "" || strings.TrimSpace(page) != page {
			t.Errorf("section %d text %q is empty or not trimmed", i, page)
		}
		prevPage, prevEnd = n, s.End
	}
	if prevEnd != len(doc.Text) {
		t.Errorf("text runs on for %q after the last section", doc.Text[prevEnd:])
	}
}

func TestLoadPDF(t *testing.T) {
	t.Parallel()
	doc, err := ingest.Load("docs/three.pdf", pdfThreePages())
	if err != nil {
		t.Fatal(err)
	}
	checkPDFDoc(t, doc)
	if doc.Title != "Grounded PDF Test" {
		t.Errorf("Title = %q, want the Info title", doc.Title)
	}
	want := []string{"Hello page one", "Hello page two", "Hello page three"}
	if doc.Text != strings.Join(want, "\n\n") {
		t.Errorf("Text = %q", doc.Text)
	}
	if len(doc.Sections) != len(want) {
		t.Fatalf("%d sections, want %d", len(doc.Sections), len(want))
	}
	for i, s := range doc.Sections {
		if loc := fmt.Sprintf("p. %d", i+1); s.Location != loc {
			t.Errorf("section %d location %q, want %q", i, s.Location, loc)
		}
		if quote := doc.Text[s.Start:s.End]; quote != want[i] {
			t.Errorf("section %d quotes %q, want %q", i, quote, want[i])
		}
	}

	// Without an Info title, the file name names the document.
	doc, err = ingest.Load("docs/cost-trade_offs.PDF", buildPDF("", pdfTestPage{content: pdfLine(720, "Untitled text")}))
	if err != nil {
		t.Fatal(err)
	}
	if doc.Title != "cost trade offs" || doc.Sections[0].Path[0] != "cost trade offs" {
		t.Errorf("Title %q, path %q; want both from the file name", doc.Title, doc.Sections[0].Path)
	}
}

// TestLoadPDFText checks how shown strings become text, page by page.
func TestLoadPDFText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		pages []pdfTestPage
		want  []string // per page with text
		locs  []string // their locations, if not p. 1, p. 2, ...
	}{
		{
			name:  "words placed by position",
			pages: []pdfTestPage{{content: "BT /F1 12 Tf 72 720 Td (Separate) Tj 60 0 Td (words) Tj ET"}},
			want:  []string{"Separate words"},
		},
		{
			name:  "TJ: a wide gap is a space, kerning is not",
			pages: []pdfTestPage{{content: "BT /F1 12 Tf 72 720 Td [(Kerned)-300(words)-20(ok)] TJ ET"}},
			want:  []string{"Kerned wordsok"},
		},
		{
			name:  "character spacing that spaces words",
			pages: []pdfTestPage{{content: "BT /F1 12 Tf 72 720 Td 3 Tc (Wide) Tj ET"}},
			want:  []string{"W i d e"},
		},
		{
			name:  "line operators",
			pages: []pdfTestPage{{content: "BT /F1 12 Tf 14 TL 72 720 Td (Line one) Tj T* (Line two) Tj (Next line) ' 1 0 (Quoted) \" ET"}},
			want:  []string{"Line one\nLine two\nNext line\nQuoted"},
		},
		{
			name:  "text matrix and a gap between paragraphs",
			pages: []pdfTestPage{{content: "BT /F1 12 Tf 1 0 0 1 72 720 Tm (First paragraph.) Tj 1 0 0 1 72 706 Tm (Same paragraph.) Tj 1 0 0 1 72 660 Tm (Second paragraph.) Tj ET"}},
			want:  []string{"First paragraph.\nSame paragraph.\n\nSecond paragraph."},
		},
		{
			name:  "string escapes and WinAnsi",
			pages: []pdfTestPage{{content: `BT /F1 12 Tf 72 720 Td (a \(paren\) and \\ back \101 caf\351 \200 tab\there\000nul) Tj ET`}},
			want:  []string{`a (paren) and \ back A café € tab herenul`},
		},
		{
			name:  "hex strings",
			pages: []pdfTestPage{{content: "BT /F1 12 Tf 72 720 Td <48 65 78 21> Tj <414> Tj ET"}},
			want:  []string{"Hex!A@"},
		},
		{
			name:  "differences and ligatures",
			pages: []pdfTestPage{{content: `BT /F3 12 Tf 72 720 Td (\001nd \002ow A) Tj ET`}},
			want:  []string{"find flow B"},
		},
		{
			name:  "CID font with a ToUnicode CMap",
			pages: []pdfTestPage{{content: "BT /F2 12 Tf 72 720 Td [<00010002> -300 <0012001000120016>] TJ 0 -14 Td <002000210003> Tj ET"}},
			want:  []string{"Hé 2026\nCDE😀"},
		},
		{
			name:  "compressed content",
			pages: []pdfTestPage{{content: pdfLine(720, "Deflated text"), flate: true}},
			want:  []string{"Deflated text"},
		},
		{
			name:  "form XObject",
			pages: []pdfTestPage{{content: "q 1 0 0 1 0 -100 cm /Fm1 Do Q\n" + pdfLine(720, "After the form"), form: pdfLine(720, "Inside a form")}},
			want:  []string{"Inside a form\n\nAfter the form"},
		},
		{
			name:  "inline image",
			pages: []pdfTestPage{{content: "q BI /W 2 /H 2 /CS /G /BPC 8 ID \x00EI\xff( EI\nQ " + pdfLine(720, "After the image")}},
			want:  []string{"After the image"},
		},
		{
			name:  "a page with no text has no section",
			pages: []pdfTestPage{{content: pdfLine(720, "One")}, {content: "q 100 0 0 100 72 600 cm /Im1 Do Q"}, {content: pdfLine(720, "Three")}},
			want:  []string{"One", "Three"},
			locs:  []string{"p. 1", "p. 3"},
		},
		{
			name:  "undefined font and operators, stray tokens",
			pages: []pdfTestPage{{content: "] >> ) } 1 2 3 BT /Nope 12 Tf 72 720 Td (Still read) Tj 9 9 xx ET"}},
			want:  []string{"Still read"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := ingest.Load("test.pdf", buildPDF("Text", tt.pages...))
			if err != nil {
				t.Fatal(err)
			}
			checkPDFDoc(t, doc)
			if len(doc.Sections) != len(tt.want) {
				t.Fatalf("%d sections, want %d; text %q", len(doc.Sections), len(tt.want), doc.Text)
			}
			for i, s := range doc.Sections {
				if got := doc.Text[s.Start:s.End]; got != tt.want[i] {
					t.Errorf("page text %q, want %q", got, tt.want[i])
				}
				loc := fmt.Sprintf("p. %d", i+1)
				if tt.locs != nil {
					loc = tt.locs[i]
				}
				if s.Location != loc {
					t.Errorf("section %d location %q, want %q", i, s.Location, loc)
				}
			}
		})
	}
}

// TestLoadPDFProducers loads the files under testdata, made by real
// PDF writers (see its README.md).
func TestLoadPDFProducers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file, title string
		pages       []string
	}{
		{"reportlab-truetype.pdf", "reportlab truetype", []string{
			"Café naïve résumé — “quotes” €5 Ωmega\nZweite Zeile: Grüße aus Köln.",
			"Страница два. Ελληνικά.",
		}},
		{"cairo-cid.pdf", "Cairo Ünïcode Report", []string{
			"Cairo page one: naïve café, “smart quotes”, fi and fl.\nSecond line with numbers 3.14 and 42%.\n\n" +
				"中文文本。日本語のテキスト。\n\nLeft column text. Right column text.\n\nRotated margin note",
			"Cairo page two.",
		}},
		{"ghostscript-groff.pdf", "ghostscript groff", []string{
			"Groff Document\n\nFirst page paragraph with ligatures: office, affinity, fluffy.",
			"Second page: the quick brown fox.",
		}},
		{"qpdf-object-streams.pdf", "Reportlab Standard", []string{
			"Cost trade-offs of self-hosting.\nThe second line on page one.",
			"Page two talks about latency (p99).",
		}},
		{"qpdf-rc4-empty-password.pdf", "Reportlab Standard", []string{
			"Cost trade-offs of self-hosting.\nThe second line on page one.",
			"Page two talks about latency (p99).",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			doc, err := ingest.Load(tt.file, ingesttest.ReadFixture(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			checkPDFDoc(t, doc)
			if doc.Title != tt.title {
				t.Errorf("Title = %q, want %q", doc.Title, tt.title)
			}
			if len(doc.Sections) != len(tt.pages) {
				t.Fatalf("%d sections, want %d; text %q", len(doc.Sections), len(tt.pages), doc.Text)
			}
			for i, s := range doc.Sections {
				if got := doc.Text[s.Start:s.End]; got != tt.pages[i] {
					t.Errorf("page %d text\n%q, want\n%q", i+1, got, tt.pages[i])
				}
			}
		})
	}
}

func pdfDeflate(s string) string {
	var z bytes.Buffer
	w := zlib.NewWriter(&z)
	w.Write([]byte(s))
	w.Close()
	return z.String()
}

// pdfLengthPastEnd makes the last stream's /Length run past the end of the
// file, or negative, by writing digits before it. The library reads such a
// stream to the end of the file (found by fuzzing).
func pdfLengthPastEnd(data []byte, digits string) []byte {
	i := bytes.LastIndex(data, []byte("/Length ")) + len("/Length ")
	return append(data[:i:i], append([]byte(digits), data[i:]...)...)
}

// badPDFs are files the loader must refuse with EINVALID, saying why.
func badPDFs(tb testing.TB) []struct {
	name     string
	data     []byte
	contains string
} {
	three := pdfThreePages()
	garbage := make([]byte, 4096)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range garbage {
		garbage[i] = byte(rng.Uint32())
	}

	// A table whose /Prev points at itself.
	loop := buildPDF("Loop", pdfTestPage{content: pdfLine(720, "Loop")})
	x := bytes.LastIndex(loop, []byte("startxref\n"))
	at := strings.TrimSpace(strings.Split(string(loop[x+len("startxref\n"):]), "\n")[0])
	loop = bytes.Replace(loop, []byte("/Root 1 0 R"), []byte("/Root 1 0 R /Prev "+at), 1)

	// Xref sections that would make the library allocate, recurse or count
	// without bound.
	huge := bytes.Replace(three, []byte("xref\n0 "), []byte("xref\n900000000 1\n0000000000 00000 n \n0 "), 1)
	objStm := func(dict, data string) []byte {
		p := &pdfWriter{}
		p.add("<< /Type /Catalog /Pages 2 0 R >>")
		p.add("<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
		p.add("<< /Type /Page /Parent 2 0 R /Resources 7 0 R /Contents 4 0 R >>")
		p.stream("", pdfLine(720, "Never read"))
		p.stream("/Type /ObjStm /N 1 /First 4 "+dict, data)
		return p.xrefStream("/Root 1 0 R", map[int]int{7: 5})
	}
	const noObj7 = "8 0 << >>" // an object stream without the object 7 it should hold
	self := func() []byte {
		p := &pdfWriter{}
		p.add("<< /Type /Catalog /Pages 2 0 R >>")
		p.add("<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
		p.add("<< /Type /Page /Parent 2 0 R /Resources 6 0 R >>")
		return p.xrefStream("/Root 1 0 R", map[int]int{5: 5, 6: 5})
	}

	return []struct {
		name     string
		data     []byte
		contains string
	}{
		{"image only (scanned)", buildPDF("Scan", pdfTestPage{content: "q 100 0 0 100 72 600 cm /Im1 Do Q"}), "no text layer (scanned PDF?)"},
		{"fonts without Unicode", buildPDF("Glyphs", pdfTestPage{content: "BT /F4 12 Tf 72 720 Td <00010002> Tj ET"}), "no extractable text"},
		{"no pages", buildPDF("Empty"), "no pages"},
		{"empty file", nil, "empty file"},
		{"header only", []byte("%PDF-1.7\n"), "truncated"},
		{"truncated", three[:len(three)/2], "truncated"},
		{"truncated before the trailer", three[:bytes.LastIndex(three, []byte("trailer"))], "truncated"},
		{"no startxref", bytes.Replace(three, []byte("startxref"), []byte("startxrex"), 1), "malformed"},
		{"garbage", garbage, "not a PDF"},
		{"text, not a PDF", []byte("Just some text in a file named .pdf\n"), "not a PDF"},
		{"xref /Prev loop", loop, "loop"},
		{"huge object number", huge, "over the limit"},
		{"object stream stored in itself", self(), "object stream is stored in an object stream"},
		{"object stream /Extends itself", objStm("/Extends 5 0 R", noObj7), "/Extends in a loop"},
		{"same, xref stream /Length past the end", pdfLengthPastEnd(objStm("/Extends 5 0 R", noObj7), "9"), "/Extends in a loop"},
		{"same, xref stream /Length negative", pdfLengthPastEnd(objStm("/Extends 5 0 R", noObj7), "-1"), "/Extends in a loop"},
		{"object stream claims 10^18 objects", objStm("/N 1000000000000000000", noObj7), "claims"},
		{"predictor row of 2^40 bytes", objStm("/Filter /FlateDecode /DecodeParms << /Predictor 12 /Columns 1099511627776 >>", pdfDeflate(noObj7)), "predictor row"},
		{"object stream decodes to 5 MiB", objStm("/Filter /FlateDecode", pdfDeflate(noObj7+strings.Repeat(" ", 5<<20))), "decodes to over 4 MiB"},
		{"encrypted, AES-256", ingesttest.ReadFixture(tb, "qpdf-aes256.pdf"), "encrypted PDF: cannot decrypt"},
		{"encrypted, user password", ingesttest.ReadFixture(tb, "qpdf-rc4-user-password.pdf"), "encrypted PDF: it needs a password"},
	}
}

func TestLoadPDFErrors(t *testing.T) {
	t.Parallel()
	for _, tt := range badPDFs(t) {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := ingest.Load("bad.pdf", tt.data)
			if err == nil {
				t.Fatalf("Load returned no error and text %q", doc.Text)
			}
			if doc != nil {
				t.Error("Load returned a document with its error")
			}
			if code := grounded.ErrorCode(err); code != grounded.EINVALID {
				t.Errorf("error %v has code %q, want %q", err, code, grounded.EINVALID)
			}
			if msg := err.Error(); !strings.HasPrefix(msg, "bad.pdf: ") || !strings.Contains(msg, tt.contains) {
				t.Errorf("error %q does not name the file and say %q", msg, tt.contains)
			}
		})
	}
}

// TestLoadPDFPageLimit refuses a file of more than 5000 pages whole.
func TestLoadPDFPageLimit(t *testing.T) {
	t.Parallel()
	p := &pdfWriter{}
	p.add("<< /Type /Catalog /Pages 2 0 R >>")
	p.add("")
	font := p.add("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
	content := p.stream("", pdfLine(720, "A page"))
	var kids []string
	for range 5001 {
		kids = append(kids, fmt.Sprintf("%d 0 R", p.add(fmt.Sprintf("<< /Type /Page /Parent 2 0 R /Resources << /Font << /F1 %d 0 R >> >> /Contents %d 0 R >>", font, content))))
	}
	p.objs[1] = fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), len(kids))
	_, err := ingest.Load("long.pdf", p.bytes("/Root 1 0 R"))
	if code := grounded.ErrorCode(err); code != grounded.EINVALID || !strings.Contains(err.Error(), "more than 5000 pages") {
		t.Errorf("error %v (code %q), want EINVALID saying more than 5000 pages", err, code)
	}
}

// TestLoadPDFFormBomb: a form that draws itself stops at the depth limit;
// a document that draws forms more than 2^16 times stops at the limit on
// streams opened.
func TestLoadPDFFormBomb(t *testing.T) {
	t.Parallel()
	bomb := func(content string, pages int) []byte {
		p := &pdfWriter{}
		p.add("<< /Type /Catalog /Pages 2 0 R >>")
		p.add("")
		p.add("<< /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> /XObject << /Self 5 0 R /Leaf 6 0 R >> >>")
		p.stream("", pdfLine(720, "Before the forms")+content)
		p.stream("/Type /XObject /Subtype /Form /BBox [0 0 1 1] /Resources 3 0 R", "/Self Do /Self Do "+pdfLine(700, "x"))
		p.stream("/Type /XObject /Subtype /Form /BBox [0 0 1 1] /Resources 3 0 R", pdfLine(700, "y"))
		var kids []string
		for range pages {
			kids = append(kids, fmt.Sprintf("%d 0 R", p.add("<< /Type /Page /Parent 2 0 R /Resources 3 0 R /Contents 4 0 R >>")))
		}
		p.objs[1] = fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), len(kids))
		return p.bytes("/Root 1 0 R")
	}
	doc, err := ingest.Load("bomb.pdf", bomb("/Self Do", 1))
	if err != nil {
		t.Fatal(err)
	}
	// Drawn once at depth 1, twice at depth 2, ..., 128 times at depth 8.
	if want := "Before the forms\nx"; !strings.HasPrefix(doc.Text, want) || strings.Count(doc.Text, "x") != 255 {
		t.Errorf("text %q with %d x's, want %q and 255", ingesttest.Clip(doc.Text), strings.Count(doc.Text, "x"), want)
	}
	_, err = ingest.Load("bomb.pdf", bomb(strings.Repeat("/Leaf Do ", 1<<10), 1<<6))
	if code := grounded.ErrorCode(err); code != grounded.EINVALID || !strings.Contains(err.Error(), "content streams") {
		t.Errorf("error %v (code %q), want EINVALID about content streams", err, code)
	}
}

// TestChunkPDF: chunks of a PDF carry their page as Location.
func TestChunkPDF(t *testing.T) {
	t.Parallel()
	var pages []pdfTestPage
	for p := 1; p <= 3; p++ {
		var c strings.Builder
		for l := range 12 {
			c.WriteString(pdfLine(720-14*l, fmt.Sprintf("Page %d line %d says grounded answers cite the page they quote.", p, l+1)))
		}
		pages = append(pages, pdfTestPage{content: c.String()})
	}
	doc, err := ingest.Load("chunks.pdf", buildPDF("Chunked", pages...))
	if err != nil {
		t.Fatal(err)
	}
	checkPDFDoc(t, doc)
	for _, cfg := range []ingest.ChunkConfig{{}, ingesttest.SmallConfig} {
		chunks := ingesttest.Chunker(t, cfg).Chunk(doc)
		ingesttest.CheckChunks(t, doc, chunks)
		ingesttest.CheckCoverage(t, doc, chunks)
		seen := map[string]bool{}
		for i, c := range chunks {
			s, _ := ingesttest.SectionOf(doc, c)
			if c.Location != s.Location || !strings.HasPrefix(c.Location, "p. ") {
				t.Errorf("chunk %d location %q, want its section's %q", i, c.Location, s.Location)
			}
			if want := strings.TrimPrefix(s.Location, "p. "); !strings.HasPrefix(c.Text, "Page "+want+" ") && !strings.Contains(c.Text, "\nPage "+want+" ") {
				t.Errorf("chunk %d at %s quotes %q", i, c.Location, ingesttest.Clip(c.Text))
			}
			seen[c.Location] = true
		}
		if len(seen) != 3 {
			t.Errorf("chunks (%+v) cover pages %v, want all three", cfg, seen)
		}
	}
}

// FuzzLoadPDF feeds arbitrary bytes to the PDF loader. It must not panic or
// hang; a failure must be EINVALID; a document must hold checkPDFDoc, and its
// chunks checkChunks with their pages as locations.
func FuzzLoadPDF(f *testing.F) {
	seeds := [][]byte{
		pdfThreePages(),
		buildPDF("Seed",
			pdfTestPage{content: "BT /F2 12 Tf 72 720 Td [<00010002> -300 <0012001000120016>] TJ ET\nBT /F3 12 Tf 1 0 0 1 72 700 Tm (\\001nd) Tj ET", flate: true},
			pdfTestPage{content: "q BI /W 2 /H 2 ID \x00\x01 EI Q /Fm1 Do " + pdfLine(600, "x"), form: pdfLine(700, "In a form")},
		),
		[]byte("%PDF-1.4\n"),
		[]byte("%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"),
	}
	for _, name := range []string{"reportlab-truetype.pdf", "ghostscript-groff.pdf", "qpdf-object-streams.pdf", "qpdf-rc4-empty-password.pdf"} {
		seeds = append(seeds, ingesttest.ReadFixture(f, name))
	}
	for _, bad := range badPDFs(f) {
		if len(bad.data) < 8<<10 {
			seeds = append(seeds, bad.data)
		}
	}
	three := pdfThreePages()
	for _, n := range []int{len(three) - 40, len(three) * 3 / 4, len(three) / 3, 20} {
		seeds = append(seeds, three[:n])
	}
	for _, s := range seeds {
		f.Add(s)
	}
	ch := ingesttest.Chunker(f, ingesttest.SmallConfig)
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := ingest.Load("fuzz.pdf", data)
		if err != nil {
			if code := grounded.ErrorCode(err); code != grounded.EINVALID {
				t.Fatalf("Load error %v has code %q, want %q", err, code, grounded.EINVALID)
			}
			if doc != nil {
				t.Fatal("Load returned a document with its error")
			}
			return
		}
		checkPDFDoc(t, doc)
		chunks := ch.Chunk(doc)
		ingesttest.CheckNoChunks(t, doc, chunks)
		ingesttest.CheckChunks(t, doc, chunks)
		for i, c := range chunks {
			if s, _ := ingesttest.SectionOf(doc, c); c.Location != s.Location {
				t.Errorf("chunk %d location %q, want %q", i, c.Location, s.Location)
			}
		}
	})
}

// TestPDFFixturesMade keeps testdata/README.md and the files in step.
func TestPDFFixturesMade(t *testing.T) {
	t.Parallel()
	readme := string(ingesttest.ReadFixture(t, "README.md"))
	files, err := os.ReadDir("testdata")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if name := f.Name(); strings.HasSuffix(name, ".pdf") && !strings.Contains(readme, "`"+name+"`") {
			t.Errorf("testdata/%s is not described in its README.md", name)
		}
	}
}
