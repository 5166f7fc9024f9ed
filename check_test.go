package grounded_test

import (
	"strings"
	"testing"

	"github.com/groundedhq/grounded"
)

func TestCheckRequestCheck(t *testing.T) {
	ps := []grounded.CheckPassage{{Text: "Refunds are paid within 14 days."}}
	many := func(n int) []grounded.CheckPassage {
		out := make([]grounded.CheckPassage, n)
		for i := range out {
			out[i].Text = "p"
		}
		return out
	}
	tests := []struct {
		name string
		req  grounded.CheckRequest
		want string // "" for valid
	}{
		{"answer and passages", grounded.CheckRequest{Answer: "Refunds take 14 days [1].", Passages: ps}, ""},
		{"sentences and documents", grounded.CheckRequest{Sentences: []string{"a [1]"}, DocIDs: []string{"d"}}, ""},
		{"chunks", grounded.CheckRequest{Answer: "a", ChunkIDs: []string{"d-00000"}}, ""},
		{"question with k and where", grounded.CheckRequest{Answer: "a", Question: "q", K: 3, Where: grounded.Filter{"type": "pdf"}}, ""},
		{"limits exactly", grounded.CheckRequest{Sentences: strings.Fields(strings.Repeat("s ", grounded.MaxCheckSentences)), Passages: many(grounded.MaxCheckPassages)}, ""},
		{"no answer", grounded.CheckRequest{Passages: ps}, "say what to check"},
		{"both answers", grounded.CheckRequest{Answer: "a", Sentences: []string{"b"}, Passages: ps}, "not both"},
		{"blank answer", grounded.CheckRequest{Answer: " \n", Passages: ps}, "answer is empty"},
		{"invalid UTF-8 answer", grounded.CheckRequest{Answer: "a\xff", Passages: ps}, "UTF-8"},
		{"answer too long", grounded.CheckRequest{Answer: strings.Repeat("a", grounded.MaxCheckAnswerBytes+1), Passages: ps}, "limit is 65536"},
		{"too many sentences", grounded.CheckRequest{Sentences: strings.Fields(strings.Repeat("s ", grounded.MaxCheckSentences+1)), Passages: ps}, "limit is 200"},
		{"blank sentence", grounded.CheckRequest{Sentences: []string{"a", ""}, Passages: ps}, "sentence 2 is empty"},
		{"invalid UTF-8 sentence", grounded.CheckRequest{Sentences: []string{"\xc3"}, Passages: ps}, "sentence 1 is not valid UTF-8"},
		{"no evidence", grounded.CheckRequest{Answer: "a"}, "give the evidence"},
		{"two kinds of evidence", grounded.CheckRequest{Answer: "a", Passages: ps, Question: "q"}, "one way"},
		{"too many passages", grounded.CheckRequest{Answer: "a", Passages: many(grounded.MaxCheckPassages + 1)}, "limit is 100"},
		{"too many documents", grounded.CheckRequest{Answer: "a", DocIDs: strings.Fields(strings.Repeat("d ", 101))}, "101 doc_ids"},
		{"blank passage", grounded.CheckRequest{Answer: "a", Passages: []grounded.CheckPassage{{Text: " ", Source: "s"}}}, "passage 1 has no text"},
		{"invalid UTF-8 source", grounded.CheckRequest{Answer: "a", Passages: []grounded.CheckPassage{{Text: "t", Source: "\xff"}}}, "passage 1 is not valid UTF-8"},
		{"passages too long", grounded.CheckRequest{Answer: "a", Passages: []grounded.CheckPassage{{Text: strings.Repeat("p", grounded.MaxCheckEvidenceBytes+1)}}}, "limit is 524288"},
		{"blank chunk id", grounded.CheckRequest{Answer: "a", ChunkIDs: []string{"c", " "}}, "id 2 is empty"},
		{"k without question", grounded.CheckRequest{Answer: "a", Passages: ps, K: 2}, "k applies"},
		{"where without question", grounded.CheckRequest{Answer: "a", DocIDs: []string{"d"}, Where: grounded.Filter{"type": "pdf"}}, "where applies"},
		{"k out of range", grounded.CheckRequest{Answer: "a", Question: "q", K: grounded.MaxK + 1}, "k must be"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.req.Check()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Check() = %v, want nil", err)
			case tt.want != "" && (grounded.ErrorCode(err) != grounded.EINVALID || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("Check() = %v, want EINVALID with %q", err, tt.want)
			}
		})
	}
}
