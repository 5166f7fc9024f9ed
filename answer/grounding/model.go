// Package grounding is the protocol between grounded and a language model,
// shared by answers (answer), summaries (answer/summarize) and field
// extraction (answer/extract):
//
//   - Passages go to the model as numbered blocks (passage.go) that the
//     passage text cannot close, packed under a token budget.
//   - The model's reply is cut into sentences, each ending with the numbers
//     of the passages it cites in square brackets (reply.go); numbers that
//     name no passage are dropped and counted.
//   - Every sentence is checked against the passages it cites by the
//     support checker, and the passages cited are quoted, at their best
//     supporting span, as citations (check.go).
//
// Model holds the configuration of all of it, built once in cmd.
package grounding

import (
	"context"

	"github.com/groundedhq/grounded"
	"github.com/groundedhq/grounded/answer/support"
	"github.com/groundedhq/grounded/internal/textproc"
)

// SupportFunc checks one sentence against passages. A support.Checker's
// Check method is one.
type SupportFunc func(sentence string, passages []string) support.Result

// PrepareFunc analyses passages once for checking many sentences against
// them, or against subsets of them, without analysing them again (a
// support.Checker's Prepare: see Preparer).
type PrepareFunc func(passages []string) PreparedFunc

// PreparedFunc checks sentence against the prepared passages that idx
// names (indexes into them, in that order; nil: all of them): the
// SupportFunc's Result for sentence against those passages, its Passage a
// position in idx.
type PreparedFunc func(sentence string, idx []int) support.Result

// Preparer returns the PrepareFunc of c, whose SupportFunc is c.Check.
func Preparer(c *support.Checker) PrepareFunc {
	return func(passages []string) PreparedFunc { return c.Prepare(passages).CheckIn }
}

// Unprepared returns a PrepareFunc for a SupportFunc that has none: it
// analyses nothing ahead, and each check passes sf the passages idx names.
func Unprepared(sf SupportFunc) PrepareFunc {
	return func(passages []string) PreparedFunc {
		return func(sentence string, idx []int) support.Result {
			if idx == nil {
				return sf(sentence, passages)
			}
			sub := make([]string, len(idx))
			for i, n := range idx {
				sub[i] = passages[n]
			}
			return sf(sentence, sub)
		}
	}
}

// Model is a language model and the settings of the protocol. Zero fields
// take the defaults (see WithDefaults).
type Model struct {
	// LLM is the model. Required.
	LLM grounded.LLM
	// CountTokens measures prompt text for packing passages. Default:
	// EstimateTokens.
	CountTokens func(string) int
	// PassageTokens is a prompt's budget for passage blocks (and for a
	// summary's notes). Default 3000.
	PassageTokens int
	// ReplyTokens is a reply's budget. 0: each use's own default (see
	// Reply).
	ReplyTokens int
	// Support checks each generated sentence against the passages it
	// cites. Default: an answer/support Checker with its defaults.
	Support SupportFunc
	// Prepare, when set, is Support with the passages of a prompt (or of
	// a checked answer) analysed once for all its sentences: it must give
	// Support's results (Preparer(c) for Support c.Check). When it is nil,
	// Support is called for every check (see Preparer). Default: the
	// default support checker's, when Support is defaulted too.
	Prepare PrepareFunc
	// FlagUnsupported keeps sentences that fail the support check, marked
	// "(unsupported)", instead of dropping them.
	FlagUnsupported bool
}

// EstimateTokens is the default token count: 4 bytes a token.
func EstimateTokens(s string) int { return (len(s) + 3) / 4 }

// WithDefaults returns a copy of m with its zero fields set to the
// defaults; the default support checker analyses text with an (nil: a new
// Analyzer). A nil m stays nil: no model.
func (m *Model) WithDefaults(an *textproc.Analyzer) *Model {
	if m == nil {
		return nil
	}
	c := *m
	if c.CountTokens == nil {
		c.CountTokens = EstimateTokens
	}
	if c.PassageTokens <= 0 {
		c.PassageTokens = 3000
	}
	if c.Support == nil {
		if an == nil {
			an = textproc.NewAnalyzer()
		}
		chk := support.New(an, support.Config{})
		c.Support, c.Prepare = chk.Check, Preparer(chk)
	}
	return &c
}

// Preparer returns m.Prepare, else Unprepared(m.Support).
func (m *Model) Preparer() PrepareFunc {
	if m.Prepare != nil {
		return m.Prepare
	}
	return Unprepared(m.Support)
}

// Reply is the reply budget: ReplyTokens when set, else def.
func (m *Model) Reply(def int) int {
	if m.ReplyTokens > 0 {
		return m.ReplyTokens
	}
	return def
}

// Generate sends one request to the model. Errors: the model's (they name
// the provider, the model and what failed), or ctx's when it ended during
// the call: a cancelled stream may end "successfully" with half a reply.
func (m *Model) Generate(ctx context.Context, req grounded.GenerateRequest) (*grounded.GenerateReply, error) {
	reply, err := m.LLM.Generate(ctx, req)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return reply, nil
}
