package extract_test

import (
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/groundedhq/grounded"
	"github.com/groundedhq/grounded/answer/extract"
	"github.com/groundedhq/grounded/answer/grounding"
)

// answer is what the scripted model says about one field.
type answer struct {
	value any
	quote string
	// passage, when set, overrides the passage the quote is found in.
	passage int
}

var passageRE = regexp.MustCompile(`(?s)<passage n="(\d+)" section=".*?">\n(.*?)\n</passage>`)

// scripted returns a model that replies with answers, citing for each quote
// the prompt passage that holds it (0 when none does), wrapped by wrap.
func scripted(t *testing.T, answers map[string]*answer, wrap func(string) string) (*grounded.LLM, *[]grounded.GenerateRequest) {
	var reqs []grounded.GenerateRequest
	gen := func(ctx context.Context, req grounded.GenerateRequest) (*grounded.GenerateReply, error) {
		reqs = append(reqs, req)
		fields := map[string]any{}
		for name, a := range answers {
			if a == nil {
				fields[name] = nil
				continue
			}
			n := a.passage
			for _, m := range passageRE.FindAllStringSubmatch(req.Prompt, -1) {
				if n == 0 && strings.Contains(strings.Join(strings.Fields(m[2]), " "), strings.Join(strings.Fields(a.quote), " ")) {
					n, _ = strconv.Atoi(m[1])
				}
			}
			fields[name] = map[string]any{"value": a.value, "passage": n, "quote": a.quote}
		}
		data, err := json.Marshal(map[string]any{"fields": fields})
		if err != nil {
			t.Fatal(err)
		}
		return &grounded.GenerateReply{Text: wrap(string(data)), Usage: grounded.Usage{PromptTokens: 100, CompletionTokens: 20}}, nil
	}
	return &grounded.LLM{Provider: "fake", Model: "scripted", Generate: gen}, &reqs
}

func fieldsSchema(fields ...grounded.SchemaField) *grounded.Schema {
	return &grounded.Schema{Fields: fields}
}

var (
	dateField  = grounded.SchemaField{Name: "effective_date", Type: grounded.FieldDate, Description: "When does the contract take effect?"}
	feeField   = grounded.SchemaField{Name: "monthly_fee", Type: grounded.FieldNumber, Description: "What is the monthly subscription fee?"}
	planField  = grounded.SchemaField{Name: "plan", Type: grounded.FieldEnum, Values: []string{"basic", "pro", "enterprise"}, Description: "Which plan?"}
	lawField   = grounded.SchemaField{Name: "governing_law", Type: grounded.FieldString, Description: "What is the governing law?"}
	phoneField = grounded.SchemaField{Name: "phone_support", Type: grounded.FieldBool, Description: "Is phone support included?"}
	listField  = grounded.SchemaField{Name: "included_services", Type: grounded.FieldList, Description: "Which services are included?"}
)

func TestExtractLLM(t *testing.T) {
	doc := load(t, "contract.md")
	fence := func(s string) string { return "Here you go:\n```json\n" + s + "\n```\n" }
	plain := func(s string) string { return s }
	tests := []struct {
		name    string
		field   grounded.SchemaField
		answer  *answer
		wrap    func(string) string
		value   any
		unit    string
		reason  string
		quoteIs string // the evidence quote, when a value passes
	}{
		{"date passes", dateField, &answer{value: "2024-03-01", quote: "takes effect on March 1, 2024"}, fence, "2024-03-01", "", "", "takes effect on March 1, 2024"},
		{"money passes with unit", feeField, &answer{value: 1250.5, quote: "The monthly subscription fee is $1,250.50"}, plain, 1250.5, "USD", "", "The monthly subscription fee is $1,250.50"},
		{"quote with other spacing maps to the exact text", feeField, &answer{value: 1250.5, quote: "monthly   subscription\nfee is $1,250.50"}, plain, 1250.5, "USD", "", "monthly subscription fee is $1,250.50"},
		{"enum passes", planField, &answer{value: "Pro", quote: "subscribes to the Pro plan"}, plain, "pro", "", "", "subscribes to the Pro plan"},
		{"string is the quote's own words", lawField, &answer{value: "THE LAW OF THE STATE OF DELAWARE", quote: "The governing law is the law of the State of Delaware."}, plain, "the law of the State of Delaware", "", "", "The governing law is the law of the State of Delaware."},
		{"bool passes", phoneField, &answer{value: false, quote: "Phone support is not included in the Pro plan."}, plain, false, "", "", "Phone support is not included in the Pro plan."},
		{"list passes", listField, &answer{value: []string{"Data ingestion", "Email support"}, quote: "- Data ingestion\n- Dashboard hosting\n- Email support"}, plain, []any{"Data ingestion", "Email support"}, "", "", "- Data ingestion\n- Dashboard hosting\n- Email support"},

		{"number not in its quote", feeField, &answer{value: 1300, quote: "The monthly subscription fee is $1,250.50"}, plain, nil, "", grounded.FieldUnsupported, ""},
		{"date not in its quote", dateField, &answer{value: "2024-04-01", quote: "takes effect on March 1, 2024"}, plain, nil, "", grounded.FieldUnsupported, ""},
		{"enum value the quote does not name", planField, &answer{value: "enterprise", quote: "subscribes to the Pro plan"}, plain, nil, "", grounded.FieldUnsupported, ""},
		{"enum value outside the schema", planField, &answer{value: "gold", quote: "subscribes to the Pro plan"}, plain, nil, "", grounded.FieldUnsupported, ""},
		{"bool the quote contradicts", phoneField, &answer{value: true, quote: "Phone support is not included in the Pro plan."}, plain, nil, "", grounded.FieldUnsupported, ""},
		{"string not in its quote", lawField, &answer{value: "the law of New York", quote: "The governing law is the law of the State of Delaware."}, plain, nil, "", grounded.FieldUnsupported, ""},
		{"invented quote", feeField, &answer{value: 990, quote: "The monthly fee is $990."}, plain, nil, "", grounded.FieldUnsupported, ""},
		{"quote in another passage than cited", dateField, &answer{value: "2024-03-01", quote: "takes effect on March 1, 2024", passage: 1}, plain, nil, "", grounded.FieldUnsupported, ""},
		{"passage out of range", dateField, &answer{value: "2024-03-01", quote: "takes effect on March 1, 2024", passage: 99}, plain, nil, "", grounded.FieldUnsupported, ""},
		{"model says null", dateField, nil, plain, nil, "", grounded.FieldNotFound, ""},
		{"wrong JSON type", feeField, &answer{value: map[string]int{"x": 1}, quote: "The monthly subscription fee is $1,250.50"}, plain, nil, "", grounded.FieldUnsupported, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			llm, reqs := scripted(t, map[string]*answer{tt.field.Name: tt.answer}, tt.wrap)
			x, err := extract.New(extract.Config{Model: &grounding.Model{LLM: *llm}}).Extract(context.Background(), fieldsSchema(tt.field), doc, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(*reqs) != 1 || !strings.Contains((*reqs)[0].Prompt, "- "+tt.field.Name+" (") {
				t.Fatalf("%d model calls; the prompt does not list the field", len(*reqs))
			}
			if x.Generator != "fake" || x.Model != "scripted" || x.FallbackReason != "" || x.Usage == nil {
				t.Fatalf("generator %q model %q fallback %q", x.Generator, x.Model, x.FallbackReason)
			}
			checkEvidence(t, doc, x)
			f := x.Fields[0]
			if f.Name != tt.field.Name || !equalJSON(f.Value, tt.value) || f.Unit != tt.unit || f.Reason != tt.reason {
				t.Fatalf("got %s = %#v %q reason %q; want %#v %q reason %q", f.Name, f.Value, f.Unit, f.Reason, tt.value, tt.unit, tt.reason)
			}
			if tt.quoteIs != "" && f.Evidence.Quote != tt.quoteIs {
				t.Errorf("evidence %q, want %q", f.Evidence.Quote, tt.quoteIs)
			}
		})
	}
}

func equalJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

// TestExtractLLMFallback: a reply that is not JSON, or a failed model,
// gives the offline extraction with the reason.
func TestExtractLLMFallback(t *testing.T) {
	doc := load(t, "contract.md")
	garbage := &grounded.LLM{Provider: "fake", Generate: func(ctx context.Context, req grounded.GenerateRequest) (*grounded.GenerateReply, error) {
		return &grounded.GenerateReply{Text: "I think the fee is about a thousand dollars {not json"}, nil
	}}
	broken := &grounded.LLM{Provider: "fake", Generate: func(ctx context.Context, req grounded.GenerateRequest) (*grounded.GenerateReply, error) {
		return nil, errors.New("fake: 503 after 3 attempts")
	}}
	noFields := &grounded.LLM{Provider: "fake", Generate: func(ctx context.Context, req grounded.GenerateRequest) (*grounded.GenerateReply, error) {
		return &grounded.GenerateReply{Text: `{"answer": 1}`}, nil
	}}
	for name, llm := range map[string]*grounded.LLM{"garbage": garbage, "error": broken, "no fields": noFields} {
		t.Run(name, func(t *testing.T) {
			x, err := extract.New(extract.Config{Model: &grounding.Model{LLM: *llm}}).Extract(context.Background(), fieldsSchema(feeField, dateField), doc, nil)
			if err != nil {
				t.Fatal(err)
			}
			if x.Generator != extract.GeneratorExtractive || x.FallbackReason == "" || x.Usage != nil {
				t.Fatalf("generator %q fallback %q", x.Generator, x.FallbackReason)
			}
			if x.Fields[0].Value != 1250.5 || x.Fields[1].Value != "2024-03-01" || len(x.Fields) != 2 {
				t.Errorf("fallback fields %+v", x.Fields)
			}
			checkEvidence(t, doc, x)
		})
	}
	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		cancelled := &grounded.LLM{Provider: "fake", Generate: func(ctx context.Context, req grounded.GenerateRequest) (*grounded.GenerateReply, error) {
			return nil, ctx.Err()
		}}
		if _, err := extract.New(extract.Config{Model: &grounding.Model{LLM: *cancelled}}).Extract(ctx, fieldsSchema(feeField), doc, nil); !errors.Is(err, context.Canceled) {
			t.Errorf("err %v, want context.Canceled", err)
		}
	})
}

// TestExtractLLMPacksPerField: a document over the passage budget shows the
// model each field's best passages, not the first ones.
func TestExtractLLMPacksPerField(t *testing.T) {
	doc := load(t, "contract.md")
	llm, reqs := scripted(t, map[string]*answer{"governing_law": {value: "the law of the State of Delaware", quote: "the law of the State of Delaware"}}, func(s string) string { return s })
	x, err := extract.New(extract.Config{Model: &grounding.Model{LLM: *llm, PassageTokens: 60}}).Extract(context.Background(), fieldsSchema(lawField), doc, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := (*reqs)[0].Prompt
	if !strings.Contains(p, "governing law") || strings.Contains(p, "takes effect") {
		t.Errorf("the prompt should hold the governing-law passage only:\n%s", p)
	}
	if x.Fields[0].Value != "the law of the State of Delaware" {
		t.Errorf("value %#v (%s)", x.Fields[0].Value, x.Fields[0].Reason)
	}
}
