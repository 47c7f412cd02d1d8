package voxrun

import (
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const module = "github.com/voxrun/voxrun"

type goPackage struct {
	ImportPath string
	Name       string
	Doc        string
	Imports    []string
}

func listPackages(t *testing.T) []goPackage {
	t.Helper()
	out, err := exec.Command("go", "list", "-json", "./...").Output()
	require.NoError(t, err)
	var pkgs []goPackage
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p goPackage
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else {
			require.NoError(t, err)
		}
		pkgs = append(pkgs, p)
	}
	require.NotEmpty(t, pkgs)
	return pkgs
}

func TestEveryPackageHasADoc(t *testing.T) {
	for _, p := range listPackages(t) {
		if strings.TrimSpace(p.Doc) == "" {
			t.Errorf("%s has no package doc comment: add doc.go saying what it is for and what it is not", p.ImportPath)
		}
	}
}

// node is where a package sits in DESIGN.md's graph.
func node(rel string) string {
	parts := strings.Split(rel, "/")
	switch parts[0] {
	case "verbs", "apps", "store":
		if len(parts) > 1 {
			return parts[0] + "/" + parts[1]
		}
	case "cmd", "bench":
		return parts[0]
	}
	return parts[0]
}

// allowed reports whether package from may import package to (both relative to
// the module), following DESIGN.md's "Packages and how they depend on each
// other".
func allowed(from, to string) bool {
	nf, nt := node(from), node(to)
	if nf == nt {
		return true // within one node (media/dtmf → media)
	}
	switch {
	case nf == "cmd", nf == "bench":
		return true
	case nf == "voxrun", nf == ".":
		return false
	}
	top := func(n string) string { return strings.SplitN(n, "/", 2)[0] }
	in := func(n string, set ...string) bool {
		for _, s := range set {
			if n == s {
				return true
			}
		}
		return false
	}
	switch {
	case nf == "api":
		return in(nt, "runtime", "store", "schemas")
	case nf == "runtime":
		return in(nt, "verbs", "apps", "media", "store")
	case nf == "verbs/builtin":
		return top(nt) == "verbs"
	case strings.HasPrefix(nf, "verbs/"):
		return in(nt, "verbs", "media")
	case nf == "verbs":
		return in(nt, "media", "schemas")
	case nf == "apps/js":
		return in(nt, "apps", "sandbox")
	case strings.HasPrefix(nf, "apps/"):
		return in(nt, "apps")
	case nf == "apps":
		return in(nt, "schemas")
	case nf == "sip":
		// DESIGN.md: sip → media. The registrar and digest nonces also keep
		// their state in live state, through store's interfaces only.
		return in(nt, "media", "store")
	case nf == "store/storetest":
		return in(nt, "store")
	case strings.HasPrefix(nf, "store/"):
		return in(nt, "store")
	}
	// Leaves: media, sandbox, schemas, store.
	return false
}

func TestImportGraphFollowsDesign(t *testing.T) {
	for _, p := range listPackages(t) {
		from := strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, module), "/")
		if from == "" {
			from = "voxrun"
		}
		for _, imp := range p.Imports {
			if !strings.HasPrefix(imp, module+"/") {
				continue
			}
			to := strings.TrimPrefix(imp, module+"/")
			if !allowed(from, to) {
				t.Errorf("%s imports %s: not an arrow of DESIGN.md's package graph", from, to)
			}
		}
	}
}

func TestGraphRules(t *testing.T) {
	cases := []struct {
		from, to string
		ok       bool
	}{
		{"cmd/voxrun", "sip", true},
		{"api", "store", true},
		{"api", "store/sql", false},
		{"api", "sip", false},
		{"runtime", "sip", false},
		{"runtime", "verbs/say", false},
		{"runtime", "apps/webhook", false},
		{"verbs/say", "verbs", true},
		{"verbs/say", "verbs/play", false},
		{"verbs/builtin", "verbs/say", true},
		{"apps/js", "sandbox", true},
		{"apps/webhook", "sandbox", false},
		{"apps/webhook", "runtime", false},
		{"sip", "media", true},
		{"sip", "runtime", false},
		{"store/sql", "store", true},
		{"store/sql", "store/memory", false},
		{"media", "store", false},
		{"media/dtmf", "media", true},
		{"sandbox", "store", false},
		{"schemas", "store", false},
		{"store", "media", false},
	}
	for _, c := range cases {
		require.Equal(t, c.ok, allowed(c.from, c.to), "%s → %s", c.from, c.to)
	}
}
