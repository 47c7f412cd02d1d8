package schematest

import (
	"os"
	"path/filepath"
	"testing"
)

func TestDocumentsAndCallbacks(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.json")
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(good, []byte(`[{"verb":"say","text":"hi"}]`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte(`[{"verb":"pause"}]`), 0o644); err != nil {
		t.Fatal(err)
	}
	v := Documents(t, []string{good, bad})
	if !v[good].Valid || v[bad].Valid || v[bad].Error == "" {
		t.Fatalf("unexpected verdicts: %+v", v)
	}
	RequireCallback(t, "call-status", []byte(`{"call_sid":"CA1","call_status":"completed","duration":3}`))
	cb := Callbacks(t, map[string]string{good: "gather"})
	if cb[good].Valid {
		t.Fatalf("a verb array passed the gather callback schema: %+v", cb)
	}
}
