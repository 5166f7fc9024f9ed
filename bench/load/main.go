// Command load is a closed-loop load test for grounded's HTTP server; it is
// run by bench/load.sh, which builds the binaries, prepares the data folder
// and starts `grounded serve`.
//
// It waits for GET /healthz, then, for each endpoint in turn (POST
// /v1/search, then POST /v1/ask), keeps -c keep-alive connections busy for
// -duration: each connection sends a request, reads the whole reply and
// sends the next, so the server always has -c requests in hand. A -warmup
// period before each endpoint's timed run is not measured. Requests rotate
// over -n questions made from the section titles of the PostgreSQL manual
// (shuffled with a fixed seed, so every run asks the same ones in the same
// order): "What does CREATE INDEX do?", "Explain routine vacuuming.".
//
// Every reply is checked: a transport error, a status other than 2xx, or a
// body that is not the endpoint's JSON is an error. Latency is the time from
// sending a request to having read its whole reply; p50 and p99 are exact
// (nearest rank over every timed request). With -pid it also reads the
// server's resident memory (VmRSS, and the peak VmHWM) from /proc before and
// after the load.
//
// It prints a Markdown table and exits 1 when any request failed, 2 on a
// usage error.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"html"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// config holds the command's flags.
type config struct {
	url       string        // server base URL
	manual    string        // PostgreSQL HTML manual, source of the questions
	n         int           // number of questions
	seed      uint64        // question shuffle seed
	endpoints []string      // "search", "ask", in the order run
	conns     int           // concurrent connections
	duration  time.Duration // timed run per endpoint
	warmup    time.Duration // untimed run before each endpoint's timed run
	wait      time.Duration // how long to wait for /healthz
	k         int           // passages per request; 0: the server's default
	key       string        // API key sent as a bearer token; "": none
	pid       int           // server process, for its RSS; 0: not measured
	saveTo    string        // file to write the questions to; "": none
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	code, err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
	}
	os.Exit(code)
}

// run parses args, runs the load and prints the table; it returns the exit
// status: 0, 1 when a request failed or the load could not run, 2 on a usage
// error.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) (int, error) {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		return 2, err
	}
	questions, err := headingQuestions(cfg.manual, cfg.n, cfg.seed)
	if err != nil {
		return 1, err
	}
	if cfg.saveTo != "" {
		if err := os.WriteFile(cfg.saveTo, []byte(strings.Join(questions, "\n")+"\n"), 0o644); err != nil {
			return 1, err
		}
	}
	client := &http.Client{
		Timeout: time.Minute,
		Transport: &http.Transport{
			MaxIdleConnsPerHost: cfg.conns,
			MaxConnsPerHost:     cfg.conns,
			IdleConnTimeout:     time.Minute,
			DisableCompression:  true,
		},
	}
	chunks, err := waitHealthy(ctx, client, cfg)
	if err != nil {
		return 1, err
	}
	before, _ := readMemory(cfg.pid)

	var results []result
	for _, ep := range cfg.endpoints {
		bodies, err := requestBodies(ep, questions, cfg.k)
		if err != nil {
			return 1, err
		}
		l := &loader{client: client, cfg: cfg, path: "/v1/" + ep, bodies: bodies, check: checkers[ep]}
		warm := l.run(ctx, cfg.warmup)
		res := l.run(ctx, cfg.duration)
		res.endpoint = "POST /v1/" + ep
		res.warmErrors = warm.errors
		res.failures = append(warm.failures, res.failures...)
		for status, n := range warm.statuses {
			res.statuses[status] += n
		}
		results = append(results, res)
		if ctx.Err() != nil {
			return 1, ctx.Err()
		}
	}
	after, _ := readMemory(cfg.pid)

	failed := report(stdout, stderr, cfg, len(questions), chunks, results, before, after)
	if failed {
		return 1, errors.New("some requests failed (see above)")
	}
	return 0, nil
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg config
	var endpoints string
	fs.StringVar(&cfg.url, "url", "http://127.0.0.1:8080", "server base URL")
	fs.StringVar(&cfg.manual, "manual", "/usr/share/doc/postgresql-doc-15/html", "PostgreSQL HTML manual the questions are made from")
	fs.IntVar(&cfg.n, "n", 200, "number of questions")
	fs.Uint64Var(&cfg.seed, "seed", 1, "seed of the question shuffle")
	fs.StringVar(&endpoints, "endpoints", "search,ask", "endpoints to load, in order (search, ask)")
	fs.IntVar(&cfg.conns, "c", 8, "concurrent connections")
	fs.DurationVar(&cfg.duration, "duration", 20*time.Second, "timed run per endpoint")
	fs.DurationVar(&cfg.warmup, "warmup", 2*time.Second, "untimed run before each endpoint's timed run")
	fs.DurationVar(&cfg.wait, "wait", time.Minute, "how long to wait for GET /healthz to answer 200")
	fs.IntVar(&cfg.k, "k", 0, "passages per request; 0: the server's default")
	fs.StringVar(&cfg.key, "key", os.Getenv("GROUNDED_LOAD_KEY"), "API key sent as 'Authorization: Bearer KEY' (default $GROUNDED_LOAD_KEY)")
	fs.IntVar(&cfg.pid, "pid", 0, "server process id, to read its RSS from /proc; 0: not measured")
	fs.StringVar(&cfg.saveTo, "save-questions", "", "write the questions to this file, one a line")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	cfg.url = strings.TrimRight(cfg.url, "/")
	for ep := range strings.SplitSeq(endpoints, ",") {
		ep = strings.TrimSpace(ep)
		if _, ok := checkers[ep]; !ok {
			return cfg, fmt.Errorf("-endpoints: unknown endpoint %q (search, ask)", ep)
		}
		cfg.endpoints = append(cfg.endpoints, ep)
	}
	switch {
	case cfg.n < 1:
		return cfg, errors.New("-n must be at least 1")
	case cfg.conns < 1:
		return cfg, errors.New("-c must be at least 1")
	case cfg.duration <= 0:
		return cfg, errors.New("-duration must be positive")
	case cfg.warmup < 0:
		return cfg, errors.New("-warmup must not be negative")
	case cfg.k < 0 || cfg.k > 100:
		return cfg, errors.New("-k must be 0..100")
	}
	return cfg, nil
}

// --- questions ----------------------------------------------------------------

var (
	titleRe = regexp.MustCompile(`(?is)<title>(.*?)</title>`)
	// numberRe matches a title's numbering: "25.1. ", "F.2. ",
	// "Part III. ", "Chapter 9. ", "Appendix F. ".
	numberRe = regexp.MustCompile(`^(?:(?:Part|Chapter|Appendix)\s+)?[0-9A-Z]+(?:\.[0-9]+)*\.\s+`)
)

// topicTemplates turn a topic ("routine vacuuming") into a question; one
// is drawn per question. None of them depends on the topic's number.
var topicTemplates = []string{
	"What should I know about %s?",
	"How does PostgreSQL handle %s?",
	"Explain %s.",
	"Where does the manual describe %s?",
}

// headingQuestions returns n questions made from the titles of the HTML
// pages in dir: reference pages of SQL commands ("What does CREATE INDEX
// do?") and programs ("What is pg_dump used for?"), and the other titles
// without their numbers ("How does PostgreSQL handle routine vacuuming?"). Release notes and the obsolete-names appendix are
// left out. The titles are sorted, shuffled with seed and the first n used;
// there are fewer questions when dir has fewer titles.
func headingQuestions(dir string, n int, seed uint64) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.html"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no HTML pages in %s (apt-get install postgresql-doc-15)", dir)
	}
	slices.Sort(files)
	type page struct{ file, title string }
	var pages []page
	seen := map[string]bool{}
	for _, f := range files {
		base := filepath.Base(f)
		if strings.HasPrefix(base, "release") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		m := titleRe.FindSubmatch(b)
		if m == nil {
			continue
		}
		title := strings.Join(strings.Fields(html.UnescapeString(string(m[1]))), " ")
		title = numberRe.ReplaceAllString(title, "")
		if title == "" || strings.Contains(title, "renamed to") || strings.HasPrefix(title, "Release") || seen[title] {
			continue
		}
		seen[title] = true
		pages = append(pages, page{base, title})
	}
	r := rand.New(rand.NewPCG(seed, 0x10ad))
	r.Shuffle(len(pages), func(i, j int) { pages[i], pages[j] = pages[j], pages[i] })
	pages = pages[:min(n, len(pages))]
	questions := make([]string, len(pages))
	for i, p := range pages {
		switch {
		case strings.HasPrefix(p.file, "sql-"):
			questions[i] = fmt.Sprintf("What does %s do?", p.title)
		case strings.HasPrefix(p.file, "app-"):
			questions[i] = fmt.Sprintf("What is %s used for?", p.title)
		default:
			questions[i] = fmt.Sprintf(topicTemplates[r.IntN(len(topicTemplates))], lowerTopic(p.title))
		}
	}
	return questions, nil
}

// lowerTopic lower-cases the title-case words of a title ("Routine
// Vacuuming" -> "routine vacuuming") and keeps names as they are ("SQL",
// "PostgreSQL", "pg_stat_statements", "PL/pgSQL").
func lowerTopic(title string) string {
	words := strings.Split(title, " ")
	for i, w := range words {
		if len(w) > 1 && w[0] >= 'A' && w[0] <= 'Z' && strings.ToLower(w[1:]) == w[1:] && !strings.ContainsAny(w, "_/0123456789") {
			words[i] = strings.ToLower(w)
		}
	}
	return strings.Join(words, " ")
}

// requestBodies returns one JSON body per question for endpoint ep.
func requestBodies(ep string, questions []string, k int) ([][]byte, error) {
	bodies := make([][]byte, len(questions))
	for i, q := range questions {
		req := map[string]any{}
		if ep == "search" {
			req["query"] = q
		} else {
			req["question"] = q
		}
		if k > 0 {
			req["k"] = k
		}
		b, err := json.Marshal(req)
		if err != nil {
			return nil, err
		}
		bodies[i] = b
	}
	return bodies, nil
}

// checkers decode a 2xx reply of each endpoint and say whether it found
// something (search: at least one result; ask: an answer, not an
// abstention). A reply that is not the endpoint's JSON is an error.
var checkers = map[string]func([]byte) (bool, error){
	"search": func(b []byte) (bool, error) {
		var r struct {
			Results *[]json.RawMessage `json:"results"`
		}
		if err := json.Unmarshal(b, &r); err != nil {
			return false, err
		}
		if r.Results == nil {
			return false, errors.New(`no "results" in the reply`)
		}
		return len(*r.Results) > 0, nil
	},
	"ask": func(b []byte) (bool, error) {
		var r struct {
			Answer    *string `json:"answer"`
			Abstained bool    `json:"abstained"`
		}
		if err := json.Unmarshal(b, &r); err != nil {
			return false, err
		}
		if r.Answer == nil {
			return false, errors.New(`no "answer" in the reply`)
		}
		return !r.Abstained, nil
	},
}

// --- the load -------------------------------------------------------------------

// loader sends one endpoint's requests.
type loader struct {
	client *http.Client
	cfg    config
	path   string
	bodies [][]byte
	check  func([]byte) (bool, error)
	next   atomic.Uint64 // index of the next body, across runs
}

// result is what one run of an endpoint measured.
type result struct {
	endpoint   string
	elapsed    time.Duration   // from the start to the last reply
	latencies  []time.Duration // of the successful requests, sorted
	found      int             // successful requests that found something
	errors     int             // failed requests
	warmErrors int             // failed requests during the warm-up
	statuses   map[int]int     // failed requests by status; 0: transport or body error
	failures   []string        // the first few failures, described
}

const keepFailures = 5

// run keeps cfg.conns requests in flight until d has passed; requests begun
// before then are waited for and counted. Each connection sends at least one
// request.
func (l *loader) run(ctx context.Context, d time.Duration) result {
	res := result{statuses: map[int]int{}}
	if d <= 0 {
		return res
	}
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := time.Now()
	for range l.cfg.conns {
		wg.Go(func() {
			var lat []time.Duration
			found := 0
			for first := true; first || ctx.Err() == nil; first = false {
				body := l.bodies[(l.next.Add(1)-1)%uint64(len(l.bodies))]
				t0 := time.Now()
				ok, status, err := l.do(body)
				took := time.Since(t0)
				if err != nil {
					mu.Lock()
					res.errors++
					res.statuses[status]++
					if len(res.failures) < keepFailures {
						res.failures = append(res.failures, fmt.Sprintf("%s %s: %v", l.path, body, err))
					}
					mu.Unlock()
					if status == 0 {
						time.Sleep(10 * time.Millisecond) // no busy loop while the server is down
					}
					continue
				}
				lat = append(lat, took)
				if ok {
					found++
				}
			}
			mu.Lock()
			res.latencies = append(res.latencies, lat...)
			res.found += found
			mu.Unlock()
		})
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	slices.Sort(res.latencies)
	return res
}

// do sends one request and reads and checks its reply. It is not cancelled
// by the run's deadline: a request once sent is always waited for.
func (l *loader) do(body []byte) (found bool, status int, err error) {
	req, err := http.NewRequest(http.MethodPost, l.cfg.url+l.path, bytes.NewReader(body))
	if err != nil {
		return false, 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if l.cfg.key != "" {
		req.Header.Set("Authorization", "Bearer "+l.cfg.key)
	}
	resp, err := l.client.Do(req)
	if err != nil {
		return false, 0, err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return false, resp.StatusCode, fmt.Errorf("reading the reply: %w", err)
	}
	if resp.StatusCode/100 != 2 {
		return false, resp.StatusCode, fmt.Errorf("status %d: %s", resp.StatusCode, bytes.TrimSpace(b))
	}
	found, err = l.check(b)
	if err != nil {
		return false, 0, fmt.Errorf("reply is not the endpoint's JSON: %w", err)
	}
	return found, resp.StatusCode, nil
}

// waitHealthy polls GET /healthz until it answers 200 and returns the
// number of chunks it reports (-1 when it reports none).
func waitHealthy(ctx context.Context, client *http.Client, cfg config) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, cfg.wait)
	defer cancel()
	var last error
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, cfg.url+"/healthz", nil)
		if err != nil {
			return 0, err
		}
		if cfg.key != "" {
			req.Header.Set("Authorization", "Bearer "+cfg.key)
		}
		resp, err := client.Do(req)
		if err == nil {
			b, rerr := io.ReadAll(resp.Body)
			resp.Body.Close()
			if rerr == nil && resp.StatusCode == http.StatusOK {
				var h struct {
					Chunks *int `json:"chunks"`
				}
				if json.Unmarshal(b, &h) == nil && h.Chunks != nil {
					return *h.Chunks, nil
				}
				return -1, nil
			}
			err = fmt.Errorf("status %d: %s", resp.StatusCode, bytes.TrimSpace(b))
		}
		last = err
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("GET %s/healthz did not answer 200 within %s: %v", cfg.url, cfg.wait, last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// memory is a process's resident memory in KiB.
type memory struct{ rss, hwm int }

// readMemory reads VmRSS and VmHWM (peak RSS) of process pid from /proc.
func readMemory(pid int) (memory, error) {
	var m memory
	if pid <= 0 {
		return m, errors.New("no pid")
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return m, err
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		name, value, _ := strings.Cut(line, ":")
		var kib int
		if _, err := fmt.Sscanf(strings.TrimSpace(value), "%d kB", &kib); err != nil {
			continue
		}
		switch name {
		case "VmRSS":
			m.rss = kib
		case "VmHWM":
			m.hwm = kib
		}
	}
	if m.rss == 0 {
		return m, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
	}
	return m, nil
}

// --- the report -------------------------------------------------------------------

// percentile returns the nearest-rank p-quantile of sorted latencies.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d)/float64(time.Millisecond)) }

func mib(kib int) string {
	if kib == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.0f MiB", float64(kib)/1024)
}

// report prints the table to stdout and the failures to stderr; it says
// whether any request failed.
func report(stdout, stderr io.Writer, cfg config, questions, chunks int, results []result, before, after memory) bool {
	fmt.Fprintf(stdout, "Load: %s, %d connections, %s per endpoint after a %s warm-up, %d questions from %s (seed %d); index of %d chunks.\n\n",
		cfg.url, cfg.conns, cfg.duration, cfg.warmup, questions, cfg.manual, cfg.seed, chunks)
	fmt.Fprintln(stdout, "| endpoint | requests | req/s | p50 ms | p99 ms | max ms | errors | found |")
	fmt.Fprintln(stdout, "|---|---:|---:|---:|---:|---:|---:|---:|")
	failed := false
	for _, r := range results {
		ok := len(r.latencies)
		total := ok + r.errors
		rate := float64(total) / r.elapsed.Seconds()
		found := "n/a"
		if ok > 0 {
			found = fmt.Sprintf("%.0f%%", 100*float64(r.found)/float64(ok))
		}
		var maxLat time.Duration
		if ok > 0 {
			maxLat = r.latencies[ok-1]
		}
		errs := fmt.Sprint(r.errors)
		if r.warmErrors > 0 {
			errs += fmt.Sprintf(" (+%d in warm-up)", r.warmErrors)
		}
		fmt.Fprintf(stdout, "| %s | %d | %.1f | %s | %s | %s | %s | %s |\n",
			r.endpoint, total, rate, ms(percentile(r.latencies, 0.5)), ms(percentile(r.latencies, 0.99)), ms(maxLat), errs, found)
		if r.errors > 0 || r.warmErrors > 0 {
			failed = true
			fmt.Fprintf(stderr, "%s: %d failed requests; by status (0: transport or body): %v\n", r.endpoint, r.errors+r.warmErrors, r.statuses)
			for _, f := range r.failures {
				fmt.Fprintf(stderr, "  %s\n", f)
			}
		}
	}
	fmt.Fprintln(stdout)
	fmt.Fprintln(stdout, "found: search replies with at least one result; ask replies that answered (not abstained).")
	if cfg.pid > 0 {
		fmt.Fprintf(stdout, "Server RSS (pid %d): %s before the load, %s after; peak (VmHWM) %s.\n", cfg.pid, mib(before.rss), mib(after.rss), mib(after.hwm))
	}
	return failed
}
