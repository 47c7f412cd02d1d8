package sandbox

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/dop251/goja"
	"github.com/dop251/goja/parser"
)

// The module wrapper: the source runs as the body of a function that
// receives module and exports, on the same first line so that line numbers
// stay those of the source (columns on line 1 are shifted back below).
const (
	modulePrefix = "(function(module,exports){"
	moduleSuffix = "\n})"
	// programName is the file name in stack traces and compile errors.
	programName = "app.js"
)

// exportDefault matches `export default` at the start of a line (after
// indentation): the ES-module shape of an app, rewritten to an assignment to
// module.exports before compiling, since a JS app is one module and goja
// compiles scripts.
var exportDefault = regexp.MustCompile(`(?m)^([ \t]*)export[ \t]+default[ \t]+`)

// wrap returns the source as a function expression of (module, exports).
func wrap(source string) string {
	src := exportDefault.ReplaceAllStringFunc(source, func(m string) string {
		// Same length as the match, so columns after it stay the developer's.
		indent := m[:len(m)-len(strings.TrimLeft(m, " \t"))]
		rest := "module.exports="
		if pad := len(m) - len(indent) - len(rest); pad > 0 {
			rest += strings.Repeat(" ", pad)
		}
		return indent + rest
	})
	return modulePrefix + src + moduleSuffix
}

// Check compiles source as a JS app module and reports the first syntax or
// early error as a *CompileError with its line and column. It runs in the
// calling process, without a worker. goja's parser recurses once per level
// of nesting, so a hostile source of 256 KiB of "[[[[" or "!!!!" grows the
// caller's stack to hundreds of MiB for as long as it parses: a server
// checking uploads should use Pool.Check, which parses in a worker.
func Check(source string) error {
	_, err := compile(source)
	return err
}

// compile turns an app's source into a program whose completion value is the
// module function.
func compile(source string) (*goja.Program, error) {
	if len(source) > MaxSourceBytes {
		return nil, fmt.Errorf("%w: %d bytes, at most %d", ErrSourceTooBig, len(source), MaxSourceBytes)
	}
	wrapped := wrap(source)
	ast, err := parser.ParseFile(nil, programName, wrapped, 0)
	if err != nil {
		var list parser.ErrorList
		if errors.As(err, &list) && len(list) > 0 {
			return nil, compileError(list[0].Position.Line, list[0].Position.Column, list[0].Message, source)
		}
		var one *parser.Error
		if errors.As(err, &one) {
			return nil, compileError(one.Position.Line, one.Position.Column, one.Message, source)
		}
		return nil, &CompileError{Line: 1, Column: 1, Message: err.Error()}
	}
	prg, err := goja.CompileAST(ast, false)
	if err != nil {
		var se *goja.CompilerSyntaxError
		if errors.As(err, &se) && se.File != nil {
			p := se.File.Position(se.Offset)
			return nil, compileError(p.Line, p.Column, se.Message, source)
		}
		var re *goja.CompilerReferenceError
		if errors.As(err, &re) && re.File != nil {
			p := re.File.Position(re.Offset)
			return nil, compileError(p.Line, p.Column, re.Message, source)
		}
		return nil, &CompileError{Line: 1, Column: 1, Message: err.Error()}
	}
	return prg, nil
}

// compileError maps a position in the wrapped source back to the developer's.
func compileError(line, col int, msg, source string) *CompileError {
	if line <= 1 {
		line = 1
		col -= len(modulePrefix)
	}
	if n := strings.Count(source, "\n") + 1; line > n {
		// The error is at the wrapper's closing line: the end of the source.
		line = n
		col = len(source) - strings.LastIndexByte(source, '\n')
	}
	if col < 1 {
		col = 1
	}
	return &CompileError{Line: line, Column: col, Message: msg}
}
