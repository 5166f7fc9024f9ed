package grounded

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
)

// Field types a Schema may ask for.
const (
	FieldString = "string" // a short clause quoted from the document
	FieldNumber = "number" // a plain number; money and percentages carry a unit
	FieldDate   = "date"   // an ISO 8601 date: "2024-03-01" (or "2024-03" with no day)
	FieldBool   = "bool"   // true or false
	FieldEnum   = "enum"   // one of the field's Values
	FieldList   = "list"   // a list of items of type Items (default string)
	FieldEmail  = "email"  // an e-mail address
)

// Schema limits.
const (
	MaxSchemaFields     = 100
	MaxFieldDescription = 1000 // bytes
	MaxEnumValues       = 100
)

// Schema lists the fields to extract from one document, in order.
//
// As JSON: {"fields": [{"name": "effective_date", "type": "date",
// "description": "When does the contract take effect?"}, {"name": "plan",
// "type": "enum", "values": ["basic", "pro"], "synonyms": {"pro":
// ["professional"]}}, {"name": "services", "type": "list", "items":
// "string"}]}. ParseSchema reads it strictly.
type Schema struct {
	Fields []SchemaField `json:"fields"`
}

// SchemaField is one field of a Schema.
type SchemaField struct {
	// Name is the field's key in the result: a letter or '_', then up to 63
	// letters, digits or '_'. Its words ("effective_date": effective, date)
	// join the description in the search for the field.
	Name string `json:"name"`
	// Type is one of the Field* constants.
	Type string `json:"type"`
	// Description says what the field is, ideally as a question.
	Description string `json:"description,omitempty"`
	// Values are an enum's allowed values (required for enum only).
	Values []string `json:"values,omitempty"`
	// Synonyms map an enum value to other words that name it in documents.
	Synonyms map[string][]string `json:"synonyms,omitempty"`
	// Items is a list's item type: string (default), number, date or email.
	Items string `json:"items,omitempty"`
}

var (
	fieldName  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,63}$`)
	fieldTypes = []string{FieldString, FieldNumber, FieldDate, FieldBool, FieldEnum, FieldList, FieldEmail}
	itemTypes  = []string{FieldString, FieldNumber, FieldDate, FieldEmail}
	schemaKeys = []string{"fields"}
	fieldKeys  = []string{"name", "type", "description", "values", "synonyms", "items"}
	typesHint  = "types: " + strings.Join(fieldTypes, ", ")
)

// ParseSchema reads a schema from JSON, strictly: unknown keys, a field
// without a valid and unique name, an unknown type, an enum without values
// and more than MaxSchemaFields fields are EINVALID errors whose message
// names the field.
func ParseSchema(data []byte) (*Schema, error) {
	if !utf8.Valid(data) {
		return nil, Errorf(EINVALID, "schema is not valid UTF-8")
	}
	var top map[string]json.RawMessage
	if err := decodeOne(data, &top); err != nil {
		return nil, Errorf(EINVALID, "schema: %s", err)
	}
	if top == nil {
		return nil, Errorf(EINVALID, `schema must be a JSON object {"fields": [...]}`)
	}
	if err := unknownKeys("schema", top, schemaKeys); err != nil {
		return nil, err
	}
	raw, ok := top["fields"]
	if !ok {
		return nil, Errorf(EINVALID, `schema has no "fields" list`)
	}
	var rawFields []json.RawMessage
	if err := json.Unmarshal(raw, &rawFields); err != nil {
		return nil, Errorf(EINVALID, `schema "fields" must be a list of field objects`)
	}
	if len(rawFields) > MaxSchemaFields {
		return nil, Errorf(EINVALID, "schema has %d fields; the limit is %d", len(rawFields), MaxSchemaFields)
	}
	s := &Schema{Fields: make([]SchemaField, 0, len(rawFields))}
	for i, rf := range rawFields {
		var keys map[string]json.RawMessage
		if err := json.Unmarshal(rf, &keys); err != nil || keys == nil {
			return nil, Errorf(EINVALID, "schema field %d must be an object", i+1)
		}
		what := fmt.Sprintf("schema field %d", i+1)
		var name string
		if err := json.Unmarshal(keys["name"], &name); err == nil && name != "" {
			what = fmt.Sprintf("schema field %d (%q)", i+1, name)
		}
		if err := unknownKeys(what, keys, fieldKeys); err != nil {
			return nil, err
		}
		var f SchemaField
		if err := json.Unmarshal(rf, &f); err != nil {
			var te *json.UnmarshalTypeError
			if ok := asTypeError(err, &te); ok {
				return nil, Errorf(EINVALID, "%s: %q must be a JSON %s", what, te.Field, jsonKind(te.Type.Kind().String()))
			}
			return nil, Errorf(EINVALID, "%s: %v", what, err)
		}
		s.Fields = append(s.Fields, f)
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return s, nil
}

// Validate checks a schema built in code or decoded: the rules of
// ParseSchema except unknown keys. Errors: EINVALID naming the field.
func (s *Schema) Validate() error {
	if s == nil || len(s.Fields) == 0 {
		return Errorf(EINVALID, "schema has no fields")
	}
	if len(s.Fields) > MaxSchemaFields {
		return Errorf(EINVALID, "schema has %d fields; the limit is %d", len(s.Fields), MaxSchemaFields)
	}
	seen := map[string]int{}
	for i, f := range s.Fields {
		what := fmt.Sprintf("schema field %d (%q)", i+1, f.Name)
		switch {
		case f.Name == "":
			return Errorf(EINVALID, "schema field %d has no name", i+1)
		case !fieldName.MatchString(f.Name):
			return Errorf(EINVALID, "%s: the name must be a letter or _ then up to 63 letters, digits or _", what)
		case seen[f.Name] > 0:
			return Errorf(EINVALID, "%s: the name is used already by field %d", what, seen[f.Name])
		case f.Type == "":
			return Errorf(EINVALID, "%s has no type (%s)", what, typesHint)
		case !slices.Contains(fieldTypes, f.Type):
			return Errorf(EINVALID, "%s: unknown type %q (%s)", what, f.Type, typesHint)
		case !utf8.ValidString(f.Description):
			return Errorf(EINVALID, "%s: the description is not valid UTF-8", what)
		case len(f.Description) > MaxFieldDescription:
			return Errorf(EINVALID, "%s: the description is %d bytes; the limit is %d", what, len(f.Description), MaxFieldDescription)
		case f.Type == FieldEnum && len(f.Values) == 0:
			return Errorf(EINVALID, "%s: an enum needs \"values\"", what)
		case f.Type != FieldEnum && len(f.Values) > 0:
			return Errorf(EINVALID, "%s: \"values\" is only for type enum", what)
		case f.Type != FieldEnum && len(f.Synonyms) > 0:
			return Errorf(EINVALID, "%s: \"synonyms\" is only for type enum", what)
		case f.Type != FieldList && f.Items != "":
			return Errorf(EINVALID, "%s: \"items\" is only for type list", what)
		case f.Type == FieldList && f.Items != "" && !slices.Contains(itemTypes, f.Items):
			return Errorf(EINVALID, "%s: unknown item type %q (items: %s)", what, f.Items, strings.Join(itemTypes, ", "))
		case len(f.Values) > MaxEnumValues:
			return Errorf(EINVALID, "%s has %d values; the limit is %d", what, len(f.Values), MaxEnumValues)
		}
		seen[f.Name] = i + 1
		vals := map[string]bool{}
		for _, v := range f.Values {
			k := strings.ToLower(strings.TrimSpace(v))
			switch {
			case k == "":
				return Errorf(EINVALID, "%s: an enum value is empty", what)
			case len(v) > 200 || !utf8.ValidString(v):
				return Errorf(EINVALID, "%s: enum value %.40q is not valid (at most 200 bytes of UTF-8)", what, v)
			case vals[k]:
				return Errorf(EINVALID, "%s: enum value %q is listed twice", what, v)
			}
			vals[k] = true
		}
		for v, syns := range f.Synonyms {
			if !slices.Contains(f.Values, v) {
				return Errorf(EINVALID, "%s: synonyms for %q, which is not one of its values", what, v)
			}
			for _, syn := range syns {
				if strings.TrimSpace(syn) == "" || len(syn) > 200 || !utf8.ValidString(syn) {
					return Errorf(EINVALID, "%s: a synonym of %q is empty or not valid", what, v)
				}
			}
		}
	}
	return nil
}

// decodeOne decodes exactly one JSON value from data.
func decodeOne(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		if err == io.EOF {
			return fmt.Errorf("empty; want a JSON object")
		}
		var te *json.UnmarshalTypeError
		if asTypeError(err, &te) {
			return fmt.Errorf("must be a JSON object, not %s", te.Value)
		}
		return fmt.Errorf("not valid JSON: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("trailing data after the JSON object")
	}
	return nil
}

func asTypeError(err error, te **json.UnmarshalTypeError) bool {
	e, ok := err.(*json.UnmarshalTypeError)
	if ok {
		*te = e
	}
	return ok
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "string"
	case "slice":
		return "list"
	case "map", "struct":
		return "object"
	}
	return goKind
}

func unknownKeys(what string, m map[string]json.RawMessage, known []string) error {
	var bad []string
	for k := range m {
		if !slices.Contains(known, k) {
			bad = append(bad, fmt.Sprintf("%q", k))
		}
	}
	if len(bad) == 0 {
		return nil
	}
	slices.Sort(bad)
	return Errorf(EINVALID, "%s: unknown key %s (known: %s)", what, strings.Join(bad, ", "), strings.Join(known, ", "))
}

// ExtractRequest asks for a schema's fields from one document, named by
// DocID or by Source (exactly one of them).
type ExtractRequest struct {
	// Schema is the fields to extract; it must pass Schema.Validate.
	Schema *Schema
	DocID  string
	Source string
}

// Check returns an EINVALID error for a schema that is not valid or a
// request that names no document or two.
func (r ExtractRequest) Check() error {
	if err := r.Schema.Validate(); err != nil {
		return err
	}
	switch {
	case r.DocID != "" && r.Source != "":
		return Errorf(EINVALID, "name the document by doc_id or by source, not both")
	case r.DocID == "" && r.Source == "":
		return Errorf(EINVALID, "name a document: doc_id or source")
	}
	return nil
}

// Reasons a field's value is null.
const (
	// FieldNotFound: no sentence of the document covers the field.
	FieldNotFound = "not_found"
	// FieldNoValueOfType: sentences cover the field but hold no value of its type.
	FieldNoValueOfType = "no_value_of_type"
	// FieldAmbiguous: the best evidence names two different values equally.
	FieldAmbiguous = "ambiguous"
	// FieldUnsupported: the model's value failed the check against its quote.
	FieldUnsupported = "unsupported"
)

// Extraction is the result of extracting a schema's fields from one document.
type Extraction struct {
	DocID   string `json:"doc_id"`
	Source  string `json:"source"`
	Title   string `json:"title,omitempty"`
	Version string `json:"version"`
	// Fields are in schema order; as JSON an object keyed by field name
	// whose keys keep that order.
	Fields    FieldResults `json:"fields"`
	Generator string       `json:"generator"`
	Provider  string       `json:"provider,omitempty"`
	Model     string       `json:"model,omitempty"`
	Usage     *Usage       `json:"usage,omitempty"`
	// FallbackReason says why the offline extractor answered instead of the
	// configured model.
	FallbackReason string `json:"fallback_reason,omitempty"`
}

// Field returns the result of the named field, or nil.
func (e *Extraction) Field(name string) *FieldResult {
	for i := range e.Fields {
		if e.Fields[i].Name == name {
			return &e.Fields[i]
		}
	}
	return nil
}

// FieldResult is one extracted field. A field without support has a nil
// Value, no Evidence and a Reason; it is never a guess.
type FieldResult struct {
	Name string `json:"-"`
	// Value is typed: string (string, date as ISO 8601, email, enum),
	// float64 (number), bool, []any (list) or nil.
	Value any `json:"value"`
	// Unit is the unit a number was written with: "USD", "EUR", "GBP",
	// "JPY" or "%".
	Unit     string    `json:"unit,omitempty"`
	Evidence *Evidence `json:"evidence,omitempty"`
	// Support (0..1) is how much of the field's description and name the
	// evidence covers.
	Support float64 `json:"support"`
	// Reason is one of the Field* reasons when Value is nil.
	Reason string `json:"reason,omitempty"`
}

// Evidence is the exact text a field's value was read from:
// Quote == Document.Text[Start:End].
type Evidence struct {
	Quote    string `json:"quote"`
	DocID    string `json:"doc_id"`
	Source   string `json:"source"`
	Section  string `json:"section,omitempty"`
	Location string `json:"location,omitempty"`
	Start    int    `json:"start"`
	End      int    `json:"end"`
}

// FieldResults are an extraction's fields in schema order. They marshal as
// one JSON object whose keys are the field names, in that order.
type FieldResults []FieldResult

// MarshalJSON writes {"NAME": {...}, ...} in order.
func (fs FieldResults) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range fs {
		if i > 0 {
			b.WriteByte(',')
		}
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false) // the caller's encoder escapes if it wants to
		if err := enc.Encode(f.Name); err != nil {
			return nil, err
		}
		b.Truncate(b.Len() - 1) // Encode's newline
		b.WriteByte(':')
		if err := enc.Encode(f); err != nil {
			return nil, err
		}
		b.Truncate(b.Len() - 1)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// UnmarshalJSON reads the object MarshalJSON writes, keeping key order.
func (fs *FieldResults) UnmarshalJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok == nil {
		*fs = nil
		return nil
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return fmt.Errorf("fields: want a JSON object")
	}
	out := FieldResults{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		name, _ := tok.(string)
		var f FieldResult
		if err := dec.Decode(&f); err != nil {
			return fmt.Errorf("field %q: %w", name, err)
		}
		f.Name = name
		out = append(out, f)
	}
	*fs = out
	return nil
}
