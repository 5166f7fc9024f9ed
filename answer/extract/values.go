package extract

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// match is a typed value found in a text, at text[Start:End].
type match struct {
	Start, End int
	Value      any
	Unit       string
}

// Dates. The forms read, each checked to be a real calendar day:
//
//	2024-03-01, 2024/03/01          year first
//	03/01/2024                      month first (US order): March 1
//	01.03.2024                      day first (European dotted): March 1
//	March 1, 2024; Mar. 1st 2024    month name, day, year
//	1 March 2024; 1st of March, 2024
//	March 2024                      month only: "2024-03"
//
// Month names are English, full or abbreviated, capitalized.
const monthRE = `(Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)`

var (
	isoMonth     = regexp.MustCompile(`^(\d{4})-(\d{2})$`)
	dateYMD      = regexp.MustCompile(`\b(\d{4})[-/](\d{1,2})[-/](\d{1,2})\b`)
	dateMDY      = regexp.MustCompile(`\b(\d{1,2})/(\d{1,2})/(\d{4})\b`)
	dateDMYDot   = regexp.MustCompile(`\b(\d{1,2})\.(\d{1,2})\.(\d{4})\b`)
	dateNameMDY  = regexp.MustCompile(`\b` + monthRE + `\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})\b`)
	dateNameDMY  = regexp.MustCompile(`\b(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?` + monthRE + `\.?,?\s+(\d{4})\b`)
	dateNameMY   = regexp.MustCompile(`\b` + monthRE + `\.?,?\s+(\d{4})\b`)
	monthNumbers = map[string]int{"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12}
)

// findDates returns the dates in s in order of position, as ISO strings.
func findDates(s string) []match {
	var out []match
	add := func(start, end int, y, m, d int) {
		for _, o := range out {
			if start < o.End && o.Start < end {
				return // a longer form already took these bytes
			}
		}
		if v, ok := isoDate(y, m, d); ok {
			out = append(out, match{Start: start, End: end, Value: v})
		}
	}
	atoi := func(x string) int { n, _ := strconv.Atoi(x); return n }
	month := func(name string) int { return monthNumbers[strings.ToLower(name[:3])] }
	for _, m := range dateNameMDY.FindAllStringSubmatchIndex(s, -1) {
		add(m[0], m[1], atoi(s[m[6]:m[7]]), month(s[m[2]:m[3]]), atoi(s[m[4]:m[5]]))
	}
	for _, m := range dateNameDMY.FindAllStringSubmatchIndex(s, -1) {
		add(m[0], m[1], atoi(s[m[6]:m[7]]), month(s[m[4]:m[5]]), atoi(s[m[2]:m[3]]))
	}
	for _, m := range dateYMD.FindAllStringSubmatchIndex(s, -1) {
		add(m[0], m[1], atoi(s[m[2]:m[3]]), atoi(s[m[4]:m[5]]), atoi(s[m[6]:m[7]]))
	}
	for _, m := range dateMDY.FindAllStringSubmatchIndex(s, -1) {
		add(m[0], m[1], atoi(s[m[6]:m[7]]), atoi(s[m[2]:m[3]]), atoi(s[m[4]:m[5]]))
	}
	for _, m := range dateDMYDot.FindAllStringSubmatchIndex(s, -1) {
		add(m[0], m[1], atoi(s[m[6]:m[7]]), atoi(s[m[4]:m[5]]), atoi(s[m[2]:m[3]]))
	}
	for _, m := range dateNameMY.FindAllStringSubmatchIndex(s, -1) {
		add(m[0], m[1], atoi(s[m[4]:m[5]]), month(s[m[2]:m[3]]), monthOnly)
	}
	sortMatches(out)
	return out
}

// monthOnly is the day of a date that names only its month.
const monthOnly = -1

// isoDate formats a calendar date; d == monthOnly formats the month alone.
func isoDate(y, m, d int) (string, bool) {
	if y < 1000 || y > 9999 || m < 1 || m > 12 || (d < 1 && d != monthOnly) {
		return "", false
	}
	if d == monthOnly {
		return fmt.Sprintf("%04d-%02d", y, m), true
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if t.Day() != d || int(t.Month()) != m {
		return "", false // February 30
	}
	return t.Format("2006-01-02"), true
}

// ParseDate reads a whole string as one date (any form findDates reads)
// and returns it as ISO 8601.
func ParseDate(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if m := isoMonth.FindStringSubmatch(s); m != nil { // "2024-03", as ParseDate writes a month
		y, _ := strconv.Atoi(m[1])
		mo, _ := strconv.Atoi(m[2])
		return isoDate(y, mo, monthOnly)
	}
	ds := findDates(s)
	if len(ds) != 1 || ds[0].Start != 0 || ds[0].End != len(s) {
		return "", false
	}
	return ds[0].Value.(string), true
}

// Numbers. A number is a run of digits with ',' or '.' between digits:
// "1,250.50" and "1.250,50" are 1250.5 (with both separators the last is
// the decimal point); "1,250" (groups of three) is 1250 and "2,5" is 2.5;
// "1.250.000" is 1250000. A currency sign or code before or after makes it
// money (unit "USD", "EUR", "GBP", "JPY"); "%", "percent" or "per cent"
// after makes it a percentage (unit "%"); "thousand", "million" or
// "billion" after multiplies it; "days", "months", ... after give it that
// unit. Digits inside a word ("GPT4", "H100") are not a number. Number
// words from "one" to "ninety-nine" are read too.
var (
	currencyBefore = []struct{ sign, unit string }{
		{"US$", "USD"}, {"USD", "USD"}, {"$", "USD"}, {"EUR", "EUR"}, {"€", "EUR"},
		{"GBP", "GBP"}, {"£", "GBP"}, {"JPY", "JPY"}, {"¥", "JPY"},
	}
	unitAfter    = regexp.MustCompile(`^\s?(%|percent\b|per cent\b|USD\b|EUR\b|GBP\b|€|dollars?\b|euros?\b|pounds?\b)`)
	scaleAfter   = regexp.MustCompile(`^\s(thousand|million|billion)\b`)
	periodAfter  = regexp.MustCompile(`^(?:\s|-)(days?|weeks?|months?|years?|hours?|minutes?)\b`)
	numberWordRE = regexp.MustCompile(`(?i)\b(zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)(?:-(one|two|three|four|five|six|seven|eight|nine))?\b`)
	wordValues   = map[string]float64{
		"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
		"ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
		"seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
		"sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
	}
	unitNames = map[string]string{
		"%": "%", "percent": "%", "per cent": "%", "usd": "USD", "dollar": "USD", "dollars": "USD",
		"eur": "EUR", "€": "EUR", "euro": "EUR", "euros": "EUR", "gbp": "GBP", "pound": "GBP", "pounds": "GBP",
	}
)

// findNumbers returns the numbers of s in order of position, skipping the
// bytes of skip (dates already found).
func findNumbers(s string, skip []match) []match {
	var out []match
	inSkip := func(i int) bool {
		for _, m := range skip {
			if i >= m.Start && i < m.End {
				return true
			}
		}
		return false
	}
	for i := 0; i < len(s); {
		if !isDigit(s[i]) {
			i++
			continue
		}
		start := i
		end := i + 1
		for end < len(s) {
			if isDigit(s[end]) {
				end++
				continue
			}
			if (s[end] == ',' || s[end] == '.') && end+1 < len(s) && isDigit(s[end+1]) {
				end++
				continue
			}
			break
		}
		i = end
		if inSkip(start) {
			continue
		}
		if r, _ := utf8.DecodeLastRuneInString(s[:start]); start > 0 && (unicode.IsLetter(r) || r == '_') {
			continue // "GPT4", "v2"
		}
		if r, _ := utf8.DecodeRuneInString(s[end:]); end < len(s) && unicode.IsLetter(r) && !ordinalSuffix(s[end:]) && !strings.HasPrefix(s[end:], "k") {
			continue // "4o", "H100x"
		}
		v, ok := parseNumber(s[start:end])
		if !ok {
			continue
		}
		m := match{Start: start, End: end, Value: v}
		if start > 0 && s[start-1] == '-' && (start == 1 || !isWordByte(s[start-2])) {
			m.Start--
			m.Value = -v
		}
		// Currency before: "$1,250", "USD 1,250", "€ 99".
		before := strings.TrimRight(s[:m.Start], " \u00a0")
		for _, c := range currencyBefore {
			if strings.HasSuffix(before, c.sign) {
				p := len(before) - len(c.sign)
				if p > 0 && isWordByte(before[p-1]) && isWordByte(c.sign[0]) {
					continue // "AUSD"
				}
				m.Start, m.Unit = p, c.unit
				break
			}
		}
		rest := s[end:]
		if strings.HasPrefix(rest, "k") && (len(rest) == 1 || !isWordByte(rest[1])) {
			m.Value = m.Value.(float64) * 1000
			m.End++
			rest = rest[1:]
		} else if sc := scaleAfter.FindStringSubmatch(rest); sc != nil {
			m.Value = m.Value.(float64) * map[string]float64{"thousand": 1e3, "million": 1e6, "billion": 1e9}[sc[1]]
			m.End += len(sc[0])
			rest = rest[len(sc[0]):]
		}
		if u := unitAfter.FindStringSubmatch(rest); u != nil {
			if unit := unitNames[strings.ToLower(u[1])]; unit != "" && (m.Unit == "" || m.Unit == unit) {
				m.Unit = unit
				m.End += len(u[0])
			}
		} else if p := periodAfter.FindStringSubmatch(rest); p != nil && m.Unit == "" {
			m.Unit = strings.TrimSuffix(p[1], "s") + "s"
		}
		m.Value = round(m.Value.(float64))
		out = append(out, m)
	}
	for _, w := range numberWordRE.FindAllStringSubmatchIndex(s, -1) {
		if inSkip(w[0]) {
			continue
		}
		v := wordValues[strings.ToLower(s[w[2]:w[3]])]
		if w[4] >= 0 {
			if v < 20 {
				continue // "six-one"
			}
			v += wordValues[strings.ToLower(s[w[4]:w[5]])]
		}
		m := match{Start: w[0], End: w[1], Value: v}
		if p := periodAfter.FindStringSubmatch(s[w[1]:]); p != nil {
			m.Unit = strings.TrimSuffix(p[1], "s") + "s"
		} else if u := unitAfter.FindStringSubmatch(s[w[1]:]); u != nil && unitNames[strings.ToLower(u[1])] == "%" {
			m.Unit, m.End = "%", m.End+len(u[0])
		}
		out = append(out, m)
	}
	sortMatches(out)
	return out
}

func ordinalSuffix(s string) bool {
	for _, suf := range []string{"st", "nd", "rd", "th"} {
		if strings.HasPrefix(s, suf) && (len(s) == 2 || !isWordByte(s[2])) {
			return true
		}
	}
	return false
}

// parseNumber reads digits with ',' and '.' separators (see findNumbers).
func parseNumber(raw string) (float64, bool) {
	lastDot, lastComma := strings.LastIndexByte(raw, '.'), strings.LastIndexByte(raw, ',')
	var intPart, frac string
	switch {
	case lastDot >= 0 && lastComma >= 0:
		dec := max(lastDot, lastComma)
		thou := byte(',')
		if dec == lastComma {
			thou = '.'
		}
		intPart, frac = raw[:dec], raw[dec+1:]
		if strings.ContainsAny(frac, ".,") || !groupsOfThree(intPart, thou) {
			return 0, false
		}
	case lastComma >= 0:
		if groupsOfThree(raw, ',') {
			intPart = raw
		} else if strings.Count(raw, ",") == 1 {
			intPart, frac = raw[:lastComma], raw[lastComma+1:] // "2,5": a decimal comma
		} else {
			return 0, false
		}
	case lastDot >= 0:
		if strings.Count(raw, ".") == 1 {
			intPart, frac = raw[:lastDot], raw[lastDot+1:]
		} else if groupsOfThree(raw, '.') {
			intPart = raw
		} else {
			return 0, false // "1.2.3", a version
		}
	default:
		intPart = raw
	}
	digits := strings.NewReplacer(",", "", ".", "").Replace(intPart)
	if frac != "" {
		digits += "." + frac
	}
	if len(digits) > 30 {
		return 0, false
	}
	v, err := strconv.ParseFloat(digits, 64)
	if err != nil || math.IsInf(v, 0) {
		return 0, false
	}
	return v, true
}

// groupsOfThree reports whether s is digits grouped in threes by sep after a
// first group of one to three: "1,250,000".
func groupsOfThree(s string, sep byte) bool {
	parts := strings.Split(s, string(sep))
	if len(parts) < 2 || len(parts[0]) < 1 || len(parts[0]) > 3 {
		return false
	}
	for _, p := range parts[1:] {
		if len(p) != 3 {
			return false
		}
	}
	return true
}

// ParseNumber reads a whole string as one number, as findNumbers does
// ("$1,250.50", "15%", "twelve"), returning its value and unit.
func ParseNumber(s string) (float64, string, bool) {
	s = strings.TrimSpace(s)
	ns := findNumbers(s, nil)
	if len(ns) != 1 || ns[0].Start != 0 || strings.TrimSpace(s[ns[0].End:]) != "" && ns[0].Unit == "" {
		return 0, "", false
	}
	return ns[0].Value.(float64), ns[0].Unit, true
}

func round(v float64) float64 {
	if math.Abs(v) > 1e15 {
		return v
	}
	return math.Round(v*1e6) / 1e6
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isWordByte(c byte) bool {
	return isDigit(c) || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || c == '_' || c >= utf8.RuneSelf
}

var emailRE = regexp.MustCompile(`[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}`)

// findEmails returns the e-mail addresses of s.
func findEmails(s string) []match {
	var out []match
	for _, m := range emailRE.FindAllStringIndex(s, -1) {
		v := strings.TrimLeft(s[m[0]:m[1]], ".")
		out = append(out, match{Start: m[1] - len(v), End: m[1], Value: v})
	}
	return out
}

func sortMatches(ms []match) {
	for i := 1; i < len(ms); i++ {
		for j := i; j > 0 && ms[j].Start < ms[j-1].Start; j-- {
			ms[j], ms[j-1] = ms[j-1], ms[j]
		}
	}
}
