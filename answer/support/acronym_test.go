package support

import (
	"testing"

	"github.com/groundedhq/grounded/internal/textproc"
)

func TestAcronymKey(t *testing.T) {
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{"TNF", "tnf", true},
		{"mTOR", "mtor", true},
		{"DCs", "dc", true},
		{"UK", "uk", true},
		{"iPhone", "", false}, // one capital: not one letter a word
		{"CD4", "", false},    // digits
		{"Hello", "", false},  // a capitalized word
		{"ABCDEFGHIJ", "", false},
	}
	for _, tt := range tests {
		got, ok := acronymKey(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("acronymKey(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestSpells(t *testing.T) {
	tests := []struct {
		key, text string
		want      bool
	}{
		{"tnf", "levels of tumor necrosis factor rose", true},
		{"usa", "the United States of America signed", true},     // stop word skipped
		{"mtor", "the mammalian target of rapamycin", true},      // stop word gives its letter
		{"ssb", "binding single-stranded but not double", false}, // a run may not end with a stop word
		{"ssb", "single-stranded binding proteins", true},
		{"tnf", "tumor cells and necrosis factor", false}, // "cells" breaks the run
		{"ros", "of reactive oxygen species", true},
		{"ros", "the reactive species", false},
	}
	for _, tt := range tests {
		words := textproc.Words(tt.text)
		if got := spells(tt.key, lowerWords(tt.text, words, nil)); got != tt.want {
			t.Errorf("spells(%q, %q) = %v, want %v", tt.key, tt.text, got, tt.want)
		}
	}
}

// TestParaphrasedFacts checks the rules that find a sentence's names and
// numbers written another way in the evidence, and that a name found only
// elsewhere in the passage (an entity swap) still fails.
func TestParaphrasedFacts(t *testing.T) {
	c := New(textproc.NewAnalyzer(), Config{})
	tests := []struct {
		name, sentence, passage string
		supported               bool
	}{
		{"acronym spelled out", "TNF levels rise after infection in mice.",
			"Tumor necrosis factor levels rise after infection in mice.", true},
		{"acronym spelled out with a stop word skipped", "The USA signed the climate treaty in 1990.",
			"The United States of America signed the climate treaty in 1990.", true},
		{"name spelled out, acronym in the evidence", "The United Kingdom signed the climate treaty in 1990.",
			"The UK signed the climate treaty in 1990.", true},
		{"words spelled out, acronym in the evidence", "Reactive oxygen species damage neurons in aged mice.",
			"ROS damage neurons in aged mice.", true},
		{"acronym spelled out only in another sentence", "TNF rose sharply after infection.",
			"Tumor necrosis factor (TNF) and interleukin 6 (IL6) were measured in serum. Interleukin 6 rose sharply after infection.", false},
		{"entity swap to another acronym of the passage", "The UK signed the climate treaty in 1990.",
			"The United States signed the climate treaty in 1990. The United Kingdom rejected it in 1992.", false},
		{"entity swap to another name of the passage", "The climate treaty was signed by France in 1990.",
			"The climate treaty was signed by the United Kingdom in 1990. France rejected the climate treaty in 1992.", false},
		{"the entity of the passage", "The climate treaty was signed by the UK in 1990.",
			"The climate treaty was signed by the United Kingdom in 1990. France rejected the climate treaty in 1992.", true},
		{"hyphenated compound written as one word", "Teaching hospitals report outcomes like non-teaching hospitals.",
			"Teaching hospitals report outcomes like nonteaching hospitals.", true},
		{"place name for its adjective", "The virus is most frequent in people of African origin.",
			"The virus is most frequent in people who came from Africa.", true},
		{"number word with -fold", "The drug caused a twofold rise in insulin secretion.",
			"The drug caused a 2-fold rise in insulin secretion.", true},
		{"half for fifty percent", "The drug cut relapses by 50% in treated patients.",
			"The drug cut relapses by half in treated patients.", true},
		{"trailing decimal zeros", "The mean dose was 2.50 mg in treated patients.",
			"The mean dose was 2.5 mg in treated patients.", true},
		{"another fold", "The drug caused a threefold rise in insulin secretion.",
			"The drug caused a 2-fold rise in insulin secretion.", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := c.Check(tt.sentence, []string{tt.passage})
			if r.Supported != tt.supported {
				t.Errorf("Check(%q) = %s (%s, score %.2f), want supported %v", tt.sentence, r.Verdict, r.Reason, r.Score, tt.supported)
			}
		})
	}
}
