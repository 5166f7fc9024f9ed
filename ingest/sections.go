package ingest

import (
	"strings"

	"github.com/groundedhq/grounded"
)

// heading is a heading found in extracted text: its level (smaller is
// higher), its text, and where it starts in the text.
type heading struct {
	level int
	title string
	start int
}

// headingSections cuts text into sections at heads (in order of start): a
// section per heading, running to the next heading, with the path of
// headings above it; text before the first heading, if any, is a section
// with no path.
func headingSections(text string, heads []heading) []grounded.Section {
	end := len(text)
	var out []grounded.Section
	first := end
	if len(heads) > 0 {
		first = heads[0].start
	}
	if strings.TrimSpace(text[:first]) != "" {
		out = append(out, grounded.Section{Start: 0, End: first})
	}
	var stack []heading
	for i, h := range heads {
		for len(stack) > 0 && stack[len(stack)-1].level >= h.level {
			stack = stack[:len(stack)-1]
		}
		stack = append(stack, h)
		e := end
		if i+1 < len(heads) {
			e = heads[i+1].start
		}
		path := make([]string, len(stack))
		for j, s := range stack {
			path[j] = s.title
		}
		out = append(out, grounded.Section{Path: path, Start: h.start, End: e})
	}
	return out
}
