package extract_test

import (
	"testing"

	"github.com/groundedhq/grounded/answer/extract"
)

func TestParseDate(t *testing.T) {
	tests := []struct{ in, want string }{
		{"2024-03-01", "2024-03-01"},
		{"2024/3/1", "2024-03-01"},
		{"03/01/2024", "2024-03-01"}, // US order: month first
		{"01.03.2024", "2024-03-01"}, // dotted: day first
		{"March 1, 2024", "2024-03-01"},
		{"Mar. 1st 2024", "2024-03-01"},
		{"1 March 2024", "2024-03-01"},
		{"1st of March, 2024", "2024-03-01"},
		{"March 2024", "2024-03"},
		{"February 29, 2024", "2024-02-29"},
		{"February 30, 2024", ""},
		{"13/01/2024", ""},
		{"may 1, 2024", ""}, // month names are capitalized
		{"2024", ""},
		{"1000-1-0", ""}, // day 0 (found by FuzzParseDate)
		{"2024-03", "2024-03"},
		{"", ""},
	}
	for _, tt := range tests {
		got, ok := extract.ParseDate(tt.in)
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("ParseDate(%q) = %q, %v; want %q", tt.in, got, ok, tt.want)
		}
	}
}

func TestParseNumber(t *testing.T) {
	tests := []struct {
		in   string
		want float64
		unit string
		ok   bool
	}{
		{"1250.5", 1250.5, "", true},
		{"1,250", 1250, "", true},
		{"$1,250.50", 1250.5, "USD", true},
		{"USD 1,250", 1250, "USD", true},
		{"1.250,00 €", 1250, "EUR", true},
		{"€99", 99, "EUR", true},
		{"£3.2 million", 3.2e6, "GBP", true},
		{"15%", 15, "%", true},
		{"15 percent", 15, "%", true},
		{"2,5", 2.5, "", true},
		{"1.250.000", 1250000, "", true},
		{"twelve", 12, "", true},
		{"twenty-five", 25, "", true},
		{"30 days", 30, "days", true},
		{"-4", -4, "", true},
		{"1.2.3", 0, "", false},
		{"GPT4", 0, "", false},
		{"abc", 0, "", false},
	}
	for _, tt := range tests {
		got, unit, ok := extract.ParseNumber(tt.in)
		if ok != tt.ok || (ok && (got != tt.want || unit != tt.unit)) {
			t.Errorf("ParseNumber(%q) = %v %q %v; want %v %q %v", tt.in, got, unit, ok, tt.want, tt.unit, tt.ok)
		}
	}
}

func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"2024-03-01", "March 1, 2024", "1st of March, 2024", "03/01/2024", "99/99/9999", "Sept. 31st 2024"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if v, ok := extract.ParseDate(s); ok {
			if again, ok := extract.ParseDate(v); !ok || again != v {
				t.Errorf("ParseDate(%q) = %q, which reads back as %q", s, v, again)
			}
		}
	})
}

func FuzzParseNumber(f *testing.F) {
	for _, s := range []string{"$1,250.50", "1.250,00 €", "15 percent", "twenty-five", "1e400", "9999999999999999999999999999999999", "-0.5k"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		extract.ParseNumber(s) // must not panic
	})
}
