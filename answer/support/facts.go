package support

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/groundedhq/grounded/internal/textproc"
)

// A fact of a sentence is a name (a run of capitalized words, an acronym,
// a word mixing letters and digits) or a number (digits, or a number word
// up to twenty). Its slot is the words around it: the word before it and
// the word after it, and the nearest content term on either side. Evidence
// states the fact when it holds the same name or number; it contradicts
// it when, lacking it, it holds another name or number in the same slot
// (or another year or month where the sentence has one). In a window of
// two sentences, the facts of each clause of the sentence must be found in
// one window sentence that clause aligns to by its other words (scopesOf): "X received
// her star in 1980" is not supported by "X starred in Y (1980). She
// received her star in 2006."

// phrase is a name of the sentence: words[first:end].
type phrase struct {
	first, end int
	tokens     []string // the words as written
	month      bool     // a month name
}

// number is a number of a text at word index at.
type number struct {
	value   string // digits, '.' for a decimal point, no thousands separators, no trailing decimal zeros
	at      int
	year    bool
	percent bool // followed by "%" or "percent"
}

// failure is why a candidate window does not support the sentence; reason
// "" when it does.
type failure struct {
	reason      string
	contradicts bool
}

// verify checks cl against the candidate window w: names and numbers in
// the same role, then polarity. A contradiction outranks a missing fact.
func (c *Checker) verify(cl *claim, al *alignment, w *window) failure {
	if len(cl.names) == 0 && len(cl.nums) == 0 && c.cfg.NoNegationCheck {
		return failure{}
	}
	ev := c.evidenceOf(al, w)
	var missing failure
	for _, sc := range scopesOf(cl, ev) {
		// The clause's facts must all be found in one of its sentences.
		var f failure
		for i, es := range sc.sents {
			fs := c.checkFacts(cl, sc.first, sc.end, es)
			if fs.reason == "" {
				f = fs
				break
			}
			if i == 0 || fs.contradicts && !f.contradicts {
				f = fs
			}
		}
		if f.contradicts {
			return f
		}
		if f.reason != "" && missing.reason == "" {
			missing = f
		}
	}
	if !c.cfg.NoNegationCheck {
		if f := c.checkPolarity(cl, ev); f.contradicts {
			return f
		} else if f.reason != "" && missing.reason == "" {
			missing = f
		}
	}
	return missing
}

// checkFacts checks the names and numbers of cl.words[first:end] against
// es; a contradiction outranks a missing fact.
func (c *Checker) checkFacts(cl *claim, first, end int, es *evSent) failure {
	var missing failure
	if !c.cfg.NoNameCheck {
		if f := c.checkNames(cl, first, end, es); f.contradicts {
			return f
		} else if f.reason != "" {
			missing = f
		}
	}
	if !c.cfg.NoNumberCheck {
		if f := checkNumbers(cl, first, end, es); f.contradicts {
			return f
		} else if f.reason != "" && missing.reason == "" {
			missing = f
		}
	}
	return missing
}

// checkNames: every name phrase of cl.words[first:end] must be in es (or
// its context); one that is not is contradicted when es has another name
// in its slot.
func (c *Checker) checkNames(cl *claim, first, end int, es *evSent) failure {
	var ix *nameIndex
	for _, ph := range cl.names {
		if ph.first < first || ph.first >= end {
			continue
		}
		if ix == nil {
			ix = c.indexNames(es.context)
		}
		ok := true
		for _, tok := range ph.tokens {
			if !c.hasName(tok, ix) {
				ok = false
				break
			}
		}
		if ok || spelledName(ph, ix) {
			continue
		}
		if c.slotHasOtherName(cl, ph, es) {
			return failure{ReasonWrongEntity, true}
		}
		return failure{reason: ReasonNames}
	}
	return failure{}
}

// spelledName reports whether the indexed text has an acronym of at least
// minAcronym letters that the initials of ph's words spell: "UK" for
// "United Kingdom".
func spelledName(ph phrase, ix *nameIndex) bool {
	if len(ph.tokens) < minAcronym {
		return false
	}
	var key []byte
	for _, t := range ph.tokens {
		r := unicode.ToLower(firstRune(t))
		if r >= utf8.RuneSelf || !unicode.IsLetter(r) {
			return false
		}
		key = append(key, byte(r))
	}
	return ix.acronyms[string(key)]
}

// slotHasOtherName reports whether es has a name that ph lacks in ph's
// slot: after the word before ph, or before the word after it, or another
// month where ph is one.
func (c *Checker) slotHasOtherName(cl *claim, ph phrase, es *evSent) bool {
	left, right := neighbour(cl.lowers, ph.first-1), neighbour(cl.lowers, ph.end)
	for _, eph := range namePhrases(es.text, es.words, es.lowers) {
		if sharesToken(eph, ph) || claimHas(cl, eph) {
			continue
		}
		if ph.month && eph.month {
			return true
		}
		el, er := neighbour(es.lowers, eph.first-1), neighbour(es.lowers, eph.end)
		if left != "" && el == left && !isName(cl.text, cl.words, ph.first-1) || right != "" && er == right && !isName(cl.text, cl.words, ph.end) {
			return true
		}
	}
	return false
}

func neighbour(lowers []string, i int) string {
	if i < 0 || i >= len(lowers) {
		return ""
	}
	return lowers[i]
}

func isName(s string, words []textproc.Span, i int) bool {
	if i < 0 || i >= len(words) {
		return false
	}
	r, _ := utf8.DecodeRuneInString(s[words[i].Start:])
	return unicode.IsUpper(r)
}

func sharesToken(a, b phrase) bool {
	for _, x := range a.tokens {
		for _, y := range b.tokens {
			if strings.EqualFold(x, y) {
				return true
			}
		}
	}
	return false
}

// claimHas reports whether the claim mentions one of ph's words anywhere.
func claimHas(cl *claim, ph phrase) bool {
	for _, t := range ph.tokens {
		lt := lower(t)
		for _, lw := range cl.lowers {
			if lw == lt {
				return true
			}
		}
	}
	return false
}

// checkNumbers: every number of cl.words[first:end] must be in es; one
// that is not is contradicted when es has another number in its slot, or
// another year where it is a year.
func checkNumbers(cl *claim, first, end int, es *evSent) failure {
	var evNums []number
	parsed := false
	for _, n := range cl.nums {
		if n.at < first || n.at >= end {
			continue
		}
		if !parsed {
			evNums, parsed = numbersOf(es.text, es.words, es.lowers), true
		}
		found := false
		for _, e := range evNums {
			if e.value == n.value {
				found = true
				break
			}
		}
		if found || n.percent && n.value == "50" && slices.Contains(es.lowers, "half") {
			continue // "half" for "50%"
		}
		for _, e := range evNums {
			if claimHasNumber(cl, e.value) {
				continue
			}
			if n.year && e.year || sameSlot(cl.lowers, cl.stems, n.at, es.lowers, es.stems, e.at) {
				return failure{ReasonWrongNumber, true}
			}
		}
		return failure{reason: ReasonNumbers}
	}
	return failure{}
}

func claimHasNumber(cl *claim, v string) bool {
	for _, n := range cl.nums {
		if n.value == v {
			return true
		}
	}
	return false
}

// sameSlot reports whether word i of a and word j of b share a slot: the
// same word right before or right after them (a unit: "50 percent"), or the
// same nearest content term before or after.
func sameSlot(aw, as []string, i int, bw, bs []string, j int) bool {
	if i+1 < len(aw) && j+1 < len(bw) && aw[i+1] == bw[j+1] {
		return true
	}
	if i > 0 && j > 0 && aw[i-1] == bw[j-1] && !isNumberWord(aw[i-1]) {
		return true
	}
	if l := nearestTerm(as, i, -1); l != "" && l == nearestTerm(bs, j, -1) {
		return true
	}
	if r := nearestTerm(as, i, 1); r != "" && r == nearestTerm(bs, j, 1) {
		return true
	}
	return false
}

// nearestTerm is the first content term (not a number) from word i in
// direction d (±1), within three words.
func nearestTerm(stems []string, i, d int) string {
	for k, n := i+d, 0; k >= 0 && k < len(stems) && n < 3; k, n = k+d, n+1 {
		if s := stems[k]; s != "" && !isDigits(s) {
			return s
		}
	}
	return ""
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return s != ""
}

// nameIndex is what the name check needs to know about evidence text.
type nameIndex struct {
	words    map[string]bool // lower-cased words
	terms    map[string]bool // stems
	squashed []string        // white-space separated tokens with all but letters and digits removed: "T(H)2" -> "TH2"
	lowers   [][]string      // per sentence, its words lower-cased
	acronyms map[string]bool // acronymKey of the acronyms
}

func (c *Checker) indexNames(text string) *nameIndex {
	ix := &nameIndex{words: map[string]bool{}, terms: map[string]bool{}, acronyms: map[string]bool{}}
	for _, s := range textproc.Sentences(text, 0, len(text)) {
		st := text[s.Start:s.End]
		words := textproc.Words(st)
		lowers := lowerWords(st, words, nil)
		for i, lw := range lowers {
			ix.words[lw] = true
			ix.terms[c.an.Term(lw)] = true
			if k, ok := acronymKey(st[words[i].Start:words[i].End]); ok {
				ix.acronyms[k] = true
			}
		}
		ix.lowers = append(ix.lowers, lowers)
	}
	for _, f := range strings.Fields(text) {
		if sq := squash(f); sq != "" {
			ix.squashed = append(ix.squashed, sq)
		}
	}
	return ix
}

// hasName reports whether the indexed text has name: as a word or a stem,
// as the start of a token ("GABA", "GABAergic"; "CK", "CK-666"), an
// acronym of at least three letters inside a token ("HPV", "hrHPV"), the
// same letters and digits ("Th2", "T(H)2"), a plural acronym's singular,
// a place name for its adjective ("Africa" for "African"),
// or an acronym spelled out in one sentence (acronym.go: "UK", "United
// Kingdom").
func (c *Checker) hasName(name string, ix *nameIndex) bool {
	lw := strings.ToLower(name)
	if ix.words[lw] {
		return true
	}
	if t := c.an.Term(name); t != "" && ix.terms[t] {
		return true
	}
	acronym := isAcronym(name)
	if acronym {
		if sing, ok := strings.CutSuffix(name, "s"); ok && isAcronym(sing) && c.hasName(sing, ix) {
			return true // "EMAs"
		}
	}
	short := utf8.RuneCountInString(name) < 3
	for _, tok := range ix.squashed {
		switch {
		case strings.EqualFold(tok, name): // "T(H)2" for "Th2"
			return true
		case acronym && !short && strings.Contains(tok, name): // "hrHPV" for "HPV"
			return true
		case acronym || short:
			if strings.HasPrefix(tok, name) { // "CK-666" for "CK", case as written
				return true
			}
		case strings.HasPrefix(strings.ToLower(tok), lw):
			return true
		}
	}
	if !acronym {
		for _, suf := range demonymSuffixes {
			if stem, ok := strings.CutSuffix(lw, suf); ok && utf8.RuneCountInString(stem) >= 4 && ix.words[stem] {
				return true // "Africa" for "African", "Japan" for "Japanese"
			}
		}
	}
	if key, ok := acronymKey(name); ok {
		for _, lowers := range ix.lowers {
			if spells(key, lowers) { // "tumor necrosis factor" for "TNF"
				return true
			}
		}
	}
	return false
}

// demonymSuffixes turn a place name into its adjective or people.
var demonymSuffixes = []string{"n", "ese", "ish"}

func firstRune(s string) rune {
	r, _ := utf8.DecodeRuneInString(s)
	return r
}

// squash returns tok with everything but letters and digits removed.
func squash(tok string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return r
		}
		return -1
	}, tok)
}

// namePhrases returns the names of s as runs of adjacent name words:
// capitalized words that are not stop words (the sentence's first word
// only when the next word is a name too: "Henry Kissinger said"), acronyms
// ("TNF", "mTOR", "PrP") and words mixing letters and digits ("CD4",
// "p53"). A name in parentheses right after other words is an alias of
// them ("reactive oxygen species (ROS)") and is left out: the words it
// stands for are what the evidence must cover. Numbers are not names.
func namePhrases(s string, words []textproc.Span, lowers []string) []phrase {
	var out []phrase
	isN := make([]bool, len(words))
	for i, w := range words {
		word := s[w.Start:w.End]
		if i > 0 && inAlias(s, w) {
			continue
		}
		r, _ := utf8.DecodeRuneInString(word)
		switch {
		case isAcronym(word), hasLetterAndDigit(word):
			isN[i] = true
		case unicode.IsUpper(r) && !textproc.IsStopWord(lowers[i]) && !sentenceStart(s, words, i):
			isN[i] = true
		}
	}
	for i := 0; i+1 < len(words); i++ {
		if !isN[i] && isN[i+1] && sentenceStart(s, words, i) && !textproc.IsStopWord(lowers[i]) && unicode.IsUpper(firstRune(s[words[i].Start:])) && adjacent(s, words, i) {
			isN[i] = true
		}
	}
	for i := 0; i < len(words); {
		if !isN[i] {
			i++
			continue
		}
		j := i + 1
		for j < len(words) && isN[j] && adjacent(s, words, j-1) {
			j++
		}
		ph := phrase{first: i, end: j}
		for k := i; k < j; k++ {
			ph.tokens = append(ph.tokens, s[words[k].Start:words[k].End])
		}
		ph.month = j == i+1 && monthNames[lowers[i]]
		out = append(out, ph)
		i = j
	}
	return out
}

// sentenceStart reports whether word i opens a sentence of s.
func sentenceStart(s string, words []textproc.Span, i int) bool {
	if i == 0 {
		return true
	}
	between := strings.TrimSpace(s[words[i-1].End:words[i].Start])
	between = strings.TrimLeft(between, "\"'”’)]")
	return strings.HasPrefix(between, ".") || strings.HasPrefix(between, "!") || strings.HasPrefix(between, "?") || strings.HasPrefix(between, ":")
}

// adjacent reports whether words i and i+1 are separated by white space
// or a hyphen only.
func adjacent(s string, words []textproc.Span, i int) bool {
	return strings.Trim(s[words[i].End:words[i+1].Start], " -") == ""
}

var monthNames = map[string]bool{
	"january": true, "february": true, "march": true, "april": true, "may": false, "june": true,
	"july": true, "august": true, "september": true, "october": true, "november": true, "december": true,
}

// inAlias reports whether the word at w is inside a short parenthesized
// group without spaces, "(HAM/TSP)", "(HSCT-T)".
func inAlias(s string, w textproc.Span) bool {
	open := strings.LastIndexByte(s[:w.Start], '(')
	if open < 0 || strings.ContainsAny(s[open:w.Start], " )") {
		return false
	}
	close := strings.IndexByte(s[w.End:], ')')
	return close >= 0 && !strings.ContainsAny(s[w.End:w.End+close], " (") && open > 0
}

// isAcronym reports whether w has an upper-case letter after its first
// rune: "TNF", "mTOR", "PrP", "UK".
func isAcronym(w string) bool {
	for i, r := range w {
		if i > 0 && unicode.IsUpper(r) {
			return true
		}
	}
	return false
}

func hasLetterAndDigit(w string) bool {
	letter, digit := false, false
	for _, r := range w {
		letter = letter || unicode.IsLetter(r)
		digit = digit || unicode.IsDigit(r)
	}
	return letter && digit
}

// numberWords are the number words read as numbers.
var numberWords = map[string]string{
	"zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6",
	"seven": "7", "eight": "8", "nine": "9", "ten": "10", "eleven": "11", "twelve": "12",
	"thirteen": "13", "fourteen": "14", "fifteen": "15", "sixteen": "16", "seventeen": "17",
	"eighteen": "18", "nineteen": "19", "twenty": "20", "thirty": "30", "forty": "40",
	"fifty": "50", "dozen": "12", "twice": "2", "half": "0.5",
}

func isNumberWord(w string) bool { _, ok := numberWords[w]; return ok || isDigits(w) }

// numbersOf returns the numbers of s, whose words and their lower-cased
// forms are given: runs of ASCII digits with '.' or ',' between digits that
// do not continue a word ("CD4" is a name), and number words. Commas are
// dropped, so "1,000" and "1000" are the same number; a number's word
// index is that of its first word. A year is four digits from 1000 to 2099.
func numbersOf(s string, words []textproc.Span, lowers []string) []number {
	var out []number
	for i := 0; i < len(words); i++ {
		lw := lowers[i]
		if v, ok := numberWords[lw]; ok {
			if lw == "one" || lw == "half" {
				continue // "one of", "half of": rarely a quantity to check
			}
			out = append(out, number{value: v, at: i, percent: percentAfter(s, words, lowers, i)})
			continue
		}
		if m, ok := strings.CutSuffix(lw, "fold"); ok {
			if v, ok := numberWords[m]; ok && m != "half" {
				out = append(out, number{value: v, at: i}) // "twofold" as "2-fold"
			}
			continue
		}
		w := words[i]
		if !isDigit(s[w.Start]) {
			continue
		}
		if prev, _ := utf8.DecodeLastRuneInString(s[:w.Start]); w.Start > 0 && unicode.IsLetter(prev) {
			continue
		}
		if !isDigits(s[w.Start:w.End]) {
			continue // "4th", "3D": a word
		}
		var b strings.Builder
		b.WriteString(s[w.Start:w.End])
		j := i
		// Join "1,000" and "3.14", which Words splits.
		for j+1 < len(words) && words[j+1].Start == words[j].End+1 && (s[words[j].End] == ',' || s[words[j].End] == '.') && isDigits(s[words[j+1].Start:words[j+1].End]) {
			if s[words[j].End] == '.' {
				b.WriteByte('.')
			}
			j++
			b.WriteString(s[words[j].Start:words[j].End])
		}
		v := b.String()
		if strings.Contains(v, ".") {
			v = strings.TrimRight(strings.TrimRight(v, "0"), ".") // "2.50" as "2.5"
		}
		year := len(v) == 4 && (v[0] == '1' || v[:2] == "20")
		out = append(out, number{value: v, at: i, year: year, percent: percentAfter(s, words, lowers, j)})
		i = j
	}
	return out
}

// percentAfter reports whether word i of s is followed by "%", "percent"
// or "per cent".
func percentAfter(s string, words []textproc.Span, lowers []string, i int) bool {
	if rest := s[words[i].End:]; strings.HasPrefix(strings.TrimLeft(rest, " "), "%") {
		return true
	}
	return i+1 < len(lowers) && (lowers[i+1] == "percent" || lowers[i+1] == "per" && i+2 < len(lowers) && lowers[i+2] == "cent")
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
