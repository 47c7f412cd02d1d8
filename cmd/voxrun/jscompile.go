package main

import (
	"errors"

	"github.com/voxrun/voxrun/api"
	"github.com/voxrun/voxrun/sandbox"
)

// compileJS is the REST API's upload check (api.Config.CompileJS): the
// sandbox compiles the source as the workers will (one module, `export
// default` or `module.exports`), in this process. A syntax or early error
// comes back as an *api.CompileError with its line and column in the
// source as the developer wrote it.
func compileJS(src string) error {
	err := sandbox.Check(src)
	var ce *sandbox.CompileError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ce):
		return &api.CompileError{Line: ce.Line, Column: ce.Column, Message: ce.Message}
	case errors.Is(err, sandbox.ErrSourceTooBig):
		return &api.CompileError{Message: "the source is too big"}
	}
	return err
}
