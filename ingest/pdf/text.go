package pdf

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/ledongthuc/pdf"
)

// extractor holds the budgets shared by a document's pages.
type extractor struct {
	left        int64 // decoded content bytes that may still be read
	textLeft    int   // bytes of text that may still be extracted
	undecodable int   // glyphs shown in a font with no Unicode mapping
	streams     int   // streams opened
	fontLoads   int   // fonts loaded
	loaded      map[string]*fontDef
	fallback    *fontDef
}

// page returns the text of one page, and the first error met reading it.
// The text read before an error is kept.
func (x *extractor) page(p pageRef) (text string, err error) {
	var out layout
	defer func() {
		if r := recover(); r != nil && err == nil {
			err = fmt.Errorf("%v", r)
		}
		text = out.finish()
	}()
	gs := gstate{ctm: identity, hscale: 1}
	return "", x.run(&out, p.v.Key("Contents"), p.res, gs, 0)
}

// gstate is the part of the graphics state that places text.
type gstate struct {
	ctm       matrix
	font      *fontDef
	size      float64 // Tf
	charSpace float64 // Tc
	wordSpace float64 // Tw
	hscale    float64 // Tz / 100
	leading   float64 // TL
	rise      float64 // Ts
}

// run interprets one content stream (or array of streams) with resources res.
func (x *extractor) run(out *layout, contents, res pdf.Value, gs gstate, depth int) error {
	cr := &contentReader{x: x, parts: contents}
	lx := newLexer(cr)
	fonts := map[string]*fontDef{}
	var (
		stack   []object
		saved   []gstate
		tm, tlm = identity, identity
	)
	nextLine := func() {
		tlm = translate(0, -gs.leading).mul(tlm)
		tm = tlm
	}
	for {
		o, err := lx.next()
		if err != nil {
			if err == io.EOF {
				return cr.err
			}
			return err
		}
		if o.kind != objKeyword {
			if len(stack) == maxOperands {
				stack = stack[:0]
			}
			stack = append(stack, o)
			continue
		}
		n := len(stack)
		switch o.str {
		case "q":
			if len(saved) < maxGStates {
				saved = append(saved, gs)
			}
		case "Q":
			if k := len(saved); k > 0 {
				gs, saved = saved[k-1], saved[:k-1]
			}
		case "cm":
			if m, ok := matrixOf(stack); ok {
				gs.ctm = m.mul(gs.ctm)
			}
		case "BT":
			tm, tlm = identity, identity
		case "Tc", "Tw", "Tz", "TL", "Ts":
			if n > 0 && stack[n-1].kind == objNumber {
				v := stack[n-1].num
				switch o.str {
				case "Tc":
					gs.charSpace = v
				case "Tw":
					gs.wordSpace = v
				case "Tz":
					gs.hscale = v / 100
				case "TL":
					gs.leading = v
				case "Ts":
					gs.rise = v
				}
			}
		case "Tf":
			if n >= 2 && stack[n-2].kind == objName && stack[n-1].kind == objNumber {
				gs.font = x.font(fonts, res, stack[n-2].str)
				gs.size = stack[n-1].num
			}
		case "Td", "TD":
			if n >= 2 && stack[n-2].kind == objNumber && stack[n-1].kind == objNumber {
				if o.str == "TD" {
					gs.leading = -stack[n-1].num
				}
				tlm = translate(stack[n-2].num, stack[n-1].num).mul(tlm)
				tm = tlm
			}
		case "T*":
			nextLine()
		case "Tm":
			if m, ok := matrixOf(stack); ok {
				tm, tlm = m, m
			}
		case "Tj", "'", "\"":
			if n == 0 || stack[n-1].kind != objString {
				break
			}
			if o.str == "\"" && n >= 3 {
				gs.wordSpace, gs.charSpace = stack[n-3].num, stack[n-2].num
			}
			if o.str != "Tj" {
				nextLine()
			}
			err = x.show(out, stack[n-1].str, &tm, &gs)
		case "TJ":
			if n == 0 || stack[n-1].kind != objArray {
				break
			}
			for _, e := range stack[n-1].arr {
				switch e.kind {
				case objString:
					err = x.show(out, e.str, &tm, &gs)
				case objNumber:
					tm = translate(-e.num/1000*gs.size*gs.hscale, 0).mul(tm)
				}
				if err != nil {
					break
				}
			}
		case "Do":
			if n > 0 && stack[n-1].kind == objName {
				err = x.form(out, res, stack[n-1].str, gs, depth)
			}
		case "BI":
			err = lx.skipInlineImage()
		}
		stack = stack[:0]
		if err != nil {
			return err
		}
	}
}

// form runs a Form XObject's content with the current graphics state. A
// form that fails is skipped; the page goes on.
func (x *extractor) form(out *layout, res pdf.Value, name string, gs gstate, depth int) (err error) {
	if depth >= maxFormDepth {
		return nil
	}
	defer func() {
		if r := recover(); r != nil {
			err = nil
		}
	}()
	xo := res.Key("XObject").Key(name)
	if xo.Kind() != pdf.Stream || xo.Key("Subtype").Name() != "Form" {
		return nil
	}
	if m, ok := matrixValue(xo.Key("Matrix")); ok {
		gs.ctm = m.mul(gs.ctm)
	}
	fres := xo.Key("Resources")
	if fres.Kind() != pdf.Dict {
		fres = res
	}
	err = x.run(out, xo, fres, gs, depth+1)
	if errors.Is(err, errLimit) {
		return err
	}
	return nil
}

// show decodes and places one shown string, and moves the text matrix past it.
func (x *extractor) show(out *layout, raw string, tm *matrix, gs *gstate) error {
	f := gs.font
	if f == nil {
		f = x.font(nil, pdf.Value{}, "")
	}
	trm := tm.mul(gs.ctm)
	sx, sy := trm.apply(0, gs.rise)
	var b strings.Builder
	adv := x.decode(f, raw, gs, &b)
	*tm = translate(adv, 0).mul(*tm)
	ex, ey := tm.mul(gs.ctm).apply(0, gs.rise)

	ux, uy := trm[0], trm[1]
	if l := math.Hypot(ux, uy); l > 0 && !math.IsInf(l, 0) {
		ux, uy = ux/l, uy/l
	} else {
		ux, uy = 1, 0
	}
	em := math.Abs(gs.size) * math.Hypot(trm[2], trm[3])
	if !(em > 1e-6) || math.IsInf(em, 0) {
		em = 1
	}
	if x.textLeft -= out.put(cleanText(b.String()), sx, sy, ex, ey, ux, uy, em); x.textLeft < 0 {
		return fmt.Errorf("the extracted text is over %d MiB: %w", maxText>>20, errLimit)
	}
	return nil
}

// decode writes the text of the shown string raw to b and returns its
// advance in text space.
func (x *extractor) decode(f *fontDef, raw string, gs *gstate, b *strings.Builder) float64 {
	adv := 0.0
	for i := 0; i < len(raw); {
		n := 1
		if f.composite {
			n = 2
			if f.cmap != nil {
				n = f.cmap.codeLen(raw[i:], n)
			}
			n = min(n, len(raw)-i)
		}
		code := codeValue(raw[i : i+n])
		i += n
		if t, ok := f.cmap.lookup(code, n); ok {
			b.WriteString(t)
		} else if !f.composite {
			b.WriteString(f.simple[code&0xff])
		} else if f.ucs2 {
			b.WriteRune(rune(code)) // a lone surrogate half becomes U+FFFD, dropped by cleanText
		} else {
			x.undecodable++
		}
		extra := gs.charSpace
		if n == 1 && code == ' ' {
			extra += gs.wordSpace
		}
		adv += (f.width(code)*f.scale*gs.size + extra) * gs.hscale
		// Some producers (Ghostscript) space words with Tc inside one string.
		if i < len(raw) && extra > 0.15*math.Abs(gs.size) && b.Len() > 0 && !strings.HasSuffix(b.String(), " ") {
			b.WriteByte(' ')
		}
	}
	return adv
}

// layout lays out a page's text in the order it is shown.
type layout struct {
	b       strings.Builder
	started bool
	ex, ey  float64 // where the last text ended, in device space
	ux, uy  float64 // its baseline direction, a unit vector
	em      float64 // its font size in device space
}

// put writes text shown from (sx, sy) to (ex, ey) along (ux, uy) at font
// size em, after a space, line break or blank line if its place calls for
// one, and returns the bytes written.
func (t *layout) put(s string, sx, sy, ex, ey, ux, uy, em float64) int {
	if s == "" {
		if t.started {
			t.ex, t.ey = ex, ey
		}
		return 0
	}
	n := t.b.Len()
	if t.started {
		dx, dy := sx-t.ex, sy-t.ey
		along := dx*t.ux + dy*t.uy
		across := dy*t.ux - dx*t.uy // up the page is positive
		size := max(em, t.em)
		switch {
		case across < -1.7*size || across > 0.6*size:
			t.b.WriteString("\n\n")
		case across < -0.6*size || ux*t.ux+uy*t.uy < 0.9:
			t.b.WriteByte('\n')
		case along > 0.15*size || along < -size:
			if !strings.HasSuffix(t.b.String(), " ") && s[0] != ' ' {
				t.b.WriteByte(' ')
			}
		}
	}
	t.b.WriteString(s)
	t.started = true
	t.ex, t.ey, t.ux, t.uy, t.em = ex, ey, ux, uy, em
	return t.b.Len() - n
}

// finish returns the page's text: lines trimmed, runs of blank lines cut to one.
func (t *layout) finish() string {
	var out strings.Builder
	blank := false
	for _, line := range strings.Split(t.b.String(), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			blank = out.Len() > 0
			continue
		}
		if out.Len() > 0 {
			if blank {
				out.WriteString("\n\n")
			} else {
				out.WriteByte('\n')
			}
		}
		blank = false
		out.WriteString(line)
	}
	return strings.ToValidUTF8(out.String(), "")
}

// ligatures spells out the Latin ligature characters, so "ﬁnd" is found as "find".
var ligatures = map[rune]string{
	'\uFB00': "ff", '\uFB01': "fi", '\uFB02': "fl", '\uFB03': "ffi", '\uFB04': "ffl", '\uFB05': "st", '\uFB06': "st",
}

// cleanText makes decoded glyph text fit for the document: valid UTF-8,
// ligatures spelled out, tabs and line ends as spaces, and control
// characters, U+FFFD, soft hyphens and byte order marks dropped.
func cleanText(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\t' || r == '\n' || r == '\r' || r == '\u00a0':
			b.WriteByte(' ')
		case r < 0x20 || (r >= 0x7f && r < 0xa0) || r == utf8.RuneError || r == '\u00ad' || r == '\ufeff':
		case ligatures[r] != "":
			b.WriteString(ligatures[r])
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// matrix is an affine transform [a b c d e f], as PDF writes it.
type matrix [6]float64

var identity = matrix{1, 0, 0, 1, 0, 0}

func translate(x, y float64) matrix { return matrix{1, 0, 0, 1, x, y} }

// mul returns m followed by n.
func (m matrix) mul(n matrix) matrix {
	return matrix{
		m[0]*n[0] + m[1]*n[2], m[0]*n[1] + m[1]*n[3],
		m[2]*n[0] + m[3]*n[2], m[2]*n[1] + m[3]*n[3],
		m[4]*n[0] + m[5]*n[2] + n[4], m[4]*n[1] + m[5]*n[3] + n[5],
	}
}

func (m matrix) apply(x, y float64) (float64, float64) {
	return x*m[0] + y*m[2] + m[4], x*m[1] + y*m[3] + m[5]
}

// matrixOf reads the six numbers on top of the operand stack.
func matrixOf(stack []object) (matrix, bool) {
	var m matrix
	if len(stack) < 6 {
		return m, false
	}
	for i, o := range stack[len(stack)-6:] {
		if o.kind != objNumber {
			return m, false
		}
		m[i] = o.num
	}
	return m, true
}

func matrixValue(v pdf.Value) (matrix, bool) {
	var m matrix
	if v.Len() != 6 {
		return m, false
	}
	for i := range m {
		m[i] = v.Index(i).Float64()
	}
	return m, true
}

// contentReader reads a content stream, or the streams of a /Contents
// array one after another, charging the bytes to the document's budget.
// A stream that cannot be read is skipped; err keeps the first such error.
type contentReader struct {
	x     *extractor
	parts pdf.Value
	next  int
	cur   io.Reader
	sep   bool // a newline is owed between two streams
	err   error
}

func (r *contentReader) Read(p []byte) (int, error) {
	for {
		if r.cur == nil {
			if !r.open() {
				return 0, io.EOF
			}
		}
		if r.sep {
			r.sep = false
			p[0] = '\n'
			return 1, nil
		}
		if r.x.left <= 0 {
			return 0, fmt.Errorf("the page content is over %d MiB decoded: %w", maxContent>>20, errLimit)
		}
		if int64(len(p)) > r.x.left {
			p = p[:r.x.left]
		}
		n, err := safeRead(r.cur, p)
		r.x.left -= int64(n)
		if err != nil {
			if err != io.EOF && r.err == nil {
				r.err = err
			}
			r.cur = nil
			if n == 0 {
				continue
			}
		}
		return n, nil
	}
}

// open moves to the next stream that opens.
func (r *contentReader) open() bool {
	for {
		var v pdf.Value
		switch {
		case r.parts.Kind() == pdf.Array && r.next < min(r.parts.Len(), maxContentParts):
			v = r.parts.Index(r.next)
		case r.parts.Kind() == pdf.Stream && r.next == 0:
			v = r.parts
		default:
			return false
		}
		r.next++
		if v.Kind() != pdf.Stream {
			continue
		}
		if r.x.streams++; r.x.streams > maxStreams {
			r.err = fmt.Errorf("over %d content streams: %w", maxStreams, errLimit)
			return false
		}
		rd, err := streamReader(v)
		if err != nil {
			if r.err == nil {
				r.err = err
			}
			continue
		}
		r.cur, r.sep = rd, r.next > 1
		return true
	}
}

// streamReader returns the decoded data of a stream. It refuses a
// predictor row the library would allocate whatever its size, and turns the
// library's panic on a filter it does not know into an error.
func streamReader(v pdf.Value) (rd io.Reader, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	parms := v.Key("DecodeParms")
	for i := -1; i < parms.Len(); i++ {
		p := parms
		if i >= 0 {
			p = parms.Index(i)
		}
		if p.Key("Columns").Int64() > maxColumns {
			return nil, fmt.Errorf("a predictor row of over %d bytes", maxColumns)
		}
	}
	return v.Reader(), nil
}

// safeRead reads from a library stream, whose decrypting readers may panic.
func safeRead(r io.Reader, p []byte) (n int, err error) {
	defer func() {
		if e := recover(); e != nil {
			n, err = 0, fmt.Errorf("%v", e)
		}
	}()
	return r.Read(p)
}

// budgeted charges what r yields to the document's content budget.
func (x *extractor) budgeted(r io.Reader) io.Reader {
	return &contentReader{x: x, cur: r, next: 1}
}
