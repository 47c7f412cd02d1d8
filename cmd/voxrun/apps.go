package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode"
)

const appsUsage = `Usage: voxrun apps <push|logs> [flags]

  push FILE   upload FILE as a new version of a JS app and make it the active one;
              the app is created when it does not exist
  logs APP    the recent invocations of a JS app (its name or sid) with what they logged

Both talk to a running voxrun over its REST API. Run "voxrun apps push --help"
or "voxrun apps logs --help" for the flags.
`

// apiClient is the little REST client of the apps commands.
type apiClient struct {
	base    string // http://host:port/v1
	key     string
	account string
	http    *http.Client
}

// clientFlags are the flags every apps subcommand shares.
type clientFlags struct {
	url, key, account, dataDir *string
}

func addClientFlags(fs *flag.FlagSet, getenv func(string) string) clientFlags {
	def := func(env, fallback string) string {
		if v := getenv(env); v != "" {
			return v
		}
		return fallback
	}
	return clientFlags{
		url: fs.String("url", def("VOXRUN_URL", "http://127.0.0.1:3000"),
			"voxrun's HTTP address (env VOXRUN_URL)"),
		key: fs.String("key", getenv("VOXRUN_API_KEY"),
			"API key (env VOXRUN_API_KEY); default: account_api_key of <data-dir>/initial-credentials"),
		account: fs.String("account", getenv("VOXRUN_ACCOUNT_SID"),
			"account sid (env VOXRUN_ACCOUNT_SID); default: the key's own account, or account_sid of <data-dir>/initial-credentials"),
		dataDir: fs.String("data-dir", def("VOXRUN_DATA_DIR", "./data"),
			"where initial-credentials is read from when --key is not given (env VOXRUN_DATA_DIR)"),
	}
}

// readCredentials reads the key=value lines of initial-credentials.
func readCredentials(dataDir string) (map[string]string, error) {
	f, err := os.Open(filepath.Join(dataDir, "initial-credentials"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			out[k] = v
		}
	}
	return out, sc.Err()
}

// client resolves the key and the account: the flags, else the first
// start's credentials, else (for the account) the one account the key sees.
func (cf clientFlags) client(ctx context.Context) (*apiClient, error) {
	c := &apiClient{base: strings.TrimSuffix(*cf.url, "/") + "/v1", key: *cf.key, account: *cf.account,
		http: &http.Client{Timeout: 30 * time.Second}}
	if c.key == "" {
		cred, err := readCredentials(*cf.dataDir)
		if err != nil || cred["account_api_key"] == "" {
			return nil, fmt.Errorf("no API key: pass --key or set VOXRUN_API_KEY (%s/initial-credentials has none)", *cf.dataDir)
		}
		c.key = cred["account_api_key"]
		if c.account == "" {
			c.account = cred["account_sid"]
		}
	}
	if c.account == "" {
		var accts []struct {
			AccountSID string `json:"account_sid"`
		}
		if err := c.do(ctx, "GET", "/Accounts", nil, "", &accts); err != nil {
			return nil, err
		}
		if len(accts) != 1 {
			return nil, fmt.Errorf("the key sees %d accounts: name one with --account", len(accts))
		}
		c.account = accts[0].AccountSID
	}
	return c, nil
}

// apiError is a REST answer outside 2xx.
type apiError struct {
	status int
	Msg    string `json:"msg"`
	Line   int    `json:"line"`
	Column int    `json:"column"`
}

func (e *apiError) Error() string {
	if e.Msg == "" {
		return fmt.Sprintf("HTTP %d", e.status)
	}
	return fmt.Sprintf("%s (HTTP %d)", e.Msg, e.status)
}

// do sends one request; body is JSON unless contentType says otherwise, and
// a 2xx answer is decoded into out.
func (c *apiClient) do(ctx context.Context, method, path string, body any, contentType string, out any) error {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			return err
		}
		rd, contentType = bytes.NewReader(raw), "application/json"
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		e := &apiError{status: resp.StatusCode}
		_ = json.Unmarshal(raw, e)
		return e
	}
	if out != nil && len(raw) > 0 {
		return json.Unmarshal(raw, out)
	}
	return nil
}

func (c *apiClient) appsPath() string { return "/Accounts/" + url.PathEscape(c.account) + "/JsApps" }

type jsAppRef struct {
	SID  string `json:"js_app_sid"`
	Name string `json:"name"`
}

// findApp looks an app up by sid or name; ok is false when none matches.
func (c *apiClient) findApp(ctx context.Context, ref string) (jsAppRef, bool, error) {
	var apps []jsAppRef
	if err := c.do(ctx, "GET", c.appsPath(), nil, "", &apps); err != nil {
		return jsAppRef{}, false, err
	}
	for _, a := range apps {
		if a.SID == ref || a.Name == ref {
			return a, true, nil
		}
	}
	return jsAppRef{}, false, nil
}

// parseInterspersed parses flags that may come before or after the
// positional arguments, and returns the positional ones.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// oneArg parses a subcommand's flags around its one positional argument
// (what names it in the usage message).
func oneArg(fs *flag.FlagSet, args []string, what string) (string, error) {
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return "", err
		}
		return "", errUsage
	}
	if len(pos) != 1 {
		fmt.Fprintf(fs.Output(), "%s: one %s, please\n", fs.Name(), what)
		fs.Usage()
		return "", errUsage
	}
	return pos[0], nil
}

func newAppsFlagSet(name, usage string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("voxrun apps "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
		fmt.Fprintln(fs.Output(), "\nFlags:")
		fs.VisitAll(func(f *flag.Flag) {
			fmt.Fprintf(fs.Output(), "  --%s value\n    \t%s\n", f.Name, f.Usage)
		})
	}
	return fs
}

func cmdApps(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		if len(args) == 0 {
			fmt.Fprint(stderr, appsUsage)
			return errUsage
		}
		fmt.Fprint(stdout, appsUsage)
		return flag.ErrHelp
	}
	switch args[0] {
	case "push":
		return appsPush(ctx, args[1:], stdout, stderr, getenv)
	case "logs":
		return appsLogs(ctx, args[1:], stdout, stderr, getenv)
	}
	fmt.Fprintf(stderr, "voxrun apps: unknown subcommand %q\n\n%s", args[0], appsUsage)
	return errUsage
}

const pushUsage = `Usage: voxrun apps push FILE [--name NAME] [--app SID] [flags]

Upload FILE (JavaScript, at most 256 KiB) as a new version of a JS app and make
it the active version. The app is the one named by --app (a sid), else the one
called --name (default: FILE's name without its extension), created when the
account has none. A syntax error is reported as FILE:LINE:COLUMN and nothing is
stored.
`

func appsPush(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := newAppsFlagSet("push", pushUsage, stderr)
	name := fs.String("name", "", "the app's name (default: FILE's base name without extension)")
	appSID := fs.String("app", "", "the app's sid: upload to this existing app")
	cf := addClientFlags(fs, getenv)
	file, err := oneArg(fs, args, "FILE")
	if err != nil {
		return err
	}
	src, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	c, err := cf.client(ctx)
	if err != nil {
		return err
	}
	base := filepath.Base(file)
	if *name == "" {
		*name = strings.TrimSuffix(base, filepath.Ext(base))
	}
	app := jsAppRef{SID: *appSID, Name: *name}
	created := false
	if app.SID == "" {
		found, ok, err := c.findApp(ctx, *name)
		if err != nil {
			return err
		}
		if ok {
			app = found
		} else {
			var res struct {
				SID string `json:"sid"`
			}
			if err := c.do(ctx, "POST", c.appsPath(), map[string]any{"name": *name}, "", &res); err != nil {
				return fmt.Errorf("create JS app %q: %w", *name, err)
			}
			app.SID, created = res.SID, true
		}
	}
	var up struct {
		SID     string `json:"sid"`
		Version int    `json:"version"`
		SHA256  string `json:"sha256"`
	}
	q := url.Values{"activate": {"true"}, "label": {base}}
	err = c.do(ctx, "POST", c.appsPath()+"/"+url.PathEscape(app.SID)+"/Versions?"+q.Encode(), src, "text/javascript", &up)
	var ae *apiError
	if errors.As(err, &ae) && ae.status == http.StatusUnprocessableEntity && ae.Line > 0 {
		return fmt.Errorf("%s:%d:%d: %s", file, ae.Line, ae.Column, ae.Msg)
	}
	if err != nil {
		return fmt.Errorf("upload %s: %w", file, err)
	}
	verb := "updated"
	if created {
		verb = "created"
	}
	fmt.Fprintf(stdout, "%s JS app %q (%s): version %d is active (%d bytes, sha256 %s)\n",
		verb, app.Name, app.SID, up.Version, len(src), up.SHA256)
	return nil
}

const logsUsage = `Usage: voxrun apps logs APP [--count N] [--call CALL_SID] [--json] [flags]

Print the recent invocations of the JS app APP (its name or sid), newest first:
when, which hook, the outcome and duration, the call, and every line the
handler logged with ctx.log.
`

// invocation is one entry of /JsApps/{sid}/Logs.
type invocation struct {
	Hook       string    `json:"hook"`
	Outcome    string    `json:"outcome"`
	Error      string    `json:"error"`
	DurationMS float64   `json:"duration_ms"`
	CallSID    string    `json:"call_sid"`
	CreatedAt  time.Time `json:"created_at"`
	Logs       []struct {
		Time  time.Time `json:"time"`
		Level string    `json:"level"`
		Msg   string    `json:"msg"`
	} `json:"logs"`
}

func appsLogs(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := newAppsFlagSet("logs", logsUsage, stderr)
	count := fs.Int("count", 20, "how many invocations, 1 to 100")
	call := fs.String("call", "", "only this call's invocations")
	asJSON := fs.Bool("json", false, "print the API's JSON as it is")
	cf := addClientFlags(fs, getenv)
	ref, err := oneArg(fs, args, "APP")
	if err != nil {
		return err
	}
	c, err := cf.client(ctx)
	if err != nil {
		return err
	}
	app, ok, err := c.findApp(ctx, ref)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("no JS app %q in account %s", ref, c.account)
	}
	q := url.Values{"count": {fmt.Sprint(*count)}}
	if *call != "" {
		q.Set("call_sid", *call)
	}
	var raw json.RawMessage
	if err := c.do(ctx, "GET", c.appsPath()+"/"+url.PathEscape(app.SID)+"/Logs?"+q.Encode(), nil, "", &raw); err != nil {
		return err
	}
	if *asJSON {
		_, err := fmt.Fprintf(stdout, "%s\n", raw)
		return err
	}
	var invs []invocation
	if err := json.Unmarshal(raw, &invs); err != nil {
		return err
	}
	if len(invs) == 0 {
		fmt.Fprintf(stdout, "no invocations of %s yet\n", app.Name)
		return nil
	}
	w := bufio.NewWriter(stdout)
	for _, inv := range invs {
		fmt.Fprintf(w, "%s  %-12s %-8s %8.3f ms  call %s\n", inv.CreatedAt.Local().Format("2006-01-02 15:04:05.000"),
			printable(inv.Hook), inv.Outcome, inv.DurationMS, orDash(inv.CallSID))
		if inv.Error != "" {
			fmt.Fprintf(w, "    error  %s\n", printable(inv.Error))
		}
		for _, l := range inv.Logs {
			fmt.Fprintf(w, "    %s %-5s %s\n", l.Time.Local().Format("15:04:05.000"), l.Level, printable(l.Msg))
		}
	}
	return w.Flush()
}

// printable replaces control characters (a script's escape sequences) so
// that a tenant's log line cannot drive the terminal.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return '?'
		}
		return r
	}, s)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
