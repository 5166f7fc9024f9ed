package retrieval

import (
	"context"
	"hash/fnv"
	"math"
	"strings"

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

func hashEmbed(text string, dim int, an *textproc.Analyzer) []float32 {
	v := make([]float64, dim)
	add := func(feature string, w float64) {
		h := fnv.New64a()
		h.Write([]byte(feature))
		x := h.Sum64()
		i := int(x % uint64(dim))
		if x>>63 == 1 {
			w = -w
		}
		v[i] += w
	}
	terms := an.Terms(text)
	counts := map[string]int{}
	for i, t := range terms {
		counts["w:"+t]++
		if i > 0 {
			counts["b:"+terms[i-1]+" "+t]++
		}
	}
	for f, n := range counts {
		w := 1 + math.Log(float64(n))
		if strings.HasPrefix(f, "b:") {
			w *= 0.5
		}
		add(f, w)
	}
	for _, sp := range textproc.Words(text) {
		w := strings.ToLower(text[sp.Start:sp.End])
		if textproc.IsStopWord(w) || len(w) > 32 {
			continue
		}
		r := []rune("<" + w + ">")
		for i := 0; i+3 <= len(r); i++ {
			add("c:"+string(r[i:i+3]), 0.2)
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
