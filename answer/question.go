package answer

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/groundedhq/grounded/internal/textproc"
)

// Answer types a question asks for, from its wh-phrase.
const (
	typeAny      = ""
	typePerson   = "person"   // who, whom, whose
	typeTime     = "time"     // when, what year, which century, ...
	typePlace    = "place"    // where
	typeQuantity = "quantity" // how many, how much, what percentage, ...
)

// question is what the answerer needs to know about a question beyond its
// terms: the type of answer it asks for, the names and numbers it mentions
// (which a passage must share to be about the same thing), and whether it
// is negated.
type question struct {
	kind    string
	names   []string // lower-cased proper names, acronyms and numbers
	negated bool
	words   map[string]bool // lower-cased words of the question
}

var (
	timeHead     = regexp.MustCompile(`(?i)^(when|what|which|in what|in which|during what|during which|by what|by which|from what|since what|until what)\s+(year|years|century|centuries|decade|date|month|day|time|period|era|age|season)\b`)
	quantityHead = regexp.MustCompile(`(?i)^(how (many|much|long|far|old|large|big|high|tall|wide|deep|often|fast|heavy)|what (percentage|percent|proportion|fraction|number|amount|share|size|length|distance|temperature|speed)|at what (age|rate|speed|temperature))\b`)
)

// negations mark a negated question or sentence.
var negations = map[string]bool{"not": true, "never": true, "no": true, "none": true, "nor": true, "without": true, "cannot": true, "neither": true}

func analyzeQuestion(q string) question {
	q = strings.TrimSpace(q)
	out := question{words: map[string]bool{}}
	lower := strings.ToLower(q)
	switch {
	case timeHead.MatchString(q) || strings.HasPrefix(lower, "when "):
		out.kind = typeTime
	case quantityHead.MatchString(q):
		out.kind = typeQuantity
	case strings.HasPrefix(lower, "who ") || strings.HasPrefix(lower, "whom ") || strings.HasPrefix(lower, "whose "):
		out.kind = typePerson
	case strings.HasPrefix(lower, "where "):
		out.kind = typePlace
	}
	words := textproc.Words(q)
	for i, sp := range words {
		w := q[sp.Start:sp.End]
		lw := strings.ToLower(w)
		out.words[lw] = true
		if strings.HasSuffix(lw, "n") && sp.End+2 <= len(q) && q[sp.End:min(sp.End+2, len(q))] == "'t" {
			out.negated = true
		}
		if negations[lw] {
			out.negated = true
		}
		r, _ := utf8.DecodeRuneInString(w)
		switch {
		case isNumber(w):
			out.names = append(out.names, lw)
		case i > 0 && unicode.IsUpper(r) && !textproc.IsStopWord(lw):
			out.names = append(out.names, lw)
		}
	}
	return out
}

func isNumber(w string) bool {
	digits := 0
	for _, r := range w {
		if unicode.IsDigit(r) {
			digits++
		}
	}
	return digits > 0
}

var (
	monthOrDay = map[string]bool{
		"january": true, "february": true, "march": true, "april": true, "may": true, "june": true,
		"july": true, "august": true, "september": true, "october": true, "november": true, "december": true,
		"monday": true, "tuesday": true, "wednesday": true, "thursday": true, "friday": true, "saturday": true, "sunday": true,
		"century": true, "centuries": true, "decade": true, "decades": true, "bc": true, "bce": true, "ad": true, "ce": true,
		"spring": true, "summer": true, "autumn": true, "winter": true, "today": true, "yesterday": true,
	}
	numberWords = map[string]bool{
		"one": true, "two": true, "three": true, "four": true, "five": true, "six": true, "seven": true,
		"eight": true, "nine": true, "ten": true, "eleven": true, "twelve": true, "twenty": true, "thirty": true,
		"forty": true, "fifty": true, "hundred": true, "hundreds": true, "thousand": true, "thousands": true,
		"million": true, "millions": true, "billion": true, "trillion": true, "dozen": true, "dozens": true,
		"half": true, "quarter": true, "percent": true, "several": true, "few": true, "many": true, "single": true,
		"double": true, "twice": true, "triple": true, "first": true, "second": true, "third": true,
	}
)

// hasAnswerOfType reports whether sentence s holds something of the asked
// type that the question does not already say: a year, date or month for
// time; a number for quantity; a capitalized name for person and place.
func hasAnswerOfType(q question, s string) bool {
	if q.kind == typeAny {
		return true
	}
	words := textproc.Words(s)
	for i, sp := range words {
		w := s[sp.Start:sp.End]
		lw := strings.ToLower(w)
		if q.words[lw] {
			continue
		}
		switch q.kind {
		case typeTime:
			if isNumber(w) || monthOrDay[lw] {
				return true
			}
		case typeQuantity:
			if isNumber(w) || numberWords[lw] {
				return true
			}
		case typePerson, typePlace:
			r, _ := utf8.DecodeRuneInString(w)
			if unicode.IsUpper(r) && (i > 0 || !textproc.IsStopWord(lw)) {
				return true
			}
		}
	}
	return false
}

// isNegated reports whether a sentence contains a negation.
func isNegated(s string) bool {
	for _, sp := range textproc.Words(s) {
		lw := strings.ToLower(s[sp.Start:sp.End])
		if negations[lw] {
			return true
		}
		if strings.HasSuffix(lw, "n") && sp.End+2 <= len(s) && s[sp.End:sp.End+2] == "'t" {
			return true
		}
	}
	return false
}

// missingNames returns the question's names and numbers that do not occur
// in text (compared as lower-cased words).
func missingNames(q question, text string) []string {
	if len(q.names) == 0 {
		return nil
	}
	have := map[string]bool{}
	for _, sp := range textproc.Words(text) {
		have[strings.ToLower(text[sp.Start:sp.End])] = true
	}
	var out []string
	for _, n := range q.names {
		if !have[n] {
			out = append(out, n)
		}
	}
	return out
}
