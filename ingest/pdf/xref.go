package pdf

import (
	"bytes"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"slices"
)

// checkXref reads the cross-reference sections the way the library will
// when it opens the file (the same startxref, /Prev chain, entries and
// decoding, integers where it wants integers) and refuses what would make it
// loop, recurse or allocate without bound: a /Prev chain that loops or is
// over maxXrefChain long; object numbers over maxObjects or entries
// over maxXrefEntries; an xref stream field over 8 bytes or a predictor
// row over maxColumns; an object stream stored in an object stream, or
// whose dictionary refers into one, or that /Extends in a loop; an object
// stream that claims over maxObjects objects or decodes to over
// maxObjStmEach (all of them: maxObjStm). Where the library would fail
// on its own, safely, the check lets it.
func checkXref(data []byte) error {
	off, ok := startXref(data)
	if !ok {
		return nil
	}
	c := &xrefCheck{data: data, containers: map[int]bool{}}
	seen := map[int64]bool{}
	for first := true; off >= 0 && off < int64(len(data)); first = false {
		if seen[off] {
			return errors.New("malformed PDF: the cross-reference sections loop (/Prev)")
		}
		if len(seen) == maxXrefChain {
			return fmt.Errorf("malformed PDF: over %d cross-reference sections", maxXrefChain)
		}
		seen[off] = true
		trailer, err := c.section(off)
		if err != nil {
			return err
		}
		if first {
			_, c.encrypted = trailer["Encrypt"]
		}
		if off, ok = trailer["Prev"].integer(); !ok {
			break
		}
	}
	return c.objectStreams()
}

// startXref finds the offset after the last "startxref" line in the
// file's last 100 bytes, which must end in %%EOF, as the library does.
func startXref(data []byte) (int64, bool) {
	if len(data) < 100 {
		return 0, false
	}
	end := bytes.TrimRight(data[len(data)-100:], "\r\n\t ")
	if !bytes.HasSuffix(end, []byte("%%EOF")) {
		return 0, false
	}
	line := func(c byte) bool { return c == '\n' || c == '\r' }
	for i := bytes.LastIndex(end, []byte("startxref")); i > 0; i = bytes.LastIndex(end[:i], []byte("startxref")) {
		if j := i + len("startxref"); j < len(end) && line(end[i-1]) && line(end[j]) {
			o, err := newLexer(bytes.NewReader(end[j:])).next()
			if err != nil {
				return 0, false
			}
			return o.integer()
		}
	}
	return 0, false
}

type xrefEntry struct {
	typ uint8
	at  int64
}

type xrefCheck struct {
	data       []byte
	encrypted  bool
	entries    int64        // cross-reference entries named so far
	table      []xrefEntry  // from xref streams, the newest entry for each object
	containers map[int]bool // object streams that hold objects
}

// count adds n entries from start, refusing numbers and totals over the limits.
func (c *xrefCheck) count(start, n int64) error {
	if start > maxObjects || n > maxObjects || start+n > maxObjects {
		return fmt.Errorf("malformed PDF: object number %d is over the limit of %d", start+n, maxObjects)
	}
	if c.entries += max(n, 0); c.entries > maxXrefEntries {
		return fmt.Errorf("malformed PDF: over %d cross-reference entries", maxXrefEntries)
	}
	return nil
}

// section checks the cross-reference section at off and returns its
// trailer (an xref stream's dictionary); nil where the library fails.
func (c *xrefCheck) section(off int64) (map[string]object, error) {
	lx := newLexer(bytes.NewReader(c.data[off:]))
	o, err := lx.next()
	if err != nil {
		return nil, nil
	}
	if o.kind == objKeyword && o.str == "xref" {
		for {
			first, err := lx.next()
			if err != nil {
				return nil, nil
			}
			if first.kind == objKeyword && first.str == "trailer" {
				break
			}
			count, _ := lx.next()
			start, ok1 := first.integer()
			n, ok2 := count.integer()
			if !ok1 || !ok2 {
				return nil, nil
			}
			if err := c.count(start, n); err != nil {
				return nil, err
			}
			for range 3 * max(n, 0) {
				if _, err := lx.next(); err != nil {
					return nil, nil
				}
			}
		}
		t, err := lx.next()
		if err != nil || t.kind != objDict {
			return nil, nil
		}
		return t.dict, nil
	}
	d, at, ok := c.streamObject(lx, o, off)
	if !ok {
		return nil, nil
	}
	return d, c.xrefStream(d, at)
}

// streamObject reads "n g obj <<dict>> stream" from lx, which started at
// offset base and has read o, and returns the dictionary and the offset of
// the stream's data.
func (c *xrefCheck) streamObject(lx *lexer, o object, base int64) (map[string]object, int64, bool) {
	g, _ := lx.next()
	kw, _ := lx.next()
	d, _ := lx.next()
	s, err := lx.next()
	if err != nil || o.kind != objNumber || g.kind != objNumber || kw.str != "obj" || d.kind != objDict || s.str != "stream" {
		return nil, 0, false
	}
	if b, err := lx.readByte(); err == nil && b == '\r' {
		if b, err := lx.readByte(); err == nil && b != '\n' {
			lx.unreadByte()
		}
	}
	return d.dict, base + lx.pos, true
}

// streamData returns the decoded bytes of the stream at offset at with
// dictionary d, as the library decodes them: /Length bytes (cut at the end
// of the file), then at most one FlateDecode with the PNG Up predictor.
// ok is false where the library fails; unsupported where it might not.
func (c *xrefCheck) streamData(d map[string]object, at int64) (rd io.Reader, ok bool, err error) {
	end := int64(len(c.data))
	if n := c.length(d["Length"]); n >= 0 {
		end = min(at+n, end) // a negative length reads to the end (io.NewSectionReader)
	}
	rd = bytes.NewReader(c.data[at:end])
	var parms object
	switch f := d["Filter"]; {
	case f.kind == 0:
		return rd, true, nil
	case f.kind == objName && f.str == "FlateDecode":
		parms = d["DecodeParms"]
	case f.kind == objArray && len(f.arr) == 1 && f.arr[0].str == "FlateDecode":
		if dp := d["DecodeParms"]; dp.kind == objArray && len(dp.arr) > 0 {
			parms = dp.arr[0]
		}
	default:
		return nil, false, errors.New("unsupported PDF: a cross-reference or object stream filter other than Flate")
	}
	zr, err := zlib.NewReader(rd)
	if err != nil {
		return nil, false, nil
	}
	pred, ok := parms.dict["Predictor"]
	if !ok {
		return zr, true, nil
	}
	cols := parms.dict["Columns"].int64()
	if cols > maxColumns {
		return nil, false, fmt.Errorf("malformed PDF: a predictor row of over %d bytes", maxColumns)
	}
	if pred.int64() != 12 || cols < 0 {
		return nil, false, nil
	}
	return &pngUp{r: zr, row: make([]byte, 1+cols)}, true, nil
}

// length reads a stream's /Length: an integer, or a reference to one in an
// object the xref streams place in the file; else 0, as the library reads it.
func (c *xrefCheck) length(v object) int64 {
	if v.kind != objRef {
		return v.int64()
	}
	x := int(v.num)
	if x < 0 || x >= len(c.table) || c.table[x].typ != 1 || c.table[x].at < 0 || c.table[x].at >= int64(len(c.data)) {
		return 0
	}
	lx := newLexer(bytes.NewReader(c.data[c.table[x].at:]))
	for range 3 { // n g obj
		if _, err := lx.next(); err != nil {
			return 0
		}
	}
	n, _ := lx.next()
	return n.int64()
}

// xrefStream checks an xref stream's dictionary and records its entries.
func (c *xrefCheck) xrefStream(d map[string]object, at int64) error {
	size, ok := d["Size"].integer()
	if !ok {
		return nil
	}
	if err := c.count(0, size); err != nil {
		return err
	}
	var w []int
	total := 0
	for _, x := range d["W"].arr {
		n, ok := x.integer()
		if !ok {
			return nil
		}
		if n < 0 || n > 8 {
			return errors.New("malformed PDF: an xref stream field is over 8 bytes")
		}
		w = append(w, int(n))
		total += int(n)
	}
	if len(w) < 3 {
		return nil
	}
	index := d["Index"].arr
	if index == nil {
		index = []object{{kind: objNumber, str: "0"}, d["Size"]}
	}
	if len(index)%2 != 0 {
		return nil
	}
	var ranges [][2]int64
	for i := 0; i < len(index); i += 2 {
		start, ok1 := index[i].integer()
		n, ok2 := index[i+1].integer()
		if !ok1 || !ok2 {
			return nil
		}
		if err := c.count(start, n); err != nil {
			return err
		}
		ranges = append(ranges, [2]int64{start, n})
	}
	rd, ok, err := c.streamData(d, at)
	if !ok {
		return err
	}
	buf := make([]byte, total)
	for _, r := range ranges {
		for j := range r[1] {
			if _, err := io.ReadFull(rd, buf); err != nil {
				return nil
			}
			var f [3]int64
			p := 0
			for k := range 3 {
				for range w[k] {
					f[k] = f[k]<<8 | int64(buf[p])
					p++
				}
			}
			if w[0] == 0 {
				f[0] = 1
			}
			c.record(r[0]+j, f[0], f[1])
		}
	}
	return nil
}

// record keeps the first entry seen for object x, the newest, as the
// library does.
func (c *xrefCheck) record(x, typ, f2 int64) {
	if x < 0 || x >= maxObjects || typ < 0 || typ > 2 {
		return // the library leaves such entries unset too
	}
	if x >= int64(len(c.table)) {
		c.table = append(c.table, make([]xrefEntry, x+1-int64(len(c.table)))...)
	}
	if c.table[x].typ != 0 {
		return
	}
	switch typ {
	case 0:
		c.table[x] = xrefEntry{typ: 3}
	case 1:
		c.table[x] = xrefEntry{typ: 1, at: f2}
	case 2:
		in := int64(uint32(f2)) // as the library stores it
		c.table[x] = xrefEntry{typ: 2, at: in}
		c.containers[int(in)] = true
	}
}

// objectStreams checks each object stream that holds objects, and the ones
// it /Extends; a chain is marked checked once it ends without a loop.
func (c *xrefCheck) objectStreams() error {
	checked := map[int]bool{}
	decoded := int64(0)
	for s := range c.containers {
		var chain []int
		for cur := s; !checked[cur]; {
			if slices.Contains(chain, cur) || len(chain) == maxXrefChain {
				return errors.New("malformed PDF: object streams /Extends in a loop")
			}
			chain = append(chain, cur)
			if cur < 0 || cur >= len(c.table) || c.table[cur].typ != 1 {
				if cur >= 0 && cur < len(c.table) && c.table[cur].typ == 2 {
					return errors.New("malformed PDF: an object stream is stored in an object stream")
				}
				break // the library finds no stream there
			}
			at := c.table[cur].at
			if at < 0 || at >= int64(len(c.data)) {
				break
			}
			lx := newLexer(bytes.NewReader(c.data[at:]))
			o, err := lx.next()
			if err != nil {
				break
			}
			d, stm, ok := c.streamObject(lx, o, at)
			if !ok {
				return fmt.Errorf("malformed PDF: cannot read object stream %d", cur)
			}
			if err := c.noCompressedRefs(object{kind: objDict, dict: d}); err != nil {
				return err
			}
			if n := d["N"].int64(); n > maxObjects {
				return fmt.Errorf("malformed PDF: an object stream claims %d objects", n)
			}
			if !c.encrypted {
				rd, ok, err := c.streamData(d, stm)
				if err != nil {
					return err
				}
				if ok {
					n, _ := io.Copy(io.Discard, io.LimitReader(rd, min(maxObjStmEach, maxObjStm-decoded)+1))
					if n > maxObjStmEach {
						return fmt.Errorf("malformed PDF: an object stream decodes to over %d MiB", maxObjStmEach>>20)
					}
					if decoded += n; decoded > maxObjStm {
						return fmt.Errorf("malformed PDF: object streams decode to over %d MiB", maxObjStm>>20)
					}
				}
			} else if cols := d["DecodeParms"].dict["Columns"].int64(); cols > maxColumns {
				return fmt.Errorf("malformed PDF: a predictor row of over %d bytes", maxColumns)
			}
			ext := d["Extends"]
			if ext.kind != objRef {
				break
			}
			cur = int(ext.num)
		}
		for _, k := range chain {
			checked[k] = true
		}
	}
	return nil
}

// noCompressedRefs refuses an object stream whose dictionary refers to an
// object stored in an object stream: the library would recurse for ever.
func (c *xrefCheck) noCompressedRefs(o object) error {
	switch o.kind {
	case objRef:
		if x := int(o.num); x >= 0 && x < len(c.table) && c.table[x].typ == 2 {
			return errors.New("malformed PDF: an object stream's dictionary refers into an object stream")
		}
	case objArray:
		for _, e := range o.arr {
			if err := c.noCompressedRefs(e); err != nil {
				return err
			}
		}
	case objDict:
		for _, e := range o.dict {
			if err := c.noCompressedRefs(e); err != nil {
				return err
			}
		}
	}
	return nil
}

// pngUp undoes the PNG Up predictor the way the library does: every row's
// filter byte must be 2.
type pngUp struct {
	r    io.Reader
	row  []byte // the previous row, filter byte first
	tmp  []byte
	pend []byte
}

func (p *pngUp) Read(b []byte) (int, error) {
	n := 0
	for len(b) > 0 {
		if len(p.pend) > 0 {
			m := copy(b, p.pend)
			n += m
			b = b[m:]
			p.pend = p.pend[m:]
			continue
		}
		if p.tmp == nil {
			p.tmp = make([]byte, len(p.row))
		}
		if _, err := io.ReadFull(p.r, p.tmp); err != nil {
			return n, err
		}
		if p.tmp[0] != 2 {
			return n, errors.New("malformed PNG-Up encoding")
		}
		for i, c := range p.tmp {
			p.row[i] += c
		}
		p.pend = p.row[1:]
	}
	return n, nil
}
