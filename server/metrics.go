package server

// Prometheus metrics, served at GET /metrics from a registry each handler
// owns (never the global default one, so several servers in one process do
// not clash):
//
//	grounded_http_requests_total{route,method,status}      counter
//	grounded_http_request_duration_seconds{route,method}    histogram
//	grounded_inflight_requests                              gauge
//	grounded_answer_duration_seconds{generator}             histogram: one answer, retrieval and generation together
//	grounded_retrieval_duration_seconds                     histogram: an answer's retrieval
//	grounded_generation_duration_seconds{generator}         histogram: an answer's generation and checks
//	grounded_search_duration_seconds                        histogram: one search
//	grounded_answers_total{generator}                       counter
//	grounded_abstentions_total{reason}                      counter
//	grounded_unsupported_sentences_total                    counter: model sentences that failed their support check
//	grounded_index_chunks{collection}                       gauge, read at scrape time
//	grounded_index_documents{collection}                    gauge, read at scrape time
//
// plus the Go runtime's and the process's collectors. route is the matched
// route pattern ("/v1/documents/:id"), or "unmatched"; method is one of the
// standard methods or "other"; so no label takes values from the caller.
// Retrieval and generation are timed together: the Service answers in one
// call, which the server cannot split.

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/groundedhq/grounded"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// latencyBuckets span a cached search (milliseconds) to a slow model
// answer (a minute).
var latencyBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}

// abstentionReasons are the reasons counted by name; any other is "other".
var abstentionReasons = []string{
	grounded.ReasonNoEvidence, grounded.ReasonWeakEvidence, grounded.ReasonNameMismatch,
	grounded.ReasonNoAnswerType, grounded.ReasonNegation, grounded.ReasonModelAbstained,
	grounded.ReasonUnsupported,
}

// metrics holds the handler's registry and its series.
type metrics struct {
	reg     *prometheus.Registry
	handler http.Handler

	requests    *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	inflight    prometheus.Gauge
	answerDur   *prometheus.HistogramVec
	retrieveDur prometheus.Histogram
	generateDur *prometheus.HistogramVec
	searchDur   prometheus.Histogram
	answers     *prometheus.CounterVec
	abstentions map[string]prometheus.Counter // by reason, "other" included
	unsupported prometheus.Counter

	// series caches the curried request series by route, method and status,
	// so the hot path is one map load.
	series sync.Map // routeKey -> *routeSeries
}

type routeKey struct {
	route, method string
	status        int
}

type routeSeries struct {
	requests prometheus.Counter
	duration prometheus.Observer
}

func newMetrics(cols Collections, log *slog.Logger) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "grounded_http_requests_total",
			Help: "HTTP requests answered, by route pattern, method and status.",
		}, []string{"route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "grounded_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request (a stream: until it ends), by route pattern and method.",
			Buckets: latencyBuckets,
		}, []string{"route", "method"}),
		inflight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "grounded_inflight_requests",
			Help: "HTTP requests being answered now.",
		}),
		answerDur: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "grounded_answer_duration_seconds",
			Help:    "Time to answer one question (retrieval and generation together), by generator.",
			Buckets: latencyBuckets,
		}, []string{"generator"}),
		retrieveDur: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "grounded_retrieval_duration_seconds",
			Help:    "Time to retrieve the passages of one answer.",
			Buckets: latencyBuckets,
		}),
		generateDur: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "grounded_generation_duration_seconds",
			Help:    "Time to write and check one answer from its passages (a model call with its retries, or the extractive answerer), by generator.",
			Buckets: latencyBuckets,
		}, []string{"generator"}),
		searchDur: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "grounded_search_duration_seconds",
			Help:    "Time to run one search.",
			Buckets: latencyBuckets,
		}),
		answers: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "grounded_answers_total",
			Help: "Answers given (abstentions included), by generator.",
		}, []string{"generator"}),
		unsupported: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "grounded_unsupported_sentences_total",
			Help: "Model answer sentences that failed their support check.",
		}),
	}
	abstentions := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "grounded_abstentions_total",
		Help: "Answers that abstained, by reason.",
	}, []string{"reason"})
	m.abstentions = map[string]prometheus.Counter{"other": abstentions.WithLabelValues("other")}
	for _, r := range abstentionReasons {
		m.abstentions[r] = abstentions.WithLabelValues(r)
	}
	m.reg.MustRegister(m.requests, m.duration, m.inflight, m.answerDur, m.retrieveDur, m.generateDur, m.searchDur, m.answers, abstentions, m.unsupported,
		&indexCollector{cols: cols},
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.handler = promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorLog:      printlnLogger{log},
		ErrorHandling: promhttp.ContinueOnError, // a collection that fails to count does not hide the rest
	})
	return m
}

// request counts one answered request.
func (m *metrics) request(route, method string, status int, took time.Duration) {
	method = knownMethod(method)
	k := routeKey{route, method, status}
	s, ok := m.series.Load(k)
	if !ok {
		s, _ = m.series.LoadOrStore(k, &routeSeries{
			requests: m.requests.WithLabelValues(route, method, strconv.Itoa(status)),
			duration: m.duration.WithLabelValues(route, method),
		})
	}
	rs := s.(*routeSeries)
	rs.requests.Inc()
	rs.duration.Observe(took.Seconds())
}

// knownMethod is method when it is a standard HTTP method, else "other".
func knownMethod(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return method
	}
	return "other"
}

// observeAnswer records one answer that took took to produce: its
// generator, whether and why it abstained, and its unsupported sentences.
// Every route that answers a question calls it once per answer.
func (h *handler) observeAnswer(ans *grounded.Answer, took time.Duration) {
	if ans == nil {
		return
	}
	m := h.metrics
	m.answers.WithLabelValues(ans.Generator).Inc()
	m.answerDur.WithLabelValues(ans.Generator).Observe(took.Seconds())
	if t := ans.Timing; t != nil {
		m.retrieveDur.Observe(t.RetrievalMs / 1000)
		m.generateDur.WithLabelValues(ans.Generator).Observe(t.GenerationMs / 1000)
	}
	if ans.Abstained {
		c, ok := m.abstentions[ans.Reason]
		if !ok {
			c = m.abstentions["other"]
		}
		c.Inc()
	}
	if n := len(ans.Unsupported); n > 0 {
		m.unsupported.Add(float64(n))
	}
}

// observeSearch records one search that took took.
func (h *handler) observeSearch(took time.Duration) {
	h.metrics.searchDur.Observe(took.Seconds())
}

func (h *handler) serveMetrics(c *gin.Context) {
	h.metrics.handler.ServeHTTP(c.Writer, c.Request)
}

// indexCollector reports each collection's chunks and documents when
// scraped, so the figures are never stale.
type indexCollector struct {
	cols Collections
}

var (
	indexChunksDesc = prometheus.NewDesc("grounded_index_chunks",
		"Chunks in the collection's live index.", []string{"collection"}, nil)
	indexDocumentsDesc = prometheus.NewDesc("grounded_index_documents",
		"Documents stored in the collection.", []string{"collection"}, nil)
)

// countTimeout bounds the store reads of one scrape.
const countTimeout = 10 * time.Second

func (ic *indexCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- indexChunksDesc
	ch <- indexDocumentsDesc
}

func (ic *indexCollector) Collect(ch chan<- prometheus.Metric) {
	names, err := ic.cols.Names()
	if err != nil {
		ch <- prometheus.NewInvalidMetric(indexChunksDesc, fmt.Errorf("listing collections: %w", err))
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), countTimeout)
	defer cancel()
	for _, name := range names {
		col, err := ic.cols.Collection(name, false)
		if err != nil {
			continue // deleted since Names
		}
		ch <- prometheus.MustNewConstMetric(indexChunksDesc, prometheus.GaugeValue, float64(col.Len()), name)
		_, total, err := col.Documents(ctx, "", 0)
		if err != nil {
			ch <- prometheus.NewInvalidMetric(indexDocumentsDesc, fmt.Errorf("counting documents of %s: %w", name, err))
			continue
		}
		ch <- prometheus.MustNewConstMetric(indexDocumentsDesc, prometheus.GaugeValue, float64(total), name)
	}
}

// printlnLogger lets promhttp log through slog.
type printlnLogger struct{ log *slog.Logger }

func (l printlnLogger) Println(v ...any) { l.log.Warn("metrics", "error", fmt.Sprint(v...)) }
