// Package extract fills a schema's typed fields from one document, each with
// the exact text it was read from, or leaves a field null with a reason.
//
// The offline extractor (the default) works field by field: it scores every
// sentence of the document against the field's name and description, keeps
// the sentences that cover enough of them, and reads a value of the field's
// type from the best one (values.go reads dates, numbers, money,
// percentages and e-mail addresses). With a language model (llm.go) one
// prompt asks for every field with a quote and a passage number; each
// answer is then checked against its quote, and a value the quote does not
// state is dropped.
//
// The package takes plain inputs (a document with its text and sections, its
// chunks, an optional model) and never a store or a server.
package extract

import (
	"context"
	"errors"
	"math"
	"regexp"
	"slices"
	"strings"
	"unicode"

	"github.com/groundedhq/grounded"
	"github.com/groundedhq/grounded/answer/grounding"
	"github.com/groundedhq/grounded/internal/textproc"
)

// GeneratorExtractive names the offline extractor in Extraction.Generator.
const GeneratorExtractive = "extractive"

// Config tunes an Extractor. Zero fields take the defaults.
type Config struct {
	// Analyzer turns text into terms. Default: a new one.
	Analyzer *textproc.Analyzer
	// MinCoverage is the share of a field's weighted terms (those of its
	// description, or those of its name, whichever is covered better) that
	// a sentence must hold for a value to be read from it; below it the
	// field is null "not_found". Default 0.6: of a two-word name like
	// "termination_fee", one word alone (0.5) is not enough.
	MinCoverage float64
	// Model, when set, extracts through the model (llm.go); the offline
	// extractor answers when the model fails or its reply is not JSON. A
	// reply's default budget is 200 tokens + 60 per field, at most 4000.
	Model *grounding.Model
}

// Extractor extracts fields from documents. It is safe for concurrent use.
type Extractor struct {
	cfg Config
}

// New returns an Extractor.
func New(cfg Config) *Extractor {
	if cfg.Analyzer == nil {
		cfg.Analyzer = textproc.NewAnalyzer()
	}
	if cfg.MinCoverage <= 0 {
		cfg.MinCoverage = 0.6
	}
	cfg.Model = cfg.Model.WithDefaults(cfg.Analyzer)
	return &Extractor{cfg: cfg}
}

// Extract fills schema's fields from doc (which must have its Text and
// Sections). chunks are the document's passages, used by the model path
// only; without them the model sees the document's sections.
// Errors: EINVALID for an invalid schema or a document without text; a
// field that cannot be filled is not an error. With a model, ctx's
// cancellation is returned as is; any other model failure falls back to
// the offline extractor, with Extraction.FallbackReason.
func (e *Extractor) Extract(ctx context.Context, schema *grounded.Schema, doc *grounded.Document, chunks []grounded.Chunk) (*grounded.Extraction, error) {
	if err := schema.Validate(); err != nil {
		return nil, err
	}
	if doc == nil {
		return nil, grounded.Errorf(grounded.EINVALID, "no document to extract from")
	}
	d := e.prepare(doc)
	out := &grounded.Extraction{
		DocID: doc.ID, Source: doc.Source, Title: doc.Title, Version: doc.Version,
		Fields: make(grounded.FieldResults, 0, len(schema.Fields)),
	}
	if out.Version == "" {
		out.Version = grounded.VersionOf(doc.ContentHash)
	}
	if e.cfg.Model != nil {
		err := e.generate(ctx, d, schema, chunks, out)
		if err == nil {
			return out, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		out.Fields, out.Usage = out.Fields[:0], nil
		out.FallbackReason = err.Error()
	}
	out.Generator = GeneratorExtractive
	for _, f := range schema.Fields {
		out.Fields = append(out.Fields, e.offline(d, f))
	}
	return out, nil
}

// sent is one sentence of the document.
type sent struct {
	start, end int // in doc.Text
	terms      map[string]bool
	prefixes   map[string]bool
	heading    map[string]bool // terms of its section's heading path
	section    *grounded.Section
	listItem   bool // the sentence is a Markdown list item
	// Values found in the sentence, read on first use.
	dates, numbers, emails []match
	read                   bool
}

// doc is a document split into sentences, with sentence frequencies.
type doc struct {
	*grounded.Document
	an    *textproc.Analyzer
	sents []*sent
	df    map[string]int
}

var listItemLine = regexp.MustCompile(`^[ \t]*(?:[-*+]|\d{1,3}[.)])[ \t]+$`)

// prepare splits the document into its prose sentences (headings out).
func (e *Extractor) prepare(gd *grounded.Document) *doc {
	d := &doc{Document: gd, an: e.cfg.Analyzer, df: map[string]int{}}
	text := gd.Text
	headings := map[int]map[string]bool{}
	for _, s := range textproc.Sentences(text, 0, len(text)) {
		if s.Heading {
			continue
		}
		st := newSent(e.cfg.Analyzer, text[s.Start:s.End])
		st.start, st.end = s.Start, s.End
		if si := sectionAt(gd.Sections, s.Start); si >= 0 {
			st.section = &gd.Sections[si]
			if headings[si] == nil {
				headings[si] = textproc.Set(e.cfg.Analyzer.Terms(strings.Join(gd.Sections[si].Path, " ")))
			}
			st.heading = headings[si]
		}
		ls := strings.LastIndexByte(text[:s.Start], '\n') + 1
		st.listItem = listItemLine.MatchString(text[ls:s.Start])
		for t := range st.terms {
			d.df[t]++
		}
		d.sents = append(d.sents, st)
	}
	return d
}

// newSent returns a sentence with the terms of text and their prefixes.
func newSent(an *textproc.Analyzer, text string) *sent {
	st := &sent{terms: map[string]bool{}, prefixes: map[string]bool{}}
	for _, t := range an.Terms(text) {
		st.terms[t] = true
		if len(t) >= prefixLen {
			st.prefixes[t[:prefixLen]] = true
		}
	}
	return st
}

// sectionAt returns the index of the innermost section holding byte pos, or -1.
func sectionAt(sections []grounded.Section, pos int) int {
	best := -1
	for i, s := range sections {
		if s.Start <= pos && pos < s.End && (best < 0 || s.Start >= sections[best].Start) {
			best = i
		}
	}
	return best
}

func (d *doc) values(s *sent) {
	if s.read {
		return
	}
	s.read = true
	text := d.Text[s.start:s.end]
	s.dates = findDates(text)
	s.numbers = findNumbers(text, s.dates)
	s.emails = findEmails(text)
}

// A field term that a sentence lacks counts prefixCredit when a sentence
// term shares its first prefixLen letters, headingCredit when its section
// heading has it, and typeCredit when it names the field's type ("date",
// "amount", "email") and the sentence holds a value of that type.
const (
	prefixLen     = 5
	prefixCredit  = 0.7
	headingCredit = 0.5
	typeCredit    = 0.5
)

// typeWords are field-name words a value of the type stands in for.
var typeWords = map[string][]string{
	grounded.FieldDate:   {"date", "day", "time", "when"},
	grounded.FieldNumber: {"number", "amount", "count", "total", "valu"},
	grounded.FieldEmail:  {"email", "e", "mail", "address", "contact"},
}

// fieldQuery is a field's terms, weighted by how rare they are among the
// document's sentences.
type fieldQuery struct {
	field          grounded.SchemaField
	desc, name     []string
	all            []string
	weight         map[string]float64
	words          map[string]bool // lower-cased words of name and description
	want           string          // the unit the field asks for: "money", "%", "days", ...
	emailWanted    bool
	values, labels []string // enum values and the words that name each
}

var camel = regexp.MustCompile(`([a-z0-9])([A-Z])`)

func (e *Extractor) query(d *doc, f grounded.SchemaField) *fieldQuery {
	an := e.cfg.Analyzer
	nameText := strings.ReplaceAll(camel.ReplaceAllString(f.Name, "$1 $2"), "_", " ")
	q := &fieldQuery{field: f, desc: textproc.Unique(an.Terms(f.Description)), name: textproc.Unique(an.Terms(nameText)),
		weight: map[string]float64{}, words: map[string]bool{}}
	q.all = textproc.Unique(append(slices.Clone(q.desc), q.name...))
	n := float64(max(len(d.sents), 1))
	for _, t := range q.all {
		q.weight[t] = math.Log(1 + n/float64(max(d.df[t], 1)))
	}
	both := nameText + " " + f.Description
	for _, sp := range textproc.Words(both) {
		q.words[strings.ToLower(both[sp.Start:sp.End])] = true
	}
	q.want = wantedUnit(q.words)
	q.emailWanted = q.words["email"] || q.words["e-mail"] || (q.words["e"] && q.words["mail"])
	for _, v := range f.Values {
		q.values = append(q.values, v)
		q.labels = append(q.labels, v)
		if alt := strings.NewReplacer("_", " ", "-", " ").Replace(v); alt != v {
			q.values = append(q.values, v)
			q.labels = append(q.labels, alt)
		}
		for _, syn := range f.Synonyms[v] {
			q.values = append(q.values, v)
			q.labels = append(q.labels, syn)
		}
	}
	return q
}

var (
	moneyWords   = []string{"fee", "fees", "price", "prices", "cost", "costs", "amount", "pay", "payment", "payments", "salary", "charge", "charges", "rent", "budget", "sum", "dollars", "usd", "eur", "euro", "euros", "compensation", "penalty", "deposit", "invoice", "spend", "money", "revenue"}
	percentWords = []string{"percent", "percentage", "rate", "discount", "interest", "share", "ratio", "markup", "margin"}
	periodWords  = []string{"days", "weeks", "months", "years", "hours", "minutes"}
)

// wantedUnit is the kind of number a field's words ask for.
func wantedUnit(words map[string]bool) string {
	for _, w := range periodWords {
		if words[w] || words[strings.TrimSuffix(w, "s")] {
			return w
		}
	}
	for _, w := range percentWords {
		if words[w] {
			return "%"
		}
	}
	for _, w := range moneyWords {
		if words[w] {
			return "money"
		}
	}
	return ""
}

// coverage is the weighted share of terms that s holds.
func (q *fieldQuery) coverage(d *doc, s *sent, terms []string) float64 {
	var got, total float64
	for _, t := range terms {
		w := q.weight[t]
		total += w
		switch {
		case s.terms[t]:
			got += w
		case len(t) >= prefixLen && s.prefixes[t[:prefixLen]]:
			got += w * prefixCredit
		case s.heading[t]:
			got += w * headingCredit
		case slices.Contains(typeWords[q.field.Type], t) && q.hasType(d, s):
			got += w * typeCredit
		}
	}
	if total == 0 {
		return 0
	}
	return got / total
}

func (q *fieldQuery) hasType(d *doc, s *sent) bool {
	d.values(s)
	switch q.field.Type {
	case grounded.FieldDate:
		return len(s.dates) > 0
	case grounded.FieldNumber:
		return len(s.numbers) > 0
	case grounded.FieldEmail:
		return len(s.emails) > 0
	}
	return false
}

// candidate is a sentence scored against a field.
type candidate struct {
	s        *sent
	coverage float64 // the better of description and name coverage
	score    float64
}

// rank scores every sentence against the field, best first.
func (q *fieldQuery) rank(d *doc) []candidate {
	var out []candidate
	for _, s := range d.sents {
		cd, cn := q.coverage(d, s, q.desc), q.coverage(d, s, q.name)
		c := candidate{s: s, coverage: max(cd, cn)}
		if c.coverage == 0 {
			continue
		}
		c.score = c.coverage + 0.25*q.coverage(d, s, q.all)
		out = append(out, c)
	}
	slices.SortStableFunc(out, func(a, b candidate) int {
		switch {
		case a.score > b.score:
			return -1
		case a.score < b.score:
			return 1
		}
		return 0
	})
	return out
}

// reading is a value read from a sentence.
type reading struct {
	value any
	unit  string
	end   int // where the evidence ends in doc.Text (past the sentence for a list)
	// ambiguous: the sentence names two values equally.
	ambiguous bool
}

// errNoValue says a sentence holds no value of the field's type.
var errNoValue = errors.New("no value of the type")

func (e *Extractor) offline(d *doc, f grounded.SchemaField) grounded.FieldResult {
	q := e.query(d, f)
	res := grounded.FieldResult{Name: f.Name}
	cands := q.rank(d)
	if len(cands) == 0 || cands[0].coverage < e.cfg.MinCoverage {
		res.Reason = grounded.FieldNotFound
		if len(cands) > 0 {
			res.Support = round3(cands[0].coverage)
		}
		return res
	}
	res.Reason = grounded.FieldNoValueOfType
	res.Support = round3(cands[0].coverage)
	for i, c := range cands {
		if c.coverage < e.cfg.MinCoverage {
			break
		}
		r, err := q.read(d, c.s)
		if err != nil {
			continue
		}
		if r.ambiguous {
			res.Reason, res.Support = grounded.FieldAmbiguous, round3(c.coverage)
			return res
		}
		// An equally good sentence with another value makes the field ambiguous.
		for _, o := range cands[i+1:] {
			if o.score < c.score-1e-9 {
				break
			}
			if r2, err := q.read(d, o.s); err == nil && !r2.ambiguous && !sameValue(r.value, r2.value) {
				res.Reason, res.Support = grounded.FieldAmbiguous, round3(c.coverage)
				return res
			}
		}
		res.Value, res.Unit, res.Reason = r.value, r.unit, ""
		res.Support = round3(c.coverage)
		res.Evidence = d.evidence(c.s, c.s.start, r.end)
		return res
	}
	return res
}

// evidence quotes doc.Text[start:end] of sentence s's section.
func (d *doc) evidence(s *sent, start, end int) *grounded.Evidence {
	ev := &grounded.Evidence{Quote: d.Text[start:end], DocID: d.ID, Source: d.Source, Start: start, End: end}
	if s != nil && s.section != nil {
		ev.Section = strings.Join(s.section.Path, " > ")
		ev.Location = s.section.Location
	}
	return ev
}

// keyPositions are the byte offsets, in text, of the words that are the
// field's terms.
func (q *fieldQuery) keyPositions(an *textproc.Analyzer, text string) []int {
	var out []int
	for _, sp := range textproc.Words(text) {
		if t := an.Term(text[sp.Start:sp.End]); t != "" && q.weight[t] > 0 {
			out = append(out, sp.Start)
		}
	}
	return out
}

// nearest picks the match closest to a key word; two different values
// equally close are ambiguous.
func nearest(ms []match, keys []int) (match, bool) {
	dist := func(m match) int {
		if len(keys) == 0 {
			return m.Start
		}
		best := math.MaxInt
		for _, k := range keys {
			d := m.Start - k
			if k >= m.Start && k < m.End {
				d = 0
			}
			best = min(best, abs(d))
		}
		return best
	}
	bi, bd, tie := -1, math.MaxInt, false
	for i, m := range ms {
		switch d := dist(m); {
		case d < bd:
			bi, bd, tie = i, d, false
		case d == bd && !sameValue(m.Value, ms[bi].Value):
			tie = true
		}
	}
	return ms[bi], tie
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// read reads a value of q's type from sentence s, or returns errNoValue.
func (q *fieldQuery) read(d *doc, s *sent) (reading, error) {
	d.values(s)
	text := d.Text[s.start:s.end]
	keys := q.keyPositions(d.an, text)
	r := reading{end: s.end}
	pick := func(ms []match) (reading, error) {
		if len(ms) == 0 {
			return r, errNoValue
		}
		m, tie := nearest(ms, keys)
		r.value, r.unit, r.ambiguous = m.Value, m.Unit, tie
		return r, nil
	}
	switch q.field.Type {
	case grounded.FieldDate:
		return pick(s.dates)
	case grounded.FieldEmail:
		return pick(s.emails)
	case grounded.FieldNumber:
		return pick(q.wantedNumbers(s.numbers))
	case grounded.FieldEnum:
		v, tie, ok := q.enumIn(text)
		if !ok {
			return r, errNoValue
		}
		r.value, r.ambiguous = v, tie
		return r, nil
	case grounded.FieldBool:
		v, ok := boolIn(text, keys)
		if !ok {
			return r, errNoValue
		}
		r.value = v
		return r, nil
	case grounded.FieldList:
		items, end := d.listAt(s)
		vals := typedItems(q.field.Items, items)
		if len(vals) == 0 {
			return r, errNoValue
		}
		r.value, r.end = vals, end
		return r, nil
	}
	if q.emailWanted && len(s.emails) > 0 {
		return pick(s.emails)
	}
	v, ok := clauseAfter(text, keys)
	if !ok {
		return r, errNoValue
	}
	r.value = v
	return r, nil
}

// wantedNumbers keeps the numbers whose unit is the one the field asks for.
func (q *fieldQuery) wantedNumbers(ns []match) []match {
	if q.want == "" {
		return ns
	}
	var out []match
	for _, n := range ns {
		switch q.want {
		case "money":
			if n.Unit == "USD" || n.Unit == "EUR" || n.Unit == "GBP" || n.Unit == "JPY" {
				out = append(out, n)
			}
		default:
			if n.Unit == q.want {
				out = append(out, n)
			}
		}
	}
	return out
}

// enumIn finds the enum value the text names most often (by value or
// synonym, case-insensitive, as whole words); tie reports two values named
// equally often.
func (q *fieldQuery) enumIn(text string) (value string, tie bool, ok bool) {
	lower := strings.ToLower(text)
	counts := map[string]int{}
	for i, label := range q.labels {
		counts[q.values[i]] += countWord(lower, strings.ToLower(label))
	}
	best := 0
	for _, v := range q.field.Values {
		switch c := counts[v]; {
		case c > best:
			value, best, tie = v, c, false
		case c == best && c > 0:
			tie = true
		}
	}
	return value, tie, best > 0
}

// countWord counts the occurrences of w in s that are whole words.
func countWord(s, w string) int {
	if w == "" {
		return 0
	}
	n := 0
	for i := 0; i+len(w) <= len(s); {
		j := strings.Index(s[i:], w)
		if j < 0 {
			break
		}
		j += i
		e := j + len(w)
		if (j == 0 || !isWordByte(s[j-1])) && (e == len(s) || !isWordByte(s[e])) {
			n++
		}
		i = j + 1
	}
	return n
}

var (
	clauseSplit = regexp.MustCompile(`[;,]\s+|\s+(?:but|while|whereas|except|however)\s+`)
	negators    = map[string]bool{"not": true, "no": true, "never": true, "without": true, "neither": true, "nor": true, "none": true, "cannot": true, "excluded": true, "excludes": true, "exclude": true, "excluding": true, "false": true}
	// notNegating are phrases whose negation word does not negate the clause.
	notNegating = regexp.MustCompile(`(?i)\b(?:no|not) (?:later|earlier|less|more|fewer|greater) than\b|\bnot only\b|\bwhether or not\b`)
)

// boolIn reads a yes/no from the clause of text nearest the field's key
// words: false when it is negated ("does not include", "no", "excluded"),
// else true. A clause without a key word holds no answer unless it is a
// bare yes/no ("Auto-renewal: No").
func boolIn(text string, keys []int) (bool, bool) {
	type clause struct{ start, end, keys int }
	var cs []clause
	prev := 0
	for _, m := range append(clauseSplit.FindAllStringIndex(text, -1), []int{len(text), len(text)}) {
		c := clause{start: prev, end: m[0]}
		for _, k := range keys {
			if k >= c.start && k < c.end {
				c.keys++
			}
		}
		cs = append(cs, c)
		prev = m[1]
	}
	best := -1
	for i, c := range cs {
		if c.keys > 0 && (best < 0 || c.keys > cs[best].keys) {
			best = i
		}
	}
	if best < 0 {
		return false, false
	}
	c := text[cs[best].start:cs[best].end]
	// "Auto-renewal: Yes" — the answer after a colon decides.
	if _, after, ok := strings.Cut(c, ":"); ok {
		switch w := strings.ToLower(strings.Trim(after, " *_.\t")); w {
		case "yes", "true", "y", "included", "applies":
			return true, true
		case "no", "false", "n", "none", "not included", "n/a":
			return false, true
		}
	}
	c = notNegating.ReplaceAllString(c, "")
	for _, sp := range textproc.Words(c) {
		w := strings.ToLower(c[sp.Start:sp.End])
		if negators[w] || (strings.HasSuffix(w, "n") && strings.HasPrefix(c[sp.End:], "'t")) || (strings.HasSuffix(w, "n") && strings.HasPrefix(c[sp.End:], "’t")) {
			return false, true
		}
	}
	return true, true
}

// listLead matches where a list starts inside a sentence: after a colon or
// a verb that introduces items.
var listLead = regexp.MustCompile(`(?i):\s*|\b(?:include|includes|including|included|are|consist of|consists of|comprise|comprises|cover|covers|covering)\s+`)

var itemSplit = regexp.MustCompile(`\s*(?:,|;)\s*(?:and\s+|or\s+)?|\s+(?:and|or|as well as)\s+`)

// listAt returns the items of the list that sentence s holds or
// introduces, as exact strings, and where its evidence ends. A sentence
// ending in ':' followed by Markdown list items takes those items.
func (d *doc) listAt(s *sent) ([]string, int) {
	text := d.Text[s.start:s.end]
	if strings.HasSuffix(text, ":") {
		var items []string
		end := s.end
		for i := slices.Index(d.sents, s) + 1; i < len(d.sents) && d.sents[i].listItem; i++ {
			n := d.sents[i]
			if strings.TrimSpace(d.Text[end:n.start]) != "" && !listItemLine.MatchString(lastLine(d.Text[end:n.start])) {
				break
			}
			items = append(items, strings.TrimRight(d.Text[n.start:n.end], ".;, "))
			end = n.end
		}
		if len(items) > 0 {
			return items, end
		}
	}
	loc := listLead.FindStringIndex(text)
	if loc == nil {
		return nil, s.end
	}
	rest := strings.TrimRight(text[loc[1]:], ".;: ")
	var items []string
	prev := 0
	for _, m := range append(itemSplit.FindAllStringIndex(rest, -1), []int{len(rest), len(rest)}) {
		it := strings.TrimSpace(rest[prev:m[0]])
		it = strings.TrimPrefix(strings.TrimPrefix(it, "and "), "or ")
		if it != "" {
			items = append(items, it)
		}
		prev = m[1]
	}
	if len(items) < 2 {
		return nil, s.end
	}
	return items, s.end
}

func lastLine(s string) string {
	return s[strings.LastIndexByte(s, '\n')+1:]
}

// typedItems converts list items to the item type; items that are not of
// the type are left out.
func typedItems(typ string, items []string) []any {
	out := []any{}
	for _, it := range items {
		switch typ {
		case grounded.FieldNumber:
			if v, _, ok := ParseNumber(it); ok {
				out = append(out, v)
			}
		case grounded.FieldDate:
			if ds := findDates(it); len(ds) == 1 {
				out = append(out, ds[0].Value)
			}
		case grounded.FieldEmail:
			if es := findEmails(it); len(es) == 1 {
				out = append(out, es[0].Value)
			}
		default:
			out = append(out, it)
		}
	}
	return out
}

// copulas introduce the answer of a string field: "The governing law is
// ...", "Customer: ...".
var copulas = regexp.MustCompile(`(?i)\s*:\s*|\s+(?:is|are|was|were|shall be|will be|means|is called|is named)\s+`)

// maxStringValue caps a string value; a longer clause is not an answer.
const maxStringValue = 300

// clauseAfter returns the clause after the first copula that follows a
// key word (else the first copula), up to the end of the clause; without a
// copula, the sentence itself when it is short.
func clauseAfter(text string, keys []int) (string, bool) {
	locs := copulas.FindAllStringIndex(text, -1)
	pick := -1
	for i, l := range locs {
		if len(keys) > 0 && l[0] > keys[0] {
			pick = i
			break
		}
	}
	if pick < 0 && len(locs) > 0 {
		pick = 0
	}
	v := text
	if pick >= 0 {
		v = text[locs[pick][1]:]
		if i := strings.IndexAny(v, ";"); i >= 0 {
			v = v[:i]
		}
	}
	v = strings.TrimFunc(v, func(r rune) bool { return unicode.IsSpace(r) || strings.ContainsRune(".,;:*_\"'“”", r) })
	if v == "" || len(v) > maxStringValue {
		return "", false
	}
	return v, true
}

// sameValue compares two read values.
func sameValue(a, b any) bool {
	switch x := a.(type) {
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !sameValue(x[i], y[i]) {
				return false
			}
		}
		return true
	case float64:
		y, ok := b.(float64)
		return ok && math.Abs(x-y) <= 1e-9*math.Max(1, math.Abs(x))
	}
	return a == b
}

func round3(f float64) float64 { return math.Round(f*1000) / 1000 }
