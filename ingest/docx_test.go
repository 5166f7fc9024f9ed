package ingest_test

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/groundedhq/grounded"
	"github.com/groundedhq/grounded/ingest"
	"github.com/groundedhq/grounded/ingest/internal/ingesttest"
)

const wordNS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"

// part is one file of a zip archive.
type part struct{ name, body string }

// zipFiles writes parts into a zip archive, in order, deflated.
func zipFiles(tb testing.TB, parts ...part) []byte {
	tb.Helper()
	return zipWith(tb, zip.Deflate, parts...)
}

// zipWith writes parts into a zip archive, in order, with method (zip.Store
// is cheaper for fuzzing).
func zipWith(tb testing.TB, method uint16, parts ...part) []byte {
	tb.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, p := range parts {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: p.name, Method: method})
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := io.WriteString(w, p.body); err != nil {
			tb.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

const contentTypes = `<?xml version="1.0" encoding="UTF-8"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>`

// wordBody wraps body XML (paragraphs and tables) in a w:document.
func wordBody(body string) string {
	return `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` +
		`<w:document xmlns:w="` + wordNS + `" xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006"><w:body>` +
		body + `<w:sectPr/></w:body></w:document>`
}

// coreProps is a docProps/core.xml part with title, or none when title is "".
func coreProps(title string) []part {
	if title == "" {
		return nil
	}
	return []part{{"docProps/core.xml", `<?xml version="1.0" encoding="UTF-8"?>` +
		`<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/">` +
		`<dc:title>` + title + `</dc:title><dc:creator>Tester</dc:creator></cp:coreProperties>`}}
}

// makeDOCX builds a minimal DOCX archive around body XML, with a core.xml
// title when title is not "".
func makeDOCX(tb testing.TB, title, body string) []byte {
	tb.Helper()
	parts := []part{{"[Content_Types].xml", contentTypes}, {"word/document.xml", wordBody(body)}}
	return zipFiles(tb, append(parts, coreProps(title)...)...)
}

// p is a paragraph of one run of text, styled when style is not "".
func p(style, text string) string {
	ppr := ""
	if style != "" {
		ppr = `<w:pPr><w:pStyle w:val="` + style + `"/></w:pPr>`
	}
	return `<w:p>` + ppr + `<w:r><w:t xml:space="preserve">` + text + `</w:t></w:r></w:p>`
}

// tbl is a table of one-paragraph cells.
func tbl(rows ...[]string) string {
	var b strings.Builder
	b.WriteString(`<w:tbl><w:tblPr><w:tblStyle w:val="TableGrid"/></w:tblPr>`)
	for _, r := range rows {
		b.WriteString(`<w:tr>`)
		for _, c := range r {
			b.WriteString(`<w:tc>` + p("", c) + `</w:tc>`)
		}
		b.WriteString(`</w:tr>`)
	}
	b.WriteString(`</w:tbl>`)
	return b.String()
}

func sectionTexts(doc *grounded.Document) []string {
	var out []string
	for _, s := range doc.Sections {
		out = append(out, doc.Text[s.Start:s.End])
	}
	return out
}

func TestLoadDOCX(t *testing.T) {
	t.Parallel()
	body := p("Title", "Trial report") +
		p("", "Prepared for the board.") +
		`<w:p/>` + // an empty paragraph adds nothing
		p("Heading1", "Summary") +
		`<w:p><w:r><w:t>Homes:</w:t><w:tab/><w:t>48</w:t></w:r><w:r><w:br/><w:t xml:space="preserve">Sites: 3 </w:t></w:r></w:p>` +
		p("Heading2", "Costs &amp; savings") +
		tbl([]string{"Item", "Cost"}, []string{"Unit", "3,499"}, []string{"Install", "1,200"}) +
		p("Heading1", "Next steps") +
		p("", "Extend monitoring.")
	data := makeDOCX(t, "Heat pump trial", body)
	doc, err := ingest.Load("reports/trial.docx", data)
	if err != nil {
		t.Fatal(err)
	}
	ingesttest.CheckDoc(t, doc)
	wantText := "Trial report\n\nPrepared for the board.\n\nSummary\n\nHomes:\t48\nSites: 3\n\n" +
		"Costs & savings\n\nItem | Cost\nUnit | 3,499\nInstall | 1,200\n\nNext steps\n\nExtend monitoring."
	if doc.Text != wantText {
		t.Errorf("Text =\n%q\nwant\n%q", doc.Text, wantText)
	}
	if doc.Title != "Heat pump trial" || doc.Format != ingest.FormatDOCX || doc.ID != ingest.DocID("reports/trial.docx") {
		t.Errorf("Title %q, Format %q, ID %q", doc.Title, doc.Format, doc.ID)
	}
	if doc.ContentHash != ingest.ContentHash(data) {
		t.Errorf("ContentHash is not the archive's hash")
	}
	wantPaths := [][]string{
		{"Trial report"},
		{"Trial report", "Summary"},
		{"Trial report", "Summary", "Costs & savings"},
		{"Trial report", "Next steps"},
	}
	if got := paths(doc); !slices.EqualFunc(got, wantPaths, slices.Equal) {
		t.Errorf("section paths = %q, want %q", got, wantPaths)
	}
	wantSections := []string{
		"Trial report\n\nPrepared for the board.\n\n",
		"Summary\n\nHomes:\t48\nSites: 3\n\n",
		"Costs & savings\n\nItem | Cost\nUnit | 3,499\nInstall | 1,200\n\n",
		"Next steps\n\nExtend monitoring.",
	}
	if got := sectionTexts(doc); !slices.Equal(got, wantSections) {
		t.Errorf("section texts = %q, want %q", got, wantSections)
	}
	// Chunks quote the text exactly and carry the heading path.
	chunks := ingesttest.Chunker(t, ingesttest.SmallConfig).Chunk(doc)
	ingesttest.CheckChunks(t, doc, chunks)
	ingesttest.CheckCoverage(t, doc, chunks)
	found := false
	for _, c := range chunks {
		if i := strings.Index(c.Text, "Unit | 3,499"); i >= 0 {
			found = true
			if q := doc.Text[c.Start+i : c.Start+i+len("Unit | 3,499")]; q != "Unit | 3,499" {
				t.Errorf("quote at its offsets is %q", q)
			}
			if c.Section != "Trial report > Summary > Costs & savings" {
				t.Errorf("table chunk section = %q", c.Section)
			}
		}
	}
	if !found {
		t.Errorf("no chunk holds the table row")
	}
}

func TestLoadDOCXTitle(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, source, core, body, want string
	}{
		{"core title wins", "a.docx", "  Core\n title ", p("Title", "Styled title") + p("", "x"), "Core title"},
		{"first Title paragraph", "a.docx", "", p("", "intro") + p("Title", "Styled  title") + p("Title", "Second"), "Styled title"},
		{"blank core title", "a.docx", " ", p("Title", "Styled"), "Styled"},
		{"file name", "dir/q3-field_report.docx", "", p("Heading1", "Not a title") + p("", "x"), "q3 field report"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := ingest.Load(tt.source, makeDOCX(t, tt.core, tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if doc.Title != tt.want {
				t.Errorf("Title = %q, want %q", doc.Title, tt.want)
			}
		})
	}
	t.Run("malformed core.xml", func(t *testing.T) {
		data := zipFiles(t, part{"word/document.xml", wordBody(p("Title", "Body title"))},
			part{"docProps/core.xml", "<cp:coreProperties><dc:title>unclosed"})
		doc, err := ingest.Load("a.docx", data)
		if err != nil {
			t.Fatal(err)
		}
		if doc.Title != "Body title" {
			t.Errorf("Title = %q, want the Title paragraph", doc.Title)
		}
	})
}

// TestLoadDOCXMarkup checks what of a body's markup becomes text.
func TestLoadDOCXMarkup(t *testing.T) {
	t.Parallel()
	run := func(inner string) string { return `<w:r>` + inner + `</w:r>` }
	tests := []struct {
		name, body, want string
		paths            [][]string
	}{
		{"runs join", `<w:p>` + run(`<w:t>Heat</w:t>`) + run(`<w:t xml:space="preserve"> pump</w:t>`) + `</w:p>`, "Heat pump", [][]string{nil}},
		{"tab stops are not tabs", `<w:p><w:pPr><w:tabs><w:tab w:val="left" w:pos="720"/></w:tabs></w:pPr>` + run(`<w:t>a</w:t><w:tab/><w:t>b</w:t>`) + `</w:p>`, "a\tb", [][]string{nil}},
		{"line breaks", `<w:p>` + run(`<w:t>a</w:t><w:br/><w:t>b</w:t><w:cr/><w:t>c</w:t>`) + `</w:p>`, "a\nb\nc", [][]string{nil}},
		{"hidden run", `<w:p>` + run(`<w:t>shown</w:t>`) + run(`<w:rPr><w:vanish/></w:rPr><w:t>hidden</w:t>`) + run(`<w:rPr><w:vanish w:val="false"/></w:rPr><w:t xml:space="preserve"> too</w:t>`) + `</w:p>`, "shown too", [][]string{nil}},
		{"tracked changes", `<w:p>` + run(`<w:t>kept</w:t>`) + `<w:del>` + run(`<w:delText> deleted</w:delText>`) + `</w:del><w:ins>` + run(`<w:t xml:space="preserve"> inserted</w:t>`) + `</w:ins><w:moveFrom>` + run(`<w:t> moved away</w:t>`) + `</w:moveFrom></w:p>`, "kept inserted", [][]string{nil}},
		{"field code", `<w:p>` + run(`<w:fldChar w:fldCharType="begin"/>`) + run(`<w:instrText> PAGE </w:instrText>`) + run(`<w:fldChar w:fldCharType="separate"/>`) + run(`<w:t>7</w:t>`) + run(`<w:fldChar w:fldCharType="end"/>`) + `</w:p>`, "7", [][]string{nil}},
		{"alternate content once", `<w:p>` + run(`<mc:AlternateContent><mc:Choice Requires="wps"><w:txbxContent>`+p("", "boxed")+`</w:txbxContent></mc:Choice><mc:Fallback><w:txbxContent>`+p("", "boxed")+`</w:txbxContent></mc:Fallback></mc:AlternateContent>`) + run(`<w:t>after</w:t>`) + `</w:p>`, "boxed\n\nafter", [][]string{nil}},
		{"heading style spellings", p("heading 1", "One") + p("Heading2", "Two") + p("HEADING3", "Three") + p("Heading10", "Not") + p("Heading", "Not"), "One\n\nTwo\n\nThree\n\nNot\n\nNot", [][]string{{"One"}, {"One", "Two"}, {"One", "Two", "Three"}}},
		{"outline level", `<w:p><w:pPr><w:outlineLvl w:val="0"/></w:pPr>` + run(`<w:t>Top</w:t>`) + `</w:p>` + p("", "body"), "Top\n\nbody", [][]string{{"Top"}}},
		{"heading white space", p("Heading1", "  Spaced\theading  ") + p("", "x"), "Spaced\theading\n\nx", [][]string{{"Spaced heading"}}},
		{"headings pop", p("Heading2", "B") + p("Heading1", "A") + p("Heading3", "C") + p("Heading2", "D"), "B\n\nA\n\nC\n\nD", [][]string{{"B"}, {"A"}, {"A", "C"}, {"A", "D"}}},
		{"text before headings", p("", "lead") + p("Heading1", "H"), "lead\n\nH", [][]string{nil, {"H"}}},
		{"empty heading is no heading", p("Heading1", " ") + p("", "x"), "x", [][]string{nil}},
		{"heading in a table is text", tbl([]string{"a"}) + `<w:tbl><w:tr><w:tc>` + p("Heading1", "cell") + `</w:tc></w:tr></w:tbl>`, "a\n\ncell", [][]string{nil}},
		{"multi-paragraph cell", `<w:tbl><w:tr><w:tc>` + p("", "one") + p("", "two") + `</w:tc><w:tc>` + p("", "x") + `</w:tc></w:tr></w:tbl>`, "one two | x", [][]string{nil}},
		{"empty cells and rows", tbl([]string{"a", "", "c"}, []string{"", ""}, []string{"d", ""}), "a |  | c\nd |", [][]string{nil}},
		{"nested table", `<w:tbl><w:tr><w:tc>` + p("", "outer") + `</w:tc><w:tc>` + tbl([]string{"i1", "i2"}, []string{"i3"}) + `</w:tc></w:tr></w:tbl>`, "outer | i1 | i2; i3", [][]string{nil}},
		{"entities and unicode", p("", "a &amp; b &lt;c&gt; &#x1F600; é"), "a & b <c> 😀 é", [][]string{nil}},
		{"strict name space", `<s:p xmlns:s="http://purl.oclc.org/ooxml/wordprocessingml/main"><s:pPr><s:pStyle s:val="Heading1"/></s:pPr><s:r><s:t>Strict</s:t></s:r></s:p>`, "Strict", [][]string{{"Strict"}}},
		{"other name spaces ignored", `<x:p xmlns:x="urn:other"><x:r><x:t>no</x:t></x:r></x:p>` + p("", "yes"), "yes", [][]string{nil}},
		{"text outside a paragraph", `<w:r><w:t>stray</w:t></w:r>` + p("", "x"), "x", [][]string{nil}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := ingest.Load("a.docx", makeDOCX(t, "", tt.body))
			if err != nil {
				t.Fatal(err)
			}
			ingesttest.CheckDoc(t, doc)
			if doc.Text != tt.want {
				t.Errorf("Text = %q, want %q", doc.Text, tt.want)
			}
			if got := paths(doc); !slices.EqualFunc(got, tt.paths, slices.Equal) {
				t.Errorf("section paths = %q, want %q", got, tt.paths)
			}
		})
	}
}

// zipDir zips the files under dir, in path order.
func zipDir(tb testing.TB, dir string) []byte {
	tb.Helper()
	var parts []part
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		parts = append(parts, part{filepath.ToSlash(rel), string(body)})
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	return zipFiles(tb, parts...)
}

// renderSections is a reviewable plain-text rendering of a document: its
// title and format, then each section's range, path, location and
// metadata, and its text.
func renderSections(tb testing.TB, doc *grounded.Document) []byte {
	tb.Helper()
	var b bytes.Buffer
	fmt.Fprintf(&b, "title: %s\nformat: %s\n", doc.Title, doc.Format)
	for _, s := range doc.Sections {
		meta, err := json.Marshal(s.Meta) // keys sorted
		if err != nil {
			tb.Fatal(err)
		}
		fmt.Fprintf(&b, "=== [%d,%d) path=%q location=%q meta=%s\n%s\n", s.Start, s.End, s.Path, s.Location, meta, doc.Text[s.Start:s.End])
	}
	return b.Bytes()
}

// checkGolden compares got with testdata/<name>; -update rewrites it.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./ingest -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (go test ./ingest -update accepts it)\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// TestLoadDOCXFixture loads testdata/docx/report/, a body with the markup
// Word writes (name spaces, revision ids, bookmarks, proofing marks, field
// codes, tracked changes, a hidden run, a text box with its VML fallback,
// a nested table, a content control), against testdata/docx/report.golden.
func TestLoadDOCXFixture(t *testing.T) {
	t.Parallel()
	doc, err := ingest.Load("report.docx", zipDir(t, filepath.Join("testdata", "docx", "report")))
	if err != nil {
		t.Fatal(err)
	}
	ingesttest.CheckDoc(t, doc)
	chunks := ingesttest.Chunker(t, ingesttest.SmallConfig).Chunk(doc)
	ingesttest.CheckChunks(t, doc, chunks)
	ingesttest.CheckCoverage(t, doc, chunks)
	for _, bad := range []string{"DRAFT NOTE", "up from 2.9", "HYPERLINK", "2880"} {
		if strings.Contains(doc.Text, bad) {
			t.Errorf("text holds %q, which Word does not show", bad)
		}
	}
	if n := strings.Count(doc.Text, "Callout"); n != 1 {
		t.Errorf("the text box appears %d times, want once", n)
	}
	checkGolden(t, "docx/report.golden", renderSections(t, doc))
}

func TestLoadDOCXErrors(t *testing.T) {
	t.Parallel()
	good := makeDOCX(t, "T", p("", "Some text."))
	stored := func() []byte { // an entry with an unknown compression method
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		w, err := zw.CreateRaw(&zip.FileHeader{Name: "word/document.xml", Method: 99, CompressedSize64: 3, UncompressedSize64: 3})
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte("abc"))
		zw.Close()
		return buf.Bytes()
	}()
	tests := []struct {
		name     string
		in       []byte
		contains []string
	}{
		{"plain text named .docx", []byte("Just some notes, not a document.\n"), []string{"a.docx", "not a DOCX file"}},
		{"legacy .doc bytes", append([]byte{0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1}, make([]byte, 600)...), []string{"not a DOCX file"}},
		{"truncated archive", good[:len(good)/2], []string{"not a DOCX file"}},
		{"truncated end record", good[:len(good)-5], []string{"not a DOCX file"}},
		{"zip without a body", zipFiles(t, part{"word/other.xml", "<x/>"}, part{"docProps/core.xml", "<x/>"}), []string{"not a DOCX file", "word/document.xml"}},
		{"body in the wrong case", zipFiles(t, part{"Word/Document.xml", wordBody(p("", "x"))}), []string{"not a DOCX file"}},
		{"malformed body", zipFiles(t, part{"word/document.xml", `<w:document xmlns:w="` + wordNS + `"><w:body><w:p><w:r><w:t>unclosed`}), []string{"word/document.xml"}},
		{"mismatched tags", zipFiles(t, part{"word/document.xml", `<w:document xmlns:w="` + wordNS + `"><w:p></w:r></w:document>`}), []string{"word/document.xml"}},
		{"undeclared entity", zipFiles(t, part{"word/document.xml", `<!DOCTYPE d [<!ENTITY a "aaaa">]><w:document xmlns:w="` + wordNS + `">` + p("", "&a;&a;") + `</w:document>`}), []string{"word/document.xml"}},
		{"UTF-16 body", zipFiles(t, part{"word/document.xml", `<?xml version="1.0" encoding="UTF-16"?><w:document/>`}), []string{"word/document.xml"}},
		{"no text", makeDOCX(t, "Title only in core", `<w:p/>`+p("", "  ")), []string{"no text"}},
		{"unknown compression", stored, []string{"word/document.xml"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := ingest.Load("a.docx", tt.in)
			if err == nil {
				t.Fatalf("Load returned no error and a document with text %q", doc.Text)
			}
			if doc != nil {
				t.Errorf("Load returned a document with its error")
			}
			t.Log(err)
			if code := grounded.ErrorCode(err); code != grounded.EINVALID {
				t.Errorf("error %v has code %q, want %q", err, code, grounded.EINVALID)
			}
			for _, s := range tt.contains {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not mention %q", err, s)
				}
			}
		})
	}
}

// zeroDeflate returns a raw DEFLATE stream of n MiB of zero bytes, and its
// CRC-32, without ever holding n MiB: one MiB is compressed and flushed to
// a byte boundary, and that run of non-final blocks is repeated n times
// before an empty final block. A stream of one byte per compressed byte
// would take the same header, so the loader must look before it inflates.
func zeroDeflate(tb testing.TB, n int) ([]byte, uint32) {
	tb.Helper()
	zeros := make([]byte, 1<<20)
	var blk bytes.Buffer
	fw, err := flate.NewWriter(&blk, flate.BestCompression)
	if err != nil {
		tb.Fatal(err)
	}
	fw.Write(zeros)
	fw.Flush()
	run := slices.Clone(blk.Bytes())
	blk.Reset()
	fw.Reset(&blk)
	fw.Close() // an empty final block
	var out bytes.Buffer
	crc := uint32(0)
	for range n {
		out.Write(run)
		crc = crc32.Update(crc, crc32.IEEETable, zeros)
	}
	out.Write(blk.Bytes())
	return out.Bytes(), crc
}

// bombDOCX is a DOCX whose part name is n MiB of zero bytes, after the
// parts before; with declared set, the header claims that many bytes
// instead of the truth.
func bombDOCX(tb testing.TB, name string, n int, declared uint64, before ...part) []byte {
	tb.Helper()
	stream, crc := zeroDeflate(tb, n)
	size := uint64(n) << 20
	if declared > 0 {
		size = declared
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, p := range before {
		w, err := zw.Create(p.name)
		if err != nil {
			tb.Fatal(err)
		}
		io.WriteString(w, p.body)
	}
	w, err := zw.CreateRaw(&zip.FileHeader{
		Name: name, Method: zip.Deflate, CRC32: crc,
		CompressedSize64: uint64(len(stream)), UncompressedSize64: size,
	})
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := w.Write(stream); err != nil {
		tb.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// TestLoadDOCXZipBomb feeds archives that inflate far past their size.
// They must fail from their headers, or from archive/zip's check of the
// declared size, never by inflating a gigabyte.
func TestLoadDOCXZipBomb(t *testing.T) {
	t.Parallel()
	gib := bombDOCX(t, "word/document.xml", 1024, 0)
	t.Logf("1 GiB bomb: %d bytes", len(gib))
	// The bomb is real: its entry opens and inflates to zeros.
	zr, err := zip.NewReader(bytes.NewReader(gib), int64(len(gib)))
	if err != nil {
		t.Fatal(err)
	}
	rc, err := zr.File[0].Open()
	if err != nil {
		t.Fatal(err)
	}
	head := make([]byte, 4<<20)
	if _, err := io.ReadFull(rc, head); err != nil || bytes.IndexFunc(head, func(r rune) bool { return r != 0 }) >= 0 {
		t.Fatalf("the bomb does not inflate to zeros: %v", err)
	}
	rc.Close()

	tests := []struct {
		name     string
		in       []byte
		code     string
		contains []string
	}{
		{"1 GiB entry", gib, grounded.ETOOLARGE, []string{"word/document.xml", "1073741824", "limit"}},
		{"32 MiB entry, ratio over 100", bombDOCX(t, "word/document.xml", 32, 0), grounded.ETOOLARGE, []string{"times", "limit"}},
		// The header claims 1 KiB: archive/zip stops at byte 1025.
		{"1 GiB entry declared 1 KiB", bombDOCX(t, "word/document.xml", 1024, 1024), grounded.EINVALID, []string{"word/document.xml"}},
		{"1 GiB core.xml", bombDOCX(t, "docProps/core.xml", 1024, 0, part{"word/document.xml", wordBody(p("", "text"))}), grounded.ETOOLARGE, []string{"docProps/core.xml", "limit"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := ingest.Load("bomb.docx", tt.in)
			if err == nil {
				t.Fatalf("Load accepted a zip bomb: %d bytes of text", len(doc.Text))
			}
			if doc != nil {
				t.Errorf("Load returned a document with its error")
			}
			t.Log(err)
			if code := grounded.ErrorCode(err); code != tt.code {
				t.Errorf("error %v has code %q, want %q", err, code, tt.code)
			}
			for _, s := range tt.contains {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not mention %q", err, s)
				}
			}
		})
	}
}

// FuzzLoadDOCX feeds arbitrary bytes to the DOCX loader three ways: as the
// whole file, as word/document.xml of an archive, and as the body inside a
// w:document. Load must not panic; a failure is EINVALID (or ETOOLARGE); a
// document must hold the invariants every loader keeps.
func FuzzLoadDOCX(f *testing.F) {
	fixture := zipDir(f, filepath.Join("testdata", "docx", "report"))
	full := makeDOCX(f, "T", p("Title", "A")+p("Heading1", "B")+p("", "text")+tbl([]string{"x", "y"}))
	f.Add(fixture, uint8(0))
	f.Add(full, uint8(0))
	f.Add(full[:len(full)/2], uint8(0))
	f.Add([]byte("PK\x03\x04 not really"), uint8(0))
	f.Add([]byte("plain text"), uint8(0))
	if body, err := os.ReadFile(filepath.Join("testdata", "docx", "report", "word", "document.xml")); err == nil {
		f.Add(body, uint8(1))
		f.Add(body[:len(body)/2], uint8(1))
	}
	for _, s := range []string{
		p("Title", "A") + p("Heading2", "B") + p("", "c"),
		tbl([]string{"a", "b"}, []string{"c"}),
		`<w:tbl><w:tr><w:tc><w:tbl><w:tr><w:tc>` + p("Heading1", "deep") + `</w:tc></w:tr></w:tbl></w:tc></w:tr></w:tbl>`,
		`<w:tc>` + p("", "cell without table") + `</w:tc><w:tr/>`,
		`<w:p><w:p><w:r><w:t>nested</w:t></w:r></w:p><w:r><w:t>outer</w:t></w:r></w:p>`,
		`<w:p><w:r><w:t>a<w:t>b</w:t></w:t><w:tab/><w:br/></w:r></w:p>`,
		`<mc:Fallback>` + p("", "gone") + `</mc:Fallback>` + p("", "kept"),
		p("Heading1", "\u00a0") + p("", "\u2028x\u0085"),
		strings.Repeat(`<w:tbl><w:tr><w:tc>`, 50) + p("", "deep") + strings.Repeat(`</w:tc></w:tr></w:tbl>`, 50),
	} {
		f.Add([]byte(s), uint8(2))
		f.Add([]byte(wordBody(s)), uint8(1))
	}
	ch := ingesttest.Chunker(f, ingesttest.SmallConfig)
	f.Fuzz(func(t *testing.T, data []byte, mode uint8) {
		switch mode % 3 {
		case 1:
			data = zipWith(t, zip.Store, part{"word/document.xml", string(data)})
		case 2:
			data = zipWith(t, zip.Store, part{"word/document.xml", wordBody(string(data))})
		}
		doc, err := ingest.Load("fuzz.docx", data)
		if err != nil {
			if code := grounded.ErrorCode(err); code != grounded.EINVALID && code != grounded.ETOOLARGE {
				t.Fatalf("Load error %v has code %q", err, code)
			}
			if doc != nil {
				t.Fatal("Load returned a document with its error")
			}
			return
		}
		ingesttest.CheckDoc(t, doc)
		for i, s := range doc.Sections {
			if len(s.Path) > 0 && !strings.HasPrefix(doc.Text[s.Start:], strings.Fields(s.Path[len(s.Path)-1])[0]) {
				t.Errorf("section %d does not start with its heading %q", i, s.Path[len(s.Path)-1])
			}
		}
		chunks := ch.Chunk(doc)
		ingesttest.CheckNoChunks(t, doc, chunks)
		ingesttest.CheckChunks(t, doc, chunks)
	})
}
