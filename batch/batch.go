// Package batch runs a file of jobs, one JSON object a line, and writes one
// JSON result a line to an output file that a later run resumes from. It
// knows nothing of what the jobs do: each job names an op, and the caller
// registers one Handler per op (cmd/grounded wires ask, search, summarize and
// extract).
//
// Input, one job a line (blank lines are skipped):
//
//	{"id": "q1", "op": "ask", "question": "..."}
//
// "id" is a non-empty string, unique in the file; "op" picks the handler,
// which gets the rest of the object and decodes it strictly (Decode). A line
// that is not a JSON object, has no usable id, repeats an earlier line's id,
// names no known op or is over Config.MaxLineBytes becomes one error line and
// the run goes on; a line with no usable id (or a repeated one) is reported
// under the id "line:N", N its line number, which input ids may not take.
//
// Output: see Line. It is a log: a line is appended and synced to disk when
// its job finishes, in the order jobs finish. A run reads the output first
// and skips every id already there (a failed job's line counts as done unless
// Config.RetryErrors), so a run that was killed, even with SIGKILL,
// continues where it stopped, and each input id ends up with exactly one
// line. A torn last line (the process died mid-write) is cut away and its job
// runs again.
package batch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/groundedhq/grounded"
)

// Handler runs one job. fields is the job's JSON object without "id" and
// "op". It returns the result, written as the output line's "result";
// abstained, when the result is an answer that declined to answer (counted
// in the summary); or an error, written as the line's error with
// grounded.ErrorCode and the error's message. A handler is called from
// several goroutines at once and must honour ctx.
type Handler func(ctx context.Context, fields json.RawMessage) (result any, abstained bool, err error)

// Config configures Run. Handlers is required.
type Config struct {
	// Handlers run the jobs, by op name ("ask", "search", ...).
	Handlers map[string]Handler
	// Concurrency is how many jobs run at once. Default GOMAXPROCS.
	Concurrency int
	// RetryErrors runs again the jobs whose lines in the output have ok
	// false; their old lines are removed first. By default a failed job's
	// line counts as done like any other.
	RetryErrors bool
	// Progress receives progress reports while the run goes on; nil: none.
	Progress io.Writer
	// Terminal draws the progress as a bar redrawn in place (at most five
	// times a second) instead of a line every 5 s and every tenth of the jobs.
	Terminal bool
	// MaxLineBytes bounds an input line; a longer line is an error line.
	// Default 16 MiB.
	MaxLineBytes int
	// Now is the clock of progress reports and Summary.Elapsed. Default time.Now.
	Now func() time.Time
}

// Summary counts what a run did.
type Summary struct {
	// Jobs is the number of input lines (blank ones aside), bad ones included.
	Jobs int
	// OK and Errors count the lines this run wrote; bad input lines are
	// errors. Abstained counts the OK results their handler said abstained.
	OK, Errors, Abstained int
	// Skipped counts input lines whose id the output already held;
	// SkippedErrors those of them whose line is an error.
	Skipped, SkippedErrors int
	// RetriedErrors counts error lines removed from the output so their jobs
	// run again (Config.RetryErrors).
	RetriedErrors int
	// NotRun counts the jobs left when the run was cancelled or failed.
	NotRun int
	// TornBytes is the size of a torn last output line that was cut away.
	TornBytes int64
	// Elapsed is the run's duration, from the input read to the last line.
	Elapsed time.Duration
}

// Rate is the jobs this run finished per second.
func (s Summary) Rate() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.OK+s.Errors) / s.Elapsed.Seconds()
}

func (s Summary) String() string {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%d jobs: %d ok (%d abstained), %d errors, %d skipped (already done", s.Jobs, s.OK, s.Abstained, s.Errors, s.Skipped)
	if s.SkippedErrors > 0 {
		fmt.Fprintf(&b, ", %d of them errors", s.SkippedErrors)
	}
	b.WriteString(")")
	if s.NotRun > 0 {
		fmt.Fprintf(&b, ", %d not run", s.NotRun)
	}
	fmt.Fprintf(&b, "; %.1fs, %.1f jobs/s", s.Elapsed.Seconds(), s.Rate())
	return b.String()
}

// ErrNoHandlers is returned by Run for a Config without handlers.
var ErrNoHandlers = errors.New("batch: no handlers")

// Run runs the jobs read from in, appending their result lines to the file at
// outPath (created when missing) and skipping the ids it already holds. Job
// errors are written as error lines and do not stop the run.
//
// Run returns an error only for a run-level failure: the input cannot be
// read, the output cannot be opened, read or written (the run stops at the
// first write error), or the output holds a line that is not a result line
// before its last one. When ctx is cancelled it stops starting jobs, lets
// the running ones end (their results are written if they finished without
// error; a job that failed because of the cancellation writes nothing and
// runs again next time) and returns ctx's error. In every case the output
// holds only whole lines, and the Summary says what was done.
func Run(ctx context.Context, in io.Reader, outPath string, cfg Config) (Summary, error) {
	if len(cfg.Handlers) == 0 {
		return Summary{}, ErrNoHandlers
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = runtime.GOMAXPROCS(0)
	}
	if cfg.MaxLineBytes <= 0 {
		cfg.MaxLineBytes = 16 << 20
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	var sum Summary
	entries, err := readJobs(in, cfg.Handlers, cfg.MaxLineBytes)
	if err != nil {
		return sum, err
	}
	out, err := openOutput(outPath, cfg.RetryErrors)
	if err != nil {
		return sum, err
	}
	sum.Jobs, sum.TornBytes, sum.RetriedErrors = len(entries), out.torn, out.dropped
	var todo []entry
	for _, e := range entries {
		ok, done := out.done[e.id]
		switch {
		case !done:
			todo = append(todo, e)
		case ok:
			sum.Skipped++
		default:
			sum.Skipped++
			sum.SkippedErrors++
		}
	}

	began := cfg.Now()
	var prog *progress
	if cfg.Progress != nil {
		prog = newProgress(cfg.Progress, cfg.Terminal, len(entries), sum.Skipped, cfg.Now)
		prog.startTicker()
	}

	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	results := make(chan result, cfg.Concurrency)
	var writeErr error
	written := make(chan struct{})
	go func() { // the one writer: lines in the order jobs finish
		defer close(written)
		for r := range results {
			if r.line == nil || writeErr != nil {
				continue // not done (cancelled), or the output failed: drain
			}
			if writeErr = out.write(r.line); writeErr != nil {
				cancel(writeErr)
				continue
			}
			switch {
			case !r.ok:
				sum.Errors++
			case r.abstained:
				sum.OK++
				sum.Abstained++
			default:
				sum.OK++
			}
			if prog != nil {
				prog.add()
			}
		}
	}()

	var g errgroup.Group
	g.SetLimit(cfg.Concurrency)
	for _, e := range todo {
		if runCtx.Err() != nil {
			break
		}
		g.Go(func() error {
			results <- runJob(runCtx, e, cfg.Handlers[e.op])
			return nil
		})
	}
	g.Wait()
	close(results)
	<-written
	if prog != nil {
		prog.finish()
	}
	closeErr := out.close()
	sum.Elapsed = cfg.Now().Sub(began)
	sum.NotRun = len(todo) - sum.OK - sum.Errors
	switch {
	case writeErr != nil:
		return sum, writeErr
	case closeErr != nil:
		return sum, fmt.Errorf("close output: %w", closeErr)
	case ctx.Err() != nil && sum.NotRun > 0:
		return sum, ctx.Err()
	}
	return sum, nil
}

// result is a finished job's output line, with its line break; a nil line
// means the job did not finish (the run was cancelled) and writes nothing.
type result struct {
	line          []byte
	ok, abstained bool
}

// outLine is Line as it is written: the result is encoded once, in place.
type outLine struct {
	ID     string     `json:"id"`
	OK     bool       `json:"ok"`
	Result any        `json:"result,omitempty"`
	Error  *LineError `json:"error,omitempty"`
}

// runJob runs one entry. A bad line's error is its result; a handler that
// panics is an internal error of that job, not the run's.
func runJob(ctx context.Context, e entry, h Handler) (r result) {
	if e.err != nil {
		return errorResult(e.id, e.err)
	}
	defer func() {
		if p := recover(); p != nil {
			r = errorResult(e.id, grounded.Errorf(grounded.EINTERNAL, "the %s job failed: %v", e.op, p))
		}
	}()
	res, abstained, err := h(ctx, e.fields)
	if ctx.Err() != nil {
		return result{} // cut short: runs again next time
	}
	if err != nil {
		return errorResult(e.id, err)
	}
	line, err := encodeLine(outLine{ID: e.id, OK: true, Result: res})
	if err != nil {
		return errorResult(e.id, grounded.Errorf(grounded.EINTERNAL, "the %s job's result cannot be written as JSON: %v", e.op, err))
	}
	return result{line: line, ok: true, abstained: abstained}
}

// errorResult is the error line of job id. Its message is the caller-facing
// message of a grounded error, else the error's text: the output is the
// operator's own, so nothing is hidden from it.
func errorResult(id string, err error) result {
	msg := err.Error()
	var ge *grounded.Error
	if errors.As(err, &ge) {
		msg = ge.Message
	}
	line, _ := encodeLine(outLine{ID: id, Error: &LineError{Code: grounded.ErrorCode(err), Message: msg}})
	return result{line: line}
}

// encodeLine encodes l as one line of compact JSON ending in a line break.
func encodeLine(l outLine) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(l); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
