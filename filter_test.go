package grounded_test

import (
	"testing"

	"github.com/groundedhq/grounded"
)

func TestParseFilterAndMatch(t *testing.T) {
	if _, err := grounded.ParseFilter([]string{"novalue"}); grounded.ErrorCode(err) != grounded.EINVALID {
		t.Errorf("a term without = : %v", err)
	}
	if _, err := grounded.ParseFilter([]string{"=x"}); grounded.ErrorCode(err) != grounded.EINVALID {
		t.Errorf("an empty key: %v", err)
	}
	f, err := grounded.ParseFilter([]string{"type=pdf", "source=/docs/*", "team=a=b"})
	if err != nil || f["team"] != "a=b" {
		t.Fatalf("ParseFilter = %v, %v", f, err)
	}
	c := grounded.Chunk{Source: "/docs/x.pdf", Format: "pdf", Meta: map[string]string{"team": "a=b"}}
	if !f.Match(c) {
		t.Error("a matching chunk failed")
	}
	c.Source = "/doc/x.pdf"
	if f.Match(c) {
		t.Error("a source outside the prefix matched")
	}
	if !(grounded.Filter(nil)).Match(c) {
		t.Error("a nil filter must match everything")
	}
}
