package support_test

import (
	"testing"

	"github.com/groundedhq/grounded/answer/support"
	"github.com/groundedhq/grounded/internal/textproc"
)

// TestFacts holds the fact-level checks to the cases: a fact must
// be in the evidence the sentence aligns to, in the same role, and
// contradiction is its own verdict.
func TestFacts(t *testing.T) {
	const star = "Ellen Burstyn starred in the film Alice Doesn't Live Here Anymore (1974) and in Resurrection (1980). " +
		"She received her star on the Hollywood Walk of Fame in 2006. She lives in New York."
	const bands = "Nirvana was an American rock band formed in Aberdeen, Washington, in 1987. " +
		"Nickelback is a Canadian rock band formed in Hanna, Alberta, in 1995."
	const harvard = "Harvard is a large, highly residential research university. " +
		"The university operates as a not-for-profit institution and was founded by the Massachusetts legislature in 1636."
	tests := []struct {
		name, sentence string
		passages       []string
		verdict        string
		reason         string
	}{
		{"year of another event", "Ellen Burstyn received her star on the Walk of Fame in 1980.", []string{star}, support.Contradicted, support.ReasonWrongNumber},
		{"the right year", "Ellen Burstyn received her star on the Walk of Fame in 2006.", []string{star}, support.Supported, ""},
		{"another entity in the slot", "Nickelback is an American rock band.", []string{bands}, support.Contradicted, support.ReasonWrongEntity},
		{"the right entity", "Nickelback is a Canadian rock band.", []string{bands}, support.Supported, ""},
		{"comparison the passage does not state", "Nirvana was formed first.", []string{bands}, support.Unsupported, support.ReasonComparison},
		{"opposite comparison", "Nirvana was formed after Nickelback, in 1987.", []string{"Nirvana was formed before Nickelback, in 1987."}, support.Contradicted, support.ReasonComparison},
		{"not-for-profit is not a negation", "Harvard operates as a not-for-profit institution.", []string{harvard}, support.Supported, ""},
		{"a negation elsewhere in the passage", "Harvard was founded by the Massachusetts legislature in 1636.",
			[]string{"Harvard was not a college at first. It was founded by the Massachusetts legislature in 1636."}, support.Supported, ""},
		{"inserted negation", "The university was not founded by the Massachusetts legislature.", []string{harvard}, support.Contradicted, support.ReasonNegation},
		{"a name from elsewhere in the passage", "Ellen Burstyn received her star on the Walk of Fame in New York.", []string{star}, support.Unsupported, support.ReasonNames},
		{"another month", "The embargo ended in March 1974.", []string{"The embargo ended in January 1974."}, support.Contradicted, support.ReasonWrongEntity},
		{"another count", "The trial ran in four cities.", []string{"The trial ran in 3 cities."}, support.Contradicted, support.ReasonWrongNumber},
		{"a number written as a word", "The trial ran in three cities.", []string{"The trial ran in 3 cities."}, support.Supported, ""},
		{"glued passage sentences", "Barack Obama won the election in 2008.", []string{"He lost to Obama.Barack Obama won the election in 2008.The end."}, support.Supported, ""},
		{"yes with its claim", "Yes, Nickelback is a Canadian rock band.", []string{bands}, support.Supported, ""},
		{"no with a contradicted claim", "No, Nickelback is an American rock band.", []string{bands}, support.Contradicted, support.ReasonWrongEntity},
		{"bare yes without a question", "Yes.", []string{bands}, support.Unsupported, support.ReasonYesNo},
	}
	c := support.New(textproc.NewAnalyzer(), support.Config{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := c.Check(tt.sentence, tt.passages)
			if r.Verdict != tt.verdict || r.Reason != tt.reason {
				t.Errorf("Check(%q) = %+v, want %s, reason %q", tt.sentence, r, tt.verdict, tt.reason)
			}
		})
	}
}

func TestCheckAnswer(t *testing.T) {
	const bands = "Nirvana was an American rock band. Nickelback is a Canadian rock band."
	c := support.New(textproc.NewAnalyzer(), support.Config{})
	tests := []struct {
		sentence, question, verdict, reason string
	}{
		{"Yes.", "Is Nickelback a Canadian rock band?", support.Supported, ""},
		{"No.", "Is Nickelback a Canadian rock band?", support.Contradicted, support.ReasonNegation},
		{"No.", "Is Nickelback an American rock band?", support.Supported, ""},
		{"Yes.", "Is Nickelback an American rock band?", support.Contradicted, support.ReasonWrongEntity},
		{"Yes.", "", support.Unsupported, support.ReasonYesNo},
		{"Yes, it is a Canadian rock band.", "Is Nickelback Canadian?", support.Supported, ""},
		{"Nickelback is a Canadian rock band.", "Is Nickelback Canadian?", support.Supported, ""},
	}
	for _, tt := range tests {
		r := c.CheckAnswer(tt.sentence, tt.question, []string{bands})
		if r.Verdict != tt.verdict || r.Reason != tt.reason || r.Supported != (tt.verdict == support.Supported) {
			t.Errorf("CheckAnswer(%q, %q) = %+v, want %s, reason %q", tt.sentence, tt.question, r, tt.verdict, tt.reason)
		}
		if r.Score < 0 || r.Score > 1 {
			t.Errorf("score %v", r.Score)
		}
	}
}

func TestYesNo(t *testing.T) {
	for _, tt := range []struct {
		in, rest string
		yn       int
	}{
		{"Yes.", "", 1}, {"No", "", -1}, {"No, it was not.", "it was not.", -1}, {"yes - the band formed in 1987.", "the band formed in 1987.", 1},
		{"Nobody came.", "Nobody came.", 0}, {"Yesterday it rained.", "Yesterday it rained.", 0}, {"Not at all.", "Not at all.", 0},
	} {
		if rest, yn := support.YesNo(tt.in); rest != tt.rest || yn != tt.yn {
			t.Errorf("YesNo(%q) = %q, %d; want %q, %d", tt.in, rest, yn, tt.rest, tt.yn)
		}
	}
}
