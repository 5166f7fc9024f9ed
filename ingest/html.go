package ingest

import (
	"bytes"
	"strings"

	"github.com/groundedhq/grounded"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// loadHTML extracts an HTML page's visible text: no script, style, template,
// noscript, svg or hidden elements; entities decoded (by golang.org/x/net/html);
// white space collapsed except inside <pre>; block elements separated by a
// blank line, so they read as paragraphs. Headings h1-h6 become sections and
// the <title> (else the first h1) names the document.
func loadHTML(doc *grounded.Document, data []byte) error {
	root, err := html.Parse(bytes.NewReader(data))
	if err != nil {
		return err
	}
	x := &htmlText{}
	x.walk(root)
	doc.Text = x.b.String()
	doc.Title = strings.Join(strings.Fields(x.title), " ")
	if doc.Title == "" {
		doc.Title = x.firstH1
	}
	doc.Sections = x.sections()
	return nil
}

type htmlText struct {
	b       strings.Builder
	space   bool // a space is owed before the next word
	breaks  int  // newlines owed before the next text (max 2)
	pre     int  // depth of <pre>
	title   string
	firstH1 string
	heads   []heading
}

var skipped = map[atom.Atom]bool{
	atom.Script: true, atom.Style: true, atom.Noscript: true, atom.Template: true,
	atom.Svg: true, atom.Math: true, atom.Iframe: true, atom.Object: true,
	atom.Head: false, // walked for <title> only, see walk
}

var blocks = map[atom.Atom]bool{
	atom.P: true, atom.Div: true, atom.Section: true, atom.Article: true,
	atom.Header: true, atom.Footer: true, atom.Nav: true, atom.Aside: true,
	atom.Main: true, atom.Ul: true, atom.Ol: true, atom.Li: true, atom.Dl: true,
	atom.Dt: true, atom.Dd: true, atom.Table: true, atom.Tr: true,
	atom.Blockquote: true, atom.Pre: true, atom.Figure: true, atom.Figcaption: true,
	atom.Form: true, atom.Fieldset: true, atom.Address: true, atom.Hr: true,
	atom.Caption: true, atom.Details: true, atom.Summary: true, atom.Body: true,
}

func headingLevel(a atom.Atom) int {
	switch a {
	case atom.H1:
		return 1
	case atom.H2:
		return 2
	case atom.H3:
		return 3
	case atom.H4:
		return 4
	case atom.H5:
		return 5
	case atom.H6:
		return 6
	}
	return 0
}

func hidden(n *html.Node) bool {
	for _, a := range n.Attr {
		switch {
		case a.Key == "hidden":
			return true
		case a.Key == "aria-hidden" && a.Val == "true":
			return true
		case a.Key == "style" && strings.Contains(strings.Join(strings.Fields(strings.ToLower(a.Val)), ""), "display:none"):
			return true
		}
	}
	return false
}

func (x *htmlText) walk(n *html.Node) {
	switch n.Type {
	case html.TextNode:
		x.text(n.Data)
		return
	case html.ElementNode:
		if skipped[n.DataAtom] || hidden(n) {
			return
		}
		switch n.DataAtom {
		case atom.Head:
			x.headTitle(n)
			return
		case atom.Br:
			x.newline(1)
			return
		case atom.Td, atom.Th:
			x.space = true
		}
		if lvl := headingLevel(n.DataAtom); lvl > 0 {
			x.heading(n, lvl)
			return
		}
		if blocks[n.DataAtom] {
			x.newline(2)
			defer x.newline(2)
		}
		if n.DataAtom == atom.Pre {
			x.pre++
			defer func() { x.pre-- }()
		}
	case html.CommentNode, html.DoctypeNode:
		return
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		x.walk(c)
	}
}

func (x *htmlText) headTitle(n *html.Node) {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode && c.DataAtom == atom.Title && x.title == "" {
			x.title = nodeText(c)
		}
	}
}

func (x *htmlText) heading(n *html.Node, level int) {
	t := strings.Join(strings.Fields(nodeText(n)), " ")
	if t == "" {
		return
	}
	if level == 1 && x.firstH1 == "" {
		x.firstH1 = t
	}
	x.newline(2)
	x.flush()
	x.heads = append(x.heads, heading{level, t, x.b.Len()})
	x.b.WriteString(t)
	x.newline(2)
}

// nodeText is the visible text under n, white space as in the source.
func nodeText(n *html.Node) string {
	var b strings.Builder
	var rec func(*html.Node)
	rec = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
			b.WriteByte(' ')
			return
		}
		if n.Type == html.ElementNode && (skipped[n.DataAtom] || hidden(n)) {
			return
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			rec(c)
		}
	}
	rec(n)
	return b.String()
}

func (x *htmlText) newline(n int) {
	if x.b.Len() > 0 && n > x.breaks {
		x.breaks = n
	}
}

// flush writes the owed separator before new text.
func (x *htmlText) flush() {
	if x.b.Len() == 0 {
		x.breaks, x.space = 0, false
		return
	}
	if x.breaks > 0 {
		x.b.WriteString("\n\n"[:x.breaks])
	} else if x.space {
		x.b.WriteByte(' ')
	}
	x.breaks, x.space = 0, false
}

func (x *htmlText) text(s string) {
	if x.pre > 0 {
		if strings.TrimSpace(s) == "" && x.b.Len() == 0 {
			return
		}
		x.flush()
		x.b.WriteString(strings.ReplaceAll(s, "\r\n", "\n"))
		return
	}
	fields := strings.Fields(s)
	if len(fields) == 0 {
		if s != "" {
			x.space = true
		}
		return
	}
	if isSpaceByte(s[0]) {
		x.space = true
	}
	for i, f := range fields {
		if i > 0 {
			x.space = true
		}
		x.flush()
		x.b.WriteString(f)
	}
	if isSpaceByte(s[len(s)-1]) {
		x.space = true
	}
}

func isSpaceByte(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'
}

func (x *htmlText) sections() []grounded.Section {
	return headingSections(x.b.String(), x.heads)
}
