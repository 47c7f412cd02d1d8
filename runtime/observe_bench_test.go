package runtime

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/voxrun/voxrun/media"
	"github.com/voxrun/voxrun/schemas"
	"github.com/voxrun/voxrun/verbs"
)

// BenchmarkCallEvents is what one verb's events cost a call: start, end with
// results, a status change and a digit; unobserved (the cost every real call
// pays) and observed by a simulated call's timeline.
func BenchmarkCallEvents(b *testing.B) {
	e := verbs.Entry{Step: schemas.Step{Verb: "gather", Path: "/0", Attrs: json.RawMessage(`{"actionHook":"/menu","numDigits":1}`)}}
	out := verbs.Outcome{Results: map[string]any{"digits": "1", "reason": "dtmfDetected"}}
	d := media.Digit{Key: '1', Duration: 100 * time.Millisecond}
	run := func(b *testing.B, o *observation) {
		b.ReportAllocs()
		for b.Loop() {
			o.verbStart(e)
			o.verbEnd(e, out, nil)
			o.status(StatusInProgress, 200)
			o.digit(d)
		}
	}
	b.Run("unobserved", func(b *testing.B) { run(b, nil) })
	b.Run("observed", func(b *testing.B) {
		n := 0
		run(b, &observation{o: ObserverFunc(func(Event) { n++ }), now: time.Now})
	})
}
