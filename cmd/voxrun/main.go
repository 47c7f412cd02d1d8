// Command voxrun is the call-control runtime: one binary that takes SIP calls,
// runs each account's application for them (webhook, websocket or JavaScript),
// and serves the REST API and console.
//
//	voxrun serve            serve SIP, media and HTTP
//	voxrun migrate up       create or upgrade the database schema
//	voxrun migrate status   print each table's schema version
//	voxrun simulate         run a simulated call of an application, print its timeline
//	voxrun apps push FILE   upload a JS app version and make it active
//	voxrun apps logs APP    a JS app's recent invocations and their logs
//	voxrun version          print the version
//
// cmd/voxrun is the only package that sees the concrete types of all the others:
// it reads the configuration and wires stores, SIP, media, runtime and api.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

const usage = `voxrun: a call-control runtime in one binary

Usage:
  voxrun <command> [flags]

Commands:
  serve            serve SIP, media, the REST API and the console
  migrate up       create or upgrade the database schema (idempotent)
  migrate status   print each table's schema version
  apps push FILE   upload FILE as a JS app's new active version (over the REST API)
  apps logs APP    a JS app's recent invocations with their log lines
  simulate         run a simulated call of an application; print its timeline
  version          print the version

Run "voxrun <command> --help" for a command's flags. Every flag can also be
set as an environment variable VOXRUN_<NAME> or a key in voxrun.toml; see
docs/configuration.md.
`

func main() {
	if code, ok := runSandboxWorker(); ok {
		os.Exit(code) // a JS sandbox worker, started by this binary's own pool
	}
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr, os.Getenv))
}

// run executes one command line and returns the process exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = cmdServe(ctx, args[1:], stdout, stderr, getenv)
	case "migrate":
		err = cmdMigrate(ctx, args[1:], stdout, stderr, getenv)
	case "simulate":
		err = cmdSimulate(ctx, args[1:], stdout, stderr, getenv)
	case "apps":
		err = cmdApps(ctx, args[1:], stdout, stderr, getenv)
	case "version", "--version", "-version":
		fmt.Fprintf(stdout, "voxrun %s\n", version)
		return 0
	case "help", "-h", "--help", "-help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "voxrun: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	default:
		fmt.Fprintf(stderr, "voxrun %s: %v\n", args[0], err)
		return 1
	}
}

// errUsage means the command line was wrong; the message is already printed.
var errUsage = errors.New("usage")

// newFlagSet builds a command's flag set with the settings' flags and a help
// text that starts with what the command does.
func newFlagSet(name, about string, stderr io.Writer) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet("voxrun "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := registerFlags(fs)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: voxrun %s [flags]\n\n%s\n\nFlags:\n", name, about)
		fs.VisitAll(func(f *flag.Flag) {
			fmt.Fprintf(fs.Output(), "  --%s value\n    \t%s\n", f.Name, f.Usage)
		})
	}
	return fs, path
}

// parseConfig parses args into a configuration for a command.
func parseConfig(fs *flag.FlagSet, path *string, args []string, getenv func(string) string) (Config, error) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return Config{}, err
		}
		return Config{}, errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return Config{}, errUsage
	}
	return loadConfig(fs, *path, getenv)
}
