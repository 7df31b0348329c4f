package mcpclient

// A fast path for the JSON of every tools/call: the arguments (the common shapes of map
// encoded without reflection) and the result (CallToolResult read in one pass). Each gives
// exactly what encoding/json gives, or declines, and then encoding/json does the work: the
// fast path only ever handles input whose outcome it knows (fastjson_test.go checks both
// against encoding/json).

import (
	"bytes"
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// maxFastDepth bounds the nesting the fast paths handle (encoding/json's own limits are far
// beyond; deeper input goes to encoding/json).
const maxFastDepth = 64

// appendJSONText appends v as JSON text to dst: json.RawMessage and []byte as they are,
// anything else as json.Marshal encodes it.
func appendJSONText(dst []byte, op string, v any) ([]byte, error) {
	switch t := v.(type) {
	case json.RawMessage:
		return append(dst, t...), nil
	case []byte:
		return append(dst, t...), nil
	}
	if out, ok := appendFastJSON(dst, v, 0); ok {
		return out, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, &Error{Code: CodeInvalidJSON, Op: op, Message: "the value does not encode as JSON", causes: []error{err}}
	}
	return append(dst, b...), nil
}

// appendFastJSON appends v as json.Marshal would encode it, for maps of strings to strings,
// numbers, booleans, nil, and nested maps and slices of those; false (dst unusable) for
// anything else.
func appendFastJSON(dst []byte, v any, depth int) ([]byte, bool) {
	if depth > maxFastDepth {
		return dst, false
	}
	switch t := v.(type) {
	case nil:
		return append(dst, "null"...), true
	case string:
		return appendFastString(dst, t)
	case bool:
		return strconv.AppendBool(dst, t), true
	case int:
		return strconv.AppendInt(dst, int64(t), 10), true
	case int64:
		return strconv.AppendInt(dst, t, 10), true
	case int32:
		return strconv.AppendInt(dst, int64(t), 10), true
	case uint:
		return strconv.AppendUint(dst, uint64(t), 10), true
	case uint64:
		return strconv.AppendUint(dst, t, 10), true
	case uint32:
		return strconv.AppendUint(dst, uint64(t), 10), true
	case float64:
		return appendFastFloat(dst, t)
	case map[string]any:
		if t == nil {
			return append(dst, "null"...), true
		}
		return appendFastMap(dst, t, depth, appendFastJSON)
	case map[string]string:
		if t == nil {
			return append(dst, "null"...), true
		}
		return appendFastMap(dst, t, depth, func(dst []byte, s string, _ int) ([]byte, bool) {
			return appendFastString(dst, s)
		})
	case []any:
		if t == nil {
			return append(dst, "null"...), true
		}
		dst = append(dst, '[')
		for i, e := range t {
			if i > 0 {
				dst = append(dst, ',')
			}
			var ok bool
			if dst, ok = appendFastJSON(dst, e, depth+1); !ok {
				return dst, false
			}
		}
		return append(dst, ']'), true
	}
	return dst, false
}

// appendFastMap appends a map with its keys sorted (as json.Marshal does), each value by
// value.
func appendFastMap[V any](dst []byte, m map[string]V, depth int, value func([]byte, V, int) ([]byte, bool)) ([]byte, bool) {
	var small [8]string
	keys := small[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	dst = append(dst, '{')
	for i, k := range keys {
		if i > 0 {
			dst = append(dst, ',')
		}
		var ok bool
		if dst, ok = appendFastString(dst, k); !ok {
			return dst, false
		}
		dst = append(dst, ':')
		if dst, ok = value(dst, m[k], depth+1); !ok {
			return dst, false
		}
	}
	return append(dst, '}'), true
}

// appendFastString quotes s when json.Marshal would write it unescaped: valid UTF-8 with no
// control character, quote, backslash, <, >, & or U+2028/U+2029.
func appendFastString(dst []byte, s string) ([]byte, bool) {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
				return dst, false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || r == '\u2028' || r == '\u2029' {
			return dst, false
		}
		i += size
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"'), true
}

// appendFastFloat writes a float64 as json.Marshal does (ES6 number formatting).
func appendFastFloat(dst []byte, f float64) ([]byte, bool) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return dst, false
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' {
		// e-09 -> e-9
		n := len(dst)
		if n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst, true
}

// decodeCallToolResult reads b (the whole input, as json.Unmarshal would take it) into a
// CallToolResult exactly as json.Unmarshal does, but for Raw, which the caller sets (the
// value is b[start:end], without the whitespace around it). It returns false when it
// cannot be sure of the outcome (invalid JSON, a value of the wrong type, a repeated or
// case-folded member name, an escaped or non-ASCII member name, deep nesting): the caller
// then uses encoding/json.
func decodeCallToolResult(b []byte) (r *CallToolResult, start, end int, ok bool) {
	d := fastDecoder{b: b}
	d.ws()
	start = d.i
	if !d.eat('{') {
		return nil, 0, 0, false
	}
	// The result and its first content block in one allocation (most results have one).
	both := &struct {
		r     CallToolResult
		first [1]Content
	}{}
	r = &both.r
	var seen uint8
	ok = d.members(func(key []byte, plain bool) bool {
		if !plain {
			return false
		}
		var bit uint8
		switch string(key) {
		case "content":
			bit = 1
		case "structuredContent":
			bit = 2
		case "isError":
			bit = 4
		case "_meta":
			bit = 8
		default:
			if foldsTo(key, "content", "structuredContent", "isError", "_meta") {
				return false
			}
			return d.skip(0)
		}
		if seen&bit != 0 {
			return false
		}
		seen |= bit
		switch bit {
		case 1:
			return d.contentList(&r.Content, both.first[:0:1])
		case 2:
			return d.raw(&r.StructuredContent)
		case 4:
			return d.boolean(&r.IsError)
		default:
			return d.raw(&r.Meta)
		}
	})
	if !ok {
		return nil, 0, 0, false
	}
	end = d.i
	d.ws()
	if d.i != len(b) {
		return nil, 0, 0, false
	}
	return r, start, end, true
}

// fastDecoder reads JSON from b at i. Every method returns false for input it does not
// handle (the decoder is then abandoned).
type fastDecoder struct {
	b []byte
	i int
}

func (d *fastDecoder) ws() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// eat consumes c (after whitespace).
func (d *fastDecoder) eat(c byte) bool {
	d.ws()
	if d.i < len(d.b) && d.b[d.i] == c {
		d.i++
		return true
	}
	return false
}

func (d *fastDecoder) peek() byte {
	d.ws()
	if d.i < len(d.b) {
		return d.b[d.i]
	}
	return 0
}

// members reads an object's members after its '{', through its '}', calling member with
// each name (its text between the quotes; plain: ASCII without escapes) with d at the
// value.
func (d *fastDecoder) members(member func(key []byte, plain bool) bool) bool {
	if d.eat('}') {
		return true
	}
	for {
		if d.peek() != '"' {
			return false
		}
		start := d.i + 1
		plain, ok := d.skipString()
		if !ok {
			return false
		}
		key := d.b[start : d.i-1]
		if !d.eat(':') {
			return false
		}
		d.ws()
		if !member(key, plain) {
			return false
		}
		if d.eat(',') {
			continue
		}
		return d.eat('}')
	}
}

// foldsTo reports whether key (ASCII) equals one of names ignoring ASCII case (the names
// encoding/json would also match, for keys that are not an exact match).
func foldsTo(key []byte, names ...string) bool {
	for _, n := range names {
		if len(n) != len(key) {
			continue
		}
		same := true
		for i := range key {
			a, b := key[i], n[i]
			if 'A' <= a && a <= 'Z' {
				a += 'a' - 'A'
			}
			if 'A' <= b && b <= 'Z' {
				b += 'a' - 'A'
			}
			if a != b {
				same = false
				break
			}
		}
		if same {
			return true
		}
	}
	return false
}

// literal consumes the literal word.
func (d *fastDecoder) literal(word string) bool {
	if len(d.b)-d.i >= len(word) && string(d.b[d.i:d.i+len(word)]) == word {
		d.i += len(word)
		return true
	}
	return false
}

// raw reads any value into a json.RawMessage (a copy of its text, null included).
func (d *fastDecoder) raw(into *json.RawMessage) bool {
	start := d.i
	if !d.skip(0) {
		return false
	}
	*into = append(json.RawMessage(nil), d.b[start:d.i]...)
	return true
}

// boolean reads true or false; null leaves the value as it is.
func (d *fastDecoder) boolean(into *bool) bool {
	switch {
	case d.literal("true"):
		*into = true
	case d.literal("false"):
		*into = false
	default:
		return d.literal("null")
	}
	return true
}

// str reads a string; null leaves the value as it is.
func (d *fastDecoder) str(into *string) bool {
	if d.i < len(d.b) && d.b[d.i] == 'n' {
		return d.literal("null")
	}
	s, ok := d.stringValue()
	if ok {
		*into = s
	}
	return ok
}

// stringValue reads a string as encoding/json decodes it: escapes resolved, invalid UTF-8
// and unpaired surrogates as U+FFFD.
func (d *fastDecoder) stringValue() (string, bool) {
	if d.i >= len(d.b) || d.b[d.i] != '"' {
		return "", false
	}
	start := d.i + 1
	plain, ok := d.skipString()
	if !ok {
		return "", false
	}
	s := d.b[start : d.i-1]
	if plain {
		return knownString(s), true
	}
	return unquote(s), true
}

// knownString is string(s), without an allocation for the common content types.
func knownString(s []byte) string {
	switch string(s) {
	case "text":
		return "text"
	case "image":
		return "image"
	case "audio":
		return "audio"
	case "resource_link":
		return "resource_link"
	case "resource":
		return "resource"
	}
	return string(s)
}

// escape checks the escape at d.i (a backslash) and moves past it.
func (d *fastDecoder) escape() bool {
	if d.i+1 >= len(d.b) {
		return false
	}
	switch d.b[d.i+1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		d.i += 2
		return true
	case 'u':
		if d.i+6 > len(d.b) || hex4(d.b[d.i+2:d.i+6]) < 0 {
			return false
		}
		d.i += 6
		return true
	}
	return false
}

// hex4 is the value of four hex digits, or -1.
func hex4(s []byte) rune {
	if len(s) < 4 {
		return -1
	}
	var r rune
	for _, c := range s[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r*16 + rune(c)
	}
	return r
}

// unquote decodes a string's contents (escapes already checked) as encoding/json does.
func unquote(s []byte) string {
	if bytes.IndexByte(s, '\\') < 0 && utf8.Valid(s) {
		return string(s)
	}
	out := make([]byte, 0, len(s)+utf8.UTFMax)
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\\':
			switch s[i+1] {
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'u':
				r := hex4(s[i+2:])
				i += 6
				if utf16.IsSurrogate(r) {
					var r2 rune = -1
					if i+1 < len(s) && s[i] == '\\' && s[i+1] == 'u' {
						r2 = hex4(s[i+2:])
					}
					if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
						out = utf8.AppendRune(out, dec)
						i += 6
						continue
					}
					r = utf8.RuneError
				}
				out = utf8.AppendRune(out, r)
				continue
			default: // '"', '\\', '/'
				out = append(out, s[i+1])
			}
			i += 2
		case c < utf8.RuneSelf:
			out = append(out, c)
			i++
		default:
			r, size := utf8.DecodeRune(s[i:])
			out = utf8.AppendRune(out, r)
			i += size
		}
	}
	return string(out)
}

// skip moves past any value, checking it is valid JSON.
func (d *fastDecoder) skip(depth int) bool {
	if depth > maxFastDepth || d.i >= len(d.b) {
		return false
	}
	switch c := d.b[d.i]; {
	case c == '"':
		_, ok := d.skipString()
		return ok
	case c == '{':
		d.i++
		return d.members(func([]byte, bool) bool { return d.skip(depth + 1) })
	case c == '[':
		d.i++
		if d.eat(']') {
			return true
		}
		for {
			d.ws()
			if !d.skip(depth + 1) {
				return false
			}
			if d.eat(',') {
				continue
			}
			return d.eat(']')
		}
	case c == 't':
		return d.literal("true")
	case c == 'f':
		return d.literal("false")
	case c == 'n':
		return d.literal("null")
	case c == '-' || '0' <= c && c <= '9':
		return d.number()
	}
	return false
}

// skipString moves past a string, checking it; plain when it has no escape and is ASCII.
func (d *fastDecoder) skipString() (plain, ok bool) {
	d.i++
	plain = true
	for d.i < len(d.b) {
		c := d.b[d.i]
		switch {
		case c == '"':
			d.i++
			return plain, true
		case c == '\\':
			plain = false
			if !d.escape() {
				return false, false
			}
		case c < 0x20:
			return false, false
		default:
			if c >= utf8.RuneSelf {
				plain = false
			}
			d.i++
		}
	}
	return false, false
}

// number moves past a number (JSON's grammar).
func (d *fastDecoder) number() bool {
	b := d.b
	i := d.i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && '1' <= b[i] && b[i] <= '9':
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
	default:
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return false
		}
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return false
		}
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
	}
	d.i = i
	return true
}

// contentList reads the content array: null (nil), or an array of objects (appended to
// list, which is empty).
func (d *fastDecoder) contentList(into *[]Content, list []Content) bool {
	if d.literal("null") {
		return true
	}
	if !d.eat('[') {
		return false
	}
	if !d.eat(']') {
		for {
			list = append(list, Content{})
			if d.peek() != '{' || !d.content(&list[len(list)-1]) {
				return false
			}
			if d.eat(',') {
				continue
			}
			if !d.eat(']') {
				return false
			}
			break
		}
	}
	*into = list
	return true
}

// content reads one content block (an object) as Content.UnmarshalJSON does.
func (d *fastDecoder) content(c *Content) bool {
	start := d.i
	d.i++
	var seen uint16
	ok := d.members(func(key []byte, plain bool) bool {
		if !plain {
			return false
		}
		var bit uint16
		var field *string
		switch string(key) {
		case "type":
			bit, field = 1<<0, &c.Type
		case "text":
			bit, field = 1<<1, &c.Text
		case "data":
			bit, field = 1<<2, &c.Data
		case "mimeType":
			bit, field = 1<<3, &c.MimeType
		case "uri":
			bit, field = 1<<4, &c.URI
		case "name":
			bit, field = 1<<5, &c.Name
		case "title":
			bit, field = 1<<6, &c.Title
		case "description":
			bit, field = 1<<7, &c.Description
		case "resource":
			bit = 1 << 8
		case "annotations":
			bit = 1 << 9
		case "_meta":
			bit = 1 << 10
		default:
			if foldsTo(key, "type", "text", "data", "mimeType", "uri", "name", "title",
				"description", "resource", "annotations", "_meta") {
				return false
			}
			return d.skip(1)
		}
		if seen&bit != 0 {
			return false
		}
		seen |= bit
		switch {
		case field != nil:
			return d.str(field)
		case bit == 1<<8:
			if d.literal("null") {
				return true
			}
			if d.peek() != '{' {
				return false
			}
			c.Resource = &ResourceContents{}
			return d.resource(c.Resource)
		case bit == 1<<9:
			return d.raw(&c.Annotations)
		default:
			return d.raw(&c.Meta)
		}
	})
	if !ok {
		return false
	}
	c.Raw = append(json.RawMessage(nil), d.b[start:d.i]...)
	return true
}

// resource reads an embedded resource (an object).
func (d *fastDecoder) resource(r *ResourceContents) bool {
	d.i++
	var seen uint8
	return d.members(func(key []byte, plain bool) bool {
		if !plain {
			return false
		}
		var bit uint8
		var field *string
		switch string(key) {
		case "uri":
			bit, field = 1, &r.URI
		case "mimeType":
			bit, field = 2, &r.MimeType
		case "text":
			bit, field = 4, &r.Text
		case "blob":
			bit, field = 8, &r.Blob
		case "_meta":
			bit = 16
		default:
			if foldsTo(key, "uri", "mimeType", "text", "blob", "_meta") {
				return false
			}
			return d.skip(2)
		}
		if seen&bit != 0 {
			return false
		}
		seen |= bit
		if field != nil {
			return d.str(field)
		}
		return d.raw(&r.Meta)
	})
}
