package grounded_test

import (
	"testing"

	"github.com/groundedhq/grounded"
)

func TestAskRequestCheck(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	for _, tc := range []struct {
		name string
		req  grounded.AskRequest
		ok   bool
	}{
		{"plain", grounded.AskRequest{Question: "q"}, true},
		{"min confidence 0", grounded.AskRequest{Question: "q", MinConfidence: f(0)}, true},
		{"min confidence 1", grounded.AskRequest{Question: "q", MinConfidence: f(1)}, true},
		{"min confidence above 1", grounded.AskRequest{Question: "q", MinConfidence: f(1.5)}, false},
		{"min confidence negative", grounded.AskRequest{Question: "q", MinConfidence: f(-0.1)}, false},
		{"blank question", grounded.AskRequest{Question: " "}, false},
		{"k too large", grounded.AskRequest{Question: "q", K: grounded.MaxK + 1}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.req.Check()
			if (err == nil) != tc.ok {
				t.Fatalf("Check() = %v, want ok=%v", err, tc.ok)
			}
			if err != nil && grounded.ErrorCode(err) != grounded.EINVALID {
				t.Errorf("code %s, want %s", grounded.ErrorCode(err), grounded.EINVALID)
			}
		})
	}
}
