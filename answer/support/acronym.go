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
	_, _, ok := spelledRun(key, lowers)
	return ok
}

// spelledRun returns the word range [first, end) of the first run of
// lowers that spells key, and false when none does.
func spelledRun(key string, lowers []string) (int, int, bool) {
	for i := range lowers {
		if end := runEnd(key, lowers, i, true); end >= 0 {
			return i, end, true
		}
	}
	return 0, 0, false
}

// runEnd is matchInitials returning the end of the run, -1 when none.
func runEnd(key string, lowers []string, i int, first bool) int {
	if key == "" {
		return i
	}
	if i >= len(lowers) || lowers[i] == "" {
		return -1
	}
	lw := lowers[i]
	stop := textproc.IsStopWord(lw)
	if first && stop {
		return -1
	}
	r, size := utf8.DecodeRuneInString(key)
	if firstRune(lw) == r && (len(key) > size || !stop) {
		if end := runEnd(key[size:], lowers, i+1, false); end >= 0 {
			return end
		}
	}
	if stop {
		return runEnd(key, lowers, i+1, false)
	}
	return -1
}
