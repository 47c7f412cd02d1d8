package main

import (
	"errors"
	"fmt"
	"regexp"

	"github.com/dop251/goja"
	"github.com/dop251/goja/parser"

	"github.com/voxrun/voxrun/api"
)

// exportDefault is the one ES module form of a JS app. goja parses scripts,
// not modules, so the check reads `export default X` as `var _d = X`: the
// same number of characters, so that the line and column of an error stay
// where the developer wrote it.
var exportDefault = regexp.MustCompile(`\bexport(\s+)default\b`)

// compileJS is the REST API's upload check (api.Config.CompileJS): the
// source must parse and compile with goja, the engine the sandbox runs. A
// syntax error comes back as an *api.CompileError with its position.
//
// TODO(issue 8): use the sandbox's own compile (the same wrapping of the
// module as the workers) once package sandbox exposes it.
func compileJS(src string) (err error) {
	defer func() {
		if r := recover(); r != nil { // goja re-panics what is not a syntax error
			err = fmt.Errorf("js compile check: %v", r)
		}
	}()
	src = exportDefault.ReplaceAllString(src, "var _d$1=      ")
	prg, err := parser.ParseFile(nil, "app.js", src, 0)
	if err != nil {
		var list parser.ErrorList
		if errors.As(err, &list) && len(list) > 0 {
			return &api.CompileError{Line: list[0].Position.Line, Column: list[0].Position.Column, Message: list[0].Message}
		}
		return &api.CompileError{Message: err.Error()}
	}
	if _, err := goja.CompileAST(prg, false); err != nil {
		var se *goja.CompilerSyntaxError
		if errors.As(err, &se) {
			ce := &api.CompileError{Message: se.Message}
			if se.File != nil {
				pos := se.File.Position(se.Offset)
				ce.Line, ce.Column = pos.Line, pos.Column
			}
			return ce
		}
		return &api.CompileError{Message: err.Error()}
	}
	return nil
}
