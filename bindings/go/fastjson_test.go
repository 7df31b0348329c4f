package mcpclient

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// The fast JSON paths against encoding/json: the same outcome for every input, or the fast
// path declines.

// slowResult decodes with encoding/json alone (CallToolResult as it was before the fast path).
type slowResult CallToolResult

func (r *slowResult) UnmarshalJSON(b []byte) error { return (*CallToolResult)(r).unmarshalJSON(b) }

// checkDecode compares the fast decoder with encoding/json on b, both as CallTool reads a
// result (json.Unmarshal) and as CallToolResult.UnmarshalJSON is called directly. It
// reports whether the fast path took the input.
func checkDecode(t *testing.T, b []byte) bool {
	t.Helper()
	var want slowResult
	wantErr := json.Unmarshal(b, &want)
	fast, start, end, ok := decodeCallToolResult(b)
	if ok {
		fast.Raw = b[start:end]
		if wantErr != nil {
			t.Fatalf("fast path took %q, which encoding/json rejects: %v", b, wantErr)
		}
		if !reflect.DeepEqual(fast, (*CallToolResult)(&want)) {
			t.Fatalf("fast path differs for %q:\n got  %#v\n want %#v", b, *fast, want)
		}
	}
	// Through json.Unmarshal (which now calls the fast UnmarshalJSON).
	var got CallToolResult
	gotErr := json.Unmarshal(b, &got)
	if (gotErr == nil) != (wantErr == nil) || gotErr != nil && gotErr.Error() != wantErr.Error() {
		t.Fatalf("json.Unmarshal of %q: error %v, want %v", b, gotErr, wantErr)
	}
	if gotErr == nil && !reflect.DeepEqual(got, CallToolResult(want)) {
		t.Fatalf("json.Unmarshal of %q:\n got  %#v\n want %#v", b, got, want)
	}
	// UnmarshalJSON called directly (Raw is then the whole input).
	var direct, directWant CallToolResult
	dErr := direct.UnmarshalJSON(b)
	dWantErr := directWant.unmarshalJSON(b)
	if (dErr == nil) != (dWantErr == nil) || dErr != nil && dErr.Error() != dWantErr.Error() {
		t.Fatalf("UnmarshalJSON(%q): error %v, want %v", b, dErr, dWantErr)
	}
	if !reflect.DeepEqual(direct, directWant) {
		t.Fatalf("UnmarshalJSON(%q):\n got  %#v\n want %#v", b, direct, directWant)
	}
	return ok
}

var decodeCases = []string{
	`{"content":[{"type":"text","text":"hello benchmark"}]}`,
	` {"content":[{"type":"text","text":"hello benchmark"}]}` + "\n\t",
	`{"content":[{"type":"text","text":"hello benchmark"}],"structuredContent":{"a":[1,2.5e-3,true,null]},"isError":true,"_meta":{"x":"y"}}`,
	`{"content":[],"isError":false}`,
	`{"content":null,"isError":null}`,
	`{}`,
	`{ "content" : [ { "type" : "text" , "text" : "a" } , { "type":"image","data":"AAAA","mimeType":"image/png","annotations":{"audience":["user"]}} ] }`,
	`{"content":[{"type":"resource","resource":{"uri":"file:///a","mimeType":"text/plain","text":"x","_meta":{}}}]}`,
	`{"content":[{"type":"resource","resource":null}]}`,
	`{"content":[{"type":"resource_link","uri":"u","name":"n","title":"t","description":"d","_meta":null}]}`,
	`{"content":[{"type":"text","text":"line\nbreak \"quoted\" \\ \/ \b\f\r\t \u00e9 \ud83d\ude00 \ud800 \udc00x \ud800\u0041"}]}`,
	`{"content":[{"type":"text","text":"héllo wörld ✓"}]}`,
	"{\"content\":[{\"type\":\"text\",\"text\":\"bad \xff utf8 \xc3\"}]}",
	"{\"content\":[{\"type\":\"text\",\"te\xffxt\":\"x\"}]}",
	`{"content":[{"type":"text","text":"x","unknown":{"deep":[[[{"a":"\u0000"}]]]},"n":-0.5E+10}]}`,
	`{"Content":[{"type":"text","text":"x"}]}`,
	`{"content":[{"Type":"text","TEXT":"x"}]}`,
	`{"content":[{"type":"text","text":"x"}],"content":[]}`,
	`{"content":[{"type":"text","type":"image"}]}`,
	`{"iſError":true}`,
	`{"content":[{"type":"text","text":"x","resource":{"URI":"a"}}]}`,
	`{"c\u006fntent":[{"type":"text"}]}`,
	`{"content":[null]}`,
	`{"content":[1]}`,
	`{"content":{"type":"text"}}`,
	`{"isError":"yes"}`,
	`{"isError":1}`,
	`{"content":[{"type":1}]}`,
	`{"content":[{"text":null}]}`,
	`{"content":[{"type":"text","text":"x"}]`,
	`{"content":[{"type":"text","text":"x"}]} x`,
	`{"content":[{"type":"text","text":"x"},]}`,
	`{"a":01}`, `{"a":-}`, `{"a":1.}`, `{"a":1e}`, `{"a":.5}`, `{"a":tru}`, `{"a":nul}`,
	`{"a":"\x"}`, `{"a":"\u12"}`, "{\"a\":\"\x01\"}", `{"a":'x'}`, `{"a" "b"}`, `{,}`, `{"a":1,}`,
	`[]`, `null`, `"x"`, `1`, ``, ` `, `{`, `}`,
	`{"structuredContent":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`,
	`{"structuredContent":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}`,
	`{"_meta":"\u2028 \ud83d"}`,
	"{\"content\":[{\"type\":\"text\",\"text\":\"\u2028\"}]}",
}

func TestFastDecodeCases(t *testing.T) {
	took := 0
	for _, c := range decodeCases {
		if checkDecode(t, []byte(c)) {
			took++
		}
	}
	// The common shapes must take the fast path.
	for _, c := range decodeCases[:12] {
		if _, _, _, ok := decodeCallToolResult([]byte(c)); !ok {
			t.Errorf("the fast path declined %s", c)
		}
	}
	t.Logf("fast path took %d of %d cases", took, len(decodeCases))
}

// randomJSON builds JSON text for a tools/call result, mostly well formed, with the member
// names, value types, strings and spacing a server might send (and some it should not).
type jsonGen struct {
	r *rand.Rand
	b strings.Builder
}

var genStrings = []string{
	"", "text", "hello benchmark", "héllo", "line\\nbreak", "\\\"q\\\"", "\\u00e9", "\\ud83d\\ude00",
	"\\ud800", "\\udc00\\ud800", "\\ud800\\u0041", "<&>", "\u2028", "\xff\xfe", "a\\/b", "tab\\t", "✓",
	"\\u0000", "bad\\", "\x01", "\\x",
}

var genKeys = []string{
	"content", "structuredContent", "isError", "_meta", "type", "text", "data", "mimeType", "uri",
	"name", "title", "description", "resource", "annotations", "blob", "other", "Content", "TEXT",
	"Type", "isERROR", "x", "", "c\\u006fntent", "ſ", "_META", "iſError",
}

func (g *jsonGen) ws() {
	if g.r.IntN(8) == 0 {
		g.b.WriteString([]string{" ", "\n", "\t ", "\r\n"}[g.r.IntN(4)])
	}
}

func (g *jsonGen) str() {
	g.b.WriteByte('"')
	g.b.WriteString(genStrings[g.r.IntN(len(genStrings))])
	g.b.WriteByte('"')
}

func (g *jsonGen) value(depth int) {
	g.ws()
	switch n := g.r.IntN(10); {
	case n < 3:
		g.str()
	case n == 3:
		g.b.WriteString([]string{"0", "-1", "2.5", "1e10", "-0.25E-3", "123456789012345678901234567890"}[g.r.IntN(6)])
	case n == 4:
		g.b.WriteString([]string{"true", "false", "null"}[g.r.IntN(3)])
	case n < 7 && depth < 4:
		g.object(depth+1, genKeys)
	case depth < 4:
		g.b.WriteByte('[')
		for i := range g.r.IntN(4) {
			if i > 0 {
				g.b.WriteByte(',')
			}
			g.value(depth + 1)
		}
		g.b.WriteByte(']')
	default:
		g.b.WriteString("null")
	}
	g.ws()
}

func (g *jsonGen) object(depth int, keys []string) {
	g.b.WriteByte('{')
	for i := range g.r.IntN(5) {
		if i > 0 {
			g.b.WriteByte(',')
		}
		g.ws()
		key := keys[g.r.IntN(len(keys))]
		g.b.WriteString(`"` + key + `"`)
		g.ws()
		g.b.WriteByte(':')
		g.member(key, depth)
	}
	g.b.WriteByte('}')
}

// member writes the value of the member key, most of the time of the type it has.
func (g *jsonGen) member(key string, depth int) {
	if g.r.IntN(5) == 0 {
		g.value(depth)
		return
	}
	g.ws()
	switch key {
	case "content":
		g.b.WriteByte('[')
		for i := range g.r.IntN(4) {
			if i > 0 {
				g.b.WriteByte(',')
			}
			g.ws()
			g.object(depth+1, genKeys)
		}
		g.b.WriteByte(']')
	case "resource":
		g.object(depth+1, []string{"uri", "mimeType", "text", "blob", "_meta", "URI", "x"})
	case "isError":
		g.b.WriteString([]string{"true", "false", "null"}[g.r.IntN(3)])
	case "type", "text", "data", "mimeType", "uri", "name", "title", "description", "blob":
		g.str()
	default:
		g.value(depth)
	}
	g.ws()
}

// breakers are the bytes that turn good JSON into bad (or into other good JSON).
const breakers = "{}[]\",:\\ xe0\xff\x01tn-."

func TestFastDecodeRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	n := 6000
	if testing.Short() {
		n = 1000
	}
	took := 0
	for i := range n {
		g := jsonGen{r: r}
		g.ws()
		g.object(0, genKeys)
		g.ws()
		b := []byte(g.b.String())
		if i%4 == 3 && len(b) > 0 {
			// Break it: drop, change or insert a byte.
			j := r.IntN(len(b))
			switch r.IntN(3) {
			case 0:
				b = append(b[:j], b[j+1:]...)
			case 1:
				b[j] = breakers[r.IntN(len(breakers))]
			default:
				b = append(b[:j], append([]byte{breakers[r.IntN(len(breakers))]}, b[j:]...)...)
			}
		}
		if checkDecode(t, b) {
			took++
		}
	}
	if took < n/5 {
		t.Errorf("the fast path took only %d of %d inputs", took, n)
	}
}

func FuzzFastDecode(f *testing.F) {
	for _, c := range decodeCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, b []byte) { checkDecode(t, b) })
}

// checkEncode compares appendJSONText with json.Marshal on v.
func checkEncode(t *testing.T, v any) {
	t.Helper()
	want, wantErr := json.Marshal(v)
	got, err := appendJSONText([]byte("prefix"), "test", v)
	if (err == nil) != (wantErr == nil) {
		t.Fatalf("%#v: error %v, want %v", v, err, wantErr)
	}
	if err == nil && !bytes.Equal(got, append([]byte("prefix"), want...)) {
		t.Fatalf("%#v: got %s, want prefix%s", v, got, want)
	}
}

var encodeStrings = []string{
	"", "text", "hello benchmark", "héllo", "line\nbreak", `"q"`, `back\slash`, "<&>", "\u2028",
	"\u2029", "\xff\xfe", "\x00", "\x1f", "\b\f", "✓", "\U0001F600", "a/b", "\x7f",
}

func randomValue(r *rand.Rand, depth int) any {
	switch n := r.IntN(16); {
	case n < 4:
		return encodeStrings[r.IntN(len(encodeStrings))]
	case n == 4:
		return r.IntN(3) == 0
	case n == 5:
		return nil
	case n == 6:
		return []any{int(r.Int64()), int64(-r.Int64()), int32(r.Int32()), uint(r.Uint64()), uint64(r.Uint64()), uint32(r.Uint32())}[r.IntN(6)]
	case n == 7:
		return []float64{0, math.Copysign(0, -1), 1, -2.5, 1e20, 1e21, 1e-6, 1e-7, 123456.789, r.NormFloat64() * 1e30, r.Float64() * 1e-10, math.MaxFloat64, math.SmallestNonzeroFloat64}[r.IntN(13)]
	case n == 8:
		return []any{math.NaN(), math.Inf(1), float32(1.5), int8(3), json.Number("12"), json.RawMessage(`{"a":1}`), struct{ A int }{1}, (*int)(nil), map[string]int{"a": 1}, []string{"x"}, []any(nil), map[string]any(nil), map[string]string(nil)}[r.IntN(13)]
	case n < 12 && depth < 4:
		m := map[string]any{}
		for range r.IntN(6) {
			m[encodeStrings[r.IntN(len(encodeStrings))]] = randomValue(r, depth+1)
		}
		return m
	case n < 14 && depth < 4:
		m := map[string]string{}
		for range r.IntN(4) {
			m[encodeStrings[r.IntN(len(encodeStrings))]] = encodeStrings[r.IntN(len(encodeStrings))]
		}
		return m
	case depth < 4:
		s := make([]any, r.IntN(4))
		for i := range s {
			s[i] = randomValue(r, depth+1)
		}
		return s
	}
	return "leaf"
}

func TestFastEncode(t *testing.T) {
	for _, v := range []any{
		map[string]any{"text": "hello benchmark"},
		map[string]string{"text": "raw"},
		map[string]any{"a": 2, "b": 3},
		map[string]any{"b": 1, "a": []any{1.5, "x", nil, true, map[string]any{}}, "c": map[string]any{"z": false}},
		map[string]any(nil), map[string]string{}, []any{}, []any(nil),
		map[string]int{"ms": 5},
	} {
		checkEncode(t, v)
	}
	// JSON text goes as it is, checked by the library (as jsonText always did).
	for _, v := range []any{json.RawMessage(`{"a":`), []byte(`{"x": 1}`)} {
		if got, err := appendJSONText(nil, "test", v); err != nil || !bytes.Equal(got, reflect.ValueOf(v).Bytes()) {
			t.Errorf("%#v: got %s, %v", v, got, err)
		}
	}
	for _, v := range []any{map[string]any{"text": "hello benchmark", "n": 1, "f": 0.5, "ok": true}, map[string]string{"text": "héllo"}} {
		if _, ok := appendFastJSON(nil, v, 0); !ok {
			t.Errorf("the fast path declined %#v", v)
		}
	}
	r := rand.New(rand.NewPCG(3, 4))
	for range 20000 {
		checkEncode(t, randomValue(r, 0))
	}
	// A deep value goes to encoding/json, which encodes it the same.
	var deep any = "x"
	for range 100 {
		deep = map[string]any{"a": deep}
	}
	checkEncode(t, deep)
}

func BenchmarkCallToolResultDecode(b *testing.B) {
	raw := []byte(`{"content":[{"type":"text","text":"hello benchmark"}]}`)
	b.Run("fast", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, _, _, ok := decodeCallToolResult(raw); !ok {
				b.Fatal("declined")
			}
		}
	})
	b.Run("encoding/json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var r slowResult
			if err := json.Unmarshal(raw, &r); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkArgumentsEncode(b *testing.B) {
	args := map[string]any{"text": "hello benchmark"}
	b.Run("fast", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := appendJSONText(nil, "x", args); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding/json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(args); err != nil {
				b.Fatal(err)
			}
		}
	})
}
