package api

import "errors"

// errEmptyHook means a live-control hook had no URL.
var errEmptyHook = errors.New("api: a hook needs a url")
