package pdf

import (
	"bufio"
	"errors"
	"io"
	"math"
	"strconv"
	"strings"
)

// The PDF lexer reads content streams, CMaps and, for checkXref, the
// file's own objects. It reads whole arrays and dictionaries, folds "n g R"
// into a reference, and bounds strings, arrays, dictionaries and nesting.

type objKind uint8

const (
	objNumber objKind = iota + 1
	objString
	objName
	objArray
	objDict
	objRef // num is the object number
	objKeyword
)

type object struct {
	kind objKind
	num  float64
	str  string // a string's bytes, a name without its slash, a keyword, a number as written
	arr  []object
	dict map[string]object
}

type lexer struct {
	r     *bufio.Reader
	pos   int64 // bytes read
	depth int
}

func newLexer(r io.Reader) *lexer { return &lexer{r: bufio.NewReader(r)} }

func (l *lexer) readByte() (byte, error) {
	c, err := l.r.ReadByte()
	if err == nil {
		l.pos++
	}
	return c, err
}

func (l *lexer) unreadByte() {
	if l.r.UnreadByte() == nil {
		l.pos--
	}
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == 0
}

func isDelim(c byte) bool {
	return strings.IndexByte("()<>[]{}/%", c) >= 0
}

// next returns the next object or keyword; io.EOF at the end.
func (l *lexer) next() (object, error) {
	for {
		c, err := l.readByte()
		if err != nil {
			return object{}, err
		}
		switch {
		case isSpace(c), c == ')', c == '{', c == '}':
		case c == '%':
			for c != '\n' && c != '\r' && err == nil {
				c, err = l.readByte()
			}
		case c == '(':
			return l.literal()
		case c == '<':
			if c, err := l.readByte(); err == nil && c == '<' {
				return l.container(">>")
			} else if err == nil {
				l.unreadByte()
			}
			return l.hex()
		case c == '>':
			if c, err := l.readByte(); err == nil && c == '>' {
				return object{kind: objKeyword, str: ">>"}, nil
			} else if err == nil {
				l.unreadByte()
			}
		case c == '[':
			return l.container("]")
		case c == ']':
			return object{kind: objKeyword, str: "]"}, nil
		case c == '/':
			return object{kind: objName, str: l.regular(true)}, nil
		default:
			l.unreadByte()
			s := l.regular(false)
			if strings.IndexByte("+-.0123456789", s[0]) >= 0 {
				if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
					return object{kind: objNumber, num: f, str: s}, nil
				}
			}
			return object{kind: objKeyword, str: s}, nil
		}
	}
}

// regular reads a run of regular characters (at most 256 are kept),
// decoding #xx escapes in names.
func (l *lexer) regular(name bool) string {
	var b []byte
	for {
		c, err := l.readByte()
		if err != nil {
			break
		}
		if isSpace(c) || isDelim(c) {
			l.unreadByte()
			break
		}
		if name && c == '#' {
			h, _ := l.r.Peek(2)
			if v, err := strconv.ParseUint(string(h), 16, 8); err == nil && len(h) == 2 {
				l.readByte()
				l.readByte()
				c = byte(v)
			}
		}
		if len(b) < 256 {
			b = append(b, c)
		}
	}
	return string(b)
}

// container reads an array or dictionary up to its closing keyword.
func (l *lexer) container(end string) (object, error) {
	if l.depth >= maxNesting {
		return object{}, errors.New("objects nested too deep")
	}
	l.depth++
	defer func() { l.depth-- }()
	var items []object
	var err error
	for {
		var o object
		if o, err = l.next(); err != nil {
			break
		}
		if o.kind == objKeyword {
			if o.str == end {
				break
			}
			if o.str == "R" && len(items) >= 2 && items[len(items)-1].kind == objNumber && items[len(items)-2].kind == objNumber {
				items = append(items[:len(items)-2], object{kind: objRef, num: items[len(items)-2].num})
				continue
			}
		}
		if len(items) < maxArray {
			items = append(items, o)
		}
	}
	if end == "]" {
		return object{kind: objArray, arr: items}, err
	}
	d := object{kind: objDict, dict: map[string]object{}}
	for i := 0; i+1 < len(items) && len(d.dict) < maxDictKeys; i += 2 {
		if items[i].kind == objName {
			d.dict[items[i].str] = items[i+1]
		}
	}
	return d, err
}

// literal reads a (string) after its opening parenthesis.
func (l *lexer) literal() (object, error) {
	var b []byte
	depth := 1
	for {
		c, err := l.readByte()
		if err != nil {
			break
		}
		switch c {
		case '\\':
			if c, err = l.readByte(); err != nil {
				return object{kind: objString, str: string(b)}, nil
			}
			switch c {
			case 'n':
				c = '\n'
			case 'r':
				c = '\r'
			case 't':
				c = '\t'
			case 'b':
				c = '\b'
			case 'f':
				c = '\f'
			case '\r':
				if c, err := l.readByte(); err == nil && c != '\n' {
					l.unreadByte()
				}
				continue
			case '\n':
				continue
			case '0', '1', '2', '3', '4', '5', '6', '7':
				v := int(c - '0')
				for range 2 {
					d, err := l.readByte()
					if err != nil {
						break
					}
					if d < '0' || d > '7' {
						l.unreadByte()
						break
					}
					v = v*8 + int(d-'0')
				}
				c = byte(v)
			}
		case '(':
			depth++
		case ')':
			if depth--; depth == 0 {
				return object{kind: objString, str: string(b)}, nil
			}
		}
		if len(b) < maxString {
			b = append(b, c)
		}
	}
	return object{kind: objString, str: string(b)}, nil
}

// hex reads a <hex string> after its opening bracket.
func (l *lexer) hex() (object, error) {
	var b []byte
	v, half := byte(0), false
	for {
		c, err := l.readByte()
		if err != nil || c == '>' {
			break
		}
		var d byte
		switch {
		case '0' <= c && c <= '9':
			d = c - '0'
		case 'a' <= c && c <= 'f':
			d = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			d = c - 'A' + 10
		default:
			continue
		}
		if half {
			if len(b) < maxString {
				b = append(b, v<<4|d)
			}
		} else {
			v = d
		}
		half = !half
	}
	if half {
		b = append(b, v<<4)
	}
	return object{kind: objString, str: string(b)}, nil
}

// skipInlineImage skips from after BI past the image's EI: its parameters
// up to ID, one white-space byte, then binary data up to an EI that stands
// between white space.
func (l *lexer) skipInlineImage() error {
	for {
		o, err := l.next()
		if err != nil {
			return err
		}
		if o.kind == objKeyword && o.str == "ID" {
			break
		}
	}
	if c, err := l.readByte(); err == nil && !isSpace(c) {
		l.unreadByte()
	}
	b3, b2, b1 := byte(' '), byte(0), byte(0)
	for {
		c, err := l.readByte()
		if b2 == 'E' && b1 == 'I' && isSpace(b3) && (err != nil || isSpace(c) || isDelim(c)) {
			if err == nil {
				l.unreadByte()
			}
			return nil
		}
		if err != nil {
			return err
		}
		b3, b2, b1 = b2, b1, c
	}
}

// integer returns a number written as an integer, as the library reads one.
func (o object) integer() (int64, bool) {
	if o.kind != objNumber {
		return 0, false
	}
	n, err := strconv.ParseInt(o.str, 10, 64)
	return n, err == nil
}

// int64 is the library's Value.Int64: an integer, else 0.
func (o object) int64() int64 {
	n, _ := o.integer()
	return n
}

// xrefEntry is one object's cross-reference entry: type 1 at an offset,
