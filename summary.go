package grounded

import "strings"

// Summary lengths, in sentences.
const (
	DefaultSummaryLength = 5
	MaxSummaryLength     = 50
	// DefaultSummaryK is how many passages a summary of a query retrieves.
	DefaultSummaryK = 20
	// MaxSummaryDocuments bounds the documents one summary reads.
	MaxSummaryDocuments = 1000
)

// SummaryRequest asks for a cited summary of one of three things: documents
// by id (DocIDs), documents by source (Sources: an exact source, or a
// prefix ending in "*"), or what the corpus says about a topic (Query: the
// K best passages for it). Exactly one of the three is set.
type SummaryRequest struct {
	DocIDs  []string
	Sources []string
	Query   string
	// K is the number of passages retrieved for Query; 0 means
	// DefaultSummaryK. At most 100.
	K int
	// Length is the number of summary sentences; 0 means
	// DefaultSummaryLength. At most MaxSummaryLength.
	Length int
	// Where restricts the passages summarized (see Filter); nil: all.
	Where Filter
}

// Check returns an EINVALID error unless exactly one of DocIDs, Sources and
// Query is set, none of their entries is empty, and Length and K are in
// range.
func (r SummaryRequest) Check() error {
	set := 0
	for _, ok := range []bool{len(r.DocIDs) > 0, len(r.Sources) > 0, strings.TrimSpace(r.Query) != ""} {
		if ok {
			set++
		}
	}
	switch {
	case set == 0:
		return Errorf(EINVALID, "say what to summarize: a document id, a source (a trailing * matches a prefix) or a query")
	case set > 1:
		return Errorf(EINVALID, "summarize one of: document ids, sources or a query, not several")
	case r.Length < 0 || r.Length > MaxSummaryLength:
		return Errorf(EINVALID, "length must be between 1 and %d sentences", MaxSummaryLength)
	case r.K < 0 || r.K > 100:
		return Errorf(EINVALID, "k must be between 1 and 100")
	case r.K > 0 && len(r.DocIDs)+len(r.Sources) > 0:
		return Errorf(EINVALID, "k applies to a query summary only")
	}
	for _, id := range r.DocIDs {
		if strings.TrimSpace(id) == "" {
			return Errorf(EINVALID, "a document id is empty")
		}
	}
	for _, s := range r.Sources {
		if strings.TrimSpace(s) == "" {
			return Errorf(EINVALID, "a source is empty")
		}
	}
	return nil
}

// Summary is a cited summary. Every sentence cites the passages it came
// from; every citation's quote is its document's Text[Start:End].
type Summary struct {
	// Summary is the sentences joined, each followed by its markers:
	// "First sentence. [1] Second sentence. [2][3]".
	Summary   string     `json:"summary"`
	Sentences []Sentence `json:"sentences"`
	Citations []Citation `json:"citations"`
	// Generator is "extractive" or the model's provider.
	Generator string `json:"generator"`
	Provider  string `json:"provider,omitempty"`
	Model     string `json:"model,omitempty"`
	// Usage adds up the model calls' tokens.
	Usage    *Usage          `json:"usage,omitempty"`
	Coverage SummaryCoverage `json:"coverage"`
	// FallbackReason says why the extractive summary was made instead of
	// the configured model's.
	FallbackReason string `json:"fallback_reason,omitempty"`
	// Unsupported are the model's sentences that failed the support check
	// (dropped, or flagged in Sentences when so configured).
	Unsupported []Sentence `json:"unsupported,omitempty"`
	// InvalidCitations counts the model's markers that pointed at no
	// passage; they were removed.
	InvalidCitations int `json:"invalid_citations,omitempty"`
}

// SummaryCoverage says what a summary was made from.
type SummaryCoverage struct {
	// Documents and Chunks count the input: the documents asked for, or
	// the passages retrieved for a query and their documents.
	Documents int `json:"documents"`
	Chunks    int `json:"chunks"`
	// ChunksSummarized counts the chunks the summarizer read: all of them,
	// unless Truncated says otherwise.
	ChunksSummarized int `json:"chunks_summarized"`
	// SentencesConsidered counts the sentences ranked (extractive) or the
	// model's map sentences combined (map-reduce).
	SentencesConsidered int `json:"sentences_considered"`
	// Truncated is set when part of the input was left out of the ranking
	// or the retrieval stopped at its cap; Note says what.
	Truncated bool   `json:"truncated"`
	Note      string `json:"note,omitempty"`
}
