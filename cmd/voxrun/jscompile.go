package main

import (
	"context"
	"errors"
	"time"

	"github.com/voxrun/voxrun/api"
	"github.com/voxrun/voxrun/sandbox"
)

// compileJS is the REST API's upload check (api.Config.CompileJS): a
// sandbox worker compiles the source as it will run it (one module,
// `export default` or `module.exports`). An upload is untrusted input:
// goja's parser recurses once per level of nesting, so a source of 250 KB
// of `[[[[` would take this process's stack and memory with it; in a
// worker it only costs that worker. A syntax or early error comes back as
// an *api.CompileError with its line and column in the source as the
// developer wrote it.
func (j *jsApps) compileJS(src string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return compileError(j.pool.Check(ctx, src))
}

// compileError maps the sandbox's compile errors to the API's.
func compileError(err error) error {
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
