package vector_test

import (
	"context"
	"math"
	"slices"
	"sync"
	"testing"

	"github.com/groundedhq/grounded/retrieval/vector"
)

const dim = 3

// newIndex returns a 3-dimensional index holding the given vectors.
func newIndex(t *testing.T, ids []string, vecs [][]float32) *vector.Index {
	t.Helper()
	ix, err := vector.New(dim)
	if err != nil {
		t.Fatal(err)
	}
	if err := ix.Add(context.Background(), ids, vecs); err != nil {
		t.Fatal(err)
	}
	return ix
}

func ids(ms []vector.Match) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.ID
	}
	return out
}

func TestNewRefusesBadDimension(t *testing.T) {
	for _, d := range []int{0, -1} {
		if _, err := vector.New(d); err == nil {
			t.Errorf("New(%d): no error", d)
		}
	}
	ix, err := vector.New(7)
	if err != nil {
		t.Fatal(err)
	}
	if ix.Dim() != 7 || ix.Len() != 0 {
		t.Errorf("New(7): Dim %d Len %d, want 7 and 0", ix.Dim(), ix.Len())
	}
}

func TestAddRefusesWithoutChangingIndex(t *testing.T) {
	tests := []struct {
		name string
		ids  []string
		vecs [][]float32
	}{
		{"short vector", []string{"b"}, [][]float32{{1, 0}}},
		{"long vector", []string{"b"}, [][]float32{{1, 0, 0, 0}}},
		{"one bad among good", []string{"b", "c"}, [][]float32{{0, 1, 0}, {0, 0, 1, 0}}},
		{"more ids than vectors", []string{"b", "c"}, [][]float32{{0, 1, 0}}},
		{"more vectors than ids", []string{"b"}, [][]float32{{0, 1, 0}, {0, 0, 1}}},
	}
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ix := newIndex(t, []string{"a"}, [][]float32{{1, 0, 0}})
			if err := ix.Add(ctx, tt.ids, tt.vecs); err == nil {
				t.Fatal("Add: no error")
			}
			if ix.Len() != 1 {
				t.Errorf("Len after refused Add = %d, want 1", ix.Len())
			}
			got, err := ix.Query(ctx, []float32{0, 1, 1}, 10)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(ids(got), []string{"a"}) {
				t.Errorf("Query after refused Add = %v, want [a]", ids(got))
			}
		})
	}
}

func TestQuery(t *testing.T) {
	ix := newIndex(t,
		[]string{"x", "xy", "y", "negx"},
		[][]float32{{1, 0, 0}, {1, 1, 0}, {0, 1, 0}, {-1, 0, 0}})
	tests := []struct {
		name    string
		q       []float32
		n       int
		want    []string
		wantErr bool
	}{
		{"ordered by similarity", []float32{1, 0.1, 0}, 4, []string{"x", "xy", "y", "negx"}, false},
		{"n clamped to Len", []float32{1, 0.1, 0}, 100, []string{"x", "xy", "y", "negx"}, false},
		{"top n only", []float32{0.1, 1, 0}, 2, []string{"y", "xy"}, false},
		{"n zero", []float32{1, 0, 0}, 0, nil, false},
		{"n negative", []float32{1, 0, 0}, -3, nil, false},
		{"zero query", []float32{0, 0, 0}, 4, nil, false},
		{"query too short", []float32{1, 0}, 4, nil, true},
		{"query too long", []float32{1, 0, 0, 0}, 4, nil, true},
		{"nil query", nil, 4, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ix.Query(context.Background(), tt.q, tt.n)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Query err = %v, want error %v", err, tt.wantErr)
			}
			if !slices.Equal(ids(got), tt.want) {
				t.Errorf("Query = %v, want %v", ids(got), tt.want)
			}
			for i := 1; i < len(got); i++ {
				if got[i].Score > got[i-1].Score {
					t.Errorf("results out of order: %v", got)
				}
			}
		})
	}
	if ix.Len() != 4 {
		t.Errorf("Len after queries = %d, want 4", ix.Len())
	}
}

func TestQueryScoresAreCosine(t *testing.T) {
	ix := newIndex(t,
		[]string{"x", "xy", "negx"},
		[][]float32{{5, 0, 0}, {3, 3, 0}, {-0.5, 0, 0}})
	got, err := ix.Query(context.Background(), []float32{2, 0, 0}, 3)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{"x": 1, "xy": 1 / math.Sqrt2, "negx": -1}
	if len(got) != len(want) {
		t.Fatalf("Query = %v, want %d matches", got, len(want))
	}
	for _, m := range got {
		if math.Abs(float64(m.Score)-want[m.ID]) > 1e-5 {
			t.Errorf("score of %s = %v, want %v", m.ID, m.Score, want[m.ID])
		}
		if m.Score > 1+1e-6 {
			t.Errorf("score of %s = %v, above 1: the stored vector was not normalized", m.ID, m.Score)
		}
	}
}

func TestQueryEmptyIndex(t *testing.T) {
	ix, err := vector.New(dim)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ix.Query(context.Background(), []float32{1, 0, 0}, 10)
	if err != nil || len(got) != 0 {
		t.Errorf("Query on empty index = %v, %v; want nothing and no error", got, err)
	}
}

func TestAddCopiesVectors(t *testing.T) {
	v := []float32{1, 0, 0}
	ix := newIndex(t, []string{"a"}, [][]float32{v})
	v[0], v[1] = 0, 1 // the caller reuses its buffer
	got, err := ix.Query(context.Background(), []float32{1, 0, 0}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || math.Abs(float64(got[0].Score)-1) > 1e-6 {
		t.Errorf("Query after the caller changed its slice = %v, want a with score 1", got)
	}
}

func TestQueryLeavesQueryVector(t *testing.T) {
	ix := newIndex(t, []string{"a"}, [][]float32{{1, 0, 0}})
	q := []float32{3, 4, 0}
	if _, err := ix.Query(context.Background(), q, 1); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(q, []float32{3, 4, 0}) {
		t.Errorf("Query changed the caller's vector to %v", q)
	}
}

func TestAddReplacesByID(t *testing.T) {
	ctx := context.Background()
	ix := newIndex(t, []string{"a", "b"}, [][]float32{{1, 0, 0}, {0, 0, 1}})
	if err := ix.Add(ctx, []string{"a"}, [][]float32{{0, 2, 0}}); err != nil {
		t.Fatal(err)
	}
	if ix.Len() != 2 {
		t.Errorf("Len after re-adding a = %d, want 2", ix.Len())
	}
	got, err := ix.Query(ctx, []float32{0, 1, 0}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID != "a" || math.Abs(float64(got[0].Score)-1) > 1e-6 {
		t.Errorf("Query for a's new vector = %v, want a with score 1", got)
	}
	got, err = ix.Query(ctx, []float32{1, 0, 0}, 2)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range got {
		if m.Score > 0.5 {
			t.Errorf("a's old vector still matches: %v", got)
		}
	}
}

func TestAddNothing(t *testing.T) {
	ix := newIndex(t, []string{"a"}, [][]float32{{1, 0, 0}})
	if err := ix.Add(context.Background(), nil, nil); err != nil {
		t.Errorf("Add(nil, nil) = %v", err)
	}
	if ix.Len() != 1 {
		t.Errorf("Len = %d, want 1", ix.Len())
	}
}

func TestDelete(t *testing.T) {
	tests := []struct {
		name    string
		del     []string
		wantLen int
		want    []string // Query results after the delete, best first
	}{
		{"no ids deletes nothing", nil, 3, []string{"a", "b", "c"}},
		{"empty list deletes nothing", []string{}, 3, []string{"a", "b", "c"}},
		{"unknown id is ignored", []string{"zz"}, 3, []string{"a", "b", "c"}},
		{"one id", []string{"b"}, 2, []string{"a", "c"}},
		{"several ids with an unknown one", []string{"a", "zz", "c"}, 1, []string{"b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			ix := newIndex(t, []string{"a", "b", "c"},
				[][]float32{{1, 0, 0}, {1, 1, 0}, {0, 1, 0}})
			if err := ix.Delete(ctx, tt.del...); err != nil {
				t.Fatal(err)
			}
			if ix.Len() != tt.wantLen {
				t.Errorf("Len = %d, want %d", ix.Len(), tt.wantLen)
			}
			got, err := ix.Query(ctx, []float32{1, 0.2, 0}, 10)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(ids(got), tt.want) {
				t.Errorf("Query after Delete(%v) = %v, want %v", tt.del, ids(got), tt.want)
			}
		})
	}
}

// knownBug skips a test that shows a bug not fixed yet; delete the call with
// the fix.
func knownBug(t *testing.T, what string) {
	t.Helper()
}

// TestBugQueryDuringDelete: Query clamps n to Count, then chromem-go checks n
// against Count again; a Delete in between makes Query fail with "nResults
// must be <= the number of documents in the collection".
func TestBugQueryDuringDelete(t *testing.T) {
	knownBug(t, "vector.Query races with Delete between its Count and chromem-go's")
	ctx := context.Background()
	ix := newIndex(t, []string{"keep"}, [][]float32{{0, 0, 1}})
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	wg.Add(2)
	go func() {
		defer wg.Done()
		for range 2000 {
			if err := ix.Add(ctx, []string{"a", "b"}, [][]float32{{1, 0, 0}, {0, 1, 0}}); err != nil {
				errs <- err
				return
			}
			if err := ix.Delete(ctx, "a", "b"); err != nil {
				errs <- err
				return
			}
		}
	}()
	go func() {
		defer wg.Done()
		for range 5000 {
			if _, err := ix.Query(ctx, []float32{1, 1, 0}, 10); err != nil {
				errs <- err
				return
			}
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestBugTieOrder: chromem-go visits documents in map order and sorts
// without a tie-break, so equal scores come back in a different order from
// one query to the next.
func TestBugTieOrder(t *testing.T) {
	knownBug(t, "vector.Query orders equal scores at random")
	ix := newIndex(t, []string{"a", "b", "c", "d"},
		[][]float32{{1, 0, 0}, {1, 0, 0}, {1, 0, 0}, {1, 0, 0}})
	var first []string
	for i := range 50 {
		got, err := ix.Query(context.Background(), []float32{1, 0, 0}, 2)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = ids(got)
		} else if !slices.Equal(ids(got), first) {
			t.Fatalf("query %d = %v, query 0 = %v: equal scores in another order", i, ids(got), first)
		}
	}
}
