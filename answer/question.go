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
	// howTo: the question asks what to do ("how do I", "what should I
	// use", "any way to", "instead", "fix", "avoid").
	howTo bool
	// head is the lower-cased word of the wh-phrase that names the kind
	// of answer ("long" in "how long", "year" in "what year"): the answer
	// type check looks for it, so the answer need not repeat it.
	head string
}

var howToCue = regexp.MustCompile(`(?i)\b(how (do|can|should|would) (i|we|you)|how to|what should|which .* should|should i|any way|is there a way|instead|best way|fix|avoid|prevent|workaround|get around|what do i|what can i)\b`)

var (
	timeHead = regexp.MustCompile(`(?i)^(when|what|which|in what|in which|during what|during which|by what|by which|from what|since what|until what)\s+(year|years|century|centuries|decade|date|month|day|time|period|era|age|season)\b`)
	// whenCondition: "when should I ...", "when to ...", "when is it better ..."
	// ask for a condition, not a time.
	whenCondition = regexp.MustCompile(`^when (should|would|could|can|must|might|to|is it|are they|does it make sense|do you|do i|do we)\b`)
	quantityHead  = regexp.MustCompile(`(?i)^(how (many|much|long|far|old|large|big|high|tall|wide|deep|often|fast|heavy)|what (percentage|percent|proportion|fraction|number|amount|share|size|length|distance|temperature|speed)|at what (age|rate|speed|temperature))\b`)
)

// negations mark a negated question or sentence.
var negations = map[string]bool{"not": true, "never": true, "no": true, "none": true, "nor": true, "without": true, "cannot": true, "neither": true}

func analyzeQuestion(q string) question {
	q = strings.TrimSpace(q)
	out := question{words: map[string]bool{}, howTo: howToCue.MatchString(q)}
	lower := strings.ToLower(q)
	switch {
	case timeHead.MatchString(q) || (strings.HasPrefix(lower, "when ") && !whenCondition.MatchString(lower)):
		out.kind = typeTime
		if m := timeHead.FindStringSubmatch(q); m != nil {
			out.head = strings.ToLower(m[2])
		}
	case quantityHead.MatchString(q):
		out.kind = typeQuantity
		if m := quantityHead.FindStringSubmatch(q); m != nil {
			f := strings.Fields(strings.ToLower(m[0]))
			out.head = f[len(f)-1]
		}
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

// antonyms pairs words whose swap turns a true statement false: SQuAD 2.0's
// unanswerable questions are often an answerable one with such a swap.
var antonyms = func() map[string][]string {
	pairs := [][2]string{
		{"largest", "smallest"}, {"biggest", "smallest"}, {"most", "least"}, {"more", "less"}, {"more", "fewer"},
		{"first", "last"}, {"before", "after"}, {"earliest", "latest"}, {"early", "late"}, {"highest", "lowest"},
		{"high", "low"}, {"higher", "lower"}, {"maximum", "minimum"}, {"increase", "decrease"}, {"increased", "decreased"},
		{"increases", "decreases"}, {"rise", "fall"}, {"rose", "fell"}, {"north", "south"}, {"east", "west"},
		{"northern", "southern"}, {"eastern", "western"}, {"won", "lost"}, {"win", "lose"}, {"begin", "end"},
		{"began", "ended"}, {"start", "end"}, {"started", "ended"}, {"older", "younger"}, {"oldest", "youngest"},
		{"old", "new"}, {"inside", "outside"}, {"upper", "lower"}, {"above", "below"}, {"long", "short"},
		{"longest", "shortest"}, {"longer", "shorter"}, {"large", "small"}, {"larger", "smaller"}, {"major", "minor"},
		{"positive", "negative"}, {"true", "false"}, {"rich", "poor"}, {"richest", "poorest"}, {"strong", "weak"},
		{"strongest", "weakest"}, {"same", "different"}, {"private", "public"}, {"internal", "external"},
		{"success", "failure"}, {"successful", "unsuccessful"}, {"legal", "illegal"}, {"allowed", "forbidden"},
		{"accept", "reject"}, {"accepted", "rejected"}, {"include", "exclude"}, {"included", "excluded"},
		{"import", "export"}, {"imports", "exports"}, {"buy", "sell"}, {"bought", "sold"}, {"open", "closed"},
		{"opened", "closed"}, {"male", "female"}, {"men", "women"}, {"modern", "ancient"}, {"cheap", "expensive"},
		{"fast", "slow"}, {"faster", "slower"}, {"hot", "cold"}, {"warm", "cool"}, {"wet", "dry"},
	}
	m := map[string][]string{}
	for _, p := range pairs {
		m[p[0]] = append(m[p[0]], p[1])
		m[p[1]] = append(m[p[1]], p[0])
	}
	return m
}()

// negPrefixes turn a word into its opposite: "appropriate", "inappropriate".
var negPrefixes = []string{"un", "in", "im", "il", "ir", "dis", "non", "non-"}

// antonymConflict reports whether the question uses a word that the
// sentence lacks while the sentence has its opposite: a listed antonym, or
// the word with a negating prefix added or removed.
func antonymConflict(q question, sentWords map[string]bool) bool {
	for w := range q.words {
		if sentWords[w] {
			continue
		}
		for _, a := range antonyms[w] {
			if sentWords[a] && !q.words[a] {
				return true
			}
		}
		if len(w) < 5 {
			continue
		}
		for _, p := range negPrefixes {
			if sentWords[p+w] && !q.words[p+w] {
				return true
			}
			if base, ok := strings.CutPrefix(w, p); ok && len(base) >= 4 && sentWords[base] && !q.words[base] {
				return true
			}
		}
	}
	return false
}

// lowerWords returns the set of lower-cased words of s.
func lowerWords(s string) map[string]bool {
	out := map[string]bool{}
	for _, sp := range textproc.Words(s) {
		out[strings.ToLower(s[sp.Start:sp.End])] = true
	}
	return out
}
