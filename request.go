package grounded

import "strings"

// MaxK bounds the passages one ask or search retrieves.
const MaxK = 100

// AskRequest asks a collection a question: the one way every front end
// (CLI, batch, eval, HTTP, the OpenAI-compatible route) asks. Options grow
// here as fields, not as new methods. As JSON it is a batch job's fields.
type AskRequest struct {
	// Question is what to answer; it must not be blank.
	Question string `json:"question"`
	// K is the number of passages retrieved, 1 to MaxK; 0 means the
	// collection's default (5).
	K int `json:"k"`
	// Where restricts the passages answered from (see Filter); nil: all.
	Where Filter `json:"where"`
	// MinConfidence, when set, is the confidence (0 to 1) below which the
	// answer abstains; nil means the collection's default. 0 always
	// answers when any passage shares a word with the question.
	MinConfidence *float64 `json:"min_confidence,omitempty"`
	// Emit, when set, receives each answer sentence as soon as it has
	// passed its support check (the extractive answerer's sentences all
	// arrive at the end). An error from it stops the answer with that error.
	Emit func(Sentence) error `json:"-"`
}

// SearchRequest asks a collection for the passages that best match a
// query. As JSON it is a batch job's fields.
type SearchRequest struct {
	// Query is the text searched for; it must not be blank.
	Query string `json:"query"`
	// K is the number of passages returned at most, 1 to MaxK; 0 means the
	// collection's default (5).
	K int `json:"k"`
	// Where restricts the passages searched (see Filter); nil: all.
	Where Filter `json:"where"`
}

// Check returns an EINVALID error for a blank question, K out of range or
// MinConfidence outside [0, 1].
func (r AskRequest) Check() error {
	if m := r.MinConfidence; m != nil && !(*m >= 0 && *m <= 1) {
		return Errorf(EINVALID, "min_confidence must be between 0 and 1")
	}
	return check("question", r.Question, r.K)
}

// Check returns an EINVALID error for a blank query or K out of range.
func (r SearchRequest) Check() error { return check("query", r.Query, r.K) }

func check(what, text string, k int) error {
	switch {
	case strings.TrimSpace(text) == "":
		return Errorf(EINVALID, "%s is empty", what)
	case k < 0 || k > MaxK:
		return Errorf(EINVALID, "k must be between 1 and %d", MaxK)
	}
	return nil
}
