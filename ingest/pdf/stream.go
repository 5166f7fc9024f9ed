package pdf

import (
	"fmt"
	"io"

	"github.com/ledongthuc/pdf"
)

// contentReader reads a content stream, or the streams of a /Contents
// array one after another, charging the bytes to the document's budget.
// A stream that cannot be read is skipped; err keeps the first such error.
type contentReader struct {
	x     *extractor
	parts pdf.Value
	next  int
	cur   io.Reader
	sep   bool // a newline is owed between two streams
	err   error
}

func (r *contentReader) Read(p []byte) (int, error) {
	for {
		if r.cur == nil {
			if !r.open() {
				return 0, io.EOF
			}
		}
		if r.sep {
			r.sep = false
			p[0] = '\n'
			return 1, nil
		}
		if r.x.left <= 0 {
			return 0, fmt.Errorf("the page content is over %d MiB decoded: %w", maxContent>>20, errLimit)
		}
		if int64(len(p)) > r.x.left {
			p = p[:r.x.left]
		}
		n, err := safeRead(r.cur, p)
		r.x.left -= int64(n)
		if err != nil {
			if err != io.EOF && r.err == nil {
				r.err = err
			}
			r.cur = nil
			if n == 0 {
				continue
			}
		}
		return n, nil
	}
}

// open moves to the next stream that opens.
func (r *contentReader) open() bool {
	for {
		var v pdf.Value
		switch {
		case r.parts.Kind() == pdf.Array && r.next < min(r.parts.Len(), maxContentParts):
			v = r.parts.Index(r.next)
		case r.parts.Kind() == pdf.Stream && r.next == 0:
			v = r.parts
		default:
			return false
		}
		r.next++
		if v.Kind() != pdf.Stream {
			continue
		}
		if r.x.streams++; r.x.streams > maxStreams {
			r.err = fmt.Errorf("over %d content streams: %w", maxStreams, errLimit)
			return false
		}
		rd, err := streamReader(v)
		if err != nil {
			if r.err == nil {
				r.err = err
			}
			continue
		}
		r.cur, r.sep = rd, r.next > 1
		return true
	}
}

// streamReader returns the decoded data of a stream. It refuses a
// predictor row the library would allocate whatever its size, and turns the
// library's panic on a filter it does not know into an error.
func streamReader(v pdf.Value) (rd io.Reader, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	parms := v.Key("DecodeParms")
	for i := -1; i < parms.Len(); i++ {
		p := parms
		if i >= 0 {
			p = parms.Index(i)
		}
		if p.Key("Columns").Int64() > maxColumns {
			return nil, fmt.Errorf("a predictor row of over %d bytes", maxColumns)
		}
	}
	return v.Reader(), nil
}

// safeRead reads from a library stream, whose decrypting readers may panic.
func safeRead(r io.Reader, p []byte) (n int, err error) {
	defer func() {
		if e := recover(); e != nil {
			n, err = 0, fmt.Errorf("%v", e)
		}
	}()
	return r.Read(p)
}

// budgeted charges what r yields to the document's content budget.
func (x *extractor) budgeted(r io.Reader) io.Reader {
	return &contentReader{x: x, cur: r, next: 1}
}
