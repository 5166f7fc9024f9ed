package ingest

import (
	"bytes"
	"strings"

	"github.com/groundedhq/grounded"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/text"
)

// loadMarkdown keeps the file itself as the document text and finds its
// sections with goldmark's parser (ATX and setext headings; '#' lines inside
// code blocks are not headings). YAML front matter is skipped; its title, if
// any, names the document. Otherwise the first level-1 heading does.
func loadMarkdown(doc *grounded.Document, data []byte) {
	doc.Text = string(data)
	body := 0
	if fm, end := frontMatter(data); end > 0 {
		body = end
		doc.Title = fm["title"]
	}
	type heading struct {
		level      int
		title      string
		lineStart  int
		contentEnd int
	}
	var heads []heading
	root := goldmark.DefaultParser().Parse(text.NewReader(data[body:]))
	_ = ast.Walk(root, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		h, ok := n.(*ast.Heading)
		if !entering || !ok {
			return ast.WalkContinue, nil
		}
		lines := h.Lines()
		if lines.Len() == 0 {
			return ast.WalkSkipChildren, nil
		}
		seg := lines.At(0)
		start := body + seg.Start
		lineStart := bytes.LastIndexByte(data[:start], '\n') + 1
		heads = append(heads, heading{h.Level, inlineText(h, data[body:]), lineStart, body + seg.Stop})
		return ast.WalkSkipChildren, nil
	})
	if doc.Title == "" {
		for _, h := range heads {
			if h.level == 1 && h.title != "" {
				doc.Title = h.title
				break
			}
		}
	}
	var stack []heading
	var sections []grounded.Section
	prevEnd := 0
	if len(heads) == 0 || heads[0].lineStart > body {
		end := len(data)
		if len(heads) > 0 {
			end = heads[0].lineStart
		}
		if strings.TrimSpace(string(data[body:end])) != "" {
			sections = append(sections, grounded.Section{Start: body, End: end})
		}
		prevEnd = end
	}
	for i, h := range heads {
		for len(stack) > 0 && stack[len(stack)-1].level >= h.level {
			stack = stack[:len(stack)-1]
		}
		stack = append(stack, h)
		end := len(data)
		if i+1 < len(heads) {
			end = heads[i+1].lineStart
		}
		start := max(h.lineStart, prevEnd)
		if end <= start {
			continue
		}
		path := make([]string, len(stack))
		for j, s := range stack {
			path[j] = s.title
		}
		sections = append(sections, grounded.Section{Path: path, Start: start, End: end})
		prevEnd = end
	}
	doc.Sections = sections
}

// inlineText concatenates the text segments under n.
func inlineText(n ast.Node, src []byte) string {
	var b strings.Builder
	_ = ast.Walk(n, func(c ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch t := c.(type) {
		case *ast.Text:
			b.Write(t.Segment.Value(src))
			if t.SoftLineBreak() || t.HardLineBreak() {
				b.WriteByte(' ')
			}
		case *ast.String:
			b.Write(t.Value)
		case *ast.CodeSpan:
			for g := t.FirstChild(); g != nil; g = g.NextSibling() {
				if tx, ok := g.(*ast.Text); ok {
					b.Write(tx.Segment.Value(src))
				}
			}
			return ast.WalkSkipChildren, nil
		}
		return ast.WalkContinue, nil
	})
	return strings.Join(strings.Fields(b.String()), " ")
}

// frontMatter parses a leading "---" YAML block's simple "key: value" lines and
// returns them with the byte offset just after the closing "---" line.
func frontMatter(data []byte) (map[string]string, int) {
	if !bytes.HasPrefix(data, []byte("---\n")) && !bytes.HasPrefix(data, []byte("---\r\n")) {
		return nil, 0
	}
	rest := data[bytes.IndexByte(data, '\n')+1:]
	off := len(data) - len(rest)
	fm := map[string]string{}
	for len(rest) > 0 {
		nl := bytes.IndexByte(rest, '\n')
		line := rest
		if nl >= 0 {
			line = rest[:nl]
		}
		next := off + len(line) + 1
		s := strings.TrimRight(string(line), "\r")
		if s == "---" || s == "..." {
			return fm, min(next, len(data))
		}
		if k, v, ok := strings.Cut(s, ":"); ok && !strings.HasPrefix(k, " ") {
			fm[strings.TrimSpace(k)] = strings.Trim(strings.TrimSpace(v), `"'`)
		}
		if nl < 0 {
			break
		}
		rest = rest[nl+1:]
		off = next
	}
	return nil, 0 // unterminated: not front matter
}
