package schemas_test

import (
	"errors"
	"fmt"

	"github.com/voxrun/voxrun/schemas"
)

// The interpreter validates and normalises each document an application
// returns, before anything of it runs.
func ExampleValidator_Load() {
	v, err := schemas.NewValidator() // once, at start-up
	if err != nil {
		panic(err)
	}
	doc := []byte(`[
	  {"say": {"text": "Hello", "colour": "blue"}},
	  {"verb": "stream", "url": "wss://example.com/audio"}
	]`)
	plan, warnings, err := v.Load(doc, schemas.Options{})
	if err != nil {
		panic(err)
	}
	for _, w := range warnings {
		fmt.Println("warning:", w)
	}
	for _, s := range plan {
		fmt.Println(s.Verb, s.As, s.Path, string(s.Attrs))
	}

	_, _, err = v.Load([]byte(`[{"gather": {"numDigits": "3"}}]`), schemas.Options{})
	fmt.Println(err, errors.Is(err, schemas.ErrInvalidDocument))
	// Output:
	// warning: /0/say/colour: unknown attribute
	// say  /0/say {"colour":"blue","text":"Hello"}
	// listen stream /1 {"url":"wss://example.com/audio"}
	// schemas: /0/gather/numDigits: expected integer, got string true
}
