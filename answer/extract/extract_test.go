package extract_test

import (
	"context"
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/groundedhq/grounded"
	"github.com/groundedhq/grounded/answer/extract"
	"github.com/groundedhq/grounded/ingest"
)

// load reads a testdata document the way ingest stores it (text and sections).
func load(t testing.TB, name string) *grounded.Document {
	t.Helper()
	data, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := ingest.Load("testdata/"+name, data)
	if err != nil {
		t.Fatal(err)
	}
	doc.ID = ingest.DocID(doc.Source)
	return doc
}

func schema(t testing.TB) *grounded.Schema {
	t.Helper()
	data, err := os.ReadFile("testdata/schema.json")
	if err != nil {
		t.Fatal(err)
	}
	s, err := grounded.ParseSchema(data)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// checkEvidence asserts every filled field quotes the document exactly.
func checkEvidence(t *testing.T, doc *grounded.Document, x *grounded.Extraction) {
	t.Helper()
	for _, f := range x.Fields {
		if f.Value == nil {
			if f.Reason == "" || f.Evidence != nil {
				t.Errorf("%s: null without a reason, or with evidence: %+v", f.Name, f)
			}
			continue
		}
		ev := f.Evidence
		if ev == nil {
			t.Errorf("%s: a value without evidence", f.Name)
			continue
		}
		if ev.Start < 0 || ev.End > len(doc.Text) || ev.Start >= ev.End || doc.Text[ev.Start:ev.End] != ev.Quote {
			t.Errorf("%s: quote %q is not text[%d:%d]", f.Name, ev.Quote, ev.Start, ev.End)
		}
		if ev.DocID != doc.ID || ev.Source != doc.Source {
			t.Errorf("%s: evidence names %s %s, want %s %s", f.Name, ev.DocID, ev.Source, doc.ID, doc.Source)
		}
		if f.Support <= 0 || f.Support > 1 {
			t.Errorf("%s: support %v out of (0, 1]", f.Name, f.Support)
		}
	}
}

func TestExtractOffline(t *testing.T) {
	doc := load(t, "contract.md")
	x, err := extract.New(extract.Config{}).Extract(context.Background(), schema(t), doc, nil)
	if err != nil {
		t.Fatal(err)
	}
	if x.Generator != extract.GeneratorExtractive || x.DocID != doc.ID || x.Version != grounded.VersionOf(doc.ContentHash) {
		t.Errorf("generator %q doc %q version %q", x.Generator, x.DocID, x.Version)
	}
	checkEvidence(t, doc, x)
	tests := []struct {
		field   string
		value   any
		unit    string
		quote   string // the sentence the value must be read from
		section string
	}{
		{"effective_date", "2024-03-01", "", "This Agreement takes effect on March 1, 2024 and continues for an initial term of twelve (12) months.", "Software Services Agreement > Term"},
		{"monthly_fee", 1250.5, "USD", "The monthly subscription fee is $1,250.50, payable in advance.", "Software Services Agreement > Plan and fees"},
		{"late_interest_rate", 1.5, "%", "Invoices unpaid after the due date accrue late interest at 1.5% per month.", ""},
		{"prepayment_discount", 15.0, "%", "Annual prepayment earns a discount of 15 percent.", ""},
		{"notice_days", 30.0, "days", "Either party may terminate this Agreement with 30 days' written notice.", ""},
		{"support_email", "support@northwind.example", "", "Support requests go to support@northwind.example.", "Software Services Agreement > Support"},
		{"plan", "pro", "", "The Customer subscribes to the Pro plan.", ""},
		{"auto_renewal", true, "", "The Agreement renews automatically for successive one-year terms unless either party gives notice.", ""},
		{"phone_support", false, "", "Phone support is not included in the Pro plan.", ""},
		{"included_services", []any{"Data ingestion", "Dashboard hosting", "Email support"}, "", "The subscription includes the following services:\n\n- Data ingestion\n- Dashboard hosting\n- Email support", ""},
		{"governing_law", "the law of the State of Delaware", "", "The governing law is the law of the State of Delaware.", "Software Services Agreement > General"},
	}
	for _, tt := range tests {
		t.Run(tt.field, func(t *testing.T) {
			f := x.Field(tt.field)
			if f == nil {
				t.Fatalf("no field %s", tt.field)
			}
			if !reflect.DeepEqual(f.Value, tt.value) || f.Unit != tt.unit {
				t.Fatalf("value %#v unit %q, want %#v %q (reason %q)", f.Value, f.Unit, tt.value, tt.unit, f.Reason)
			}
			start := strings.Index(doc.Text, tt.quote)
			if f.Evidence.Start != start || f.Evidence.End != start+len(tt.quote) {
				t.Errorf("evidence [%d,%d) %q, want [%d,%d) %q", f.Evidence.Start, f.Evidence.End, f.Evidence.Quote, start, start+len(tt.quote), tt.quote)
			}
			if tt.section != "" && f.Evidence.Section != tt.section {
				t.Errorf("section %q, want %q", f.Evidence.Section, tt.section)
			}
		})
	}
	// The contract states no termination fee: a fee elsewhere is no answer.
	if f := x.Field("termination_fee"); f.Value != nil || f.Reason != grounded.FieldNotFound {
		t.Errorf("termination_fee = %#v (%q), want null not_found", f.Value, f.Reason)
	}
}

func TestExtractAbsent(t *testing.T) {
	doc := load(t, "memo.md")
	x, err := extract.New(extract.Config{}).Extract(context.Background(), schema(t), doc, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkEvidence(t, doc, x)
	for _, f := range x.Fields {
		if f.Value != nil {
			t.Errorf("%s = %#v from %q: the memo states no such thing", f.Name, f.Value, f.Evidence.Quote)
		}
	}
	// "plan" is named ("a floor plan") but no plan value is.
	if f := x.Field("plan"); f.Reason != grounded.FieldNoValueOfType {
		t.Errorf("plan reason %q, want %q", f.Reason, grounded.FieldNoValueOfType)
	}
	// The memo has a date, but not an effective date.
	if f := x.Field("effective_date"); f.Reason != grounded.FieldNotFound {
		t.Errorf("effective_date reason %q, want %q", f.Reason, grounded.FieldNotFound)
	}
}

func TestExtractAmbiguousEnum(t *testing.T) {
	doc := &grounded.Document{ID: "d", Source: "s.md", Text: "The customer plan is Basic or Pro, to be decided.\n"}
	s := &grounded.Schema{Fields: []grounded.SchemaField{{Name: "plan", Type: grounded.FieldEnum, Values: []string{"basic", "pro"}, Description: "Which plan?"}}}
	x, err := extract.New(extract.Config{}).Extract(context.Background(), s, doc, nil)
	if err != nil {
		t.Fatal(err)
	}
	if f := x.Fields[0]; f.Value != nil || f.Reason != grounded.FieldAmbiguous {
		t.Errorf("plan = %#v (%q), want null ambiguous", f.Value, f.Reason)
	}
}

func TestExtractSynonym(t *testing.T) {
	doc := &grounded.Document{ID: "d", Source: "s.md", Text: "Tier: the customer plan is Professional.\n"}
	s := &grounded.Schema{Fields: []grounded.SchemaField{{Name: "plan", Type: grounded.FieldEnum, Values: []string{"basic", "pro"},
		Synonyms: map[string][]string{"pro": {"professional"}}, Description: "Which plan?"}}}
	x, err := extract.New(extract.Config{}).Extract(context.Background(), s, doc, nil)
	if err != nil {
		t.Fatal(err)
	}
	if f := x.Fields[0]; f.Value != "pro" {
		t.Errorf("plan = %#v (%q), want pro", f.Value, f.Reason)
	}
}

// TestFieldsKeepSchemaOrder: the JSON object lists fields in schema order
// and reads back the same.
func TestFieldsKeepSchemaOrder(t *testing.T) {
	s := schema(t)
	x, err := extract.New(extract.Config{}).Extract(context.Background(), s, load(t, "contract.md"), nil)
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(x)
	if err != nil {
		t.Fatal(err)
	}
	last := -1
	for _, f := range s.Fields {
		i := strings.Index(string(data), `"`+f.Name+`":`)
		if i < last {
			t.Errorf("field %s is out of schema order in %s", f.Name, data)
		}
		last = i
	}
	var back grounded.Extraction
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if len(back.Fields) != len(s.Fields) || back.Fields[3].Name != s.Fields[3].Name {
		t.Errorf("read back %d fields", len(back.Fields))
	}
}

func BenchmarkExtract(b *testing.B) {
	doc := load(b, "contract.md")
	s := schema(b)
	e := extract.New(extract.Config{})
	for b.Loop() {
		if _, err := e.Extract(context.Background(), s, doc, nil); err != nil {
			b.Fatal(err)
		}
	}
}
