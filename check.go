package grounded

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// Groundedness checks of answers written elsewhere (POST /v1/check,
// grounded check, batch "op": "check"): each sentence of an answer is
// checked against the passages it cites, and the result says, per sentence,
// whether the passages support it, with the evidence quoted exactly.

// Check limits. A request over them is EINVALID.
const (
	// MaxCheckSentences bounds the sentences of one answer.
	MaxCheckSentences = 200
	// MaxCheckPassages bounds the passages (or documents, or chunks) one
	// answer is checked against.
	MaxCheckPassages = 100
	// MaxCheckAnswerBytes bounds the answer's text (or its sentences, all
	// together).
	MaxCheckAnswerBytes = 64 << 10
	// MaxCheckEvidenceBytes bounds the evidence's text, all passages (or
	// documents) together: every sentence is checked against all of it.
	MaxCheckEvidenceBytes = 512 << 10
)

// Verdicts of a checked sentence.
const (
	// VerdictSupported: a passage states what the sentence says.
	VerdictSupported = "supported"
	// VerdictUnsupported: no passage states it.
	VerdictUnsupported = "unsupported"
	// VerdictContradicted: the passage that matches it best says otherwise.
	VerdictContradicted = "contradicted"
)

// CheckRequest asks whether an answer written elsewhere is supported by
// evidence. The answer is given as Answer or as Sentences (exactly one);
// the evidence as Passages, DocIDs, ChunkIDs or Question (exactly one).
// Passages are numbered from 1 in order, and the answer's [n] markers name
// them. As JSON it is the body of POST /v1/check (less "collection") and a
// batch check job's fields:
//
//	{"answer": "Refunds take 14 days [1]. Shipping is free [2].",
//	 "passages": [{"text": "...", "source": "refunds.md"}, {"text": "..."}]}
type CheckRequest struct {
	// Answer is the answer's text, its sentences ending with markers that
	// cite passages: "[1]", "[1, 2]", "[1][3]".
	Answer string `json:"answer"`
	// Sentences is the answer as a list of sentences, each with its own
	// markers (or none); each is checked as one sentence.
	Sentences []string `json:"sentences"`

	// Passages is the evidence given inline.
	Passages []CheckPassage `json:"passages"`
	// DocIDs names documents of the collection; passage n is the whole
	// text of document DocIDs[n-1].
	DocIDs []string `json:"doc_ids"`
	// ChunkIDs names chunks of the collection; passage n is chunk
	// ChunkIDs[n-1] (a search result's chunk_id).
	ChunkIDs []string `json:"chunk_ids"`
	// Question retrieves the evidence: the collection's K best passages
	// for it, numbered in rank order.
	Question string `json:"question"`
	// K is the passages retrieved for Question, 1 to MaxK; 0 means the
	// collection's default (5).
	K int `json:"k"`
	// Where restricts the passages retrieved for Question (see Filter).
	Where Filter `json:"where"`
}

// CheckPassage is one passage of evidence given inline.
type CheckPassage struct {
	// Text is the passage; evidence offsets are byte offsets into it.
	Text string `json:"text"`
	// Source optionally names where it comes from; it is not checked.
	Source string `json:"source"`
}

// Check returns an EINVALID error unless the request gives the answer one
// way and the evidence one way, within the Check limits, as valid UTF-8
// with no blank sentence, passage or id. How many sentences an Answer
// holds is known only once it is split; the checker enforces
// MaxCheckSentences there.
func (r CheckRequest) Check() error {
	switch {
	case r.Answer != "" && len(r.Sentences) > 0:
		return Errorf(EINVALID, `give the answer as "answer" or as "sentences", not both`)
	case r.Answer == "" && len(r.Sentences) == 0:
		return Errorf(EINVALID, `say what to check: "answer" (text with [n] markers) or "sentences" (a list)`)
	case !utf8.ValidString(r.Answer):
		return Errorf(EINVALID, "answer is not valid UTF-8")
	case r.Answer != "" && strings.TrimSpace(r.Answer) == "":
		return Errorf(EINVALID, "answer is empty")
	case len(r.Answer) > MaxCheckAnswerBytes:
		return Errorf(EINVALID, "answer is %d bytes; the limit is %d", len(r.Answer), MaxCheckAnswerBytes)
	case len(r.Sentences) > MaxCheckSentences:
		return Errorf(EINVALID, "%d sentences; the limit is %d", len(r.Sentences), MaxCheckSentences)
	}
	size := 0
	for i, s := range r.Sentences {
		switch {
		case !utf8.ValidString(s):
			return Errorf(EINVALID, "sentence %d is not valid UTF-8", i+1)
		case strings.TrimSpace(s) == "":
			return Errorf(EINVALID, "sentence %d is empty", i+1)
		}
		size += len(s)
	}
	if size > MaxCheckAnswerBytes {
		return Errorf(EINVALID, "the sentences are %d bytes; the limit is %d", size, MaxCheckAnswerBytes)
	}
	if err := r.checkEvidence(); err != nil {
		return err
	}
	if strings.TrimSpace(r.Question) == "" {
		switch {
		case r.K != 0:
			return Errorf(EINVALID, "k applies to evidence retrieved for a question only")
		case len(r.Where) > 0:
			return Errorf(EINVALID, "where applies to evidence retrieved for a question only")
		}
		return nil
	}
	if !utf8.ValidString(r.Question) {
		return Errorf(EINVALID, "question is not valid UTF-8")
	}
	return check("question", r.Question, r.K)
}

// checkEvidence checks that exactly one kind of evidence is given, within
// the limits.
func (r CheckRequest) checkEvidence() error {
	kinds := 0
	for _, set := range []bool{len(r.Passages) > 0, len(r.DocIDs) > 0, len(r.ChunkIDs) > 0, strings.TrimSpace(r.Question) != ""} {
		if set {
			kinds++
		}
	}
	switch {
	case kinds == 0:
		return Errorf(EINVALID, `give the evidence: "passages" (a list of {"text"}), "doc_ids", "chunk_ids" or a "question" to retrieve it for`)
	case kinds > 1:
		return Errorf(EINVALID, `give the evidence one way: "passages", "doc_ids", "chunk_ids" or "question", not several`)
	case len(r.Passages) > MaxCheckPassages:
		return Errorf(EINVALID, "%d passages; the limit is %d", len(r.Passages), MaxCheckPassages)
	case len(r.DocIDs) > MaxCheckPassages:
		return Errorf(EINVALID, "%d doc_ids; the limit is %d", len(r.DocIDs), MaxCheckPassages)
	case len(r.ChunkIDs) > MaxCheckPassages:
		return Errorf(EINVALID, "%d chunk_ids; the limit is %d", len(r.ChunkIDs), MaxCheckPassages)
	}
	size := 0
	for i, p := range r.Passages {
		switch {
		case !utf8.ValidString(p.Text) || !utf8.ValidString(p.Source):
			return Errorf(EINVALID, "passage %d is not valid UTF-8", i+1)
		case strings.TrimSpace(p.Text) == "":
			return Errorf(EINVALID, "passage %d has no text", i+1)
		}
		size += len(p.Text)
	}
	if size > MaxCheckEvidenceBytes {
		return Errorf(EINVALID, "the passages are %d bytes; the limit is %d", size, MaxCheckEvidenceBytes)
	}
	for i, id := range slices.Concat(r.DocIDs, r.ChunkIDs) { // one of them is empty
		if strings.TrimSpace(id) == "" || !utf8.ValidString(id) {
			return Errorf(EINVALID, "id %d is empty or not valid UTF-8", i+1)
		}
	}
	return nil
}

// CheckResult is the verdict on an answer.
type CheckResult struct {
	// Score (0..1) is the answer's groundedness: the mean of its
	// sentences' scores weighted by their length in bytes, an unsupported
	// or contradicted sentence counting 0.
	Score float64 `json:"score"`
	// Sentences are the answer's sentences in order (one per entry of
	// CheckRequest.Sentences).
	Sentences []CheckedSentence `json:"sentences"`
	// Supported, Unsupported and Contradicted count the sentences by verdict.
	Supported    int `json:"supported"`
	Unsupported  int `json:"unsupported"`
	Contradicted int `json:"contradicted"`
	// ReattributedCitations counts the sentences whose citations were
	// replaced by the passage that supports them.
	ReattributedCitations int `json:"reattributed_citations"`
	// InvalidCitations counts markers that named no passage.
	InvalidCitations int `json:"invalid_citations"`
	// Passages are the passages checked against, numbered from 1, when
	// they came from the collection (DocIDs, ChunkIDs or Question); absent
	// for passages given inline.
	Passages []CheckSource `json:"passages,omitempty"`
}

// CheckedSentence is one sentence of a checked answer.
type CheckedSentence struct {
	// Text is the sentence without its markers.
	Text string `json:"text"`
	// Citations are the passages it cites, or, when Reattributed, the
	// passage that supports it.
	Citations []int `json:"citations"`
	// Verdict is one of the Verdict constants.
	Verdict string `json:"verdict"`
	// Score (0..1) is the support checker's score against the passages
	// of Citations.
	Score float64 `json:"score"`
	// Reason says, in words, why the verdict is what it is.
	Reason string `json:"reason"`
	// Evidence is the passage span that supports the sentence best, or,
	// for an unsupported one, matches it most closely; nil when no
	// passage shares a content word with it.
	Evidence *CheckEvidence `json:"evidence"`
	// Reattributed is set when the sentence cited passages that do not
	// support it (or none, or ones that do not exist) and another passage
	// does: Citations then lists that passage and Cited the original ones.
	Reattributed bool  `json:"reattributed,omitempty"`
	Cited        []int `json:"cited,omitempty"`
	// InvalidCitations are the numbers of its markers that name no passage.
	InvalidCitations []int `json:"invalid_citations,omitempty"`
}

// CheckEvidence is an exact quote of a passage:
// Quote == passages[Passage-1].Text[Start:End] (byte offsets).
type CheckEvidence struct {
	Passage int    `json:"passage"`
	Quote   string `json:"quote"`
	Start   int    `json:"start"`
	End     int    `json:"end"`
}

// CheckSource is a passage a check read from the collection.
// Text == Document.Text[Start:End] of document DocID at Version, so a
// quote's place in the document is Start + CheckEvidence.Start.
type CheckSource struct {
	N       int    `json:"n"`
	Text    string `json:"text"`
	DocID   string `json:"doc_id"`
	ChunkID string `json:"chunk_id,omitempty"` // empty when the passage is a whole document
	Source  string `json:"source"`
	Title   string `json:"title,omitempty"`
	Section string `json:"section,omitempty"`
	Start   int    `json:"start"`
	End     int    `json:"end"`
	Version string `json:"version,omitempty"`
}

// String is a one-line summary: "2 of 3 sentences supported (score 0.61)".
func (r *CheckResult) String() string {
	return fmt.Sprintf("%d of %d sentences supported (score %.2f)", r.Supported, len(r.Sentences), r.Score)
}
