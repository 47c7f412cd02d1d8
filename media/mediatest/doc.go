// Package mediatest is the test support of the media packages and of their
// users: a manual pacing clock that a test ticks by hand, and frame helpers
// (tones, collecting sinks). It is imported by tests only, never by
// production code.
package mediatest
