package storetest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/voxrun/voxrun/store"
)

// testJSApps covers what the JS app records add to the generic repository:
// numbered, fingerprinted, immutable versions; an active version that is
// always one of the app's own; applications that name only their own
// account's JS apps; and the variables.
func testJSApps(t *testing.T, p store.Provisioning) {
	ctx := t.Context()
	sp := newSP(t, p)
	a, b := newTenant(t, p, sp), newTenant(t, p, sp)
	s := a.scope()
	apps, versions := p.JSApps(s), p.JSAppVersions(s)
	app, err := apps.Create(ctx, &store.JSApp{Name: unique("js")})
	require.NoError(t, err)

	t.Run("versions are numbered and fingerprinted by the store", func(t *testing.T) {
		for i, src := range []string{"export default {call: () => []}", "module.exports = {call() { return [] }}"} {
			rec := store.JSAppVersion{JSAppSID: app, Source: src, Version: 42, SHA256: "chosen"}
			sid, err := versions.Create(ctx, &rec)
			require.NoError(t, err)
			got, err := versions.Get(ctx, sid)
			require.NoError(t, err)
			require.Equal(t, i+1, got.Version)
			sum := sha256.Sum256([]byte(src))
			require.Equal(t, hex.EncodeToString(sum[:]), got.SHA256)
			require.Equal(t, rec, got)
		}
		list, err := versions.List(ctx, store.Filter{"js_app_sid": app})
		require.NoError(t, err)
		require.Len(t, list, 2)
	})

	t.Run("concurrent uploads get distinct numbers", func(t *testing.T) {
		other, err := apps.Create(ctx, &store.JSApp{Name: unique("js")})
		require.NoError(t, err)
		const n = 6
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for i := range n {
			wg.Go(func() {
				_, err := versions.Create(ctx, &store.JSAppVersion{JSAppSID: other, Source: fmt.Sprintf("// %d", i)})
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		list, err := versions.List(ctx, store.Filter{"js_app_sid": other})
		require.NoError(t, err)
		seen := map[int]bool{}
		for _, v := range list {
			seen[v.Version] = true
		}
		require.Len(t, seen, n)
		for i := 1; i <= n; i++ {
			require.True(t, seen[i], "version %d", i)
		}
	})

	t.Run("source bounds", func(t *testing.T) {
		_, err := versions.Create(ctx, &store.JSAppVersion{JSAppSID: app, Source: strings.Repeat("x", store.MaxJSAppSourceSize+1)})
		require.ErrorIs(t, err, store.ErrInvalid)
		_, err = versions.Create(ctx, &store.JSAppVersion{JSAppSID: app, Source: "  \n"})
		require.ErrorIs(t, err, store.ErrInvalid)
		sid, err := versions.Create(ctx, &store.JSAppVersion{JSAppSID: app, Source: "//" + strings.Repeat("x", store.MaxJSAppSourceSize-2)})
		require.NoError(t, err, "exactly the maximum is stored")
		got, err := versions.Get(ctx, sid)
		require.NoError(t, err)
		require.Len(t, got.Source, store.MaxJSAppSourceSize)
	})

	t.Run("versions are immutable", func(t *testing.T) {
		for _, k := range []string{"source", "sha256", "version", "js_app_sid"} {
			require.ErrorIs(t, versions.Update(ctx, a.jsVersion, store.Patch{k: "1"}), store.ErrInvalid, k)
		}
	})

	t.Run("the active version is one of the app's own", func(t *testing.T) {
		list, err := versions.List(ctx, store.Filter{"js_app_sid": app})
		require.NoError(t, err)
		require.NoError(t, apps.Update(ctx, app, store.Patch{"active_version_sid": list[0].JSAppVersionSID}))
		got, err := apps.Get(ctx, app)
		require.NoError(t, err)
		require.Equal(t, list[0].JSAppVersionSID, got.ActiveVersionSID)

		require.ErrorIs(t, apps.Update(ctx, app, store.Patch{"active_version_sid": a.jsVersion}), store.ErrNotFound,
			"a version of another app of the same account")
		require.ErrorIs(t, apps.Update(ctx, app, store.Patch{"active_version_sid": b.jsVersion}), store.ErrNotFound,
			"a version of another account's app")
		require.ErrorIs(t, p.JSApps(store.Admin()).Update(ctx, app, store.Patch{"active_version_sid": b.jsVersion}), store.ErrNotFound,
			"not even the admin")
		_, err = apps.Create(ctx, &store.JSApp{Name: unique("js"), ActiveVersionSID: a.jsVersion})
		require.ErrorIs(t, err, store.ErrNotFound, "a new app has no versions yet")
		got, err = apps.Get(ctx, app)
		require.NoError(t, err)
		require.Equal(t, list[0].JSAppVersionSID, got.ActiveVersionSID, "the refused updates changed nothing")

		require.ErrorIs(t, versions.Delete(ctx, list[0].JSAppVersionSID), store.ErrInUse)
		require.NoError(t, versions.Delete(ctx, list[1].JSAppVersionSID), "an inactive version may go")
		require.NoError(t, apps.Update(ctx, app, store.Patch{"active_version_sid": nil}))
		require.NoError(t, versions.Delete(ctx, list[0].JSAppVersionSID))
	})

	t.Run("applications name their own account's JS apps", func(t *testing.T) {
		spScope := store.ForServiceProvider(sp)
		for _, col := range []string{"js_app_sid", "fallback_js_app_sid"} {
			t.Run(col, func(t *testing.T) {
				require.ErrorIs(t, p.Applications(spScope).Update(ctx, a.app, store.Patch{col: b.jsApp}), store.ErrNotFound,
					"the provider sees both accounts, but an application runs its own account's code")
				require.ErrorIs(t, p.Applications(store.Admin()).Update(ctx, a.app, store.Patch{col: b.jsApp}), store.ErrNotFound)
				require.ErrorIs(t, p.Applications(s).Update(ctx, a.app, store.Patch{col: b.jsApp}), store.ErrNotFound)
				rec := store.Application{Name: unique("app"), AccountSID: a.account}
				switch col {
				case "js_app_sid":
					rec.JSAppSID = b.jsApp
				default:
					rec.FallbackJSAppSID = b.jsApp
				}
				_, err := p.Applications(spScope).Create(ctx, &rec)
				require.ErrorIs(t, err, store.ErrNotFound)
				spApp := store.Application{Name: unique("sp-app"), JSAppSID: rec.JSAppSID, FallbackJSAppSID: rec.FallbackJSAppSID}
				_, err = p.Applications(spScope).Create(ctx, &spApp)
				require.ErrorIs(t, err, store.ErrNotFound, "a provider's application has no account to run code of")

				require.NoError(t, p.Applications(spScope).Update(ctx, a.app, store.Patch{col: a.jsApp}))
				got, err := p.Applications(s).Get(ctx, a.app)
				require.NoError(t, err)
				require.Equal(t, a.jsApp, map[string]string{"js_app_sid": got.JSAppSID, "fallback_js_app_sid": got.FallbackJSAppSID}[col])
				require.NoError(t, p.Applications(s).Update(ctx, a.app, store.Patch{col: nil}))
			})
		}
		sid, err := p.Applications(s).Create(ctx, &store.Application{Name: unique("app"), JSAppSID: a.jsApp, FallbackJSAppSID: a.jsApp})
		require.NoError(t, err)
		require.NoError(t, p.Applications(s).Delete(ctx, sid))
	})

	t.Run("variables", func(t *testing.T) {
		plain, err := store.EncodeJSAppVars(map[string]string{"GREETING": "hello", "B": "2"})
		require.NoError(t, err)
		require.Equal(t, `{"B":"2","GREETING":"hello"}`, plain, "sorted, so that equal sets are equal text")
		secret, err := store.EncodeJSAppVars(map[string]string{"TOKEN": "s3cr3t"})
		require.NoError(t, err)
		sid, err := apps.Create(ctx, &store.JSApp{Name: unique("js"), EnvVars: plain, SecretEnvVars: secret})
		require.NoError(t, err)
		got, err := apps.Get(ctx, sid)
		require.NoError(t, err)
		env, err := got.Env()
		require.NoError(t, err)
		require.Equal(t, map[string]string{"GREETING": "hello", "B": "2", "TOKEN": "s3cr3t"}, env)
		if db := raw(t, p); db != nil {
			stored := rawString(t, db, "SELECT `secret_env_vars` FROM `js_apps` WHERE `js_app_sid` = ?", sid)
			require.True(t, strings.HasPrefix(stored, store.SealedPrefix))
			require.NotContains(t, stored, "s3cr3t")
			require.Equal(t, plain, rawString(t, db, "SELECT `env_vars` FROM `js_apps` WHERE `js_app_sid` = ?", sid),
				"plain variables are stored as they are")
		}
		empty, err := store.EncodeJSAppVars(nil)
		require.NoError(t, err)
		require.Empty(t, empty)

		for name, vars := range map[string]map[string]string{
			"not an identifier": {"A-B": "x"},
			"starts with digit": {"1A": "x"},
			"value too long":    {"A": strings.Repeat("x", store.MaxJSAppVarSize+1)},
		} {
			_, err := store.EncodeJSAppVars(vars)
			require.ErrorIs(t, err, store.ErrInvalid, name)
		}
		many := map[string]string{}
		for i := range store.MaxJSAppVars + 1 {
			many[fmt.Sprintf("V%d", i)] = "x"
		}
		_, err = store.EncodeJSAppVars(many)
		require.ErrorIs(t, err, store.ErrInvalid)
	})
}

// testJSAppInvocations: invocations are written in batches, listed newest
// first in scope, bounded per app, and their logs are capped.
func testJSAppInvocations(t *testing.T, p store.Provisioning) {
	ctx := t.Context()
	sp := newSP(t, p)
	a, b := newTenant(t, p, sp), newTenant(t, p, newSP(t, p))
	base := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	inv := func(tn tenant, i int) store.JSAppInvocation {
		return store.JSAppInvocation{JSAppSID: tn.jsApp, AccountSID: tn.account, JSAppVersionSID: tn.jsVersion,
			CallSID: fmt.Sprintf("call-%d", i%3), Hook: "call", Outcome: store.JSAppOK, Duration: 42 * time.Microsecond,
			CreatedAt: base.Add(time.Duration(i) * time.Millisecond),
			Logs:      []store.JSAppLogLine{{Time: base, Level: "info", Message: fmt.Sprintf("line %d", i)}}}
	}

	var batch []store.JSAppInvocation
	for i := range store.KeepJSAppInvocations + 20 {
		batch = append(batch, inv(a, i))
	}
	batch = append(batch, inv(b, 0))
	require.NoError(t, p.WriteJSAppInvocations(ctx, batch[:30]))
	require.NoError(t, p.WriteJSAppInvocations(ctx, batch[30:]))
	require.NoError(t, p.WriteJSAppInvocations(ctx, batch[:5]), "writing the same invocations again is harmless")

	got, err := p.ListJSAppInvocations(ctx, a.scope(), a.jsApp, store.JSAppInvocationQuery{Count: store.KeepJSAppInvocations})
	require.NoError(t, err)
	require.Len(t, got, store.KeepJSAppInvocations, "the oldest are dropped")
	last := store.KeepJSAppInvocations + 19
	require.Equal(t, fmt.Sprintf("line %d", last), got[0].Logs[0].Message, "newest first")
	require.Equal(t, "line 20", got[len(got)-1].Logs[0].Message)
	require.Equal(t, a.account, got[0].AccountSID)
	require.Equal(t, a.jsVersion, got[0].JSAppVersionSID)
	require.Equal(t, 42*time.Microsecond, got[0].Duration)
	require.Equal(t, base.Add(time.Duration(last)*time.Millisecond), got[0].CreatedAt)
	require.NotEmpty(t, got[0].JSAppInvocationSID)

	got, err = p.ListJSAppInvocations(ctx, a.scope(), a.jsApp, store.JSAppInvocationQuery{})
	require.NoError(t, err)
	require.Len(t, got, 25, "the default count")
	got, err = p.ListJSAppInvocations(ctx, a.scope(), a.jsApp, store.JSAppInvocationQuery{CallSID: "call-1", Count: 100})
	require.NoError(t, err)
	require.NotEmpty(t, got)
	for _, g := range got {
		require.Equal(t, "call-1", g.CallSID)
	}
	_, err = p.ListJSAppInvocations(ctx, a.scope(), a.jsApp, store.JSAppInvocationQuery{Count: store.KeepJSAppInvocations + 1})
	require.ErrorIs(t, err, store.ErrInvalid)

	// Scope: another tenant sees nothing of a's, not even that the app exists.
	for _, s := range []store.Scope{b.scope(), store.ForServiceProvider(b.sp)} {
		_, err = p.ListJSAppInvocations(ctx, s, a.jsApp, store.JSAppInvocationQuery{})
		require.ErrorIs(t, err, store.ErrNotFound, "%s", s)
	}
	got, err = p.ListJSAppInvocations(ctx, store.ForServiceProvider(sp), a.jsApp, store.JSAppInvocationQuery{Count: 1})
	require.NoError(t, err)
	require.Len(t, got, 1, "the provider sees its account's")
	got, err = p.ListJSAppInvocations(ctx, b.scope(), b.jsApp, store.JSAppInvocationQuery{})
	require.NoError(t, err)
	require.Len(t, got, 1)

	// Logs are capped: lines and line length.
	lines := make([]store.JSAppLogLine, store.MaxJSAppLogLines+50)
	for i := range lines {
		lines[i] = store.JSAppLogLine{Time: base, Level: "info", Message: strings.Repeat("é", store.MaxJSAppLogLineSize)}
	}
	big := inv(b, 1)
	big.Logs, big.Outcome, big.Error = lines, store.JSAppError, "TypeError: x is undefined"
	require.NoError(t, p.WriteJSAppInvocations(ctx, []store.JSAppInvocation{big}))
	got, err = p.ListJSAppInvocations(ctx, b.scope(), b.jsApp, store.JSAppInvocationQuery{Count: 1})
	require.NoError(t, err)
	require.Len(t, got[0].Logs, store.MaxJSAppLogLines)
	require.Equal(t, "51 more lines dropped", got[0].Logs[store.MaxJSAppLogLines-1].Message)
	require.LessOrEqual(t, len(got[0].Logs[0].Message), store.MaxJSAppLogLineSize)
	require.True(t, strings.HasPrefix(got[0].Logs[0].Message, "é"), "cut on a character boundary")
	require.Equal(t, store.JSAppError, got[0].Outcome)
	require.Equal(t, "TypeError: x is undefined", got[0].Error)

	// Refused: an invocation without an owner; an app that does not exist.
	require.ErrorIs(t, p.WriteJSAppInvocations(ctx, []store.JSAppInvocation{{JSAppSID: a.jsApp, Hook: "call"}}), store.ErrInvalid)
	require.Error(t, p.WriteJSAppInvocations(ctx, []store.JSAppInvocation{{JSAppSID: "no-such-app", AccountSID: a.account, Hook: "call"}}))

	// They go with their app.
	require.NoError(t, p.JSApps(b.scope()).Delete(ctx, b.jsApp))
	_, err = p.ListJSAppInvocations(ctx, b.scope(), b.jsApp, store.JSAppInvocationQuery{})
	require.ErrorIs(t, err, store.ErrNotFound)
	if db := raw(t, p); db != nil {
		var n int
		require.NoError(t, db.QueryRowContext(ctx, "SELECT COUNT(*) FROM `js_app_invocations` WHERE `js_app_sid` = ?", b.jsApp).Scan(&n))
		require.Zero(t, n)
	}
}
