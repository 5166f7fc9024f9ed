package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/groundedhq/grounded"
	"github.com/groundedhq/grounded/answer"
	"github.com/groundedhq/grounded/answer/grounding"
	"github.com/groundedhq/grounded/answer/support"
	"github.com/groundedhq/grounded/internal/textproc"
	"github.com/groundedhq/grounded/internal/wordvec"
	"github.com/groundedhq/grounded/provider"
	"github.com/groundedhq/grounded/retrieval"
)

// embedderFlags choose the embedder: --embedder hash|glove|openai|ollama.
type embedderFlags struct {
	kind, url, model, key string
}

func (e *embedderFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&e.kind, "embedder", envOr("GROUNDED_EMBEDDER", "hash"), "embedder: hash or glove (offline), openai or ollama")
	fs.StringVar(&e.url, "embedder-url", os.Getenv("GROUNDED_EMBEDDER_URL"), "embedding server URL")
	fs.StringVar(&e.model, "embedder-model", os.Getenv("GROUNDED_EMBEDDER_MODEL"), "embedding model")
	fs.StringVar(&e.key, "embedder-key", os.Getenv("GROUNDED_EMBEDDER_KEY"), "embedding API key (default $OPENAI_API_KEY for openai)")
}

// build returns the configured embedder. The hash embedder needs nothing;
// the others are reached once to learn their dimension.
func (e embedderFlags) build(ctx context.Context, an *textproc.Analyzer) (grounded.Embedder, error) {
	switch e.kind {
	case "", "hash":
		return retrieval.HashEmbedder(384, an), nil
	case "glove":
		return retrieval.WordVecEmbedder(wordvec.Default()), nil
	case "openai", "ollama":
		key := e.key
		if key == "" && e.kind == "openai" {
			key = os.Getenv("OPENAI_API_KEY")
		}
		return provider.NewEmbedder(ctx, provider.EmbedConfig{Provider: e.kind, BaseURL: e.url, Model: e.model, APIKey: key})
	}
	return grounded.Embedder{}, fmt.Errorf("%w: --embedder %q: want hash, glove, openai or ollama", errUsage, e.kind)
}

// llmFlags choose the answer generator: --llm extractive|openai|ollama|anthropic.
type llmFlags struct {
	kind, url, model, key string
	legacyMaxTokens       bool
	timeout               time.Duration
	unsupported           string
}

func (l *llmFlags) register(fs *flag.FlagSet) {
	legacy, _ := strconv.ParseBool(os.Getenv("GROUNDED_LLM_LEGACY_MAX_TOKENS"))
	timeout := 60 * time.Second
	if v, err := time.ParseDuration(os.Getenv("GROUNDED_LLM_TIMEOUT")); err == nil && v > 0 {
		timeout = v
	}
	fs.StringVar(&l.kind, "llm", envOr("GROUNDED_LLM", "extractive"), "answer generator: extractive (offline), openai, ollama or anthropic")
	fs.StringVar(&l.url, "llm-url", os.Getenv("GROUNDED_LLM_URL"), "model server URL (OpenAI-compatible, Ollama or Anthropic)")
	fs.StringVar(&l.model, "llm-model", os.Getenv("GROUNDED_LLM_MODEL"), "model name")
	fs.StringVar(&l.key, "llm-key", os.Getenv("GROUNDED_LLM_KEY"), "API key (default $OPENAI_API_KEY or $ANTHROPIC_API_KEY)")
	fs.BoolVar(&l.legacyMaxTokens, "llm-legacy-max-tokens", legacy, "send max_tokens instead of max_completion_tokens (older vLLM, llama.cpp)")
	fs.DurationVar(&l.timeout, "llm-timeout", timeout, "timeout of each model call attempt")
	fs.StringVar(&l.unsupported, "unsupported", envOr("GROUNDED_UNSUPPORTED", "drop"), "sentences that fail the support check: drop or flag")
}

// apply sets the answerer's model (used by ask, summarize and extract)
// from the flags.
func (l llmFlags) apply(cfg *answer.Config, an *textproc.Analyzer, countTokens func(string) int) error {
	switch l.unsupported {
	case "", "drop", "flag":
	default:
		return fmt.Errorf("%w: --unsupported %q: want drop or flag", errUsage, l.unsupported)
	}
	switch l.kind {
	case "", "extractive":
		return nil
	case "openai", "ollama", "anthropic":
	default:
		return fmt.Errorf("%w: --llm %q: want extractive, openai, ollama or anthropic", errUsage, l.kind)
	}
	key := l.key
	if key == "" {
		switch l.kind {
		case "openai":
			key = os.Getenv("OPENAI_API_KEY")
		case "anthropic":
			key = os.Getenv("ANTHROPIC_API_KEY")
		}
	}
	llm, err := provider.NewLLM(provider.Config{
		Provider: l.kind, BaseURL: l.url, Model: l.model, APIKey: key,
		LegacyMaxTokens: l.legacyMaxTokens, Timeout: l.timeout,
	})
	if err != nil {
		return err
	}
	chk := support.New(an, support.Config{})
	cfg.Model = &grounding.Model{
		LLM: llm, CountTokens: countTokens, Support: chk.Check, Prepare: grounding.Preparer(chk),
		FlagUnsupported: l.unsupported == "flag",
	}
	return nil
}
