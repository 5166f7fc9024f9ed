package grounding

import (
	"fmt"
	"strings"

	"github.com/groundedhq/grounded"
)

// Passage is a chunk as numbered in a prompt.
type Passage struct {
	// N is its number in the prompt, from 1.
	N int
	// Chunk is what the model sees (Text, Source, Heading) and what a
	// citation of it quotes (DocID, Start, ...). An empty Source is left
	// out of the block (extraction shows parts of one document).
	Chunk grounded.Chunk
	// Score is a citation's score when no supporting span was found in
	// the passage: its retrieval score, or 0.
	Score float64
}

// Block renders a passage between delimiters:
//
//	<passage n="2" source="a.md" section="Title > Section">
//	text
//	</passage>
//
// The text cannot end the block early: a closing tag inside it is defused.
func Block(p Passage) string {
	text := strings.ReplaceAll(p.Chunk.Text, "</passage", "</ passage")
	source := ""
	if p.Chunk.Source != "" {
		source = fmt.Sprintf(" source=%q", p.Chunk.Source)
	}
	return fmt.Sprintf("<passage n=\"%d\"%s section=%q>\n%s\n</passage>\n", p.N, source, p.Chunk.Heading(), text)
}

// Blocks is a prompt's passage part: a "Passages:" line and each block
// followed by a blank line.
func Blocks(ps []Passage) string {
	var b strings.Builder
	b.WriteString("Passages:\n\n")
	for _, p := range ps {
		b.WriteString(Block(p))
		b.WriteByte('\n')
	}
	return b.String()
}

// Cost is the tokens p's block takes in a prompt.
func (m *Model) Cost(p Passage) int { return m.CountTokens(Block(p)) }

// Fit returns the leading passages whose blocks fit PassageTokens: at
// least one (cut by the model's context, if it alone is too long).
func (m *Model) Fit(ps []Passage) []Passage {
	used := 0
	for i, p := range ps {
		if used += m.Cost(p); used > m.PassageTokens && i > 0 {
			return ps[:i]
		}
	}
	return ps
}

// Pack cuts items into consecutive batches whose costs add up to at most
// budget; an item over the budget is a batch of its own. Every item is in
// exactly one batch, in order.
func Pack[T any](items []T, cost func(T) int, budget int) [][]T {
	var out [][]T
	used := 0
	for _, it := range items {
		c := cost(it)
		if len(out) == 0 || used+c > budget {
			out = append(out, nil)
			used = 0
		}
		out[len(out)-1] = append(out[len(out)-1], it)
		used += c
	}
	return out
}
