package webhook

import (
	"encoding/json"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// TestJSCanonical lists what jsCanonical changes in encoding/json's output,
// each as JavaScript's JSON.stringify(JSON.parse(in)) writes it (checked with
// node 20); TestSignatureVerifiedByNodeClient checks the same against
// jambonz's verifier.
func TestJSCanonical(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"compact and untouched", `{"a":"<sip:x@y>&","b":[1,true,null]}`, `{"a":"<sip:x@y>&","b":[1,true,null]}`},
		{"whitespace", " { \"a\" : [ 1 , 2 ] } ", `{"a":[1,2]}`},
		{"line separators are not escaped", `"a\u2028b\u2029"`, "\"a\u2028b\u2029\""},
		{"replacement character unescaped", `"Jos\ufffd"`, "\"Jos\ufffd\""},
		{"invalid UTF-8 becomes U+FFFD", "\"Jos\xe9\"", "\"Jos\ufffd\""},
		{"escapes decoded", `"Jos\u00e9 a\/b \u003cb\u003e \u0041"`, `"José a/b <b> A"`},
		{"surrogate pair", `"\ud83d\udcde"`, `"📞"`},
		{"lone surrogates stay escaped", `"\uD800x\udfff"`, `"\ud800x\udfff"`},
		{"control characters", `"\u0008\u000c\u000a\u000d\u0009\u0000\u001F\u007f"`, "\"\\b\\f\\n\\r\\t\\u0000\\u001f\x7f\""},
		{"quote and backslash", `"\"\\"`, `"\"\\"`},
		{"numbers", `[1.50,1E-7,1e21,1e20,12345678901234567890,-0,-0.0,0.1,1e400,-1e400,1e-400,2.5e-7,123456789012345,1234567890123456]`,
			`[1.5,1e-7,1e+21,100000000000000000000,12345678901234567000,0,0,0.1,null,null,0,2.5e-7,123456789012345,1234567890123456]`},
		{"integer keys first, in numeric order", `{"b":1,"10":2,"a":3,"9":4,"0":5}`, `{"0":5,"9":4,"10":2,"b":1,"a":3}`},
		{"keys that are not array indexes keep their place", `{"b":1,"01":2,"-1":3,"4294967295":4,"4294967294":5,"1.5":6}`,
			`{"4294967294":5,"b":1,"01":2,"-1":3,"4294967295":4,"1.5":6}`},
		{"a repeated key: first place, last value", `{"a":1,"b":2,"a":3}`, `{"a":3,"b":2}`},
		{"nested objects reordered inside", `{"x":{"2":"b","1":"a"},"y":[{"k":1,"k":2}]}`, `{"x":{"1":"a","2":"b"},"y":[{"k":2}]}`},
		{"empty containers", `{"a":{},"b":[],"c":""}`, `{"a":{},"b":[],"c":""}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := jsCanonical([]byte(tc.in))
			require.NoError(t, err)
			require.Equal(t, tc.want, string(got))
			again, err := jsCanonical(got)
			require.NoError(t, err)
			require.Equal(t, string(got), string(again), "idempotent")
		})
	}
	for _, bad := range []string{``, `{`, `{"a"}`, `[1,]`, `"\x"`, `"\u12"`, `tru`, `1 2`, `{"a":1,}`} {
		_, err := jsCanonical([]byte(bad))
		require.ErrorIs(t, err, errNotJSON, "%q", bad)
	}
}

// A large hook body with many keys costs one extra pass, not a quadratic one.
func TestJSCanonicalManyKeys(t *testing.T) {
	m := map[string]int{}
	for i := range 20000 {
		m[string(rune('a'+i%26))+json.Number(rune(i)).String()] = i
	}
	b, err := Marshal(m)
	require.NoError(t, err)
	var back map[string]int
	require.NoError(t, json.Unmarshal(b, &back))
	require.Equal(t, m, back)
}

func FuzzJSCanonical(f *testing.F) {
	for _, s := range []string{`{"a":1}`, `"\u2028"`, `{"10":1,"9":2,"a":{"a":1,"a":2}}`, `[1.0,-0,1e400]`, "\"\xe9\"", `"\ud800"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		out, err := jsCanonical(in)
		if !json.Valid(in) {
			return // invalid input may or may not be refused; it never panics
		}
		if err != nil {
			t.Fatalf("valid JSON %q refused: %v", in, err)
		}
		if !json.Valid(out) || !utf8.Valid(out) {
			t.Fatalf("%q → invalid %q", in, out)
		}
		again, err := jsCanonical(out)
		if err != nil || string(again) != string(out) {
			t.Fatalf("not idempotent: %q → %q → %q (%v)", in, out, again, err)
		}
	})
}
