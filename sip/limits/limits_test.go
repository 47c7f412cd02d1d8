package limits_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/voxrun/voxrun/sip/limits"
	"github.com/voxrun/voxrun/sip/route"
	"github.com/voxrun/voxrun/store"
	sqlstore "github.com/voxrun/voxrun/store/sql"
)

type fixture struct {
	db         *sqlstore.DB
	sp, acct   string
	acctRecord store.Account
	now        time.Time
	lim        *limits.Limiter
}

func newFixture(t *testing.T, sessions, perMin int) *fixture {
	t.Helper()
	ctx := context.Background()
	sealer, err := store.NewSealer(bytes.Repeat([]byte{7}, store.KeySize))
	require.NoError(t, err)
	db, err := sqlstore.Open(ctx, sqlstore.Config{Driver: sqlstore.DriverSQLite, DSN: filepath.Join(t.TempDir(), "voxrun.db"), Sealer: sealer})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	_, err = db.Migrate(ctx)
	require.NoError(t, err)
	f := &fixture{db: db, now: time.Unix(1_800_000_000, 0)}
	f.sp, err = db.ServiceProviders(store.Admin()).Create(ctx, &store.ServiceProvider{Name: "sp"})
	require.NoError(t, err)
	f.acct, err = db.Accounts(store.ForServiceProvider(f.sp)).Create(ctx, &store.Account{Name: "a", IsActive: true, WebhookSecret: "s"})
	require.NoError(t, err)
	f.acctRecord, err = db.Accounts(store.Admin()).Get(ctx, f.acct)
	require.NoError(t, err)
	a := store.ForServiceProvider(f.sp) // an account cannot set its own limits
	for cat, q := range map[string]int{store.LimitVoiceCallSession: sessions, store.LimitCallsPerMinute: perMin} {
		if q >= 0 {
			_, err = db.AccountLimits(a).Create(ctx, &store.AccountLimit{AccountSID: f.acct, Category: cat, Quantity: q})
			require.NoError(t, err)
		}
	}
	f.lim, err = limits.New(limits.Config{Provisioning: db, Alerts: db, Now: func() time.Time { return f.now },
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	return f
}

func (f *fixture) alerts(t *testing.T) []store.Alert {
	t.Helper()
	page, _, err := f.db.ListAlerts(context.Background(), store.Admin(), store.AlertQuery{Page: 1, Count: 100})
	require.NoError(t, err)
	return page
}

func TestCallsInProgress(t *testing.T) {
	f := newFixture(t, 2, -1)
	ctx := context.Background()
	r1, err := f.lim.Admit(ctx, f.acctRecord)
	require.NoError(t, err)
	r2, err := f.lim.Admit(ctx, f.acctRecord)
	require.NoError(t, err)
	require.Equal(t, 2, f.lim.Active(f.acct))

	_, err = f.lim.Admit(ctx, f.acctRecord)
	var re *route.RejectError
	require.ErrorAs(t, err, &re)
	require.Equal(t, 503, re.Status)
	require.Equal(t, "5", re.Headers["Retry-After"])
	require.ErrorIs(t, err, limits.ErrCallLimit)
	_, err = f.lim.Admit(ctx, f.acctRecord)
	require.ErrorIs(t, err, limits.ErrCallLimit)
	alerts := f.alerts(t)
	require.Len(t, alerts, 1, "one alert a minute, not one per refused call")
	require.Equal(t, limits.AlertAccountCallLimit, alerts[0].AlertType)
	require.Equal(t, f.acct, alerts[0].AccountSID)

	r1()
	r1() // idempotent
	require.Equal(t, 1, f.lim.Active(f.acct))
	r3, err := f.lim.Admit(ctx, f.acctRecord)
	require.NoError(t, err)
	r2()
	r3()
	require.Zero(t, f.lim.Active(f.acct))
}

func TestCallsPerMinute(t *testing.T) {
	f := newFixture(t, 0, 3) // 0: unlimited calls in progress
	ctx := context.Background()
	for range 3 {
		rel, err := f.lim.Admit(ctx, f.acctRecord)
		require.NoError(t, err)
		rel()
	}
	_, err := f.lim.Admit(ctx, f.acctRecord)
	require.ErrorIs(t, err, limits.ErrCallRate)
	var re *route.RejectError
	require.ErrorAs(t, err, &re)
	require.Equal(t, "20", re.Headers["Retry-After"], "one call every 20 s at 3 a minute")
	f.now = f.now.Add(20 * time.Second)
	rel, err := f.lim.Admit(ctx, f.acctRecord)
	require.NoError(t, err)
	rel()
	_, err = f.lim.Admit(ctx, f.acctRecord)
	require.ErrorIs(t, err, limits.ErrCallRate)
}

func TestNoLimits(t *testing.T) {
	f := newFixture(t, -1, -1)
	for range 100 {
		_, err := f.lim.Admit(context.Background(), f.acctRecord)
		require.NoError(t, err)
	}
	require.Equal(t, 100, f.lim.Active(f.acct))
}

func TestLimitsAreReadAgainAfterTTL(t *testing.T) {
	f := newFixture(t, 1, -1)
	ctx := context.Background()
	_, err := f.lim.Admit(ctx, f.acctRecord)
	require.NoError(t, err)
	_, err = f.lim.Admit(ctx, f.acctRecord)
	require.ErrorIs(t, err, limits.ErrCallLimit)
	rows, err := f.db.AccountLimits(store.Admin()).List(ctx, store.Filter{"account_sid": f.acct})
	require.NoError(t, err)
	require.NoError(t, f.db.AccountLimits(store.Admin()).Update(ctx, rows[0].AccountLimitsSID, store.Patch{"quantity": 2}))
	_, err = f.lim.Admit(ctx, f.acctRecord)
	require.ErrorIs(t, err, limits.ErrCallLimit, "cached")
	f.now = f.now.Add(limits.DefaultTTL)
	_, err = f.lim.Admit(ctx, f.acctRecord)
	require.NoError(t, err)
}
