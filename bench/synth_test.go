package bench_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var (
	corpusOut      = flag.String("corpus-out", "", "TestWriteCorpus: write the synthetic corpus as Markdown files into this folder")
	corpusSections = flag.Int("corpus-sections", 47_000, "TestWriteCorpus: sections to write (the chunker cuts each into about two chunks: 47,000 give about 100k)")
)

// TestWriteCorpus writes the synthetic corpus of the search benchmarks as
// Markdown files, one per document, each chunk a "## heading" section, so
// that the CLI can ingest it (bench/scale.sh). It is skipped unless
// -corpus-out is given.
func TestWriteCorpus(t *testing.T) {
	if *corpusOut == "" {
		t.Skip("no -corpus-out folder")
	}
	c := newCorpus(*corpusSections)
	if err := os.MkdirAll(*corpusOut, 0o755); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	flush := func(source string) {
		if b.Len() == 0 {
			return
		}
		path := filepath.Join(*corpusOut, filepath.Base(source))
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		b.Reset()
	}
	for i, ch := range c.chunks {
		if i == 0 || ch.Source != c.chunks[i-1].Source {
			if i > 0 {
				flush(c.chunks[i-1].Source)
			}
			fmt.Fprintf(&b, "# %s\n\n", ch.Title)
		}
		heading := strings.TrimPrefix(ch.Section, ch.Title+" > ")
		fmt.Fprintf(&b, "## %s\n\n%s\n\n", heading, ch.Text)
	}
	flush(c.chunks[len(c.chunks)-1].Source)
	t.Logf("wrote %d sections to %s", len(c.chunks), *corpusOut)
}
