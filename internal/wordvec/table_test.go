package wordvec

import (
	"testing"
)

func TestDefaultNeighbours(t *testing.T) {
	tb := Default()
	if tb.Len() != 50000 || tb.Dim() != 100 {
		t.Fatalf("table %d x %d", tb.Len(), tb.Dim())
	}
	for _, c := range []struct{ a, b, c string }{
		// a is nearer to b than to c
		{"warranty", "guarantee", "kettle"},
		{"refund", "reimbursement", "temperature"},
		{"temperature", "heat", "refund"},
		{"period", "duration", "kettle"},
	} {
		if tb.Similarity(c.a, c.b) <= tb.Similarity(c.a, c.c) {
			t.Errorf("sim(%s,%s)=%.3f <= sim(%s,%s)=%.3f", c.a, c.b, tb.Similarity(c.a, c.b), c.a, c.c, tb.Similarity(c.a, c.c))
		}
	}
	if s := tb.Similarity("kettle", "kettle"); s != 1 {
		t.Errorf("self similarity %v", s)
	}
	if tb.Vector("zzqxjv") != nil || tb.Rank("zzqxjv") != -1 {
		t.Error("unknown word has a vector")
	}
	if tb.Rank("the") != 0 {
		t.Errorf("rank(the) = %d", tb.Rank("the"))
	}
}
