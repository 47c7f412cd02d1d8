package schemas

import (
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkLoad measures validating and normalising a typical first reply
// (config, say, gather with a nested say, dial), the work done once per hook.
func BenchmarkLoad(b *testing.B) {
	v := newTestValidator(b)
	doc := []byte(`[
	  {"verb":"config","synthesizer":{"vendor":"google","language":"en-US"},"recognizer":{"vendor":"google","language":"en-US"}},
	  {"verb":"say","text":"Welcome to Acme."},
	  {"verb":"gather","input":["digits"],"numDigits":1,"timeout":5,"actionHook":"/menu","say":{"text":"Press 1 for sales, 2 for support."}},
	  {"verb":"dial","target":[{"type":"phone","number":"+15085551212"}],"answerOnBridge":true,"actionHook":"/dial-done"}
	]`)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := v.Load(doc, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoadMaxVerbs measures the largest document the limits allow.
func BenchmarkLoadMaxVerbs(b *testing.B) {
	v := newTestValidator(b)
	doc, err := os.ReadFile(filepath.Join("testdata", "corpus", "good", "many_verbs_at_limit.json"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := v.Load(doc, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNewValidator measures compiling the schemas, done once at start-up.
func BenchmarkNewValidator(b *testing.B) {
	for b.Loop() {
		if _, err := NewValidator(); err != nil {
			b.Fatal(err)
		}
	}
}
