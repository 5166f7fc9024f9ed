package server_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/groundedhq/grounded"
	"github.com/groundedhq/grounded/server"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scrape GETs /metrics from url and parses the text exposition.
func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: status %d", resp.StatusCode)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parsing /metrics: %v", err)
	}
	return fams
}

// labels is a label set, "k=v" pairs; "" is none.
type labels []string

// series finds the metric of family name whose labels are exactly want.
func series(fams map[string]*dto.MetricFamily, name string, want labels) *dto.Metric {
	f := fams[name]
	if f == nil {
		return nil
	}
	for _, m := range f.GetMetric() {
		got := labels{}
		for _, lp := range m.GetLabel() {
			got = append(got, lp.GetName()+"="+lp.GetValue())
		}
		if strings.Join(got, ",") == strings.Join(want, ",") {
			return m
		}
	}
	return nil
}

// value is a counter's or gauge's value, or a histogram's count; -1 when
// the series is absent.
func value(fams map[string]*dto.MetricFamily, name string, want labels) float64 {
	m := series(fams, name, want)
	switch {
	case m == nil:
		return -1
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Histogram != nil:
		return float64(m.Histogram.GetSampleCount())
	}
	return -1
}

func TestMetricsExposition(t *testing.T) {
	def := &fakeService{Answer: cannedAnswer(), Hits: cannedHits(), Chunks: 42}
	other := &fakeService{Chunks: 7}
	for _, src := range []string{"a.md", "b.md"} {
		if _, err := def.Put(context.Background(), grounded.Upload{Source: src, Data: []byte("text of " + src)}); err != nil {
			t.Fatal(err)
		}
	}
	set := &fakeSet{cols: map[string]server.Collection{"default": def, "other": other}}
	ts := newTestServerFor(t, server.New(server.Config{Collections: set}))
	requests := []struct {
		method, path, body string
		status             int
	}{
		{"POST", "/v1/ask", `{"question": "one"}`, 200},
		{"POST", "/v1/ask", `{"question": "two"}`, 200},
		{"POST", "/v1/ask", `{"question": "three", "stream": true}`, 200},
		{"POST", "/v1/ask", `{"question": ""}`, 400},
		{"POST", "/v1/search", `{"query": "q"}`, 200},
		{"GET", "/v1/documents/abc", ``, 404},
		{"GET", "/v1/documents/def", ``, 404},
		{"GET", "/no/such/route/1", ``, 404},
		{"GET", "/no/such/route/2", ``, 404},
		{"BREW", "/v1/ask", ``, 405},
	}
	for _, r := range requests {
		req, err := http.NewRequest(r.method, ts+r.path, strings.NewReader(r.body))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != r.status {
			t.Fatalf("%s %s: status %d, want %d", r.method, r.path, resp.StatusCode, r.status)
		}
	}
	fams := scrape(t, ts)
	const reqs, dur = "grounded_http_requests_total", "grounded_http_request_duration_seconds"
	for _, c := range []struct {
		name string
		l    labels
		want float64
	}{
		{reqs, labels{"method=POST", "route=/v1/ask", "status=200"}, 3},
		{reqs, labels{"method=POST", "route=/v1/ask", "status=400"}, 1},
		{reqs, labels{"method=POST", "route=/v1/search", "status=200"}, 1},
		{reqs, labels{"method=GET", "route=/v1/documents/:id", "status=404"}, 2},
		{reqs, labels{"method=GET", "route=unmatched", "status=404"}, 2},
		{reqs, labels{"method=other", "route=unmatched", "status=405"}, 1},
		{reqs, labels{"method=GET", "route=/metrics", "status=200"}, -1}, // counted once answered
		{dur, labels{"method=POST", "route=/v1/ask"}, 4},
		{dur, labels{"method=GET", "route=unmatched"}, 2},
		{"grounded_answers_total", labels{"generator=fake"}, 3},
		{"grounded_answer_duration_seconds", labels{"generator=fake"}, 3},
		{"grounded_retrieval_duration_seconds", labels{}, 3},
		{"grounded_generation_duration_seconds", labels{"generator=fake"}, 3},
		{"grounded_search_duration_seconds", labels{}, 1},
		{"grounded_abstentions_total", labels{"reason=" + grounded.ReasonNoEvidence}, 0},
		{"grounded_unsupported_sentences_total", labels{}, 0},
		{"grounded_index_chunks", labels{"collection=default"}, 42},
		{"grounded_index_chunks", labels{"collection=other"}, 7},
		{"grounded_index_documents", labels{"collection=default"}, 2},
		{"grounded_index_documents", labels{"collection=other"}, 0},
		{"grounded_inflight_requests", labels{}, 1}, // the scrape itself
	} {
		if got := value(fams, c.name, c.l); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.l, got, c.want)
		}
	}
	if f := fams[reqs]; f != nil {
		for _, m := range f.GetMetric() {
			for _, lp := range m.GetLabel() {
				if lp.GetName() == "route" && strings.HasPrefix(lp.GetValue(), "/no/") {
					t.Errorf("a raw path became a route label: %v", m)
				}
			}
		}
	}
	for _, name := range []string{"go_goroutines", "process_cpu_seconds_total"} {
		if fams[name] == nil {
			t.Errorf("no %s: the runtime and process collectors are missing", name)
		}
	}
	// The second scrape sees the first.
	if got := value(scrape(t, ts), reqs, labels{"method=GET", "route=/metrics", "status=200"}); got != 1 {
		t.Errorf("scrapes counted: %v, want 1", got)
	}
}

// TestMetricsPerHandler: two handlers in one process have registries of
// their own.
func TestMetricsPerHandler(t *testing.T) {
	a := newTestServerFor(t, server.New(server.Config{Collections: only(&fakeService{Answer: cannedAnswer()})}))
	b := newTestServerFor(t, server.New(server.Config{Collections: only(&fakeService{Answer: cannedAnswer()})}))
	for range 2 {
		resp, err := http.Post(a+"/v1/ask", "application/json", strings.NewReader(`{"question": "q"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	l := labels{"method=POST", "route=/v1/ask", "status=200"}
	if got := value(scrape(t, a), "grounded_http_requests_total", l); got != 2 {
		t.Errorf("server a: %v asks, want 2", got)
	}
	if got := value(scrape(t, b), "grounded_http_requests_total", l); got != -1 {
		t.Errorf("server b: %v asks, want none", got)
	}
}

func TestAbstentionMetrics(t *testing.T) {
	answers := []*grounded.Answer{
		{Generator: "extractive", Abstained: true, Reason: grounded.ReasonWeakEvidence},
		{Generator: "extractive", Abstained: true, Reason: grounded.ReasonWeakEvidence},
		{Generator: "extractive", Abstained: true, Reason: grounded.ReasonNoEvidence},
		{Generator: "openai", Abstained: true, Reason: grounded.ReasonUnsupported,
			Unsupported: []grounded.Sentence{{Text: "a"}, {Text: "b"}}},
		{Generator: "openai", Answer: "x [1]", Unsupported: []grounded.Sentence{{Text: "c"}}},
		{Generator: "openai", Abstained: true, Reason: "something new"},
	}
	next := 0
	svc := &fakeService{AskFn: func(context.Context, string, int) (*grounded.Answer, error) {
		a := answers[next]
		next++
		return a, nil
	}}
	ts := newTestServerFor(t, server.New(server.Config{Collections: only(svc)}))
	const ab = "grounded_abstentions_total"
	before := scrape(t, ts)
	for _, r := range []string{grounded.ReasonWeakEvidence, grounded.ReasonNoEvidence, grounded.ReasonUnsupported,
		grounded.ReasonNameMismatch, grounded.ReasonNoAnswerType, grounded.ReasonNegation, grounded.ReasonModelAbstained, "other"} {
		if got := value(before, ab, labels{"reason=" + r}); got != 0 {
			t.Errorf("before any answer: %s{reason=%s} = %v, want 0 (present)", ab, r, got)
		}
	}
	for i := range answers {
		body := `{"question": "q"}`
		if i == 3 {
			body = `{"question": "q", "stream": true}` // the streamed answer counts too
		}
		resp, err := http.Post(ts+"/v1/ask", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	after := scrape(t, ts)
	for _, c := range []struct {
		name string
		l    labels
		want float64
	}{
		{ab, labels{"reason=" + grounded.ReasonWeakEvidence}, 2},
		{ab, labels{"reason=" + grounded.ReasonNoEvidence}, 1},
		{ab, labels{"reason=" + grounded.ReasonUnsupported}, 1},
		{ab, labels{"reason=" + grounded.ReasonModelAbstained}, 0},
		{ab, labels{"reason=other"}, 1},
		{ab, labels{"reason=something new"}, -1},
		{"grounded_unsupported_sentences_total", labels{}, 3},
		{"grounded_answers_total", labels{"generator=extractive"}, 3},
		{"grounded_answers_total", labels{"generator=openai"}, 3},
	} {
		if got := value(after, c.name, c.l); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.l, got, c.want)
		}
	}
}
