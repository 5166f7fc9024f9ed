package grounded_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/groundedhq/grounded"
)

func TestParseSchema(t *testing.T) {
	s, err := grounded.ParseSchema([]byte(`{"fields": [
		{"name": "effective_date", "type": "date", "description": "When does it take effect?"},
		{"name": "plan", "type": "enum", "values": ["basic", "pro"], "synonyms": {"pro": ["professional"]}},
		{"name": "items", "type": "list", "items": "number"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Fields) != 3 || s.Fields[1].Values[1] != "pro" || s.Fields[2].Items != "number" {
		t.Errorf("parsed %+v", s)
	}
}

func TestParseSchemaRejects(t *testing.T) {
	many := make([]string, grounded.MaxSchemaFields+1)
	for i := range many {
		many[i] = fmt.Sprintf(`{"name": "f%d", "type": "string"}`, i)
	}
	tests := []struct{ name, schema, want string }{
		{"empty", ``, "empty"},
		{"not JSON", `{"fields": [`, "not valid JSON"},
		{"not an object", `[1]`, "must be a JSON object"},
		{"trailing data", `{"fields": [{"name": "a", "type": "string"}]} x`, "trailing data"},
		{"no fields key", `{}`, `no "fields"`},
		{"no fields", `{"fields": []}`, "no fields"},
		{"fields not a list", `{"fields": {"a": 1}}`, "must be a list"},
		{"unknown top key", `{"fields": [{"name": "a", "type": "string"}], "version": 2}`, `unknown key "version"`},
		{"field not an object", `{"fields": ["a"]}`, "field 1 must be an object"},
		{"unknown field key", `{"fields": [{"name": "a", "type": "string", "format": "x"}]}`, `field 1 ("a"): unknown key "format"`},
		{"no name", `{"fields": [{"type": "string"}]}`, "field 1 has no name"},
		{"empty name", `{"fields": [{"name": "", "type": "string"}]}`, "field 1 has no name"},
		{"invalid name", `{"fields": [{"name": "effective date", "type": "date"}]}`, `field 1 ("effective date"): the name must be`},
		{"duplicate name", `{"fields": [{"name": "a", "type": "string"}, {"name": "a", "type": "date"}]}`, `field 2 ("a"): the name is used already by field 1`},
		{"no type", `{"fields": [{"name": "a"}]}`, `field 1 ("a") has no type`},
		{"unknown type", `{"fields": [{"name": "a", "type": "money"}]}`, `field 1 ("a"): unknown type "money"`},
		{"type not a string", `{"fields": [{"name": "a", "type": 3}]}`, `"type" must be a JSON string`},
		{"enum without values", `{"fields": [{"name": "plan", "type": "enum"}]}`, `field 1 ("plan"): an enum needs "values"`},
		{"enum empty value", `{"fields": [{"name": "plan", "type": "enum", "values": ["a", " "]}]}`, "an enum value is empty"},
		{"enum duplicate value", `{"fields": [{"name": "plan", "type": "enum", "values": ["Pro", "pro"]}]}`, `enum value "pro" is listed twice`},
		{"values on a string", `{"fields": [{"name": "a", "type": "string", "values": ["x"]}]}`, `"values" is only for type enum`},
		{"synonym of no value", `{"fields": [{"name": "p", "type": "enum", "values": ["a"], "synonyms": {"b": ["c"]}}]}`, `synonyms for "b"`},
		{"items on a date", `{"fields": [{"name": "a", "type": "date", "items": "string"}]}`, `"items" is only for type list`},
		{"unknown item type", `{"fields": [{"name": "a", "type": "list", "items": "bool"}]}`, `unknown item type "bool"`},
		{"too many fields", `{"fields": [` + strings.Join(many, ",") + `]}`, "101 fields; the limit is 100"},
		{"description too long", `{"fields": [{"name": "a", "type": "string", "description": "` + strings.Repeat("x", 1001) + `"}]}`, "description is 1001 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := grounded.ParseSchema([]byte(tt.schema))
			if grounded.ErrorCode(err) != grounded.EINVALID || !strings.Contains(grounded.ErrorMessage(err), tt.want) {
				t.Errorf("err %v (%s), want EINVALID containing %q", err, grounded.ErrorCode(err), tt.want)
			}
		})
	}
}

func FuzzParseSchema(f *testing.F) {
	f.Add(`{"fields": [{"name": "a", "type": "enum", "values": ["x"], "synonyms": {"x": ["y"]}}]}`)
	f.Add(`{"fields": [{"name": "b", "type": "list", "items": "date", "description": "d"}]}`)
	f.Add(`{"fields": null}`)
	f.Add(`{"fields": [null]}`)
	f.Fuzz(func(t *testing.T, data string) {
		s, err := grounded.ParseSchema([]byte(data))
		if err == nil && s.Validate() != nil {
			t.Errorf("ParseSchema accepted a schema Validate rejects: %q", data)
		}
		if err != nil && grounded.ErrorCode(err) != grounded.EINVALID {
			t.Errorf("error code %s for %q", grounded.ErrorCode(err), data)
		}
	})
}
