package batch

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Line is one line of the output file:
//
//	{"id": "q1", "ok": true, "result": {...}}
//	{"id": "q2", "ok": false, "error": {"code": "invalid", "message": "..."}}
//
// Each line is written whole with one write call and then synced, in the
// order the jobs finish, so the file is a log: every line that is there is
// finished, and only the last one can be torn (by a crash mid-write), which
// the next run detects and cuts away (see openOutput).
type Line struct {
	ID     string          `json:"id"`
	OK     bool            `json:"ok"`
	Result json.RawMessage `json:"result,omitempty"`
	Error  *LineError      `json:"error,omitempty"`
}

// LineError is a failed job's error: a grounded error code and message.
type LineError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// output is the results file, open for appending, and what it already holds.
type output struct {
	f    *os.File
	done map[string]bool // id -> ok, for the lines already there
	// errors counts the lines already there with ok false.
	errors int
	// torn is the number of bytes of a torn last line cut away; dropped the
	// error lines removed for RetryErrors.
	torn    int64
	dropped int
}

// openOutput opens path for appending, creating it, after reading the ids it
// already holds. A last line that has no line break or is not a result line
// is torn (the run writing it died): it is cut away and its job runs again.
// A bad line with more lines after it was not written by a run, so the file
// is not ours to append to: that is an error. With retryErrors the lines
// with ok false are removed first (the file is rewritten to a temporary file
// and renamed over the old one), so their jobs run again and each id keeps
// one line.
func openOutput(path string, retryErrors bool) (*output, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open output: %w", err)
	}
	defer f.Close()
	o := &output{done: map[string]bool{}}
	r := bufio.NewReaderSize(f, 64<<10)
	var offset int64
	cut := int64(-1) // where a torn last line starts
	badLine, badText := 0, ""
	for n := 1; ; n++ {
		b, err := r.ReadBytes('\n')
		if len(b) > 0 {
			if cut >= 0 {
				return nil, fmt.Errorf("output %s: line %d is not a batch result line (%s), and more lines follow it; not appending to this file", path, badLine, badText)
			}
			if b[len(b)-1] != '\n' {
				cut = offset
				break
			}
			if id, ok, perr := parseLine(b); perr != nil {
				cut, badLine, badText = offset, n, snip(b)
			} else {
				o.done[id] = o.done[id] || ok
			}
			offset += int64(len(b))
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read output: %w", err)
		}
	}
	if cut >= 0 {
		st, err := f.Stat()
		if err != nil {
			return nil, fmt.Errorf("output: %w", err)
		}
		if err := f.Truncate(cut); err != nil {
			return nil, fmt.Errorf("cut the torn last line of the output: %w", err)
		}
		if err := f.Sync(); err != nil {
			return nil, fmt.Errorf("output: %w", err)
		}
		o.torn = st.Size() - cut
	}
	for _, ok := range o.done {
		if !ok {
			o.errors++
		}
	}
	if retryErrors && o.errors > 0 {
		if err := dropErrorLines(f, path); err != nil {
			return nil, err
		}
		for id, ok := range o.done {
			if !ok {
				delete(o.done, id)
			}
		}
		o.dropped, o.errors = o.errors, 0
	}
	o.f, err = os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return nil, fmt.Errorf("open output: %w", err)
	}
	return o, nil
}

// parseLine returns a result line's id and ok.
func parseLine(b []byte) (id string, ok bool, err error) {
	var l struct {
		ID *string `json:"id"`
		OK *bool   `json:"ok"`
	}
	if err := json.Unmarshal(b, &l); err != nil {
		return "", false, err
	}
	if l.ID == nil || *l.ID == "" || l.OK == nil {
		return "", false, errors.New(`want "id" and "ok"`)
	}
	return *l.ID, *l.OK, nil
}

// dropErrorLines rewrites the output at path (open as f) without its lines
// with ok false: to a temporary file beside it, synced, then renamed over it.
func dropErrorLines(f *os.File, path string) error {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("output: %w", err)
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("rewrite output: %w", err)
	}
	defer os.Remove(tmp.Name()) // after the rename, a no-op
	defer tmp.Close()
	r := bufio.NewReaderSize(f, 64<<10)
	w := bufio.NewWriterSize(tmp, 64<<10)
	for {
		b, err := r.ReadBytes('\n')
		if _, ok, perr := parseLine(b); len(b) > 0 && perr == nil && ok {
			if _, werr := w.Write(b); werr != nil {
				return fmt.Errorf("rewrite output: %w", werr)
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("read output: %w", err)
		}
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("rewrite output: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("rewrite output: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("rewrite output: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("rewrite output: %w", err)
	}
	if d, err := os.Open(dir); err == nil { // make the rename durable
		d.Sync()
		d.Close()
	}
	return nil
}

// write appends one whole line (ending in a line break) with one write call
// and syncs it to disk.
func (o *output) write(line []byte) error {
	n, err := o.f.Write(line)
	if err == nil && n < len(line) {
		err = io.ErrShortWrite
	}
	if err == nil {
		err = o.f.Sync()
	}
	if err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}

func (o *output) close() error { return o.f.Close() }

func snip(b []byte) string {
	if len(b) > 60 {
		return fmt.Sprintf("%q...", b[:60])
	}
	return fmt.Sprintf("%q", b)
}
