package ingest_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/groundedhq/grounded"
	"github.com/groundedhq/grounded/ingest"
	"github.com/groundedhq/grounded/ingest/internal/ingesttest"
)

// fixtures are the loader inputs under testdata/, each with a .golden file.
var fixtures = []string{"guide.md", "notes.txt", "page.html"}

func loadFixture(tb testing.TB, name string) (*grounded.Document, []byte) {
	tb.Helper()
	data := ingesttest.ReadFixture(tb, name)
	doc, err := ingest.Load(name, data)
	if err != nil {
		tb.Fatalf("Load(%s): %v", name, err)
	}
	return doc, data
}

// golden is the reviewed rendering of a loaded and chunked document.
type golden struct {
	Title    string          `json:"title"`
	Format   string          `json:"format"`
	Sections []goldenSection `json:"sections"`
	Chunks   []goldenChunk   `json:"chunks"`
}

type goldenSection struct {
	Path  []string `json:"path"`
	Start int      `json:"start"`
	End   int      `json:"end"`
	Text  string   `json:"text"` // first 60 bytes (to a rune boundary)
}

type goldenChunk struct {
	Section string `json:"section"`
	Start   int    `json:"start"`
	End     int    `json:"end"`
	Tokens  int    `json:"tokens"`
	First   string `json:"first"` // first 40 bytes (to a rune boundary)
	Last    string `json:"last"`  // last 40 bytes (to a rune boundary)
}

func render(tb testing.TB, doc *grounded.Document, chunks []grounded.Chunk) []byte {
	tb.Helper()
	g := golden{Title: doc.Title, Format: doc.Format, Sections: []goldenSection{}, Chunks: []goldenChunk{}}
	for _, s := range doc.Sections {
		g.Sections = append(g.Sections, goldenSection{s.Path, s.Start, s.End, ingesttest.Prefix(doc.Text[s.Start:s.End], 60)})
	}
	for _, c := range chunks {
		g.Chunks = append(g.Chunks, goldenChunk{c.Section, c.Start, c.End, c.Tokens, ingesttest.Prefix(c.Text, 40), ingesttest.Tail(c.Text, 40)})
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(g); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

// TestLoadGolden loads and chunks each fixture and compares the result with
// testdata/<fixture>.golden. Run go test ./ingest -update to accept changes.
func TestLoadGolden(t *testing.T) {
	t.Parallel()
	ch := ingesttest.Chunker(t, ingesttest.SmallConfig)
	for _, name := range fixtures {
		t.Run(name, func(t *testing.T) {
			doc, _ := loadFixture(t, name)
			chunks := ch.Chunk(doc)
			ingesttest.CheckDoc(t, doc)
			ingesttest.CheckChunks(t, doc, chunks)
			got := render(t, doc, chunks)
			path := filepath.Join("testdata", name+".golden")
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
				t.Errorf("%s differs from the golden file (go test ./ingest -update accepts it)\n--- got\n%s\n--- want\n%s", name, got, want)
			}
		})
	}
}

// TestLoadKeepsFileBytes checks that Markdown and text keep the file as the
// text, and the identity fields every format sets.
func TestLoadKeepsFileBytes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, format string
		keepsBytes   bool
	}{
		{"guide.md", ingest.FormatMarkdown, true},
		{"notes.txt", ingest.FormatText, true},
		{"page.html", ingest.FormatHTML, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, data := loadFixture(t, tt.name)
			if tt.keepsBytes && doc.Text != string(data) {
				t.Errorf("Text differs from the file bytes")
			}
			if doc.Format != tt.format {
				t.Errorf("Format = %q, want %q", doc.Format, tt.format)
			}
			sum := sha256.Sum256(data)
			if want := hex.EncodeToString(sum[:]); doc.ContentHash != want {
				t.Errorf("ContentHash = %q, want %q", doc.ContentHash, want)
			}
			if doc.ID != ingest.DocID(tt.name) || len(doc.ID) != 16 {
				t.Errorf("ID = %q, want DocID(%q) = %q (16 hex digits)", doc.ID, tt.name, ingest.DocID(tt.name))
			}
			if doc.Source != tt.name {
				t.Errorf("Source = %q, want %q", doc.Source, tt.name)
			}
		})
	}
}

func paths(doc *grounded.Document) [][]string {
	var out [][]string
	for _, s := range doc.Sections {
		out = append(out, s.Path)
	}
	return out
}

func TestLoadMarkdownFixture(t *testing.T) {
	t.Parallel()
	doc, _ := loadFixture(t, "guide.md")
	if doc.Title != "Field Guide to Grounding" {
		t.Errorf("Title = %q, want the front matter title", doc.Title)
	}
	wantPaths := [][]string{
		nil,
		{"Grounded answers"},
		{"Grounded answers", "Retrieval"},
		{"Grounded answers", "Retrieval", "Ranking details"},
		{"Grounded answers", "Setext heading about abstaining"},
	}
	if got := paths(doc); !slices.EqualFunc(got, wantPaths, slices.Equal) {
		t.Fatalf("section paths = %q, want %q", got, wantPaths)
	}
	// The front matter is in no section.
	if end := strings.Index(doc.Text, "\n---\n") + len("\n---\n"); doc.Sections[0].Start < end {
		t.Errorf("first section starts at %d, inside the front matter (ends at %d)", doc.Sections[0].Start, end)
	}
	// A heading section starts with its heading line, '#' included.
	for _, s := range doc.Sections[1:] {
		title := s.Path[len(s.Path)-1]
		line, _, _ := strings.Cut(doc.Text[s.Start:s.End], "\n")
		if !strings.HasSuffix(line, title) {
			t.Errorf("section %q starts with %q, not its heading line", title, line)
		}
	}
	// The fenced '# not a heading' line stays in the Retrieval section.
	retrieval := doc.Sections[2]
	if !strings.Contains(doc.Text[retrieval.Start:retrieval.End], "# not a heading") {
		t.Errorf("the code block is not in section %q", retrieval.Path)
	}
	// The sections cover the body without gaps.
	for i := 1; i < len(doc.Sections); i++ {
		if doc.Sections[i].Start != doc.Sections[i-1].End {
			t.Errorf("gap between sections %d and %d: [%d,%d)", i-1, i, doc.Sections[i-1].End, doc.Sections[i].Start)
		}
	}
	if last := doc.Sections[len(doc.Sections)-1]; last.End != len(doc.Text) {
		t.Errorf("last section ends at %d, want %d", last.End, len(doc.Text))
	}
}

func TestLoadMarkdown(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, source, in string
		title            string
		paths            [][]string
	}{
		{
			name: "title from first h1", source: "a.md",
			in:    "Lead text.\n\n## Before\n\nx\n\n# Real Title\n\nBody.\n",
			title: "Real Title",
			paths: [][]string{nil, {"Before"}, {"Real Title"}},
		},
		{
			name: "title from file name", source: "dir/cost-trade_offs.md",
			in:    "## Only a subheading\n\nBody.\n",
			title: "cost trade offs",
			paths: [][]string{{"Only a subheading"}},
		},
		{
			name: "unterminated front matter is text", source: "a.md",
			in:    "---\ntitle: Nope\nBody without a closing line.\n",
			title: "a",
			paths: [][]string{nil},
		},
		{
			name: "CRLF front matter", source: "a.md",
			in:    "---\r\ntitle: 'Quoted'\r\n---\r\n# Heading\r\n\r\nBody.\r\n",
			title: "Quoted",
			paths: [][]string{{"Heading"}},
		},
		{
			name: "inline markup in headings", source: "a.md",
			in:    "# The `Load` *function*\n\ntext\n\n### Deep **bold** [link](http://x)\n\nmore\n",
			title: "The Load function",
			paths: [][]string{{"The Load function"}, {"The Load function", "Deep bold link"}},
		},
		{
			name: "sibling headings pop the stack", source: "a.md",
			in:    "# A\n\n## B\n\n### C\n\n## D\n\n# E\n\ntext\n",
			title: "A",
			paths: [][]string{{"A"}, {"A", "B"}, {"A", "B", "C"}, {"A", "D"}, {"E"}},
		},
		{
			name: "setext h1 and h2", source: "a.md",
			in:    "Top\n===\n\nintro\n\nSub\n---\n\nbody\n",
			title: "Top",
			paths: [][]string{{"Top"}, {"Top", "Sub"}},
		},
		{
			name: "hash lines in code are not headings", source: "a.md",
			in:    "# Real\n\n```sh\n# comment\n```\n\n    # indented code\n",
			title: "Real",
			paths: [][]string{{"Real"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := ingest.Load(tt.source, []byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			ingesttest.CheckDoc(t, doc)
			if doc.Text != tt.in {
				t.Errorf("Text differs from the input")
			}
			if doc.Title != tt.title {
				t.Errorf("Title = %q, want %q", doc.Title, tt.title)
			}
			if got := paths(doc); !slices.EqualFunc(got, tt.paths, slices.Equal) {
				t.Errorf("section paths = %q, want %q", got, tt.paths)
			}
		})
	}
}

func TestLoadText(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("word ", 30)
	tests := []struct {
		name, source, in, title string
	}{
		{"first line", "n.txt", "\n  Release notes  \nBody text.\n", "Release notes"},
		{"sentence first line", "my_notes.txt", "This is a sentence.\nMore.\n", "my notes"},
		{"long first line", "long-file.txt", long + "\nMore.\n", "long file"},
		{"single line", "x.txt", "just one line", "just one line"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := ingest.Load(tt.source, []byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			ingesttest.CheckDoc(t, doc)
			if doc.Text != tt.in {
				t.Errorf("Text = %q, want the input", doc.Text)
			}
			if doc.Title != tt.title {
				t.Errorf("Title = %q, want %q", doc.Title, tt.title)
			}
			if want := []grounded.Section{{Start: 0, End: len(tt.in)}}; !slices.EqualFunc(doc.Sections, want, sectionEqual) {
				t.Errorf("Sections = %+v, want %+v", doc.Sections, want)
			}
		})
	}
}

func sectionEqual(a, b grounded.Section) bool {
	return a.Start == b.Start && a.End == b.End && slices.Equal(a.Path, b.Path)
}

func TestLoadHTMLFixture(t *testing.T) {
	t.Parallel()
	doc, _ := loadFixture(t, "page.html")
	if doc.Title != "Fish & Chips Café Guide" {
		t.Errorf("Title = %q, want the decoded <title>", doc.Title)
	}
	for _, want := range []string{
		"Fish & Chips",                         // &amp;
		"Our café serves fresh fish — caught",  // &eacute; and &#8212;
		"caught daily.\nOpen late on Fridays.", // <br>
		"Prices include tax <always>.",         // &lt; &gt;
		"Haddock", "10.25",
		"fry(fish)\n    serve(with=\"chips\")\n", // <pre> keeps its lines and indent
		"Batter is made fresh every morning.",
	} {
		if !strings.Contains(doc.Text, want) {
			t.Errorf("text lacks %q:\n%s", want, doc.Text)
		}
	}
	for _, bad := range []string{
		"marker-xyz", "Xyz", "color: red", "must not be indexed", "document.write",
		"&amp;", "&eacute;", "&#8212;", "&lt;", "<p>", "<br>", "<td>",
	} {
		if strings.Contains(doc.Text, bad) {
			t.Errorf("text contains %q:\n%s", bad, doc.Text)
		}
	}
	wantPaths := [][]string{
		{"Fish & Chips"},
		{"Fish & Chips", "Menu"},
		{"Fish & Chips", "Menu", "Preparation"},
	}
	if got := paths(doc); !slices.EqualFunc(got, wantPaths, slices.Equal) {
		t.Errorf("section paths = %q, want %q", got, wantPaths)
	}
	for _, s := range doc.Sections {
		if title := s.Path[len(s.Path)-1]; !strings.HasPrefix(doc.Text[s.Start:s.End], title) {
			t.Errorf("section %q starts with %q", title, ingesttest.Prefix(doc.Text[s.Start:s.End], 30))
		}
	}
}

func TestLoadHTML(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, source, in string
		title, text      string
		paths            [][]string
	}{
		{
			name: "title from first h1", source: "p.html",
			in:    "<p>lead</p><h2>Sub</h2><h1>Main &amp; more</h1><p>body</p>",
			title: "Main & more", text: "lead\n\nSub\n\nMain & more\n\nbody",
			paths: [][]string{nil, {"Sub"}, {"Main & more"}},
		},
		{
			name: "title from file name", source: "dir/my-page.htm",
			in:    "<p>just text</p>",
			title: "my page", text: "just text",
		},
		{
			name: "white space collapsed", source: "p.html",
			in:    "<p>  many\n\t spaces   here </p>\n\n<p>next<b>bold</b> <i>it</i></p>",
			title: "p", text: "many spaces here\n\nnextbold it",
		},
		{
			name: "hidden variants", source: "p.html",
			in:    `<p>a</p><span aria-hidden="true">x1</span><div style="color: red; display: none">x2</div><div style="display : none">x3</div><div style="display:none">x4</div><template>x5</template><svg><text>x6</text></svg><p>b</p>`,
			title: "p", text: "a\n\nb",
		},
		{
			name: "hidden text in heading", source: "p.html",
			in:    `<h1>Shown<span hidden>Gone</span></h1><p>x</p>`,
			title: "Shown", text: "Shown\n\nx",
			paths: [][]string{{"Shown"}},
		},
		{
			name: "comments dropped", source: "p.html",
			in:    "<p>a<!-- secret -->b</p>",
			title: "p", text: "ab",
		},
		{
			name: "unclosed tags", source: "p.html",
			in:    "<div><p>one<p>two<b>three",
			title: "p", text: "one\n\ntwothree",
		},
		{
			name: "empty headings are not sections", source: "p.html",
			in:    "<h1> </h1><h2>Real</h2><p>x</p>",
			title: "p", text: "Real\n\nx",
			paths: [][]string{{"Real"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := ingest.Load(tt.source, []byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			ingesttest.CheckDoc(t, doc)
			if doc.Title != tt.title {
				t.Errorf("Title = %q, want %q", doc.Title, tt.title)
			}
			if doc.Text != tt.text {
				t.Errorf("Text = %q, want %q", doc.Text, tt.text)
			}
			wantPaths := tt.paths
			if wantPaths == nil {
				wantPaths = [][]string{nil}
			}
			if got := paths(doc); !slices.EqualFunc(got, wantPaths, slices.Equal) {
				t.Errorf("section paths = %q, want %q", got, wantPaths)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, source string
		in           []byte
		code         string   // grounded error code, "" for ErrUnsupported
		contains     []string // substrings of the error message
	}{
		{"empty md", "a.md", nil, grounded.EINVALID, []string{"a.md", "empty"}},
		{"empty txt", "a.txt", []byte{}, grounded.EINVALID, []string{"empty"}},
		{"empty html", "a.html", []byte(""), grounded.EINVALID, []string{"empty"}},
		{"white space md", "a.md", []byte(" \n\t\r\n  \n"), grounded.EINVALID, []string{"empty"}},
		{"white space txt", "a.txt", []byte("\n\n\u00a0 \u2003\n"), grounded.EINVALID, []string{"empty"}},
		{"invalid UTF-8 txt", "a.txt", []byte("hello\xffworld"), grounded.EINVALID, []string{"UTF-8", "byte 5"}},
		{"invalid UTF-8 md", "a.md", []byte("# Title\n\ncaf\xc3"), grounded.EINVALID, []string{"UTF-8", "byte 12"}},
		{"invalid UTF-8 first byte", "a.html", []byte("\x80<p>x</p>"), grounded.EINVALID, []string{"UTF-8", "byte 0"}},
		{"surrogate half", "a.txt", []byte("ok \xed\xa0\x80 ok"), grounded.EINVALID, []string{"UTF-8", "byte 3"}},
		{"html with no visible text", "a.html", []byte("<script>x()</script><style>p{}</style><p hidden>no</p>"), grounded.EINVALID, []string{"no text"}},
		{"html too deeply nested", "a.html", []byte(strings.Repeat("<div>", 10000) + "x"), grounded.EINVALID, []string{"a.html"}},
		{"front matter only", "a.md", []byte("---\ntitle: Only metadata\n---\n\n"), grounded.EINVALID, nil},
		{"not really a pdf", "a.pdf", []byte("%PDF-1.7"), grounded.EINVALID, []string{"a.pdf"}},
		{"unknown type", "a.png", []byte("\x89PNG"), "", []string{"a.png"}},
		{"no extension", "README", []byte("text"), "", nil},
		{"upper-case unknown", "A.ODT", []byte("text"), "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := ingest.Load(tt.source, tt.in)
			if err == nil {
				t.Fatalf("Load returned no error and a document with text %q", doc.Text)
			}
			if doc != nil {
				t.Errorf("Load returned a document with its error")
			}
			if tt.code == "" {
				if !errors.Is(err, ingest.ErrUnsupported) {
					t.Errorf("error %v is not ErrUnsupported", err)
				}
			} else if got := grounded.ErrorCode(err); got != tt.code {
				t.Errorf("error %v has code %q, want %q", err, got, tt.code)
			}
			for _, s := range tt.contains {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not mention %q", err, s)
				}
			}
		})
	}
}

func TestFormatOf(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, want string }{
		{"a.md", ingest.FormatMarkdown},
		{"dir.x/B.MARKDOWN", ingest.FormatMarkdown},
		{"a.txt", ingest.FormatText},
		{"a.TXT", ingest.FormatText},
		{"a.html", ingest.FormatHTML},
		{"a.htm", ingest.FormatHTML},
		{"a.pdf", ingest.FormatPDF},
		{"a.png", ""},
		{"md", ""},
		{"a.md.bak", ""},
		{".md", ingest.FormatMarkdown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ingest.FormatOf(tt.name); got != tt.want {
				t.Errorf("FormatOf(%q) = %q, want %q", tt.name, got, tt.want)
			}
		})
	}
}

func TestDocID(t *testing.T) {
	t.Parallel()
	a, b := ingest.DocID("/data/a.md"), ingest.DocID("/data/b.md")
	if a == b {
		t.Errorf("different sources share id %q", a)
	}
	if a != ingest.DocID("/data/a.md") {
		t.Errorf("DocID is not stable")
	}
	if _, err := hex.DecodeString(a); err != nil || len(a) != 16 {
		t.Errorf("DocID = %q, want 16 hex digits", a)
	}
}
