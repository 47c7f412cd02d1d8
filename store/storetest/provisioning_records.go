package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/voxrun/voxrun/store"
)

// makeCDRs makes n call records of one account, one second apart from base
// (the newest first when listed), alternating direction and answered.
func makeCDRs(tn tenant, n int, base time.Time) []store.CDR {
	out := make([]store.CDR, n)
	for i := range out {
		at := base.Add(time.Duration(i) * time.Second)
		c := store.CDR{
			CallSID: uuid.NewString(), AccountSID: tn.account, ServiceProviderSID: tn.sp, ApplicationSID: tn.app,
			Direction: "inbound", From: fmt.Sprintf("+1555%07d", i), To: "+15550000000", CallID: uuid.NewString() + "@voxrun",
			SIPStatus: 200, Duration: i % 60, AttemptedAt: at, TerminatedAt: at.Add(time.Minute),
			Answered: i%2 == 0, TerminationReason: "caller hungup", Host: "10.0.0.1", RemoteHost: "192.0.2.1",
		}
		if i%3 == 0 {
			c.Direction = "outbound"
		}
		if c.Answered {
			ans := at.Add(2 * time.Second)
			c.AnsweredAt = &ans
		}
		out[i] = c
	}
	return out
}

func testCDRs(t *testing.T, p store.Provisioning) {
	ctx := t.Context()
	spA, spB := newSP(t, p), newSP(t, p)
	a1, a2, b1 := newTenant(t, p, spA), newTenant(t, p, spA), newTenant(t, p, spB)
	base := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	const n = 1234 // three INSERT chunks
	cdrs := makeCDRs(a1, n, base)
	require.NoError(t, p.WriteCDRs(ctx, cdrs))
	require.NoError(t, p.WriteCDRs(ctx, cdrs[:700]), "writing the same CDRs again is harmless")
	dup := append(makeCDRs(a2, 3, base), cdrs[5])
	dup = append(dup, dup[0])
	require.NoError(t, p.WriteCDRs(ctx, dup), "duplicates within one batch too")
	require.NoError(t, p.WriteCDRs(ctx, nil))

	page1, total, err := p.ListCDRs(ctx, a1.scope(), store.CDRQuery{Page: 1, Count: 500})
	require.NoError(t, err)
	require.Equal(t, n, total, "each call_sid stored once")
	require.Len(t, page1, 500)
	require.Equal(t, cdrs[n-1], page1[0], "newest first, every field round-trips")
	for i := 1; i < len(page1); i++ {
		require.True(t, page1[i-1].AttemptedAt.After(page1[i].AttemptedAt))
	}
	page3, total, err := p.ListCDRs(ctx, a1.scope(), store.CDRQuery{Page: 3, Count: 500})
	require.NoError(t, err)
	require.Equal(t, n, total)
	require.Len(t, page3, n-1000)
	require.Equal(t, cdrs[0], page3[len(page3)-1])
	beyond, total, err := p.ListCDRs(ctx, a1.scope(), store.CDRQuery{Page: 9, Count: 500})
	require.NoError(t, err)
	require.Equal(t, n, total)
	require.Empty(t, beyond)
	def, _, err := p.ListCDRs(ctx, a1.scope(), store.CDRQuery{})
	require.NoError(t, err)
	require.NotEmpty(t, def, "a zero query has a default page size")
	require.LessOrEqual(t, len(def), 500)

	answered, unanswered := true, false
	cases := []struct {
		name  string
		scope store.Scope
		q     store.CDRQuery
		total int
	}{
		{"other account of the same SP", a2.scope(), store.CDRQuery{Count: 10}, 3},
		{"account of another SP", b1.scope(), store.CDRQuery{Count: 10}, 0},
		{"its service provider", store.ForServiceProvider(spA), store.CDRQuery{Count: 10}, n + 3},
		{"another service provider", store.ForServiceProvider(spB), store.CDRQuery{Count: 10}, 0},
		{"admin", store.Admin(), store.CDRQuery{Count: 10}, n + 3},
		{"direction", a1.scope(), store.CDRQuery{Count: 10, Direction: "outbound"}, (n + 2) / 3},
		{"answered", a1.scope(), store.CDRQuery{Count: 10, Answered: &answered}, (n + 1) / 2},
		{"unanswered", a1.scope(), store.CDRQuery{Count: 10, Answered: &unanswered}, n / 2},
		{"from", a1.scope(), store.CDRQuery{Count: 10, From: "+15550000007"}, 1},
		{"to", a1.scope(), store.CDRQuery{Count: 10, To: "+15550000000"}, n},
		{"start", a1.scope(), store.CDRQuery{Count: 10, Start: base.Add(1000 * time.Second)}, n - 1000},
		{"start and end", a1.scope(), store.CDRQuery{Count: 10, Start: base.Add(10 * time.Second), End: base.Add(20 * time.Second)}, 10},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			page, total, err := p.ListCDRs(ctx, c.scope, c.q)
			require.NoError(t, err)
			require.Equal(t, c.total, total)
			require.Len(t, page, min(c.total, c.q.Count))
			for _, r := range page {
				if c.scope.Kind == store.ScopeAccount {
					require.Equal(t, c.scope.AccountSID, r.AccountSID)
				}
			}
		})
	}

	t.Run("invalid", func(t *testing.T) {
		require.ErrorIs(t, p.WriteCDRs(ctx, []store.CDR{{AccountSID: a1.account}}), store.ErrInvalid, "call_sid is required")
		_, _, err := p.ListCDRs(ctx, a1.scope(), store.CDRQuery{Page: -1})
		require.ErrorIs(t, err, store.ErrInvalid)
	})
}

func testAlerts(t *testing.T, p store.Provisioning) {
	ctx := t.Context()
	spA, spB := newSP(t, p), newSP(t, p)
	a1, b1 := newTenant(t, p, spA), newTenant(t, p, spB)
	base := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	var alerts []store.Alert
	for i := range 30 {
		typ := "webhook-failure"
		if i%3 == 0 {
			typ = "no-tts"
		}
		alerts = append(alerts, store.Alert{AccountSID: a1.account, AlertType: typ, Message: fmt.Sprintf("alert %d", i),
			Detail: "detail", TargetSID: uuid.NewString(), CreatedAt: base.Add(time.Duration(i) * time.Minute)})
	}
	alerts = append(alerts, store.Alert{AccountSID: b1.account, AlertType: "no-tts", Message: "other"})
	require.NoError(t, p.WriteAlerts(ctx, alerts))

	page, total, err := p.ListAlerts(ctx, a1.scope(), store.AlertQuery{Page: 1, Count: 7})
	require.NoError(t, err)
	require.Equal(t, 30, total)
	require.Len(t, page, 7)
	require.Equal(t, "alert 29", page[0].Message, "newest first")
	require.NotEmpty(t, page[0].AlertSID, "a sid is generated")
	require.Equal(t, base.Add(29*time.Minute), page[0].CreatedAt)

	page5, _, err := p.ListAlerts(ctx, a1.scope(), store.AlertQuery{Page: 5, Count: 7})
	require.NoError(t, err)
	require.Len(t, page5, 2)

	cases := []struct {
		name  string
		scope store.Scope
		q     store.AlertQuery
		total int
	}{
		{"type", a1.scope(), store.AlertQuery{AlertType: "no-tts"}, 10},
		{"window", a1.scope(), store.AlertQuery{Start: base.Add(10 * time.Minute), End: base.Add(15 * time.Minute)}, 5},
		{"other SP's account", b1.scope(), store.AlertQuery{}, 1},
		{"service provider A", store.ForServiceProvider(spA), store.AlertQuery{}, 30},
		{"service provider B", store.ForServiceProvider(spB), store.AlertQuery{AlertType: "webhook-failure"}, 0},
		{"admin", store.Admin(), store.AlertQuery{Count: 500}, 31},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, total, err := p.ListAlerts(ctx, c.scope, c.q)
			require.NoError(t, err)
			require.Equal(t, c.total, total)
		})
	}
	_, _, err = p.ListAlerts(ctx, a1.scope(), store.AlertQuery{Count: 501})
	require.ErrorIs(t, err, store.ErrInvalid)
}
