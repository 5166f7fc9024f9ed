package pdf

import (
	"math"
	"strings"

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
