package ingest

// CSV and JSONL loading: one section per row.
//
// A CSV file's first record is its header, the column names; every later
// record is a data row, numbered from 1. Fields are parsed by encoding/csv
// with lazy quotes; rows may have fewer fields than the header (the rest are
// empty) or more (named "column N" by position). The delimiter is a comma,
// or a semicolon or tab when the header line has no comma but has those. A
// UTF-8 byte order mark is skipped.
//
// A JSONL (NDJSON) file holds one JSON object per line; its keys are the
// columns, in the order they appear. A row is numbered by its line, from 1.
// Strings are their text, numbers their literal, booleans true and false,
// null is empty, and arrays and objects are compact JSON. Blank lines are
// skipped. A line that is not one JSON object is a bad row: it is skipped,
// unless more than half of the lines are bad, when the file is invalid.
//
// Each row's text is chosen by TableOptions (see there). The document's text
// is the rows' texts, trimmed, separated by a blank line; each row is one
// section exactly covering its text, with Location "row N" and Meta holding
// the row's other non-empty columns. A row with no text is left out. A line
// over tableMaxLine bytes makes the file invalid, so one enormous line cannot
// hold a worker.

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/groundedhq/grounded"
)

// tableMaxLine caps one line of a CSV or JSONL file.
const tableMaxLine = 16 << 20

// textColumns are the column names that hold a row's text by default, in
// no order of preference: the leftmost such column wins.
var textColumns = []string{"text", "content", "body", "description", "abstract"}

// TableOptions choose the text of each row of a CSV or JSONL file. The zero
// value picks the first column (from the left; for JSONL, in each object's
// key order) named text, content, body, description or abstract, in any
// case, as the text, and the others become the row's metadata; a row with no
// such column has all its non-empty columns as "name: value" lines as text,
// and all of them as metadata too, so rows can still be filtered by them.
// Set at most one field. Column names match exactly, else case-insensitively.
type TableOptions struct {
	// TextColumn names the column that holds each row's text; the other
	// columns become the metadata. A CSV header without it is an error; a
	// JSONL row without it (or with it empty) is left out.
	TextColumn string
	// Template builds each row's text from its columns: every "{name}" is
	// replaced by the trimmed value of column name (empty when the row
	// lacks it) and "{{" and "}}" stand for literal braces, so
	// "{title}: {body}" gives "Heat pumps: A heat pump moves heat …". The
	// other columns, those the template does not name, become the metadata.
	// A CSV header that lacks a named column is an error; a row whose named
	// columns are all empty is left out. The text is used verbatim: a
	// command line that wants "\n" for a line break must translate it.
	Template string
}

// Validate reports whether the options can be used: at most one field set,
// and a template that parses. It returns an *grounded.Error with code
// EINVALID, or nil. Load and LoadWith call it; a command line can call it
// first to fail once rather than on every table file.
func (o TableOptions) Validate() error {
	_, err := o.template()
	return err
}

// tmplPart is a piece of a parsed template: literal text, or a column name.
type tmplPart struct {
	lit   string
	field string // set for a column reference
}

// template parses o.Template; nil without one.
func (o TableOptions) template() ([]tmplPart, error) {
	if o.Template == "" {
		return nil, nil
	}
	if o.TextColumn != "" {
		return nil, grounded.Errorf(grounded.EINVALID, "set a text column or a template, not both")
	}
	bad := func(why string) error {
		return grounded.Errorf(grounded.EINVALID, "template %q: %s", o.Template, why)
	}
	s := o.Template
	var parts []tmplPart
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			parts = append(parts, tmplPart{lit: lit.String()})
			lit.Reset()
		}
	}
	fields := 0
	for i := 0; i < len(s); {
		switch {
		case strings.HasPrefix(s[i:], "{{"):
			lit.WriteByte('{')
			i += 2
		case strings.HasPrefix(s[i:], "}}"):
			lit.WriteByte('}')
			i += 2
		case s[i] == '{':
			j := strings.IndexByte(s[i+1:], '}')
			if j < 0 {
				return nil, bad("a { is not closed")
			}
			name := strings.TrimSpace(s[i+1 : i+1+j])
			if name == "" || strings.ContainsRune(name, '{') {
				return nil, bad(fmt.Sprintf("%q is not a column name", s[i:i+2+j]))
			}
			flush()
			parts = append(parts, tmplPart{field: name})
			fields++
			i += j + 2
		case s[i] == '}':
			return nil, bad("a } has no { (write }} for a brace)")
		default:
			lit.WriteByte(s[i])
			i++
		}
	}
	flush()
	if fields == 0 {
		return nil, bad("names no column, as {name}")
	}
	return parts, nil
}

// loadTable reads a CSV or JSONL file (format) into doc, one section per row
// (see the format notes above). It returns an *grounded.Error with code
// EINVALID for bad options, a CSV header that lacks a column they name, a
// line over tableMaxLine, more bad JSONL lines than good ones, or no row
// with text.
func loadTable(doc *grounded.Document, format string, data []byte, opt TableOptions) error {
	tmpl, err := opt.template()
	if err != nil {
		return grounded.Errorf(grounded.EINVALID, "%s: %s", doc.Source, grounded.ErrorMessage(err))
	}
	if n := longLine(data); n > 0 {
		return grounded.Errorf(grounded.EINVALID, "%s: line %d is over the %d-byte line limit", doc.Source, n, tableMaxLine)
	}
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	t := &tableBuilder{source: doc.Source, opt: opt, tmpl: tmpl}
	if format == FormatJSONL {
		t.unit = "line"
		t.jsonl(data)
	} else {
		t.unit = "row"
		if err := t.csv(data); err != nil {
			return err
		}
	}
	if err := t.check(); err != nil {
		return err
	}
	doc.Text = t.b.String()
	doc.Sections = t.sections
	return nil
}

// longLine returns the number (from 1) of the first line of data longer
// than tableMaxLine, or 0.
func longLine(data []byte) int {
	for n := 1; len(data) > 0; n++ {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			i = len(data)
		}
		if i > tableMaxLine {
			return n
		}
		data = data[min(i+1, len(data)):]
	}
	return 0
}

// tableBuilder collects rows into the document text and sections.
type tableBuilder struct {
	source   string
	unit     string // what a row number counts in messages: "row" or "line"
	opt      TableOptions
	tmpl     []tmplPart
	b        strings.Builder
	sections []grounded.Section
	rows     int // rows read, with or without text
	bad      int // rows that could not be read
	firstBad int
	badErr   error
}

// csv reads a CSV file's header and rows.
func (t *tableBuilder) csv(data []byte) error {
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	r.Comma = sniffComma(data)
	header, err := r.Read()
	if err == io.EOF {
		return grounded.Errorf(grounded.EINVALID, "%s: no header row", t.source)
	}
	if err != nil {
		return grounded.Errorf(grounded.EINVALID, "%s: header: %v", t.source, err)
	}
	names := columnNames(header)
	var want []string
	if t.opt.TextColumn != "" {
		want = append(want, t.opt.TextColumn)
	}
	for _, p := range t.tmpl {
		if p.field != "" {
			want = append(want, p.field)
		}
	}
	for _, w := range want {
		if findColumn(names, w) < 0 {
			return grounded.Errorf(grounded.EINVALID, "%s: no column %q; the columns are %s", t.source, w, strings.Join(names, ", "))
		}
	}
	for n := 1; ; n++ {
		at := r.InputOffset()
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.fail(n, err)
			if r.InputOffset() == at {
				break // no progress: stop rather than spin
			}
			continue
		}
		if len(rec) > len(names) { // a ragged row: name the extra fields by position
			names = columnNames(append(slices.Clone(header), make([]string, len(rec)-len(header))...))
		}
		t.add(n, names, rec)
	}
	return nil
}

// sniffComma returns the CSV delimiter: a comma, unless the first line has
// none and has semicolons or tabs.
func sniffComma(data []byte) rune {
	line, _, _ := bytes.Cut(data, []byte("\n"))
	if bytes.IndexByte(line, ',') >= 0 {
		return ','
	}
	semi, tab := bytes.Count(line, []byte(";")), bytes.Count(line, []byte("\t"))
	switch {
	case semi > 0 && semi >= tab:
		return ';'
	case tab > 0:
		return '\t'
	}
	return ','
}

// columnNames returns the header's names, trimmed, an empty one named
// "column N" and a repeated one suffixed " (2)", " (3)"…, so every name is
// unique.
func columnNames(header []string) []string {
	names := make([]string, len(header))
	seen := map[string]bool{}
	for i, h := range header {
		name := strings.TrimSpace(h)
		if name == "" {
			name = fmt.Sprintf("column %d", i+1)
		}
		for k, base := 2, name; seen[name]; k++ {
			name = fmt.Sprintf("%s (%d)", base, k)
		}
		seen[name] = true
		names[i] = name
	}
	return names
}

// findColumn returns the index of the column named name, matched exactly,
// else case-insensitively, or -1.
func findColumn(names []string, name string) int {
	for i, n := range names {
		if n == name {
			return i
		}
	}
	for i, n := range names {
		if strings.EqualFold(n, name) {
			return i
		}
	}
	return -1
}

// jsonl reads a JSON Lines file, one object a line.
func (t *tableBuilder) jsonl(data []byte) {
	for n := 1; len(data) > 0; n++ {
		line, rest, _ := bytes.Cut(data, []byte("\n"))
		data = rest
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		names, values, err := jsonObject(line)
		if err != nil {
			t.fail(n, err)
			continue
		}
		t.add(n, names, values)
	}
}

// errNotObject is a JSONL line holding a JSON value other than an object.
var errNotObject = errors.New("not a JSON object")

// jsonObject parses one JSON object into its keys, in order (a repeated key
// keeps its first place and its last value), and their values as text.
func jsonObject(line []byte) (names, values []string, err error) {
	dec := json.NewDecoder(bytes.NewReader(line))
	tok, err := dec.Token()
	if err != nil {
		return nil, nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, nil, errNotObject
	}
	index := map[string]int{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, err
		}
		key, ok := tok.(string)
		if !ok {
			return nil, nil, errNotObject
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, nil, err
		}
		v, err := jsonText(raw)
		if err != nil {
			return nil, nil, err
		}
		if i, ok := index[key]; ok {
			values[i] = v
			continue
		}
		index[key] = len(names)
		names = append(names, key)
		values = append(values, v)
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		if err == nil {
			err = errors.New("more than one JSON value on the line")
		}
		return nil, nil, err
	}
	return columnNames(names), values, nil
}

// jsonText is a JSON value as row text: a string's text, a number's
// literal, true or false, "" for null, compact JSON for arrays and objects.
func jsonText(raw json.RawMessage) (string, error) {
	switch raw[0] {
	case '"':
		var s string
		err := json.Unmarshal(raw, &s)
		return s, err
	case 'n':
		return "", nil
	case '{', '[':
		var b bytes.Buffer
		err := json.Compact(&b, raw)
		return b.String(), err
	}
	return string(raw), nil
}

func (t *tableBuilder) fail(n int, err error) {
	if t.bad == 0 {
		t.firstBad, t.badErr = n, err
	}
	t.bad++
}

// add appends row n, when it has text, as a section.
func (t *tableBuilder) add(n int, names, values []string) {
	t.rows++
	text, meta := t.rowText(names, values)
	if text == "" {
		return
	}
	if t.b.Len() > 0 {
		t.b.WriteString("\n\n")
	}
	start := t.b.Len()
	t.b.WriteString(text)
	t.sections = append(t.sections, grounded.Section{
		Start: start, End: t.b.Len(), Location: fmt.Sprintf("row %d", n), Meta: meta,
	})
}

// rowText returns a row's text, trimmed, and its metadata (see TableOptions).
func (t *tableBuilder) rowText(names, values []string) (string, map[string]string) {
	value := func(i int) string {
		if i < 0 || i >= len(values) {
			return ""
		}
		return strings.TrimSpace(values[i])
	}
	used := make([]bool, len(names))
	var text string
	switch {
	case t.tmpl != nil:
		var b strings.Builder
		filled := false
		for _, p := range t.tmpl {
			if p.field == "" {
				b.WriteString(p.lit)
				continue
			}
			i := findColumn(names, p.field)
			if i >= 0 {
				used[i] = true
			}
			if v := value(i); v != "" {
				b.WriteString(v)
				filled = true
			}
		}
		if filled {
			text = strings.TrimSpace(b.String())
		}
	case t.opt.TextColumn != "":
		if i := findColumn(names, t.opt.TextColumn); i >= 0 {
			used[i] = true
			text = value(i)
		}
	default:
		col := -1
		for i, n := range names {
			if col < 0 && isTextColumn(n) {
				col = i
			}
		}
		if col >= 0 {
			used[col] = true
			text = value(col)
			break
		}
		var b strings.Builder
		for i, n := range names {
			if v := value(i); v != "" {
				if b.Len() > 0 {
					b.WriteByte('\n')
				}
				b.WriteString(n + ": " + v)
			}
		}
		text = b.String()
	}
	var meta map[string]string
	for i, n := range names {
		if v := value(i); v != "" && !used[i] {
			if meta == nil {
				meta = map[string]string{}
			}
			meta[n] = v
		}
	}
	return text, meta
}

func isTextColumn(name string) bool {
	for _, c := range textColumns {
		if strings.EqualFold(name, c) {
			return true
		}
	}
	return false
}

// check fails a file with more bad rows than good ones, or with no row
// that has text.
func (t *tableBuilder) check() error {
	total := t.rows + t.bad
	if t.bad > 0 && 2*t.bad > total {
		return grounded.Errorf(grounded.EINVALID, "%s: %d of %d %ss are bad, the first is %s %d: %v",
			t.source, t.bad, total, t.unit, t.unit, t.firstBad, t.badErr)
	}
	if len(t.sections) > 0 {
		return nil
	}
	switch {
	case total == 0:
		return grounded.Errorf(grounded.EINVALID, "%s: no data rows", t.source)
	case t.opt.TextColumn != "":
		return grounded.Errorf(grounded.EINVALID, "%s: no row has text in column %q", t.source, t.opt.TextColumn)
	}
	return grounded.Errorf(grounded.EINVALID, "%s: no row has text", t.source)
}
