package support

import (
	"unicode"
	"unicode/utf8"

	"github.com/groundedhq/grounded/internal/textproc"
)

// Acronyms. A sentence's acronym is stated by evidence that spells it out
// and the reverse: "TNF" by "tumor necrosis factor", "United Kingdom" by
// "UK". Spelling out is by initials, one a word, in order: a run of
// adjacent words whose first letters are the acronym's letters, where a
// stop word may give its letter ("mTOR", "mammalian target of rapamycin")
// or be skipped ("USA", "United States of America"); the run opens and
// closes with a word that is not a stop word. The run must be in the
// evidence sentence itself, so an acronym spelled out elsewhere in the
// passage (another entity of it) does not count.

const (
	// minAcronym and maxAcronym bound the letters of an acronym matched
	// by initials.
	minAcronym, maxAcronym = 2, 8
	// minReverse is the fewest letters of an acronym of the evidence that
	// a run of the sentence's words may spell out (the reverse direction,
	// "reactive oxygen species" for "ROS"): two-letter ones are too easily
	// spelled by chance.
	minReverse = 3
)

// acronymKey returns the letters, lower case, of w when w is an acronym of
// letters only ("TNF" -> "tnf", "mTOR" -> "mtor"; a plural's singular,
// "DCs" -> "dc"), and false for any other word.
func acronymKey(w string) (string, bool) {
	n := utf8.RuneCountInString(w)
	if n > 1 && w[len(w)-1] == 's' {
		if r, _ := utf8.DecodeLastRuneInString(w[:len(w)-1]); unicode.IsUpper(r) {
			w, n = w[:len(w)-1], n-1
		}
	}
	if n < minAcronym || n > maxAcronym || !isAcronym(w) {
		return "", false
	}
	upper := 0
	for _, r := range w {
		if !unicode.IsLetter(r) || r >= utf8.RuneSelf {
			return "", false
		}
		if unicode.IsUpper(r) {
			upper++
		}
	}
	if upper < 2 {
		return "", false // "PrP", "mTor": not one letter a word
	}
	return lower(w), true
}

// spells reports whether a run of lowers (lower-cased words) spells key by
// initials (see above).
func spells(key string, lowers []string) bool {
	for i := range lowers {
		if matchInitials(key, lowers, i, true) {
			return true
		}
	}
	return false
}

// spellRun reports whether lowers[i:] opens with a run that spells key; first
// is true at the run's first word, which must not be a stop word.
func matchInitials(key string, lowers []string, i int, first bool) bool {
	if key == "" {
		return true
	}
	if i >= len(lowers) || lowers[i] == "" {
		return false
	}
	lw := lowers[i]
	stop := textproc.IsStopWord(lw)
	if first && stop {
		return false
	}
	r, size := utf8.DecodeRuneInString(key)
	if firstRune(lw) == r && (len(key) > size || !stop) && matchInitials(key[size:], lowers, i+1, false) {
		return true
	}
	return stop && matchInitials(key, lowers, i+1, false)
}

// spelledRuns returns the acronyms of at least minReverse letters that runs
// of lowers spell out, each with the run's word range [first, end).
func spelledRuns(lowers []string) map[string][][2]int {
	out := map[string][][2]int{}
	var walk func(first, i int, key []byte)
	walk = func(first, i int, key []byte) {
		if len(key) > maxAcronym || i > first+2*maxAcronym {
			return
		}
		if i > first && !textproc.IsStopWord(lowers[i-1]) && len(key) >= minReverse {
			out[string(key)] = append(out[string(key)], [2]int{first, i})
		}
		if i >= len(lowers) {
			return
		}
		r := firstRune(lowers[i])
		if r >= utf8.RuneSelf || !unicode.IsLetter(r) {
			return
		}
		walk(first, i+1, append(key, byte(r)))
		if textproc.IsStopWord(lowers[i]) {
			walk(first, i+1, key)
		}
	}
	for i, lw := range lowers {
		if lw != "" && !textproc.IsStopWord(lw) {
			walk(i, i, nil)
		}
	}
	return out
}
