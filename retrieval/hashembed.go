package retrieval

import (
	"context"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/groundedhq/grounded"
	"github.com/groundedhq/grounded/internal/textproc"
)

// HashEmbedderName names the offline embedder in the index's records.
const HashEmbedderName = "hash-v1"

// HashEmbedder returns the offline default embedder: a deterministic "feature
// hashing" embedding in pure Go, needing no model and no network. Features:
//   - each index term (Snowball stem, stop words out), weight 1 + ln(tf);
//   - each pair of adjacent terms, weight 0.5 × (1 + ln(tf));
//   - the character 3-grams of each lower-cased word with boundary marks
//     ("<model>" gives "<mo", "mod", ...), weight 0.2 each, so spelling
//     variants and compounds share dimensions.
//
// Each feature is hashed (FNV-1a 64) to a dimension and a sign, and the vector
// is L2-normalized. It is the lexical signal seen from another angle: useful
// for fusion and a stand-in until a real embedding server is configured.
func HashEmbedder(dim int, an *textproc.Analyzer) grounded.Embedder {
	if dim <= 0 {
		dim = 384
	}
	return grounded.Embedder{
		Name: HashEmbedderName,
		Dim:  dim,
		Embed: func(ctx context.Context, texts []string) ([][]float32, error) {
			out := make([][]float32, len(texts))
			for i, t := range texts {
				if i%64 == 0 {
					if err := ctx.Err(); err != nil {
						return nil, err
					}
				}
				out[i] = hashEmbed(t, dim, an)
			}
			return out, nil
		},
	}
}

// fnv1a64 hashes a feature: a one-byte kind, then its parts, FNV-1a 64.
// It allocates nothing, unlike hash/fnv with string concatenation.
func fnv1a64(kind byte, parts ...string) uint64 {
	const offset, prime = 14695981039346656037, 1099511628211
	h := uint64(offset)
	h = (h ^ uint64(kind)) * prime
	for i, p := range parts {
		if i > 0 {
			h = (h ^ ' ') * prime
		}
		for j := 0; j < len(p); j++ {
			h = (h ^ uint64(p[j])) * prime
		}
	}
	return h
}

func hashEmbed(text string, dim int, an *textproc.Analyzer) []float32 {
	v := make([]float64, dim)
	add := func(x uint64, w float64) {
		if x>>63 == 1 {
			w = -w
		}
		v[x%uint64(dim)] += w
	}
	terms := an.Terms(text)
	counts := make(map[uint64]int, 2*len(terms))
	bigram := make(map[uint64]bool, len(terms))
	for i, t := range terms {
		counts[fnv1a64('w', t)]++
		if i > 0 {
			h := fnv1a64('b', terms[i-1], t)
			counts[h]++
			bigram[h] = true
		}
	}
	for h, n := range counts {
		w := 1 + math.Log(float64(n))
		if bigram[h] {
			w *= 0.5
		}
		add(h, w)
	}
	var buf [34]byte
	for _, sp := range textproc.Words(text) {
		word := text[sp.Start:sp.End]
		if len(word) > 32 {
			continue
		}
		w := strings.ToLower(word)
		if textproc.IsStopWord(w) {
			continue
		}
		// Character 3-grams of "<word>", by rune.
		b := append(append(append(buf[:0], '<'), w...), '>')
		for i := 0; i < len(b); {
			_, n1 := utf8.DecodeRune(b[i:])
			j := i + n1
			if j >= len(b) {
				break
			}
			_, n2 := utf8.DecodeRune(b[j:])
			k := j + n2
			if k >= len(b) {
				break
			}
			_, n3 := utf8.DecodeRune(b[k:])
			add(fnv1a64('c', string(b[i:k+n3])), 0.2)
			i = j
		}
	}
	var ss float64
	for _, f := range v {
		ss += f * f
	}
	out := make([]float32, dim)
	if ss == 0 {
		return out
	}
	inv := 1 / math.Sqrt(ss)
	for i, f := range v {
		out[i] = float32(f * inv)
	}
	return out
}
