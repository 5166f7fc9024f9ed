package grounded

import "strings"

// MaxK bounds the passages one ask or search retrieves.
const MaxK = 100

// AskRequest asks a collection a question: the one way every front end
// (CLI, batch, eval, HTTP, the OpenAI-compatible route) asks. Options grow
// here as fields, not as new methods.
type AskRequest struct {
	// Question is what to answer; it must not be blank.
	Question string
	// K is the number of passages retrieved, 1 to MaxK; 0 means the
	// collection's default (5).
	K int
	// Where restricts the passages answered from (see Filter); nil: all.
	Where Filter
	// Emit, when set, receives each answer sentence as soon as it has
	// passed its support check (the extractive answerer's sentences all
	// arrive at the end). An error from it stops the answer with that error.
	Emit func(Sentence) error
}

// Check returns an EINVALID error for a blank question or K out of range.
func (r AskRequest) Check() error {
	if strings.TrimSpace(r.Question) == "" {
		return Errorf(EINVALID, "question is empty")
	}
	return checkK(r.K)
}

// SearchRequest asks a collection for the passages that best match a query.
type SearchRequest struct {
	// Query is the text searched for; it must not be blank.
	Query string
	// K is the number of passages returned at most, 1 to MaxK; 0 means the
	// collection's default (5).
	K int
	// Where restricts the passages searched (see Filter); nil: all.
	Where Filter
}

// Check returns an EINVALID error for a blank query or K out of range.
func (r SearchRequest) Check() error {
	if strings.TrimSpace(r.Query) == "" {
		return Errorf(EINVALID, "query is empty")
	}
	return checkK(r.K)
}

func checkK(k int) error {
	if k < 0 || k > MaxK {
		return Errorf(EINVALID, "k must be between 1 and %d", MaxK)
	}
	return nil
}
