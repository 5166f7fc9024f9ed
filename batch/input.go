package batch

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/groundedhq/grounded"
)

// entry is one input line: a job to run, or a bad line whose error line is
// written as it is.
type entry struct {
	line   int    // 1-based line number in the input
	id     string // the job's id, or "line:N" for a line without a usable one
	op     string
	fields json.RawMessage // the job's object without "id" and "op"
	err    *grounded.Error // set for a bad line
}

// lineID is the id of an output line for input line n when that line has no
// usable id of its own.
func lineID(n int) string { return fmt.Sprintf("line:%d", n) }

// reservedID matches the ids lineID makes; an input id may not take one.
var reservedID = regexp.MustCompile(`^line:[0-9]+$`)

// readJobs reads the input's lines. Blank lines are skipped; every other
// line becomes an entry, a bad one with its error: too long, not UTF-8, not
// one JSON object, no string id, an id seen on an earlier line, no op or an
// op with no handler. Only a failure to read in is an error.
func readJobs(in io.Reader, handlers map[string]Handler, maxLine int) ([]entry, error) {
	r := bufio.NewReaderSize(in, 64<<10)
	seen := map[string]int{} // id -> line
	var out []entry
	for n := 1; ; n++ {
		line, tooLong, err := readLine(r, maxLine)
		if err != nil && err != io.EOF {
			return nil, fmt.Errorf("read input line %d: %w", n, err)
		}
		if len(line) == 0 && !tooLong && err == io.EOF {
			return out, nil
		}
		if tooLong {
			out = append(out, bad(n, lineID(n), grounded.Errorf(grounded.ETOOLARGE, "line %d is longer than %d bytes", n, maxLine)))
		} else if len(bytes.TrimSpace(line)) > 0 {
			out = append(out, parseJob(n, line, handlers, seen))
		}
		if err == io.EOF {
			return out, nil
		}
	}
}

// readLine returns the next line without its line break. A line over max
// bytes is read to its end and dropped: tooLong is true and line empty. err
// is io.EOF after the last line.
func readLine(r *bufio.Reader, max int) (line []byte, tooLong bool, err error) {
	for {
		part, err := r.ReadSlice('\n')
		if !tooLong {
			if len(line)+len(part) > max+2 { // room for "\r\n"
				tooLong, line = true, nil
			} else {
				line = append(line, part...)
			}
		}
		switch {
		case err == bufio.ErrBufferFull:
			continue
		case err != nil && err != io.EOF:
			return nil, false, err
		}
		line = bytes.TrimSuffix(bytes.TrimSuffix(line, []byte("\n")), []byte("\r"))
		return line, tooLong, err
	}
}

func bad(n int, id string, err *grounded.Error) entry {
	return entry{line: n, id: id, err: err}
}

// parseJob decodes one line's envelope: {"id": "...", "op": "...", ...}.
func parseJob(n int, line []byte, handlers map[string]Handler, seen map[string]int) entry {
	if !utf8.Valid(line) {
		return bad(n, lineID(n), grounded.Errorf(grounded.EINVALID, "line %d is not valid UTF-8", n))
	}
	var obj map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(line))
	err := dec.Decode(&obj)
	if err == nil && obj == nil {
		err = errors.New("null")
	}
	if err == nil {
		if _, terr := dec.Token(); terr != io.EOF {
			err = errors.New("trailing data after the object")
		}
	}
	if err != nil {
		return bad(n, lineID(n), grounded.Errorf(grounded.EINVALID, "line %d is not a JSON object: %v", n, err))
	}
	var id string
	rawID, ok := obj["id"]
	if !ok {
		return bad(n, lineID(n), grounded.Errorf(grounded.EINVALID, `line %d has no "id"`, n))
	}
	if err := json.Unmarshal(rawID, &id); err != nil || strings.TrimSpace(id) == "" {
		return bad(n, lineID(n), grounded.Errorf(grounded.EINVALID, `line %d: "id" must be a non-empty string, got %s`, n, rawID))
	}
	if reservedID.MatchString(id) {
		return bad(n, lineID(n), grounded.Errorf(grounded.EINVALID, `line %d: id %q is reserved for lines without an id`, n, id))
	}
	if first, dup := seen[id]; dup {
		return bad(n, lineID(n), grounded.Errorf(grounded.ECONFLICT, "line %d: duplicate id %q (first on line %d)", n, id, first))
	}
	seen[id] = n
	var op string
	if err := json.Unmarshal(obj["op"], &op); err != nil || op == "" {
		return bad(n, id, grounded.Errorf(grounded.EINVALID, `"op" must be one of %s`, opNames(handlers)))
	}
	if handlers[op] == nil {
		return bad(n, id, grounded.Errorf(grounded.EINVALID, `unknown op %q: want one of %s`, op, opNames(handlers)))
	}
	delete(obj, "id")
	delete(obj, "op")
	fields, err := json.Marshal(obj)
	if err != nil { // the values were decoded as JSON a moment ago
		return bad(n, id, grounded.Errorf(grounded.EINVALID, "line %d: %v", n, err))
	}
	return entry{line: n, id: id, op: op, fields: fields}
}

func opNames(handlers map[string]Handler) string {
	names := make([]string, 0, len(handlers))
	for name := range handlers {
		names = append(names, name)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// Decode decodes a job's fields into v strictly: an unknown field, a value
// of the wrong type or trailing data is an EINVALID error naming the
// problem. Handlers use it for their own fields.
func Decode(fields json.RawMessage, v any) error {
	dec := json.NewDecoder(bytes.NewReader(fields))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if _, terr := dec.Token(); terr != io.EOF {
			err = errors.New("trailing data")
		}
	}
	if err == nil {
		return nil
	}
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) && typeErr.Field != "" {
		return grounded.Errorf(grounded.EINVALID, "field %q: want %s, got %s", typeErr.Field, typeErr.Type, typeErr.Value)
	}
	return grounded.Errorf(grounded.EINVALID, "%s", strings.TrimPrefix(err.Error(), "json: "))
}
