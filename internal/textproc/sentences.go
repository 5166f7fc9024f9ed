package textproc

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Sentence is a sentence-sized span of text. Heading marks a Markdown heading
// line ("# ..."), which is kept as its own span but is not prose.
type Sentence struct {
	Span
	Heading bool
}

// abbreviations end with a period that does not end a sentence.
var abbreviations = map[string]bool{
	"e.g": true, "i.e": true, "etc": true, "vs": true, "cf": true, "al": true,
	"dr": true, "mr": true, "mrs": true, "ms": true, "prof": true, "st": true,
	"fig": true, "no": true, "vol": true, "inc": true, "ltd": true, "jr": true,
	"sr": true, "approx": true, "eq": true, "sec": true, "ch": true, "pp": true,
}

// Sentences splits text[start:end] into sentences and returns their spans in
// text, trimmed of surrounding white space. The rules, in order:
//   - a blank line ends a paragraph and so a sentence;
//   - a Markdown heading line, a list item ("- ", "* ", "+ ", "1. ") and a
//     table row ("| ...") start a new sentence; a list marker is not part of it;
//   - '.', '!' or '?' (plus closing quotes or brackets) ends a sentence when white
//     space follows and the next word does not start in lower case, unless the
//     period ends a known abbreviation or a single capital (an initial);
//   - so does one glued to a capitalized word after a lower-case word or a
//     number ("...to Obama.Barack Obama was...", see glued).
//
// Spans never split a UTF-8 sequence and never overlap.
func Sentences(text string, start, end int) []Sentence {
	var out []Sentence
	emit := func(s, e int, heading bool) {
		for s < e {
			r, n := utf8.DecodeRuneInString(text[s:e])
			if !unicode.IsSpace(r) {
				break
			}
			s += n
		}
		for e > s {
			r, n := utf8.DecodeLastRuneInString(text[s:e])
			if !unicode.IsSpace(r) {
				break
			}
			e -= n
		}
		if e > s {
			out = append(out, Sentence{Span{s, e}, heading})
		}
	}
	lineStart := start
	sentStart := start
	for lineStart < end {
		lineEnd := strings.IndexByte(text[lineStart:end], '\n')
		if lineEnd < 0 {
			lineEnd = end
		} else {
			lineEnd += lineStart
		}
		line := text[lineStart:lineEnd]
		trimmed := strings.TrimLeft(line, " \t")
		indent := len(line) - len(trimmed)
		switch {
		case strings.TrimSpace(line) == "":
			emit(sentStart, lineStart, false)
			sentStart = lineEnd
		case isHeadingLine(trimmed):
			emit(sentStart, lineStart, false)
			emit(lineStart, lineEnd, true)
			sentStart = lineEnd
		default:
			if m := listMarker(trimmed); m > 0 || strings.HasPrefix(trimmed, "|") {
				emit(sentStart, lineStart, false)
				sentStart = lineStart + indent + m
			}
			sentStart = splitLine(text, sentStart, lineStart+indent, lineEnd, emit)
		}
		lineStart = lineEnd + 1
	}
	if sentStart < end {
		emit(sentStart, end, false)
	}
	return out
}

// splitLine emits the sentences that end inside text[from:lineEnd] (the
// current sentence began at sentStart) and returns where the open one starts.
func splitLine(text string, sentStart, from, lineEnd int, emit func(int, int, bool)) int {
	for i := max(from, sentStart); i < lineEnd; i++ {
		c := text[i]
		if c != '.' && c != '!' && c != '?' {
			continue
		}
		j := i + 1
		for j < lineEnd && strings.IndexByte("\"')]”’", text[j]) >= 0 {
			j++
		}
		// Multi-byte closing quotes.
		for _, q := range []string{"”", "’", "»"} {
			if strings.HasPrefix(text[j:lineEnd], q) {
				j += len(q)
			}
		}
		if j < lineEnd && text[j] != ' ' && text[j] != '\t' && text[j] != '\r' {
			if glued(text, sentStart, i, j, lineEnd) {
				emit(sentStart, j, false)
				sentStart = j
			}
			continue // "3.14", "a.b", "?!" inside a word
		}
		// Next non-space character, possibly on the next line.
		k := j
		for k < len(text) && (text[k] == ' ' || text[k] == '\t' || text[k] == '\r' || text[k] == '\n') {
			k++
		}
		if k < len(text) {
			r, _ := utf8.DecodeRuneInString(text[k:])
			if unicode.IsLower(r) {
				continue
			}
		}
		if c == '.' && !endsSentence(text[sentStart:i]) {
			continue
		}
		emit(sentStart, j, false)
		sentStart = j
	}
	return sentStart
}

// glued reports whether the terminator at text[i] ends a sentence that the
// next one follows without a space, as text pasted from columns or scraped
// pages has it: "...to Obama.Barack Obama was...". The terminator must
// follow a lower-case letter or a digit and precede a capitalized word (an
// upper-case letter, then a lower-case one), and a period must end a word
// of two letters or more that is no abbreviation. "U.S.", "example.Com"
// style host names with a capital are rare enough to accept; "3.14",
// "e.g.Foo", "U.S.Army" and "J.Smith" stay whole.
func glued(text string, sentStart, i, j, lineEnd int) bool {
	if j+1 >= lineEnd || !isUpperASCII(text[j]) || !isLowerASCII(text[j+1]) || i == 0 {
		return false
	}
	prev := text[i-1]
	if !isLowerASCII(prev) && !('0' <= prev && prev <= '9') {
		return false
	}
	if text[i] != '.' {
		return true
	}
	before := text[sentStart:i]
	k := len(before)
	for k > 0 && (isLowerASCII(before[k-1]) || isUpperASCII(before[k-1]) || '0' <= before[k-1] && before[k-1] <= '9') {
		k--
	}
	word := before[k:]
	if k > 0 && before[k-1] == '.' {
		return false // "e.g.Foo": a dotted abbreviation
	}
	return len(word) >= 2 && !abbreviations[strings.ToLower(word)]
}

func isUpperASCII(c byte) bool { return 'A' <= c && c <= 'Z' }
func isLowerASCII(c byte) bool { return 'a' <= c && c <= 'z' }

// endsSentence reports whether a period after before ends a sentence.
func endsSentence(before string) bool {
	k := len(before)
	for k > 0 {
		r, n := utf8.DecodeLastRuneInString(before[:k])
		if !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '.') {
			break
		}
		k -= n
	}
	word := before[k:]
	if word == "" {
		return true
	}
	if utf8.RuneCountInString(word) == 1 {
		r, _ := utf8.DecodeRuneInString(word)
		if unicode.IsUpper(r) {
			return false // an initial: "J. Smith"
		}
	}
	return !abbreviations[strings.ToLower(word)]
}

func isHeadingLine(trimmed string) bool {
	n := 0
	for n < len(trimmed) && trimmed[n] == '#' {
		n++
	}
	return n >= 1 && n <= 6 && (n == len(trimmed) || trimmed[n] == ' ' || trimmed[n] == '\t')
}

// listMarker returns the length of a list marker and the space after it at the
// start of trimmed, or 0.
func listMarker(trimmed string) int {
	if len(trimmed) >= 2 && strings.IndexByte("-*+", trimmed[0]) >= 0 && (trimmed[1] == ' ' || trimmed[1] == '\t') {
		return 2
	}
	n := 0
	for n < len(trimmed) && n < 3 && trimmed[n] >= '0' && trimmed[n] <= '9' {
		n++
	}
	if n > 0 && n+1 < len(trimmed) && (trimmed[n] == '.' || trimmed[n] == ')') && trimmed[n+1] == ' ' {
		return n + 2
	}
	return 0
}
