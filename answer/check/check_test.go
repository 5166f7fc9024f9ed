package check_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/groundedhq/grounded"
	"github.com/groundedhq/grounded/answer/check"
	"github.com/groundedhq/grounded/answer/grounding"
	"github.com/groundedhq/grounded/answer/support"
	"github.com/groundedhq/grounded/internal/textproc"
)

const (
	refunds  = "Refunds are paid within 14 days of the return. Store credit never expires."
	shipping = "Shipping is free on orders over 50 euros. Parcels leave the warehouse on weekdays."
	returns  = "Items can be returned within 30 days of delivery."
)

func newChecker() *check.Checker {
	return check.NewPrepared(grounding.Preparer(support.New(textproc.NewAnalyzer(), support.Config{})))
}

// quotesExact fails unless every evidence quote is its passage's text at
// its offsets and names a passage that exists.
func quotesExact(t testing.TB, res *grounded.CheckResult, passages []string) {
	t.Helper()
	for i, st := range res.Sentences {
		ev := st.Evidence
		if ev == nil {
			if st.Verdict == grounded.VerdictSupported {
				t.Errorf("sentence %d is supported without evidence: %+v", i+1, st)
			}
			continue
		}
		if ev.Passage < 1 || ev.Passage > len(passages) {
			t.Fatalf("sentence %d: evidence names passage %d of %d", i+1, ev.Passage, len(passages))
		}
		text := passages[ev.Passage-1]
		if ev.Start < 0 || ev.Start > ev.End || ev.End > len(text) || text[ev.Start:ev.End] != ev.Quote {
			t.Fatalf("sentence %d: quote %q is not passage %d's text[%d:%d]", i+1, ev.Quote, ev.Passage, ev.Start, ev.End)
		}
		if st.Verdict == grounded.VerdictSupported && !slices.Contains(st.Citations, ev.Passage) {
			t.Errorf("sentence %d is supported by passage %d but cites %v", i+1, ev.Passage, st.Citations)
		}
	}
}

func TestCheck(t *testing.T) {
	type want struct {
		verdict      string
		citations    []int
		passage      int // of the evidence; 0: none
		quote        string
		reason       string // a substring of the reason
		reattributed bool
		cited        []int
		invalid      []int
	}
	three := []string{refunds, shipping, returns}
	tests := []struct {
		name     string
		req      grounded.CheckRequest
		passages []string
		want     []want
		reatt    int // reattributed_citations
		invalid  int // invalid_citations
	}{
		{
			name:     "cited correctly",
			req:      grounded.CheckRequest{Answer: "Refunds are paid within 14 days [1]. Shipping is free on orders over 50 euros [2]."},
			passages: three,
			want: []want{
				{verdict: "supported", citations: []int{1}, passage: 1, quote: "Refunds are paid within 14 days of the return.", reason: "passage 1 supports it"},
				{verdict: "supported", citations: []int{2}, passage: 2, quote: "Shipping is free on orders over 50 euros.", reason: "passage 2 supports it"},
			},
		},
		{
			name:     "cited to the wrong passage: re-attributed",
			req:      grounded.CheckRequest{Answer: "Refunds are paid within 14 days of the return [2]."},
			passages: three,
			want: []want{{verdict: "supported", citations: []int{1}, passage: 1, quote: "Refunds are paid within 14 days of the return.",
				reason: "re-attributed: it cites [2], which does not support it", reattributed: true, cited: []int{2}}},
			reatt: 1,
		},
		{
			name:     "cites nothing: checked against all passages",
			req:      grounded.CheckRequest{Answer: "Items can be returned within 30 days of delivery."},
			passages: three,
			want:     []want{{verdict: "supported", citations: []int{3}, passage: 3, quote: returns, reason: "it cites no passage; passage 3 supports it"}},
		},
		{
			name:     "marker out of range, supported elsewhere",
			req:      grounded.CheckRequest{Answer: "Store credit never expires [7]."},
			passages: three,
			want: []want{{verdict: "supported", citations: []int{1}, passage: 1, quote: "Store credit never expires.",
				reason: "it cites [7], which does not exist (there are 3 passages); passage 1 supports it", reattributed: true, cited: []int{7}, invalid: []int{7}}},
			reatt: 1, invalid: 1,
		},
		{
			name:     "wrong number: contradicted, with the quote that says otherwise",
			req:      grounded.CheckRequest{Answer: "Refunds are paid within 40 days of the return [1]."},
			passages: three,
			want: []want{{verdict: "contradicted", citations: []int{1}, passage: 1, quote: "Refunds are paid within 14 days of the return.",
				reason: "the closest sentence of the passages it cites gives another number or date for it"}},
		},
		{
			name:     "unsupported anywhere, with a bad marker as well",
			req:      grounded.CheckRequest{Answer: "The moon is made of green cheese [1][9]."},
			passages: three,
			want:     []want{{verdict: "unsupported", citations: []int{1}, reason: "shares a content word with it; it cites [9], which does not exist", invalid: []int{9}}},
			invalid:  1,
		},
		{
			name:     "sentences given as a list, one empty of words",
			req:      grounded.CheckRequest{Sentences: []string{"Parcels leave the warehouse on weekdays. [2]", "[1]"}},
			passages: three,
			want: []want{
				{verdict: "supported", citations: []int{2}, passage: 2, quote: "Parcels leave the warehouse on weekdays."},
				{verdict: "unsupported", citations: []int{1}, reason: "no words"},
			},
		},
		{
			name:     "no passages (retrieval found none)",
			req:      grounded.CheckRequest{Answer: "Refunds are paid within 14 days [1]."},
			passages: nil,
			want:     []want{{verdict: "unsupported", citations: []int{}, reason: "no passages", invalid: []int{1}}},
			invalid:  1,
		},
	}
	c := newChecker()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := c.Check(context.Background(), tt.req, tt.passages)
			if err != nil {
				t.Fatal(err)
			}
			quotesExact(t, res, tt.passages)
			if len(res.Sentences) != len(tt.want) {
				t.Fatalf("%d sentences, want %d: %+v", len(res.Sentences), len(tt.want), res.Sentences)
			}
			for i, w := range tt.want {
				st := res.Sentences[i]
				if st.Verdict != w.verdict || !slices.Equal(st.Citations, w.citations) || st.Reattributed != w.reattributed ||
					!slices.Equal(st.Cited, w.cited) || !slices.Equal(st.InvalidCitations, w.invalid) || !strings.Contains(st.Reason, w.reason) {
					t.Errorf("sentence %d = %+v\nwant %+v", i+1, st, w)
				}
				switch {
				case w.passage == 0 && w.quote == "":
				case st.Evidence == nil:
					t.Errorf("sentence %d has no evidence, want passage %d", i+1, w.passage)
				case st.Evidence.Passage != w.passage || (w.quote != "" && st.Evidence.Quote != w.quote):
					t.Errorf("sentence %d evidence = %+v, want passage %d %q", i+1, st.Evidence, w.passage, w.quote)
				}
			}
			if res.ReattributedCitations != tt.reatt || res.InvalidCitations != tt.invalid {
				t.Errorf("reattributed %d, invalid %d; want %d, %d", res.ReattributedCitations, res.InvalidCitations, tt.reatt, tt.invalid)
			}
			if res.Supported+res.Unsupported+res.Contradicted != len(res.Sentences) {
				t.Errorf("counts %d+%d+%d do not add up to %d", res.Supported, res.Unsupported, res.Contradicted, len(res.Sentences))
			}
		})
	}
}

// TestScore: all supported scores the mean of the scores; an unsupported
// sentence pulls the score down by its share of the text.
func TestScore(t *testing.T) {
	c := newChecker()
	ps := []string{refunds, shipping}
	good, err := c.Check(context.Background(), grounded.CheckRequest{Answer: "Refunds are paid within 14 days of the return [1]."}, ps)
	if err != nil {
		t.Fatal(err)
	}
	if good.Score != good.Sentences[0].Score || good.Score < 0.8 {
		t.Errorf("one supported sentence: score %v, its score %v", good.Score, good.Sentences[0].Score)
	}
	mixed, err := c.Check(context.Background(), grounded.CheckRequest{Answer: "Refunds are paid within 14 days of the return [1]. The moon is made of green cheese [2]."}, ps)
	if err != nil {
		t.Fatal(err)
	}
	if mixed.Score <= 0 || mixed.Score >= good.Score {
		t.Errorf("half unsupported: score %v, want between 0 and %v", mixed.Score, good.Score)
	}
	if mixed.Supported != 1 || mixed.Unsupported != 1 {
		t.Errorf("counts %d supported, %d unsupported; want 1, 1", mixed.Supported, mixed.Unsupported)
	}
}

func TestCheckErrors(t *testing.T) {
	c := newChecker()
	tests := []struct {
		name string
		req  grounded.CheckRequest
		want string
	}{
		{"no sentence with a word", grounded.CheckRequest{Answer: "[1] [2]"}, "no sentence"},
		{"too many sentences", grounded.CheckRequest{Answer: strings.Repeat("Refunds are paid. ", grounded.MaxCheckSentences+1)}, "limit is 200"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Check(context.Background(), tt.req, []string{refunds})
			if grounded.ErrorCode(err) != grounded.EINVALID || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want EINVALID with %q", err, tt.want)
			}
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Check(ctx, grounded.CheckRequest{Answer: "Refunds are paid [1]."}, []string{refunds}); err != context.Canceled {
		t.Errorf("cancelled: err = %v", err)
	}
}

// FuzzCheck decodes a request body as POST /v1/check does (strictly) and
// checks its inline passages: nothing panics, and every quote is its
// passage's text at its offsets.
func FuzzCheck(f *testing.F) {
	for _, seed := range []string{
		`{"answer": "Refunds are paid within 14 days [1]. Shipping is free [2].", "passages": [{"text": "` + refunds + `"}, {"text": "` + shipping + `", "source": "s.md"}]}`,
		`{"sentences": ["Store credit never expires [7].", "[1]", "Parcels leave on weekdays [1, 2]"], "passages": [{"text": "` + refunds + `"}, {"text": "` + shipping + `"}]}`,
		`{"answer": "Ünïcödé text [1]. 1,000 items [2][1].", "passages": [{"text": "Ünïcödé text.Glued sentence 1000 items."}, {"text": "x"}]}`,
		`{"answer": "A [0] B [18446744073709551616].", "passages": [{"text": "A. B."}]}`,
		`{"answer": "x", "passages": [], "extra": 1}`,
	} {
		f.Add([]byte(seed))
	}
	c := newChecker()
	f.Fuzz(func(t *testing.T, body []byte) {
		var req grounded.CheckRequest
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if dec.Decode(&req) != nil || req.Check() != nil || len(req.Passages) == 0 {
			return
		}
		ps := make([]string, len(req.Passages))
		for i, p := range req.Passages {
			ps[i] = p.Text
		}
		res, err := c.Check(context.Background(), req, ps)
		if err != nil {
			if grounded.ErrorCode(err) != grounded.EINVALID {
				t.Fatalf("err = %v, want nil or EINVALID", err)
			}
			return
		}
		quotesExact(t, res, ps)
		if res.Score < 0 || res.Score > 1 {
			t.Fatalf("score %v", res.Score)
		}
		for _, st := range res.Sentences {
			for _, n := range st.Citations {
				if n < 1 || n > len(ps) {
					t.Fatalf("citation %d of %d passages: %+v", n, len(ps), st)
				}
			}
		}
	})
}

var markers = regexp.MustCompile(`\[\d+\]`)

var benchWords = strings.Fields("refunds shipping returns parcels warehouse credit orders euros days weeks customers invoices payments carriers")

// benchSentence is sentence i of the benchmark's answers and passages.
func benchSentence(i int) string {
	w := benchWords
	return fmt.Sprintf("The %s of %s take %d days for %s.", w[i%len(w)], w[(i*7+3)%len(w)], i%40, w[(i*5+1)%len(w)])
}

// benchPassages returns n passages of bytes/n bytes each.
func benchPassages(n, bytes int) []string {
	ps := make([]string, n)
	for i := range ps {
		var sb strings.Builder
		for j := i; sb.Len() < bytes/n; j++ {
			sb.WriteString(benchSentence(j*13+i) + " ")
		}
		ps[i] = sb.String()
	}
	return ps
}

// benchAnswer returns an answer of n sentences, each citing one of 5
// passages.
func benchAnswer(n int) string {
	var sb strings.Builder
	for i := range n {
		fmt.Fprintf(&sb, "%s [%d] ", benchSentence(i*3), i%5+1)
	}
	return sb.String()
}

// TestPrepared: a Checker that prepares the passages (NewPrepared) gives
// the results of one that passes each check its passages (New), field by
// field: cited, uncited and re-attributed sentences, citations of several
// passages, out of order and repeated, and of passages that do not exist.
func TestPrepared(t *testing.T) {
	sc := support.New(textproc.NewAnalyzer(), support.Config{})
	plain, prepared := check.New(sc.Check), check.NewPrepared(grounding.Preparer(sc))
	three := []string{refunds, shipping, returns}
	tests := []struct {
		answer   string
		passages []string
	}{
		{"Refunds are paid within 14 days [1]. Shipping is free on orders over 50 euros [2].", three},
		{"Refunds are paid within 14 days [2]. Items can be returned within 30 days [3][1][3]. Store credit expires [1, 2].", three},
		{"Shipping is free on orders over 50 euros. Parcels leave the warehouse on weekends [7]. The moon is made of cheese [2].", three},
		{"Yes. No, refunds are paid within 40 days [1]. Refunds are paid [0].", three},
		{"Refunds are paid within 14 days [1].", []string{"", refunds + " " + returns}},
		{benchAnswer(30), benchPassages(7, 8<<10)},
		{markers.ReplaceAllString(benchAnswer(30), ""), benchPassages(12, 16<<10)},
	}
	for i, tt := range tests {
		req := grounded.CheckRequest{Answer: tt.answer}
		want, err := plain.Check(context.Background(), req, tt.passages)
		if err != nil {
			t.Fatal(err)
		}
		got, err := prepared.Check(context.Background(), req, tt.passages)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("case %d: prepared\n%+v\nwant (unprepared)\n%+v", i, got, want)
		}
	}
}

// BenchmarkCheck checks answers of 10 and 200 (the limit) sentences
// against 5 passages (a typical prompt) and against 100 passages of 512 KiB
// in all (the limit): every sentence is scored against every passage it
// is checked against.
func BenchmarkCheck(b *testing.B) {
	passages, answer := benchPassages, benchAnswer
	c := newChecker()
	for _, bc := range []struct {
		name      string
		sentences int
		ps        []string
	}{
		{"10x5", 10, passages(5, 5<<10)},
		{"200x5", 200, passages(5, 5<<10)},
		{"10x100", 10, passages(100, grounded.MaxCheckEvidenceBytes)},
		{"200x100", 200, passages(100, grounded.MaxCheckEvidenceBytes)},
		{"200x100-uncited", -200, passages(100, grounded.MaxCheckEvidenceBytes)},
	} {
		req := grounded.CheckRequest{Answer: answer(bc.sentences)}
		if bc.sentences < 0 { // sentences without markers: each is checked against all passages
			req.Answer = markers.ReplaceAllString(answer(-bc.sentences), "")
		}
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := c.Check(context.Background(), req, bc.ps); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
