// Package builtin is the one table of every verb voxrun runs. cmd builds the
// registry from it; tests build their own. Adding a verb means adding its
// package under verbs/ and one line here.
package builtin

import (
	"github.com/voxrun/voxrun/verbs"
	"github.com/voxrun/voxrun/verbs/alert"
	"github.com/voxrun/voxrun/verbs/answer"
	"github.com/voxrun/voxrun/verbs/config"
	"github.com/voxrun/voxrun/verbs/dial"
	"github.com/voxrun/voxrun/verbs/dtmf"
	"github.com/voxrun/voxrun/verbs/gather"
	"github.com/voxrun/voxrun/verbs/hangup"
	"github.com/voxrun/voxrun/verbs/pause"
	"github.com/voxrun/voxrun/verbs/play"
	"github.com/voxrun/voxrun/verbs/redirect"
	"github.com/voxrun/voxrun/verbs/say"
	"github.com/voxrun/voxrun/verbs/sipdecline"
	"github.com/voxrun/voxrun/verbs/tag"
)

// Verbs lists every verb by its document name.
func Verbs() map[string]verbs.Factory {
	return map[string]verbs.Factory{
		alert.Name:      alert.New,
		answer.Name:     answer.New,
		config.Name:     config.New,
		dial.Name:       dial.New,
		dtmf.Name:       dtmf.New,
		gather.Name:     gather.New,
		hangup.Name:     hangup.New,
		pause.Name:      pause.New,
		play.Name:       play.New,
		redirect.Name:   redirect.New,
		say.Name:        say.New,
		sipdecline.Name: sipdecline.New,
		tag.Name:        tag.New,
	}
}

// Register adds every verb to r.
func Register(r *verbs.Registry) {
	for name, f := range Verbs() {
		r.Register(name, f)
	}
}
