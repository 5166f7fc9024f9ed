package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// The retry transport.
//
// langchaingo's clients take an *http.Client; this package gives them one
// whose Transport is a *transport. It owns, for every HTTP request:
//
//   - a timeout per attempt, covering the response headers and the whole
//     body (a stream included), as a context deadline with its own cause;
//   - retries for transient failures only: a connection refused, reset or
//     closed before a response (ECONNREFUSED, ECONNRESET, EPIPE, EOF), 429
//     and 5xx other than 501 and 505, at most Retries times, with
//     exponential backoff and jitter, or the server's Retry-After on 429 and
//     503; never for other 4xx, never once a 2xx response has been handed
//     on (a stream that breaks is the caller's error), never for a request
//     whose body cannot be replayed (GetBody nil), never after the
//     attempt's own timeout;
//   - a record of what happened (callLog), because langchaingo's errors
//     lose it: the OpenAI client turns every net.Error into "network error:
//     failed to reach API server" (openaiclient.go:216-243), and the Ollama
//     client drops the HTTP status of an error line (ollamaclient.go:159-161)
//     and ignores read errors on streams (ollamaclient.go:149-176, no
//     scanner.Err check).
//
// The callLog travels in the request's context; requests without one are
// still retried and timed, just not recorded.

const (
	maxBackoff    = 30 * time.Second // cap of one exponential backoff step
	maxRetryAfter = 30 * time.Second // a longer Retry-After is not waited for
	maxErrorBody  = 64 << 10         // bytes of an error body kept
	maxLine       = 1 << 20          // longest stream line inspected for end markers
)

// errAttemptTimeout is the cause of an attempt's context when its timeout fires.
var errAttemptTimeout = errors.New("attempt timed out")

type transport struct {
	base    http.RoundTripper
	timeout time.Duration // per attempt
	retries int           // extra attempts
	backoff time.Duration // first backoff step
	bearer  string        // when set, sent as Authorization: Bearer (Ollama behind a proxy)
}

// newHTTPClient returns a copy of hc (or of a zero client) whose transport is
// t wrapped around hc's own transport.
func newHTTPClient(hc *http.Client, t *transport) *http.Client {
	var c http.Client
	if hc != nil {
		c = *hc
	}
	t.base = c.Transport
	if t.base == nil {
		t.base = http.DefaultTransport
	}
	c.Transport = t
	return &c
}

// RoundTrip implements http.RoundTripper.
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	log := logFrom(ctx)
	log.begin()
	replayable := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
	for attempt := 0; ; attempt++ {
		body := req.Body
		if attempt > 0 && req.GetBody != nil {
			var err error
			if body, err = req.GetBody(); err != nil {
				return nil, err
			}
		}
		actx, cancel := context.WithTimeoutCause(ctx, t.timeout, errAttemptTimeout)
		r := req.Clone(actx)
		r.Body = body
		if t.bearer != "" && r.Header.Get("Authorization") == "" {
			r.Header.Set("Authorization", "Bearer "+t.bearer)
		}
		log.attempt()
		resp, err := t.base.RoundTrip(r)
		if err != nil {
			timedOut := ctx.Err() == nil && context.Cause(actx) == errAttemptTimeout
			cancel()
			switch {
			case ctx.Err() != nil:
				return nil, err
			case timedOut:
				log.timeout()
				return nil, err
			}
			log.netFailure(err)
			if !replayable || attempt >= t.retries || !transientNetErr(err) {
				return nil, err
			}
			if err := sleep(ctx, t.delay(attempt)); err != nil {
				return nil, err
			}
			continue
		}

		if resp.StatusCode >= 400 {
			// Keep the error body (bounded) for the message and for
			// langchaingo, which decodes it after us.
			data, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
			resp.Body.Close()
			cancel()
			log.status(resp.StatusCode, serverMessage(bytes.TrimSpace(data)))
			if replayable && attempt < t.retries && transientStatus(resp.StatusCode) {
				wait, ok := t.delay(attempt), true
				if ra, has := retryAfter(resp.Header); has && (resp.StatusCode == 429 || resp.StatusCode == 503) {
					wait, ok = ra, ra <= maxRetryAfter
				}
				if dl, has := ctx.Deadline(); has && time.Until(dl) < wait {
					ok = false // the caller would give up while we wait
				}
				if ok {
					if err := sleep(ctx, wait); err != nil {
						return nil, err
					}
					continue
				}
			}
			resp.Body = io.NopCloser(bytes.NewReader(data))
			return resp, nil
		}

		log.status(resp.StatusCode, "")
		wb := &watchedBody{rc: resp.Body, log: log, actx: actx, cancel: cancel}
		if resp.StatusCode/100 == 2 && log != nil {
			wb.check = log.check
		}
		resp.Body = wb
		return resp, nil
	}
}

// delay is the backoff before retry number attempt+1: backoff·2^attempt,
// capped, with jitter in its upper half.
func (t *transport) delay(attempt int) time.Duration {
	d := t.backoff
	for i := 0; i < attempt && d < maxBackoff; i++ {
		d *= 2
	}
	d = min(d, maxBackoff)
	half := d / 2
	return half + rand.N(half+1)
}

// transientStatus reports whether an HTTP status is worth a retry.
func transientStatus(code int) bool {
	return code == http.StatusTooManyRequests ||
		(code >= 500 && code != http.StatusNotImplemented && code != http.StatusHTTPVersionNotSupported)
}

// transientNetErr reports whether a failure to get any response is worth a
// retry: the connection was refused, reset or closed before an answer.
func transientNetErr(err error) bool {
	if errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNABORTED) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	s := err.Error()
	return strings.Contains(s, "server closed idle connection") || strings.Contains(s, "connection broken")
}

// retryAfter reads a Retry-After header: delay-seconds or an HTTP date.
func retryAfter(h http.Header) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second, true
	}
	if at, err := http.ParseTime(v); err == nil {
		return max(time.Until(at), 0), true
	}
	return 0, false
}

// sleep waits d or until ctx is done, and returns ctx's error in that case.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// lineCheck inspects one line of a 2xx body (without its newline, trimmed):
// end reports the provider's end-of-reply marker, msg an error the server
// reported inside the stream.
type lineCheck func(line []byte) (end bool, msg string)

// watchedBody is a 2xx (or 3xx) response body: it ends the attempt's context
// on Close, records read errors, and feeds lines to the call's lineCheck.
type watchedBody struct {
	rc     io.ReadCloser
	log    *callLog
	actx   context.Context
	cancel context.CancelFunc
	closed atomic.Bool

	check lineCheck // nil: no line inspection
	line  []byte    // the current line so far
	skip  bool      // the current line is over maxLine: ignore it
}

func (b *watchedBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if b.check != nil {
		b.scan(p[:n])
		if err == io.EOF {
			b.endLine()
		}
	}
	if err != nil && err != io.EOF {
		if b.closed.Load() {
			// The client closed the body and a reader of its own is still
			// going: end it quietly. The Anthropic client's reader goroutine
			// otherwise blocks for ever sending this read error to a caller
			// that has returned (messages.go:286-288, after an "error" event).
			return n, io.EOF
		}
		b.log.bodyFailure(err, context.Cause(b.actx) == errAttemptTimeout)
	}
	return n, err
}

func (b *watchedBody) Close() error {
	b.closed.Store(true)
	err := b.rc.Close()
	b.cancel()
	return err
}

func (b *watchedBody) scan(p []byte) {
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			b.add(p)
			return
		}
		b.add(p[:i])
		b.endLine()
		p = p[i+1:]
	}
}

func (b *watchedBody) add(p []byte) {
	if b.skip {
		return
	}
	if len(b.line)+len(p) > maxLine {
		b.skip, b.line = true, b.line[:0]
		return
	}
	b.line = append(b.line, p...)
}

func (b *watchedBody) endLine() {
	if line := bytes.TrimSpace(b.line); !b.skip && len(line) > 0 {
		end, msg := b.check(line)
		b.log.line(end, msg)
	}
	b.line, b.skip = b.line[:0], false
}

// openaiLine: SSE "data: {chunk}" lines end with "data: [DONE]"; vLLM and
// others report a failure mid-stream as "data: {"error": ...}".
func openaiLine(line []byte) (bool, string) {
	data, ok := bytes.CutPrefix(line, []byte("data:"))
	if !ok {
		return false, ""
	}
	data = bytes.TrimSpace(data)
	if string(data) == "[DONE]" {
		return true, ""
	}
	if !bytes.Contains(data, []byte(`"error"`)) {
		return false, ""
	}
	var v struct {
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal(data, &v) != nil {
		return false, ""
	}
	return false, errorText(v.Error)
}

// ollamaLine: NDJSON lines; the last one has "done": true; an error is
// {"error": "..."}. Ollama streams even when "stream" is left out.
func ollamaLine(line []byte) (bool, string) {
	if !bytes.Contains(line, []byte(`"done"`)) && !bytes.Contains(line, []byte(`"error"`)) {
		return false, ""
	}
	var v struct {
		Done  bool   `json:"done"`
		Error string `json:"error"`
	}
	if json.Unmarshal(line, &v) != nil {
		return false, ""
	}
	return v.Done, v.Error
}

// anthropicLine: SSE events; the last is message_stop; a failure is an
// "error" event ({"type":"error","error":{...}}).
func anthropicLine(line []byte) (bool, string) {
	data, ok := bytes.CutPrefix(line, []byte("data:"))
	if !ok || (!bytes.Contains(data, []byte(`"message_stop"`)) && !bytes.Contains(data, []byte(`"error"`))) {
		return false, ""
	}
	var v struct {
		Type  string          `json:"type"`
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal(bytes.TrimSpace(data), &v) != nil {
		return false, ""
	}
	switch v.Type {
	case "message_stop":
		return true, ""
	case "error":
		return false, errorText(v.Error)
	}
	return false, ""
}

type logKey struct{}

// callLog records what the transport saw during one request of a call.
// Its methods are safe for concurrent use and do nothing on a nil log.
type callLog struct {
	check lineCheck // set before the call, read-only after

	mu sync.Mutex
	s  callSnapshot
}

// callSnapshot is the state of a callLog.
type callSnapshot struct {
	attempts  int
	status    int    // HTTP status of the last response; 0 if none
	message   string // server message of the last error response
	netErr    error  // why the last attempt got no response
	timedOut  bool   // the last attempt hit its timeout
	bodyErr   error  // reading a response body failed
	ended     bool   // the end marker was seen
	streamErr string // an error reported inside a 2xx stream
}

func withLog(ctx context.Context, l *callLog) context.Context {
	return context.WithValue(ctx, logKey{}, l)
}

func logFrom(ctx context.Context) *callLog {
	l, _ := ctx.Value(logKey{}).(*callLog)
	return l
}

func (l *callLog) update(f func(s *callSnapshot)) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	f(&l.s)
}

func (l *callLog) snapshot() callSnapshot {
	if l == nil {
		return callSnapshot{}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.s
}

// begin starts a new request: a call may make several (Ollama embeds one
// text per request); the log describes the latest.
func (l *callLog) begin() { l.update(func(s *callSnapshot) { *s = callSnapshot{} }) }

func (l *callLog) attempt() { l.update(func(s *callSnapshot) { s.attempts++ }) }

func (l *callLog) timeout() {
	l.update(func(s *callSnapshot) { s.timedOut, s.status, s.netErr = true, 0, nil })
}

func (l *callLog) netFailure(err error) {
	l.update(func(s *callSnapshot) { s.status, s.message, s.netErr = 0, "", err })
}

func (l *callLog) status(code int, msg string) {
	l.update(func(s *callSnapshot) { s.status, s.message, s.netErr = code, msg, nil })
}

func (l *callLog) bodyFailure(err error, timedOut bool) {
	l.update(func(s *callSnapshot) {
		if s.bodyErr == nil {
			s.bodyErr = err
		}
		s.timedOut = s.timedOut || timedOut
	})
}

func (l *callLog) line(end bool, msg string) {
	if !end && msg == "" {
		return
	}
	l.update(func(s *callSnapshot) {
		s.ended = s.ended || end
		if msg != "" && s.streamErr == "" {
			s.streamErr = msg
		}
	})
}
