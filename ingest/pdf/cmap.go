package pdf

import (
	"sort"
	"unicode/utf16"

	"github.com/ledongthuc/pdf"
)

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
