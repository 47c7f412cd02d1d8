package runtime

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/voxrun/voxrun/verbs"
)

// BenchmarkCheckpoint is the cost of the checkpoint written at every verb
// boundary (snapshot, JSON, live-state write on the memory store) for a call
// with a typical document: it reports the checkpoint's size.
func BenchmarkCheckpoint(b *testing.B) {
	h := newHarness(&testing.T{})
	doc := []byte(`[{"verb":"config","synthesizer":{"vendor":"espeak","language":"en-US"}},
		{"verb":"gather","say":{"text":"For sales press 1, for support press 2."},"numDigits":1,"actionHook":"/menu","timeout":8},
		{"verb":"say","text":"We did not get your choice."},{"verb":"redirect","actionHook":"/call"}]`)
	entries, _, err := h.m.deps.Registry.Decode(doc, verbs.DecodeOptions{})
	if err != nil {
		b.Fatal(err)
	}
	s := newSession(h.m, newFakeLeg(), callInfo("bench-cp"), Application{AccountSID: "acct-1"})
	s.stack = entries[1:]
	s.customerData = json.RawMessage(`{"crm_id":"12345","tier":"gold"}`)
	step := entries[0].Step
	size, _ := json.Marshal(s.snapshot(&step))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		s.checkpointStep(context.Background(), &step)
	}
	b.ReportMetric(float64(len(size)), "checkpoint-bytes")
}
