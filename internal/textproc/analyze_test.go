package textproc_test

import (
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/groundedhq/grounded/internal/textproc"
)

func words(text string) []string {
	var out []string
	for _, s := range textproc.Words(text) {
		out = append(out, text[s.Start:s.End])
	}
	return out
}

func TestWords(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"empty", "", nil},
		{"punctuation only", " ,.;-- ", nil},
		{"simple", "Hello, world!", []string{"Hello", "world"}},
		{"apostrophe ends a word", "the model's answer", []string{"the", "model", "s", "answer"}},
		{"hyphen and digits", "GPT-4o costs $0.50", []string{"GPT", "4o", "costs", "0", "50"}},
		{"underscore splits", "snake_case", []string{"snake", "case"}},
		{"accented", "naïve café Zürich", []string{"naïve", "café", "Zürich"}},
		{"combining mark", "cafe\u0301 ok", []string{"cafe\u0301", "ok"}},
		{"cyrillic and greek", "Привет, κόσμε", []string{"Привет", "κόσμε"}},
		{"CJK run is one word", "日本語の文章 中文", []string{"日本語の文章", "中文"}},
		{"devanagari vowel signs", "हिन्दी भाषा", []string{"हिन्दी", "भाषा"}},
		{"emoji separates", "a😀b", []string{"a", "b"}},
		{"word at end", "end", []string{"end"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := words(tt.in)
			if !slices.Equal(got, tt.want) {
				t.Errorf("Words(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestTerms(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"empty", "", []string{}},
		{"stop words removed", "The model and the index are in a store", []string{"model", "index", "store"}},
		{"only stop words", "the and of to in is it", []string{}},
		{"stems", "generates generating generated", []string{"generat", "generat", "generat"}},
		{"plural and gerund", "Chunks chunking retrieval", []string{"chunk", "chunk", "retriev"}},
		{"lower-cased before stemming", "EMBEDDINGS Embedding", []string{"embed", "embed"}},
		{"numbers kept", "In 2024 there were 42 models", []string{"2024", "42", "model"}},
		{"mixed letters and digits kept", "gpt4 v2", []string{"gpt4", "v2"}},
		{"non-Latin kept lower-cased", "Привет МИР Ελληνικά", []string{"привет", "мир", "ελληνικά"}},
		{"accented words not stemmed", "Cafés naïve", []string{"cafés", "naïve"}},
		{"CJK kept", "検索 増強", []string{"検索", "増強"}},
		{"long words dropped", "short " + strings.Repeat("x", 49) + " " + strings.Repeat("b", 48), []string{"short", strings.Repeat("b", 48)}},
	}
	a := textproc.NewAnalyzer()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := a.Terms(tt.in)
			if !slices.Equal(got, tt.want) {
				t.Errorf("Terms(%q) = %q, want %q", tt.in, got, tt.want)
			}
			// A fresh analyzer (empty stem cache) gives the same terms.
			if fresh := textproc.NewAnalyzer().Terms(tt.in); !slices.Equal(fresh, got) {
				t.Errorf("Terms(%q) = %q with a fresh cache, %q with a warm one", tt.in, fresh, got)
			}
		})
	}
}

func TestTerm(t *testing.T) {
	tests := []struct{ in, want string }{
		{"The", ""},
		{"generates", "generat"},
		{"Running", "run"},
		{"3.14", "3.14"},
		{"ÉCOLE", "école"},
		{strings.Repeat("a", 49), ""},
	}
	a := textproc.NewAnalyzer()
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := a.Term(tt.in); got != tt.want {
				t.Errorf("Term(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestIsStopWord(t *testing.T) {
	for _, tt := range []struct {
		w    string
		want bool
	}{{"the", true}, {"and", true}, {"model", false}, {"retrieval", false}} {
		t.Run(tt.w, func(t *testing.T) {
			if got := textproc.IsStopWord(tt.w); got != tt.want {
				t.Errorf("IsStopWord(%q) = %v, want %v", tt.w, got, tt.want)
			}
		})
	}
}

// TestAnalyzerConcurrent shares one analyzer between goroutines; run with
// -race. Every goroutine must get the terms a private analyzer gives.
func TestAnalyzerConcurrent(t *testing.T) {
	text := "Grounded answers quote passages; retrieval ranks chunks, embeddings generate vectors. Привет мир 2024."
	want := textproc.NewAnalyzer().Terms(text)
	shared := textproc.NewAnalyzer()
	var wg sync.WaitGroup
	results := make([][]string, 8)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				results[i] = shared.Terms(text)
			}
		}()
	}
	wg.Wait()
	for i, got := range results {
		if !slices.Equal(got, want) {
			t.Errorf("goroutine %d got %q, want %q", i, got, want)
		}
	}
}
