package pdf

import (
	"math"
	"sort"
	"strings"
	"unicode/utf16"

	"github.com/ledongthuc/pdf"
	"golang.org/x/text/encoding/charmap"
)

// fontDef is what the interpreter needs of a font: how to split a shown
// string into codes, each code's text, and each code's width.
type fontDef struct {
	cmap      *cmap       // from /ToUnicode; nil if none
	simple    [256]string // a simple font's text per code, from its /Encoding
	composite bool        // a Type0 font: multi-byte codes and CID widths
	ucs2      bool        // a Type0 font whose codes are UTF-16 (Uni*-UCS2-H)
	widths    []float64   // a simple font's /Widths from /FirstChar
	first     int         // its /FirstChar
	cidWidths map[uint32]float64
	defWidth  float64 // width of a code without one, in glyph units
	scale     float64 // glyph units to text space: 1/1000, or a Type3 font's matrix
}

// width returns a code's width in glyph units.
func (f *fontDef) width(code uint32) float64 {
	if f.composite {
		if w, ok := f.cidWidths[code]; ok {
			return w
		}
		return f.defWidth
	}
	if i := int(code) - f.first; i >= 0 && i < len(f.widths) {
		return f.widths[i]
	}
	return f.defWidth
}

// font returns the font named in res. cache holds the fonts of one content
// stream by name; x.loaded holds the document's fonts by their dictionary's
// text (two fonts printed alike decode alike), so a font shared by pages or
// a form drawn again is loaded once. A missing font, and every font after
// maxFonts, is the fallback: PDFDocEncoding with half-em glyphs.
func (x *extractor) font(cache map[string]*fontDef, res pdf.Value, name string) *fontDef {
	if f, ok := cache[name]; ok {
		return f
	}
	v := res.Key("Font").Key(name)
	var f *fontDef
	key := ""
	if v.Kind() == pdf.Dict {
		if key = v.String(); len(key) > 4096 {
			key = ""
		}
		f = x.loaded[key]
	}
	if f == nil {
		switch {
		case v.Kind() != pdf.Dict || x.fontLoads >= maxFonts:
			if x.fallback == nil {
				x.fallback = x.loadFont(pdf.Value{})
			}
			f = x.fallback
		default:
			x.fontLoads++
			f = x.loadFont(v)
			if key != "" {
				if x.loaded == nil {
					x.loaded = map[string]*fontDef{}
				}
				x.loaded[key] = f
			}
		}
	}
	if cache != nil {
		cache[name] = f
	}
	return f
}

func (x *extractor) loadFont(v pdf.Value) (f *fontDef) {
	f = &fontDef{scale: 0.001, defWidth: 500}
	defer func() {
		if r := recover(); r != nil {
			f = &fontDef{scale: 0.001, defWidth: 500}
			f.setEncoding(pdf.Value{})
		}
	}()
	if tu := v.Key("ToUnicode"); tu.Kind() == pdf.Stream {
		f.cmap = x.readCMap(tu)
	}
	if v.Key("Subtype").Name() == "Type0" {
		f.composite = true
		enc := v.Key("Encoding").Name()
		f.ucs2 = strings.Contains(enc, "UCS2") || strings.Contains(enc, "UTF16")
		d := v.Key("DescendantFonts").Index(0)
		f.defWidth = 1000
		if dw := d.Key("DW"); dw.Kind() == pdf.Integer || dw.Kind() == pdf.Real {
			f.defWidth = dw.Float64()
		}
		f.cidWidths = cidWidths(d.Key("W"))
		return f
	}
	if v.Key("Subtype").Name() == "Type3" {
		if s := math.Abs(v.Key("FontMatrix").Index(0).Float64()); s > 0 && s < 1 {
			f.scale = s
		}
	}
	f.first = int(v.Key("FirstChar").Int64())
	w := v.Key("Widths")
	for i := 0; i < min(w.Len(), 256); i++ {
		f.widths = append(f.widths, w.Index(i).Float64())
	}
	if len(f.widths) > 0 {
		f.defWidth = v.Key("FontDescriptor").Key("MissingWidth").Float64()
	}
	f.setEncoding(v)
	return f
}

// setEncoding fills a simple font's code table from its /Encoding:
// WinAnsi (read as Windows-1252) or MacRoman, with the library applying a
// /Differences array over it; else PDFDocEncoding, which agrees with the
// standard Latin encoding on letters and digits.
func (f *fontDef) setEncoding(v pdf.Value) {
	enc := v.Key("Encoding")
	name := enc.Name()
	var diff pdf.TextEncoding
	if enc.Kind() == pdf.Dict {
		name = enc.Key("BaseEncoding").Name()
		if enc.Key("Differences").Len() <= 512 { // the library scans it per byte
			lib := pdf.Font{V: v}
			diff = lib.Encoder()
		}
	}
	pdfDoc := pdf.Font{} // no /Encoding, no /ToUnicode: the library's PDFDocEncoding
	base := pdfDoc.Encoder()
	for c := range 256 {
		code := string([]byte{byte(c)})
		var t string
		switch name {
		case "WinAnsiEncoding":
			t = string(charmap.Windows1252.DecodeByte(byte(c)))
		case "MacRomanEncoding":
			t = string(charmap.Macintosh.DecodeByte(byte(c)))
		default:
			t = base.Decode(code)
		}
		if diff != nil {
			if d := diff.Decode(code); d != string(rune(c)) {
				t = d
			}
		}
		f.simple[c] = t
	}
}

// cidWidths reads a CIDFont's /W array: "c [w1 w2 ...]" and "cfirst clast w".
func cidWidths(w pdf.Value) map[uint32]float64 {
	m := map[uint32]float64{}
	work := 0
	n := w.Len()
	for i := 0; i+1 < n && work < maxCMapEntries; {
		c := w.Index(i).Int64()
		next := w.Index(i + 1)
		if next.Kind() == pdf.Array {
			for j := 0; j < next.Len() && work < maxCMapEntries; j++ {
				m[uint32(c+int64(j))] = next.Index(j).Float64()
				work++
			}
			i += 2
			continue
		}
		if i+2 >= n {
			break
		}
		last, wd := next.Int64(), w.Index(i+2).Float64()
		for k := c; k <= last && work < maxCMapEntries; k++ {
			m[uint32(k)] = wd
			work++
		}
		i += 3
	}
	return m
}

// cmap is a ToUnicode CMap: the code space (which byte lengths codes
// have) and each code's text.
type cmap struct {
	spaces []codeSpace
	chars  map[uint64]string // key: byte length << 32 | code
	ranges []cmapRange       // sorted by byte length, then lo
}

type codeSpace struct {
	n      int
	lo, hi uint32
}

type cmapRange struct {
	n      int
	lo, hi uint32
	dst    []uint16 // UTF-16 of lo's text; the last unit counts up through the range
	arr    []string // or each code's text
}

// readCMap parses a ToUnicode CMap's codespacerange, bfchar and bfrange
// blocks; other PostScript is skipped. It returns nil for a CMap that cannot
// be read or maps nothing.
func (x *extractor) readCMap(v pdf.Value) (m *cmap) {
	defer func() {
		if r := recover(); r != nil {
			m = nil
		}
	}()
	if x.streams++; x.streams > maxStreams {
		return nil
	}
	rd, err := streamReader(v)
	if err != nil {
		return nil
	}
	lx := newLexer(x.budgeted(rd))
	m = &cmap{chars: map[uint64]string{}}
	var stack []object
	for {
		o, err := lx.next()
		if err != nil {
			break
		}
		if o.kind != objKeyword {
			if len(stack) < 3*maxOperands {
				stack = append(stack, o)
			}
			continue
		}
		switch o.str {
		case "endcodespacerange":
			for i := 0; i+1 < len(stack) && len(m.spaces) < 256; i += 2 {
				lo, hi := stack[i].str, stack[i+1].str
				if n := len(lo); n >= 1 && n <= 4 && len(hi) == n {
					m.spaces = append(m.spaces, codeSpace{n, codeValue(lo), codeValue(hi)})
				}
			}
		case "endbfchar":
			for i := 0; i+1 < len(stack) && len(m.chars) < maxCMapEntries; i += 2 {
				if src := stack[i].str; len(src) >= 1 && len(src) <= 4 && stack[i+1].kind == objString {
					m.chars[uint64(len(src))<<32|uint64(codeValue(src))] = decodeUTF16(stack[i+1].str)
				}
			}
		case "endbfrange":
			for i := 0; i+2 < len(stack) && len(m.ranges) < maxCMapEntries; i += 3 {
				lo, hi, dst := stack[i].str, stack[i+1].str, stack[i+2]
				n := len(lo)
				if n < 1 || n > 4 || len(hi) != n || codeValue(lo) > codeValue(hi) {
					continue
				}
				r := cmapRange{n: n, lo: codeValue(lo), hi: codeValue(hi)}
				switch dst.kind {
				case objString:
					r.dst = utf16Units(dst.str)
				case objArray:
					for _, e := range dst.arr {
						r.arr = append(r.arr, decodeUTF16(e.str))
					}
				}
				m.ranges = append(m.ranges, r)
			}
		}
		stack = stack[:0]
	}
	if len(m.chars) == 0 && len(m.ranges) == 0 {
		return nil
	}
	sort.Slice(m.ranges, func(i, j int) bool {
		a, b := m.ranges[i], m.ranges[j]
		return a.n < b.n || a.n == b.n && a.lo < b.lo
	})
	return m
}

// codeLen returns the byte length of the code at the start of s: the first
// length whose code space holds it, else def.
func (m *cmap) codeLen(s string, def int) int {
	for n := 1; n <= 4 && n <= len(s); n++ {
		c := codeValue(s[:n])
		for _, sp := range m.spaces {
			if sp.n == n && sp.lo <= c && c <= sp.hi {
				return n
			}
		}
	}
	return def
}

// lookup returns the text of an n-byte code.
func (m *cmap) lookup(code uint32, n int) (string, bool) {
	if m == nil {
		return "", false
	}
	if t, ok := m.chars[uint64(n)<<32|uint64(code)]; ok {
		return t, true
	}
	i := sort.Search(len(m.ranges), func(i int) bool {
		r := m.ranges[i]
		return r.n > n || r.n == n && r.lo > code
	}) - 1
	if i < 0 || m.ranges[i].n != n || code > m.ranges[i].hi {
		return "", false
	}
	r := m.ranges[i]
	k := code - r.lo
	if r.arr != nil {
		if int(k) < len(r.arr) {
			return r.arr[k], true
		}
		return "", false
	}
	if len(r.dst) == 0 {
		return "", false
	}
	u := append([]uint16(nil), r.dst...)
	u[len(u)-1] += uint16(k)
	return string(utf16.Decode(u)), true
}

func codeValue(s string) uint32 {
	c := uint32(0)
	for i := 0; i < len(s) && i < 4; i++ {
		c = c<<8 | uint32(s[i])
	}
	return c
}

// utf16Units reads big-endian UTF-16 code units; an odd byte count is read as
// one byte per unit.
func utf16Units(s string) []uint16 {
	if len(s)%2 == 1 {
		u := make([]uint16, len(s))
		for i := range len(s) {
			u[i] = uint16(s[i])
		}
		return u
	}
	u := make([]uint16, len(s)/2)
	for i := range u {
		u[i] = uint16(s[2*i])<<8 | uint16(s[2*i+1])
	}
	return u
}

func decodeUTF16(s string) string { return string(utf16.Decode(utf16Units(s))) }
