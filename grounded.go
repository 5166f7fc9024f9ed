// Package grounded holds the domain types shared by every part of the service:
// documents and their chunks, search hits, citations, answers, the embedder seam
// and the error type with its codes. It imports only the standard library; the
// adapters (ingest, store, retrieval, answer, server) import it and never each
// other, and cmd/grounded wires them together.
package grounded

import (
	"context"
	"strings"
	"time"
)

// Document is one loaded source file. Text is the document's extracted text:
// for plain text and Markdown it is the file itself, for HTML the visible text.
// Every byte offset elsewhere (sections, chunks, citations) points into Text.
type Document struct {
	ID          string    `json:"id"`
	Source      string    `json:"source"`
	Title       string    `json:"title"`
	Format      string    `json:"format"` // "markdown", "text", "html", "pdf", "docx", "csv" or "jsonl"
	Text        string    `json:"text,omitempty"`
	ContentHash string    `json:"content_hash"` // sha256 of the raw file, hex
	Sections    []Section `json:"sections,omitempty"`
	IngestedAt  time.Time `json:"ingested_at"`
	// Version is VersionOf(ContentHash), and Chunks the number of chunks
	// indexed; both are filled when a document is read from a store.
	Version string `json:"version,omitempty"`
	Chunks  int    `json:"chunks,omitempty"`
}

// Section is a run of a document's text under one heading.
// Path is the heading path from the top (for example ["Guide", "Costs"]);
// [Start, End) is its byte range in Document.Text, heading line included.
type Section struct {
	Path  []string `json:"path"`
	Start int      `json:"start"`
	End   int      `json:"end"`
	// Location names where the section is in the original file, when that
	// is not its heading: "p. 12" for a PDF page, "row 17" for a table row.
	Location string `json:"location,omitempty"`
	// Meta holds the section's own metadata, for example a table row's
	// other columns. Chunks carry it for filtering and display.
	Meta map[string]string `json:"meta,omitempty"`
}

// Chunk is a retrievable passage: a contiguous byte range of one document's text.
type Chunk struct {
	ID      string `json:"id"`
	DocID   string `json:"doc_id"`
	Ord     int    `json:"ord"` // position of the chunk in its document, from 0
	Source  string `json:"source"`
	Title   string `json:"title"`
	Section string `json:"section"` // heading path joined with " > "
	Start   int    `json:"start"`
	End     int    `json:"end"`
	Text    string `json:"text"` // Document.Text[Start:End]
	Tokens  int    `json:"tokens"`
	// Location and Meta come from the chunk's section.
	Location string            `json:"location,omitempty"`
	Meta     map[string]string `json:"meta,omitempty"`
	// Format is the document's file format ("markdown", "pdf", "csv", ...).
	Format string `json:"format,omitempty"`
	// Version is the version of the document the chunk was cut from
	// (VersionOf its content hash).
	Version string `json:"version,omitempty"`
}

// Hit is a chunk returned by a search, with its fused score and the parts it
// was fused from. A rank of 0 means the retriever did not return the chunk.
type Hit struct {
	Chunk
	Score        float64 `json:"score"`
	LexicalScore float64 `json:"lexical_score"`
	LexicalRank  int     `json:"lexical_rank"`
	VectorScore  float64 `json:"vector_score"`
	VectorRank   int     `json:"vector_rank"`
}

// Citation is a numbered source of an answer: an exact quote of a document.
// Quote == Document.Text[Start:End] always holds.
type Citation struct {
	N       int     `json:"n"`
	DocID   string  `json:"doc_id"`
	Source  string  `json:"source"`
	Title   string  `json:"title"`
	Section string  `json:"section"`
	Quote   string  `json:"quote"`
	Start   int     `json:"start"`
	End     int     `json:"end"`
	Score   float64 `json:"score"`
	// Location is the place in the original file, where the format has one
	// beyond the section heading: "p. 12" (PDF), "row 17" (CSV, JSONL).
	Location string `json:"location,omitempty"`
	// Version names the version of the document quoted (VersionOf its
	// content hash). GET /v1/documents/{doc_id}?version=V says whether it
	// is still the current one.
	Version string `json:"version,omitempty"`
}

// VersionOf is the version name of a document with the given content hash:
// its first 16 hex digits. A citation's quote is exact for that version.
func VersionOf(contentHash string) string {
	if len(contentHash) > 16 {
		return contentHash[:16]
	}
	return contentHash
}

// Answer is the result of asking a question. An abstention is a normal answer:
// Abstained is true, Answer is empty and Reason says why.
type Answer struct {
	Question  string     `json:"question"`
	Answer    string     `json:"answer"`
	Abstained bool       `json:"abstained"`
	Reason    string     `json:"reason,omitempty"`
	Citations []Citation `json:"citations"`
	Generator string     `json:"generator"`
	// Confidence is the estimated probability, in [0, 1], that the answer
	// is right: that its quotes answer the question. An answer abstains when
	// its confidence falls below the request's minimum; an abstention carries
	// the confidence the best candidate answer had.
	Confidence float64 `json:"confidence"`

	// The fields below are filled by the language-model path.

	// Sentences are the answer's sentences that passed the support check
	// (and, with --unsupported flag, the flagged ones, marked so).
	Sentences []Sentence `json:"sentences,omitempty"`
	// Unsupported are the model's sentences that failed the support check.
	Unsupported []Sentence `json:"unsupported,omitempty"`
	// InvalidCitations counts markers that pointed at no passage; they were removed.
	InvalidCitations int `json:"invalid_citations"`
	// ReattributedCitations counts sentences that cited passages that do
	// not support them while another passage of the prompt does: they
	// cite that passage instead (Sentence.CitedAs keeps what was cited).
	ReattributedCitations int    `json:"reattributed_citations"`
	Provider              string `json:"provider,omitempty"`
	Model                 string `json:"model,omitempty"`
	Usage                 *Usage `json:"usage,omitempty"`
	// FallbackReason says why the extractive answerer answered instead of
	// the configured model (the model failed after its retries).
	FallbackReason string `json:"fallback_reason,omitempty"`
	// Withdrawn counts sentences that were streamed before the model failed
	// and that this answer (the extractive fallback) replaces.
	Withdrawn int `json:"withdrawn_sentences,omitempty"`
	// Timing says where the answer's time went.
	Timing *Timing `json:"timing,omitempty"`
}

// Timing splits an answer's time: retrieving the passages, then writing
// and checking the answer (the model call with its retries, the support
// checks, or the extractive answerer).
type Timing struct {
	RetrievalMs  float64 `json:"retrieval_ms"`
	GenerationMs float64 `json:"generation_ms"`
}

// Sentence is one sentence of a generated answer with the passages it cites
// and its support score against them: the calibrated probability (0..1)
// that they support it.
type Sentence struct {
	Text      string  `json:"text"`
	Citations []int   `json:"citations"`
	Support   float64 `json:"support"`
	Supported bool    `json:"supported"`
	// Reason says why an unsupported sentence failed: "no_citation",
	// "names", "numbers", "negation", "coverage", or another of
	// answer/support's reasons ("wrong_entity", "wrong_number",
	// "antonym", "comparison", "yes_no").
	Reason string `json:"reason,omitempty"`
	// Verdict is "supported", "unsupported" or "contradicted" (the
	// evidence states otherwise).
	Verdict string `json:"verdict,omitempty"`
	// CitedAs, when set, is what the model cited: the sentence was moved to
	// the passages in Citations, which support it, because (some of) the
	// passages it cited do not.
	CitedAs []int `json:"cited_as,omitempty"`
}

// Usage is a model call's token count.
type Usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
}

// Abstention reasons.
const (
	// ReasonNoEvidence: retrieval found no passage sharing a content word with the question.
	ReasonNoEvidence = "no_evidence"
	// ReasonWeakEvidence: passages were found, but none covers enough of the question.
	ReasonWeakEvidence = "weak_evidence"
	// ReasonNameMismatch: the passages that cover the question lack a name or
	// number the question mentions, so they are about something else.
	ReasonNameMismatch = "name_mismatch"
	// ReasonNoAnswerType: the passages cover the question but hold nothing of
	// the kind it asks for (a time for "when", a number for "how many", ...).
	ReasonNoAnswerType = "no_answer_of_type"
	// ReasonNegation: the question is negated and the covering passages are not.
	ReasonNegation = "negation_mismatch"
	// ReasonModelAbstained: the language model replied that the passages do
	// not answer the question.
	ReasonModelAbstained = "model_abstained"
	// ReasonUnsupported: too little of the model's answer passed the support check.
	ReasonUnsupported = "unsupported_answer"
)

// EmbedFunc turns texts into vectors, one per text, all of the same dimension.
type EmbedFunc func(ctx context.Context, texts []string) ([][]float32, error)

// Embedder names an EmbedFunc and its output dimension. The name and dimension
// are recorded in the index so vectors from different embedders never mix.
type Embedder struct {
	Name  string
	Dim   int
	Embed EmbedFunc
}

// LLM is a language model the grounding protocol can prompt.
type LLM struct {
	Provider string // "openai", "ollama", "anthropic"
	Model    string
	Generate GenerateFunc
}

// GenerateFunc sends one prompt and returns the model's reply. It honours
// ctx (cancellation and deadline) and retries transient failures itself.
type GenerateFunc func(ctx context.Context, req GenerateRequest) (*GenerateReply, error)

// GenerateRequest is one call to a language model.
type GenerateRequest struct {
	System    string // instructions
	Prompt    string // the user turn: passages and question
	MaxTokens int    // reply budget; 0 means the provider's default
	// OnChunk, when set, receives the reply's text as it streams in, in
	// order; an error from it stops the call with that error.
	OnChunk func(text string) error
}

// GenerateReply is a model's whole reply.
type GenerateReply struct {
	Text  string
	Usage Usage
}

// Upload is one document handed to grounded in memory (an HTTP upload); the
// ingest pipeline handles every file it walks as one too.
type Upload struct {
	// Source is the name the document is stored and cited under; the same
	// source again replaces the document, or leaves it when unchanged.
	Source string
	// Title, when set, replaces the title found in the document.
	Title string
	// Format, when set, replaces the format the source's extension selects
	// ("markdown", "text", "html", "pdf", "docx", "csv", "jsonl"); with
	// neither, the document is read as text.
	Format string
	Data   []byte
}

// PutResult says what storing an Upload did.
type PutResult struct {
	// Outcome is "added", "updated" or "unchanged".
	Outcome string `json:"outcome"`
	// Document is the stored document, without its text and sections.
	Document *Document `json:"document"`
}

// IndexedDocument is a document with its chunks and one vector per chunk, as
// the ingest pipeline hands it to the store.
type IndexedDocument struct {
	Document *Document
	Chunks   []Chunk
	Vectors  [][]float32
}

// Heading returns the chunk's title and section path for display and
// indexing, without repeating the title when the path starts with it:
// "Cost trade-offs > Self-hosting".
func (c Chunk) Heading() string {
	switch {
	case c.Section == "":
		return c.Title
	case c.Section == c.Title || strings.HasPrefix(c.Section, c.Title+" > "):
		return c.Section
	case c.Title == "":
		return c.Section
	}
	return c.Title + " > " + c.Section
}

// SearchResult is one search hit as the CLI's --json and the HTTP API show it.
type SearchResult struct {
	ChunkID     string  `json:"chunk_id"`
	DocID       string  `json:"doc_id"`
	Source      string  `json:"source"`
	Title       string  `json:"title"`
	Section     string  `json:"section"`
	Text        string  `json:"text"`
	Score       float64 `json:"score"`
	Start       int     `json:"start"`
	End         int     `json:"end"`
	LexicalRank int     `json:"lexical_rank"`
	VectorRank  int     `json:"vector_rank"`
	Location    string  `json:"location,omitempty"`
	Version     string  `json:"version,omitempty"`
}

// Results converts hits to search results.
func Results(hits []Hit) []SearchResult {
	out := make([]SearchResult, len(hits))
	for i, h := range hits {
		out[i] = SearchResult{
			ChunkID: h.ID, DocID: h.DocID, Source: h.Source, Title: h.Title, Section: h.Section,
			Text: h.Text, Score: h.Score, Start: h.Start, End: h.End, Location: h.Location, Version: h.Version,
			LexicalRank: h.LexicalRank, VectorRank: h.VectorRank,
		}
	}
	return out
}

// Filter restricts a search to chunks whose fields match, all of them:
// key "source", "title", "section", "location", "doc_id" or "type" (the
// file format: markdown, text, html, pdf, docx, csv, jsonl), else a metadata column (a CSV or JSONL row's field). A
// value ending in "*" matches by prefix ("source=/docs/*"); any other value
// must equal the field. A nil or empty Filter matches every chunk.
type Filter map[string]string

// Match reports whether c passes the filter.
func (f Filter) Match(c Chunk) bool {
	for k, want := range f {
		var have string
		switch k {
		case "source":
			have = c.Source
		case "title":
			have = c.Title
		case "section":
			have = c.Section
		case "location":
			have = c.Location
		case "doc_id":
			have = c.DocID
		case "type", "format":
			have = c.Format
		default:
			have = c.Meta[k]
		}
		if p, ok := strings.CutSuffix(want, "*"); ok {
			if !strings.HasPrefix(have, p) {
				return false
			}
		} else if have != want {
			return false
		}
	}
	return true
}

// ParseFilter reads "key=value" terms into a Filter. Errors: EINVALID for a
// term without "=" or with an empty key.
func ParseFilter(terms []string) (Filter, error) {
	if len(terms) == 0 {
		return nil, nil
	}
	f := Filter{}
	for _, t := range terms {
		k, v, ok := strings.Cut(t, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, Errorf(EINVALID, "filter %q: want key=value", t)
		}
		f[k] = v
	}
	return f, nil
}
