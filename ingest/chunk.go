package ingest

import (
	"fmt"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/groundedhq/grounded"
	"github.com/groundedhq/grounded/internal/textproc"
	"github.com/pkoukk/tiktoken-go"
	tiktoken_loader "github.com/pkoukk/tiktoken-go-loader"
)

// ChunkConfig sets the chunk sizes, in cl100k_base tokens.
type ChunkConfig struct {
	// MaxTokens caps a chunk. Default 350.
	MaxTokens int
	// MinTokens is the size past which a chunk may end at a paragraph break
	// rather than fill up to MaxTokens. Default 200.
	MinTokens int
	// OverlapTokens is how much of a chunk's end (whole sentences) the next
	// chunk of the same section repeats. Default 50.
	OverlapTokens int
}

func (c ChunkConfig) withDefaults() ChunkConfig {
	if c.MaxTokens <= 0 {
		c.MaxTokens = 350
	}
	if c.MinTokens <= 0 || c.MinTokens > c.MaxTokens {
		c.MinTokens = min(200, c.MaxTokens)
	}
	if c.OverlapTokens <= 0 {
		c.OverlapTokens = 50
	}
	if c.OverlapTokens >= c.MinTokens {
		c.OverlapTokens = max(1, c.MinTokens/4)
	}
	return c
}

// Chunker splits documents into token-bounded chunks along their structure.
// It holds one tiktoken encoder (cl100k_base, loaded from the BPE ranks
// embedded in the binary, never downloaded) and is safe for concurrent use.
type Chunker struct {
	cfg ChunkConfig
	enc *tiktoken.Tiktoken
}

// encoder builds the cl100k_base encoder once per process. tiktoken-go keeps
// its BPE loader in a package variable without a lock, so setting it must
// happen once, before any encoding; this is the one package-level variable
// of ours, and it guards that library global.
var encoder = sync.OnceValues(func() (*tiktoken.Tiktoken, error) {
	tiktoken.SetBpeLoader(tiktoken_loader.NewOfflineLoader())
	return tiktoken.GetEncoding("cl100k_base")
})

// NewChunker returns a chunker. The first call builds the shared encoder
// (about 70 ms); later calls reuse it. Safe for concurrent use.
func NewChunker(cfg ChunkConfig) (*Chunker, error) {
	enc, err := encoder()
	if err != nil {
		return nil, fmt.Errorf("load tokenizer: %w", err)
	}
	return &Chunker{cfg: cfg.withDefaults(), enc: enc}, nil
}

// Config returns the chunk sizes in effect.
func (c *Chunker) Config() ChunkConfig { return c.cfg }

// CountTokens returns the number of cl100k_base tokens of s; special-token
// text such as "<|endoftext|>" counts as ordinary text.
func (c *Chunker) CountTokens(s string) int { return len(c.enc.EncodeOrdinary(s)) }

// unit is a sentence (or a piece of an overlong one) to pack into chunks.
type unit struct {
	start, end int
	tokens     int
	paraStart  bool // begins a paragraph: a good place to end the previous chunk
}

// Chunk splits doc into chunks. Each section is chunked on its own, so a chunk
// never spans two headings. Inside a section, sentences are packed in order
// up to MaxTokens; once a chunk holds MinTokens it ends at the next paragraph
// break that would overflow it. Each new chunk repeats up to OverlapTokens of
// whole sentences from the end of the previous one. A sentence longer than
// MaxTokens is cut between words. Chunk offsets are byte offsets in doc.Text.
func (c *Chunker) Chunk(doc *grounded.Document) []grounded.Chunk {
	sections := doc.Sections
	if len(sections) == 0 {
		sections = []grounded.Section{{Start: 0, End: len(doc.Text)}}
	}
	var out []grounded.Chunk
	for _, s := range sections {
		units := c.units(doc.Text, s.Start, s.End)
		section := strings.Join(s.Path, " > ")
		for _, r := range c.pack(units) {
			start, end := units[r[0]].start, units[r[1]-1].end
			tokens := 0
			for _, u := range units[r[0]:r[1]] {
				tokens += u.tokens
			}
			out = append(out, grounded.Chunk{
				ID:       fmt.Sprintf("%s-%05d", doc.ID, len(out)),
				DocID:    doc.ID,
				Ord:      len(out),
				Source:   doc.Source,
				Title:    doc.Title,
				Section:  section,
				Start:    start,
				End:      end,
				Text:     doc.Text[start:end],
				Tokens:   tokens,
				Location: s.Location,
				Meta:     s.Meta,
				Format:   doc.Format,
				Version:  grounded.VersionOf(doc.ContentHash),
			})
		}
	}
	return out
}

func (c *Chunker) units(text string, start, end int) []unit {
	var out []unit
	prevEnd := start
	for _, s := range textproc.Sentences(text, start, end) {
		para := s.Heading || len(out) == 0 || strings.Count(text[prevEnd:s.Start], "\n") >= 2
		// A unit's tokens include the white space before it, so the sum over
		// a chunk's units bounds the chunk's own count ("Yes\n\nYes" is 3).
		gap := prevEnd
		prevEnd = s.End
		n := c.cfg.MaxTokens + 1
		if s.End-s.Start <= 16*c.cfg.MaxTokens { // longer ones go straight to cut
			n = c.CountTokens(text[gap:s.End])
		}
		if n <= c.cfg.MaxTokens {
			out = append(out, unit{s.Start, s.End, n, para})
			continue
		}
		for i, p := range c.cut(text, s.Start, s.End) {
			p.paraStart = para && i == 0
			out = append(out, p)
		}
	}
	return out
}

// cut splits text[start:end] into pieces of at most MaxTokens tokens, between
// words where it can and never inside a UTF-8 sequence. It tokenizes a window
// after each cut, growing it only while it holds fewer than MaxTokens tokens,
// so a megabyte-long line costs linear time, not quadratic.
func (c *Chunker) cut(text string, start, end int) []unit {
	var out []unit
	for start < end {
		var toks []int
		for w := 8 * c.cfg.MaxTokens; ; w *= 2 {
			stop := min(end, start+w)
			for stop < end && !utf8.RuneStart(text[stop]) {
				stop++
			}
			toks = c.enc.EncodeOrdinary(text[start:stop])
			if len(toks) > c.cfg.MaxTokens || stop == end {
				break
			}
		}
		if len(toks) <= c.cfg.MaxTokens {
			out = append(out, unit{start: start, end: end, tokens: len(toks)})
			break
		}
		n := len(c.enc.Decode(toks[:c.cfg.MaxTokens])) // bytes of the first MaxTokens tokens
		cutAt := start + n
		// Back off to the last white space; failing that, to a rune boundary.
		if ws := strings.LastIndexFunc(text[start:cutAt], unicode.IsSpace); ws > 0 {
			cutAt = start + ws
		} else {
			for cutAt > start && !utf8.RuneStart(text[cutAt]) {
				cutAt--
			}
			if cutAt == start { // one rune longer than the budget: take it whole
				_, size := utf8.DecodeRuneInString(text[start:])
				cutAt = start + size
			}
		}
		piece := strings.TrimRightFunc(text[start:cutAt], unicode.IsSpace)
		out = append(out, unit{start: start, end: start + len(piece), tokens: c.CountTokens(piece)})
		start = cutAt
		for start < end {
			r, size := utf8.DecodeRuneInString(text[start:])
			if !unicode.IsSpace(r) {
				break
			}
			start += size
		}
	}
	return out
}

// pack groups units into chunks, returned as [first, last+1) unit ranges.
func (c *Chunker) pack(units []unit) [][2]int {
	var out [][2]int
	for i := 0; i < len(units); {
		sum, j := 0, i
		for j < len(units) && (j == i || sum+units[j].tokens <= c.cfg.MaxTokens) {
			sum += units[j].tokens
			j++
		}
		if j < len(units) {
			// Prefer to end at the last paragraph start once MinTokens is reached.
			acc := 0
			best := j
			for b := i; b < j; b++ {
				if b > i && units[b].paraStart && acc >= c.cfg.MinTokens {
					best = b
				}
				acc += units[b].tokens
			}
			j = best
		}
		out = append(out, [2]int{i, j})
		if j >= len(units) {
			break
		}
		// Overlap: restart at the earliest sentence o > i with units[o:j]
		// within the overlap budget.
		next, acc := j, 0
		for o := j - 1; o > i; o-- {
			acc += units[o].tokens
			if acc > c.cfg.OverlapTokens {
				break
			}
			next = o
		}
		i = next
	}
	return out
}
