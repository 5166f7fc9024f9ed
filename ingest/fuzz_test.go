package ingest_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/groundedhq/grounded"
	"github.com/groundedhq/grounded/ingest"
	"github.com/groundedhq/grounded/ingest/internal/ingesttest"
)

// fuzzSources maps FuzzLoad's format selector to a file name.
var fuzzSources = []string{"fuzz.md", "fuzz.txt", "fuzz.html"}

// fuzzConfigs maps FuzzChunk's size selector to a chunk configuration.
var fuzzConfigs = []ingest.ChunkConfig{
	ingesttest.SmallConfig,
	{MaxTokens: 8, MinTokens: 4, OverlapTokens: 2},
	{MaxTokens: 64, MinTokens: 40, OverlapTokens: 16},
	{},
}

// malformed are inputs a loader must survive: broken markup, odd bytes and
// sizes.
func malformed() []string {
	page := `<html><head><title>T</title></head><body><h1>Head</h1><p>Text &amp; more</p></body></html>`
	return []string{
		"",
		" \n\t",
		page[:len(page)/2],
		page[:len(page)/3],
		"<div><p>unclosed <b>bold <i>italic",
		"<h1>Unclosed heading",
		"<pre>unclosed pre\n  keeps   space",
		"<title>only a title",
		"<script>never closed",
		"<p>a</p><!-- unterminated comment",
		"<![CDATA[x]]><?xml version='1.0'?><p>&bogus; &#xFFFFFF; &#0; &#55296;</p>",
		"<table><tr><td>1<td>2<tr><td>3</table>",
		strings.Repeat("<div>", 300) + "deep" + strings.Repeat("</div>", 300),
		strings.Repeat("<p>", 600) + "x",
		"---\ntitle: unterminated front matter\n# Heading\n",
		"---\n---\n",
		"---\ntitle: Only\n---\n",
		"# \n## \n###### \n####### seven\n",
		"Setext\n===\n\nSub\n---\n",
		"```\n# in code\n",
		"> # quoted heading\n> text\n",
		"- # heading in list\n  text\n",
		"\t# tab heading\n",
		"a\r\nb\r\n\r\nc.\rd",
		"\x00\x01\x02 nul bytes \x00",
		"\xff\xfe invalid",
		"valid then \xc3",
		"\ufeffBOM then text",
		"<|endoftext|><|fim_prefix|>",
		"日本語。中文。한국어. ",
		"e\u0301\u0301\u0301 combining",
		strings.Repeat("word ", 400),
		strings.Repeat("é", 1000),
		strings.Repeat("- a\n", 300),
		"* ", // only a list marker: loads, but has no chunks
		"- \n1.  \n+ \n",
		strings.Repeat("| a | b |\n", 100),
	}
}

// FuzzLoad feeds arbitrary bytes to each loader. Load must not panic; a
// failure must be an EINVALID error; a document's sections and chunks must be
// valid UTF-8 ranges of its text, and Markdown and text must keep the bytes.
func FuzzLoad(f *testing.F) {
	for _, name := range fixtures {
		data := ingesttest.ReadFixture(f, name)
		for format := range fuzzSources {
			f.Add(data, uint8(format))
		}
	}
	for _, s := range malformed() {
		for format := range fuzzSources {
			f.Add([]byte(s), uint8(format))
		}
	}
	// 10000 nested divs: over x/net/html's open-element limit, so an error.
	// (As .md or .txt this is a 50 KB word, which the chunker cuts slowly.)
	f.Add([]byte(strings.Repeat("<div>", 10000)+"deep"+strings.Repeat("</div>", 10000)), uint8(2))
	line := []byte(strings.Repeat("A sentence on one very long line, with words. ", 1<<20/46)) // about 1 MB
	f.Add(line, uint8(1))
	f.Add(append([]byte("<p>"), line[:len(line)/4]...), uint8(2))

	ch := ingesttest.Chunker(f, ingesttest.SmallConfig)
	big := ingesttest.Chunker(f, ingest.ChunkConfig{})
	f.Fuzz(func(t *testing.T, data []byte, format uint8) {
		source := fuzzSources[int(format)%len(fuzzSources)]
		doc, err := ingest.Load(source, data)
		if err != nil {
			if code := grounded.ErrorCode(err); code != grounded.EINVALID {
				t.Fatalf("Load error %v has code %q, want %q", err, code, grounded.EINVALID)
			}
			if doc != nil {
				t.Fatal("Load returned a document with its error")
			}
			return
		}
		if !utf8.Valid(data) {
			t.Fatal("Load accepted invalid UTF-8")
		}
		if doc.Format != ingest.FormatHTML && doc.Text != string(data) {
			t.Fatalf("%s text differs from the input", doc.Format)
		}
		ingesttest.CheckDoc(t, doc)
		c := ch
		if len(data) > 64<<10 {
			c = big // keep the 1 MB seed fast
		}
		chunks := c.Chunk(doc)
		ingesttest.CheckNoChunks(t, doc, chunks)
		ingesttest.CheckChunks(t, doc, chunks)
	})
}

// FuzzChunk chunks arbitrary text, loaded as a .txt document, with one of
// several size budgets.
func FuzzChunk(f *testing.F) {
	for _, name := range fixtures {
		doc, _ := loadFixture(f, name)
		f.Add(doc.Text, uint8(0))
		f.Add(doc.Text, uint8(1))
	}
	for i, s := range malformed() {
		f.Add(s, uint8(i))
	}
	f.Add(longMarkdown(7, 200), uint8(2))
	f.Add(strings.Repeat("x", 500)+" "+strings.Repeat("😀", 100), uint8(1))
	f.Fuzz(func(t *testing.T, text string, size uint8) {
		doc, err := ingest.Load("fuzz.txt", []byte(text))
		if err != nil {
			return
		}
		ch := ingesttest.Chunker(t, fuzzConfigs[int(size)%len(fuzzConfigs)])
		chunks := ch.Chunk(doc)
		ingesttest.CheckNoChunks(t, doc, chunks)
		ingesttest.CheckChunks(t, doc, chunks)
		ingesttest.CheckCoverage(t, doc, chunks)
		limit := ch.Config().MaxTokens + tokenSlack
		for i, c := range chunks {
			if c.Tokens > limit {
				t.Errorf("chunk %d counts %d tokens, over MaxTokens %d + %d", i, c.Tokens, ch.Config().MaxTokens, tokenSlack)
			}
		}
	})
}
