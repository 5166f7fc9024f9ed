package ingest_test

import (
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/groundedhq/grounded"
	"github.com/groundedhq/grounded/ingest"
	"github.com/groundedhq/grounded/ingest/internal/ingesttest"
)

// row is what a test expects of one table section.
type row struct {
	loc  string
	text string
	meta map[string]string
}

// checkRows asserts the document's sections are exactly want, in order,
// each covering its text, and that the text is the rows joined by blank lines.
func checkRows(t *testing.T, doc *grounded.Document, want []row) {
	t.Helper()
	ingesttest.CheckDoc(t, doc)
	var got []row
	for _, s := range doc.Sections {
		if len(s.Path) != 0 {
			t.Errorf("section %s has path %q", s.Location, s.Path)
		}
		got = append(got, row{s.Location, doc.Text[s.Start:s.End], s.Meta})
	}
	eq := func(a, b row) bool { return a.loc == b.loc && a.text == b.text && maps.Equal(a.meta, b.meta) }
	if !slices.EqualFunc(got, want, eq) {
		t.Errorf("rows =\n%v\nwant\n%v", got, want)
	}
	var texts []string
	for _, r := range want {
		texts = append(texts, r.text)
	}
	if w := strings.Join(texts, "\n\n"); doc.Text != w {
		t.Errorf("Text = %q, want %q", doc.Text, w)
	}
}

func m(kv ...string) map[string]string {
	out := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

func TestLoadCSV(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		opt      ingest.TableOptions
		want     []row
	}{
		{"text column by name", "id,Description,price\n1,A heat pump.,3499\n2,  A tank.  ,799\n",
			ingest.TableOptions{}, []row{
				{"row 1", "A heat pump.", m("id", "1", "price", "3499")},
				{"row 2", "A tank.", m("id", "2", "price", "799")},
			}},
		{"leftmost text column wins", "abstract,title,body\na1,t1,b1\n", ingest.TableOptions{},
			[]row{{"row 1", "a1", m("title", "t1", "body", "b1")}}},
		{"each default name", "CONTENT,x\nc,1\n", ingest.TableOptions{}, []row{{"row 1", "c", m("x", "1")}}},
		{"no text column: name: value lines", "sku,name,price\nHP-1,Heat pump,3499\nT-1,,799\n", ingest.TableOptions{}, []row{
			{"row 1", "sku: HP-1\nname: Heat pump\nprice: 3499", m("sku", "HP-1", "name", "Heat pump", "price", "3499")},
			{"row 2", "sku: T-1\nprice: 799", m("sku", "T-1", "price", "799")},
		}},
		{"TextColumn", "title,text,notes\nT1,ignored,Long note.\n", ingest.TableOptions{TextColumn: "Notes"},
			[]row{{"row 1", "Long note.", m("title", "T1", "text", "ignored")}}},
		{"Template", "id,title,body,year\n7,Heat pumps,Move heat.,2024\n8,,Only body.,2023\n9,,,2022\n",
			ingest.TableOptions{Template: "{title}: {body} ({{{year}}})"}, []row{
				{"row 1", "Heat pumps: Move heat. ({2024})", m("id", "7")},
				{"row 2", ": Only body. ({2023})", m("id", "8")},
				{"row 3", ":  ({2022})", m("id", "9")},
			}},
		{"empty text rows keep their numbers", "text,n\none,1\n,2\n  ,3\nfour,4\n", ingest.TableOptions{}, []row{
			{"row 1", "one", m("n", "1")},
			{"row 4", "four", m("n", "4")},
		}},
		{"quoted fields", "text,q\n\"line one\nline two\",\"a, \"\"b\"\"\"\nnext,x\n", ingest.TableOptions{}, []row{
			{"row 1", "line one\nline two", m("q", `a, "b"`)},
			{"row 2", "next", m("q", "x")},
		}},
		{"lazy quotes", "text,n\nhe said \"hi\" twice,1\n", ingest.TableOptions{}, []row{{"row 1", `he said "hi" twice`, m("n", "1")}}},
		{"ragged rows", "text,a,b\nshort\nlong,1,2,3,4\n", ingest.TableOptions{}, []row{
			{"row 1", "short", nil},
			{"row 2", "long", m("a", "1", "b", "2", "column 4", "3", "column 5", "4")},
		}},
		{"BOM, CRLF and blank lines", "\ufefftext,n\r\n\r\na,1\r\n\r\nb,2\r\n", ingest.TableOptions{}, []row{
			{"row 1", "a", m("n", "1")},
			{"row 2", "b", m("n", "2")},
		}},
		{"semicolons", "text;price\nTank;799,00\n", ingest.TableOptions{}, []row{{"row 1", "Tank", m("price", "799,00")}}},
		{"tabs", "text\tprice\nTank\t799\n", ingest.TableOptions{}, []row{{"row 1", "Tank", m("price", "799")}}},
		{"header names cleaned", " text ,,a,a\nt,1,2,3\n", ingest.TableOptions{}, []row{
			{"row 1", "t", m("column 2", "1", "a", "2", "a (2)", "3")},
		}},
		{"no final newline", "text\nlast", ingest.TableOptions{}, []row{{"row 1", "last", nil}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := ingest.LoadWith("data/products.csv", []byte(tt.in), ingest.LoadOptions{Table: tt.opt})
			if err != nil {
				t.Fatal(err)
			}
			if doc.Format != ingest.FormatCSV || doc.Title != "products" {
				t.Errorf("Format %q, Title %q", doc.Format, doc.Title)
			}
			checkRows(t, doc, tt.want)
		})
	}
}

func TestLoadJSONL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		opt      ingest.TableOptions
		want     []row
	}{
		{"text key and typed values", `{"id": "p1", "abstract": "We measured 48 homes.", "year": 2024, "score": 3.50, "oa": true, "venue": null, "authors": ["A. Lee", "B. Chen"], "site": {"country": "NO", "homes": 12}}` + "\n",
			ingest.TableOptions{}, []row{{"row 1", "We measured 48 homes.", m("id", "p1", "year", "2024", "score", "3.50", "oa", "true",
				"authors", `["A. Lee","B. Chen"]`, "site", `{"country":"NO","homes":12}`)}}},
		{"text key chosen per row in key order", `{"body": "b", "text": "t"}` + "\n" + `{"title": "x", "Content": "c"}` + "\n" + `{"title": "only"}`,
			ingest.TableOptions{}, []row{
				{"row 1", "b", m("text", "t")},
				{"row 2", "c", m("title", "x")},
				{"row 3", "title: only", m("title", "only")},
			}},
		{"rows are numbered by line", "\n" + `{"text": "a"}` + "\n\n  \n" + `{"text": "b"}` + "\r\n",
			ingest.TableOptions{}, []row{{"row 2", "a", nil}, {"row 5", "b", nil}}},
		{"bad lines skipped", `{"text": "a"}` + "\nnot json\n" + `{"text": "b"}` + "\n" + `{"text": "c"}` + "\n[1,2]\n",
			ingest.TableOptions{}, []row{{"row 1", "a", nil}, {"row 3", "b", nil}, {"row 4", "c", nil}}},
		{"repeated key keeps its place, last value", `{"text": "first", "n": 1, "text": "last"}`,
			ingest.TableOptions{}, []row{{"row 1", "last", m("n", "1")}}},
		{"escapes", `{"text": "caf\u00e9 \"q\" \ud83d\ude00 \ud800", "n": "a\nb"}`,
			ingest.TableOptions{}, []row{{"row 1", "café \"q\" 😀 \ufffd", m("n", "a\nb")}}},
		{"nested text value", `{"text": {"en": "hi"}}`, ingest.TableOptions{}, []row{{"row 1", `{"en":"hi"}`, nil}}},
		{"TextColumn", `{"title": "T", "summary": "S1"}` + "\n" + `{"title": "U"}` + "\n" + `{"Summary": "S3"}`,
			ingest.TableOptions{TextColumn: "summary"}, []row{{"row 1", "S1", m("title", "T")}, {"row 3", "S3", nil}}},
		{"Template", `{"title": "Heat", "body": "Moves heat.", "id": 1}` + "\n" + `{"body": "No title."}` + "\n" + `{"id": 3}`,
			ingest.TableOptions{Template: "{title}\n{body}"}, []row{{"row 1", "Heat\nMoves heat.", m("id", "1")}, {"row 2", "No title.", nil}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, ext := range []string{".jsonl", ".ndjson"} {
				doc, err := ingest.LoadWith("papers"+ext, []byte(tt.in), ingest.LoadOptions{Table: tt.opt})
				if err != nil {
					t.Fatal(err)
				}
				if doc.Format != ingest.FormatJSONL {
					t.Errorf("Format %q", doc.Format)
				}
				checkRows(t, doc, tt.want)
			}
		})
	}
}

func TestLoadTableErrors(t *testing.T) {
	t.Parallel()
	huge := strings.Repeat("x", 16<<20+1)
	tests := []struct {
		name, source, in string
		opt              ingest.TableOptions
		contains         []string
	}{
		{"header only", "a.csv", "text,id\n", ingest.TableOptions{}, []string{"a.csv", "no data rows"}},
		{"header and blank lines", "a.csv", "text,id\n\n\n", ingest.TableOptions{}, []string{"no data rows"}},
		{"no row has text", "a.csv", "text,id\n,1\n ,2\n", ingest.TableOptions{}, []string{"no row has text"}},
		{"TextColumn not in header", "a.csv", "title,body\nT,B\n", ingest.TableOptions{TextColumn: "summary"}, []string{`no column "summary"`, "title, body"}},
		{"template column not in header", "a.csv", "title,body\nT,B\n", ingest.TableOptions{Template: "{title}: {abstract}"}, []string{`no column "abstract"`}},
		{"TextColumn in no JSONL row", "a.jsonl", `{"title": "T"}`, ingest.TableOptions{TextColumn: "summary"}, []string{`no row has text in column "summary"`}},
		{"both options", "a.csv", "text\nx\n", ingest.TableOptions{TextColumn: "text", Template: "{text}"}, []string{"not both"}},
		{"template unclosed", "a.csv", "text\nx\n", ingest.TableOptions{Template: "{text"}, []string{"a.csv", "not closed"}},
		{"template stray brace", "a.csv", "text\nx\n", ingest.TableOptions{Template: "{text} }"}, []string{"}}"}},
		{"template empty name", "a.csv", "text\nx\n", ingest.TableOptions{Template: "{} {text}"}, []string{`"{}"`}},
		{"template without columns", "a.jsonl", `{"text": "x"}`, ingest.TableOptions{Template: "just {{text}}"}, []string{"names no column"}},
		{"most JSONL lines bad", "a.jsonl", `{"text": "ok"}` + "\n{bad\n" + `{"text": "ok"}` + "\n[]\n\"s\"\n", ingest.TableOptions{}, []string{"3 of 5 lines are bad", "line 2"}},
		{"all JSONL lines bad", "a.jsonl", "a\nb\n", ingest.TableOptions{}, []string{"2 of 2 lines are bad", "line 1"}},
		{"two values on a line", "a.jsonl", `{"text": "a"} {"text": "b"}`, ingest.TableOptions{}, []string{"line 1", "more than one JSON value"}},
		{"JSON with trailing garbage", "a.jsonl", `{"text": "a"} x`, ingest.TableOptions{}, []string{"line 1"}},
		{"enormous JSONL line", "a.jsonl", `{"text": "ok"}` + "\n" + `{"text": "` + huge + `"}`, ingest.TableOptions{}, []string{"line 2", "16777216"}},
		{"enormous CSV line", "a.csv", "text\n" + huge + "\n", ingest.TableOptions{}, []string{"line 2"}},
		{"invalid UTF-8", "a.csv", "text\ncaf\xe9\n", ingest.TableOptions{}, []string{"UTF-8"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := ingest.LoadWith(tt.source, []byte(tt.in), ingest.LoadOptions{Table: tt.opt})
			if err == nil {
				t.Fatalf("LoadWith returned no error and a document with text %q", ingesttest.Clip(doc.Text))
			}
			if doc != nil {
				t.Errorf("LoadWith returned a document with its error")
			}
			if code := grounded.ErrorCode(err); code != grounded.EINVALID {
				t.Errorf("error %v has code %q, want %q", err, code, grounded.EINVALID)
			}
			for _, s := range tt.contains {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not mention %q", ingesttest.Clip(err.Error()), s)
				}
			}
		})
	}
}

func TestTableOptionsValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		opt ingest.TableOptions
		ok  bool
	}{
		{ingest.TableOptions{}, true},
		{ingest.TableOptions{TextColumn: "body"}, true},
		{ingest.TableOptions{Template: "{title}: {body}"}, true},
		{ingest.TableOptions{Template: "{{literal}} {x}"}, true},
		{ingest.TableOptions{Template: "{ title }"}, true},
		{ingest.TableOptions{TextColumn: "a", Template: "{b}"}, false},
		{ingest.TableOptions{Template: "no columns"}, false},
		{ingest.TableOptions{Template: "{a"}, false},
		{ingest.TableOptions{Template: "a}"}, false},
		{ingest.TableOptions{Template: "{a{b}}"}, false},
	}
	for _, tt := range tests {
		err := tt.opt.Validate()
		if (err == nil) != tt.ok {
			t.Errorf("%+v.Validate() = %v, want ok %v", tt.opt, err, tt.ok)
		}
		if err != nil && grounded.ErrorCode(err) != grounded.EINVALID {
			t.Errorf("%+v.Validate() = %v, not EINVALID", tt.opt, err)
		}
	}
}

// TestLoadWithOtherFormats checks table options leave other formats alone,
// and Load is LoadWith with zero options.
func TestLoadWithOtherFormats(t *testing.T) {
	t.Parallel()
	opt := ingest.LoadOptions{Table: ingest.TableOptions{Template: "{title}"}}
	for _, name := range fixtures {
		data := ingesttest.ReadFixture(t, name)
		a, err := ingest.Load(name, data)
		if err != nil {
			t.Fatal(err)
		}
		b, err := ingest.LoadWith(name, data, opt)
		if err != nil {
			t.Fatal(err)
		}
		if a.Text != b.Text || !slices.EqualFunc(a.Sections, b.Sections, func(x, y grounded.Section) bool {
			return x.Start == y.Start && x.End == y.End && slices.Equal(x.Path, y.Path)
		}) {
			t.Errorf("%s: LoadWith with table options differs from Load", name)
		}
	}
}

func TestFormatOfTables(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]string{
		"a.docx": ingest.FormatDOCX, "A.DOCX": ingest.FormatDOCX, "a.doc": "",
		"a.csv": ingest.FormatCSV, "a.CSV": ingest.FormatCSV, "a.tsv": "",
		"a.jsonl": ingest.FormatJSONL, "a.ndjson": ingest.FormatJSONL, "a.json": "",
	} {
		if got := ingest.FormatOf(name); got != want {
			t.Errorf("FormatOf(%q) = %q, want %q", name, got, want)
		}
	}
}

// TestTableChunks checks that a row's location and metadata reach every
// chunk cut from it, and chunks never span rows.
func TestTableChunks(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("A heat pump moves heat from outside air into the house. ", 12)
	in := "id,text,price\n1,Short row.,10\n2," + long + ",20\n3,Another short row.,30\n"
	doc, err := ingest.Load("p.csv", []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	chunks := ingesttest.Chunker(t, ingesttest.SmallConfig).Chunk(doc)
	ingesttest.CheckChunks(t, doc, chunks)
	ingesttest.CheckCoverage(t, doc, chunks)
	perRow := map[string]int{}
	for i, c := range chunks {
		s, ok := ingesttest.SectionOf(doc, c)
		if !ok {
			continue // checkChunks reported it
		}
		if c.Location != s.Location || !maps.Equal(c.Meta, s.Meta) {
			t.Errorf("chunk %d has location %q meta %v, its section %q %v", i, c.Location, c.Meta, s.Location, s.Meta)
		}
		n, _ := strconv.Atoi(strings.TrimPrefix(c.Location, "row "))
		if want := m("id", strconv.Itoa(n), "price", strconv.Itoa(10*n)); !maps.Equal(c.Meta, want) {
			t.Errorf("chunk %d (%s) meta %v, want %v", i, c.Location, c.Meta, want)
		}
		perRow[c.Location]++
	}
	if perRow["row 1"] != 1 || perRow["row 2"] < 2 || perRow["row 3"] != 1 {
		t.Errorf("chunks per row = %v, want 1, several, 1", perRow)
	}
}

// TestLoadTableFixtures loads testdata/table/ against its golden files.
func TestLoadTableFixtures(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		opt  ingest.TableOptions
	}{
		{"products.csv", ingest.TableOptions{}},
		{"papers.jsonl", ingest.TableOptions{}},
		{"papers.jsonl", ingest.TableOptions{Template: "{title}. {abstract}"}},
	} {
		golden := tt.name + ".golden"
		if tt.opt.Template != "" {
			golden = tt.name + ".template.golden"
		}
		t.Run(golden, func(t *testing.T) {
			name := filepath.Join("table", tt.name)
			doc, err := ingest.LoadWith(name, ingesttest.ReadFixture(t, name), ingest.LoadOptions{Table: tt.opt})
			if err != nil {
				t.Fatal(err)
			}
			ingesttest.CheckDoc(t, doc)
			ingesttest.CheckChunks(t, doc, ingesttest.Chunker(t, ingesttest.SmallConfig).Chunk(doc))
			checkGolden(t, filepath.Join("table", golden), renderSections(t, doc))
		})
	}
}

// FuzzLoadTable feeds arbitrary bytes to the CSV and JSONL loaders with
// one of several options. Load must not panic; a failure is EINVALID; a
// document's sections must be its rows, exactly covering their trimmed
// texts, separated by blank lines, numbered upwards, and their location and
// metadata must reach their chunks.
func FuzzLoadTable(f *testing.F) {
	for _, name := range []string{"products.csv", "papers.jsonl"} {
		data := ingesttest.ReadFixture(f, filepath.Join("table", name))
		for i := range 8 {
			f.Add(data, uint8(i))
		}
	}
	for _, s := range []string{
		"text\n", "a,b\n1\n1,2,3\n", "\"unclosed,quote\nx,y\n", "text,n\n\"a\"\"b\",1\n",
		"\ufeff\r\n\r\n", "a;b\tc\n1;2\t3\n", ",,\n,,\n", "text\n\u2028\n\u00a0x\u00a0\n",
		`{"text": "a"}` + "\n{\n[]\nnull\n", `{"a": {"b": [1, {"c": null}]}, "text": 1e400}`,
		`{"": "", " ": " "}`, `{"text": "x"}{"text": "y"}`, "{\"text\": \"a\\u0000b\"}",
		strings.Repeat(`{"text": "row"}`+"\n", 50),
	} {
		for i := range 8 {
			f.Add([]byte(s), uint8(i))
		}
	}
	options := []ingest.TableOptions{
		{},
		{TextColumn: "title"},
		{Template: "{title}: {text}"},
		{Template: "{{{a}}} {b}\n{ text }"},
	}
	ch := ingesttest.Chunker(f, ingesttest.SmallConfig)
	f.Fuzz(func(t *testing.T, data []byte, sel uint8) {
		source := []string{"fuzz.csv", "fuzz.jsonl"}[sel%2]
		opt := options[int(sel/2)%len(options)]
		doc, err := ingest.LoadWith(source, data, ingest.LoadOptions{Table: opt})
		if err != nil {
			if code := grounded.ErrorCode(err); code != grounded.EINVALID {
				t.Fatalf("LoadWith error %v has code %q", err, code)
			}
			if doc != nil {
				t.Fatal("LoadWith returned a document with its error")
			}
			return
		}
		ingesttest.CheckDoc(t, doc)
		prev, end := 0, 0
		for i, s := range doc.Sections {
			text := doc.Text[s.Start:s.End]
			if text == "" || text != strings.TrimSpace(text) {
				t.Errorf("section %d text %q is empty or untrimmed", i, ingesttest.Clip(text))
			}
			if sep := doc.Text[end:s.Start]; (i == 0 && sep != "") || (i > 0 && sep != "\n\n") {
				t.Errorf("section %d is preceded by %q", i, sep)
			}
			end = s.End
			var n int
			if _, err := fmt.Sscanf(s.Location, "row %d", &n); err != nil || n <= prev || s.Location != fmt.Sprintf("row %d", n) {
				t.Errorf("section %d location %q after row %d", i, s.Location, prev)
			}
			prev = n
			for k, v := range s.Meta {
				if v == "" || v != strings.TrimSpace(v) || k == "" {
					t.Errorf("section %d meta %q: %q", i, k, v)
				}
			}
		}
		if end != len(doc.Text) {
			t.Errorf("text runs on after the last row: %q", ingesttest.Clip(doc.Text[end:]))
		}
		chunks := ch.Chunk(doc)
		ingesttest.CheckNoChunks(t, doc, chunks)
		ingesttest.CheckChunks(t, doc, chunks)
		for i, c := range chunks {
			if s, ok := ingesttest.SectionOf(doc, c); ok && (c.Location != s.Location || !maps.Equal(c.Meta, s.Meta)) {
				t.Errorf("chunk %d location %q meta %v, section's %q %v", i, c.Location, c.Meta, s.Location, s.Meta)
			}
		}
	})
}
