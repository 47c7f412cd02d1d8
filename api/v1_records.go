package api

import (
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/voxrun/voxrun/store"
)

// maxPageSize is the largest page RecentCalls and Alerts serve.
const maxPageSize = 500

// pageQuery reads page, count and the time window (days, or start and end)
// shared by RecentCalls and Alerts.
type pageQuery struct {
	page, count int
	start, end  time.Time
}

func (v *v1) readPageQuery(c *fiber.Ctx) (pageQuery, error) {
	var q pageQuery
	var err error
	if q.page, err = strconv.Atoi(c.Query("page", "1")); err != nil || q.page < 1 {
		return q, fiber.NewError(fiber.StatusBadRequest, `missing or invalid "page" query arg`)
	}
	if q.count, err = strconv.Atoi(c.Query("count", "25")); err != nil || q.count < 1 || q.count > maxPageSize {
		return q, fiber.NewError(fiber.StatusBadRequest, `missing or invalid "count" query arg`)
	}
	if d := c.Query("days"); d != "" {
		days, err := strconv.Atoi(d)
		if err != nil || days < 1 || days > 365 {
			return q, fiber.NewError(fiber.StatusBadRequest, `invalid "days" query arg`)
		}
		q.start = v.now().UTC().Add(-time.Duration(days) * 24 * time.Hour)
		return q, nil
	}
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"start", &q.start}, {"end", &q.end}} {
		if s := c.Query(p.name); s != "" {
			t, ok := parseTime(s)
			if !ok {
				return q, fiber.NewError(fiber.StatusBadRequest, `invalid "`+p.name+`" query arg`)
			}
			*p.dst = t
		}
	}
	return q, nil
}

// cdrView is a call record as jambonz's RecentCalls returns it: times in
// milliseconds since the epoch, the SIP Call-ID as sip_call_id.
type cdrView struct {
	CallSID           string `json:"call_sid"`
	AccountSID        string `json:"account_sid"`
	ApplicationSID    string `json:"application_sid,omitempty"`
	ParentCallSID     string `json:"parent_call_sid,omitempty"`
	Direction         string `json:"direction"`
	From              string `json:"from"`
	To                string `json:"to"`
	SIPCallID         string `json:"sip_call_id"`
	SIPStatus         int    `json:"sip_status"`
	Duration          int    `json:"duration"`
	Answered          bool   `json:"answered"`
	AttemptedAt       int64  `json:"attempted_at"`
	AnsweredAt        *int64 `json:"answered_at"`
	TerminatedAt      int64  `json:"terminated_at"`
	TerminationReason string `json:"termination_reason,omitempty"`
	Trunk             string `json:"trunk,omitempty"`
	Host              string `json:"host,omitempty"`
	RemoteHost        string `json:"remote_host,omitempty"`
	TraceID           string `json:"trace_id,omitempty"`
}

func viewCDR(r store.CDR) cdrView {
	v := cdrView{
		CallSID: r.CallSID, AccountSID: r.AccountSID, ApplicationSID: r.ApplicationSID,
		ParentCallSID: r.ParentCallSID, Direction: r.Direction, From: r.From, To: r.To,
		SIPCallID: r.CallID, SIPStatus: r.SIPStatus, Duration: r.Duration, Answered: r.Answered,
		AttemptedAt: r.AttemptedAt.UnixMilli(), TerminatedAt: r.TerminatedAt.UnixMilli(),
		TerminationReason: r.TerminationReason, Trunk: r.Trunk, Host: r.Host,
		RemoteHost: r.RemoteHost, TraceID: r.TraceID,
	}
	if r.AnsweredAt != nil {
		ms := r.AnsweredAt.UnixMilli()
		v.AnsweredAt = &ms
	}
	return v
}

// recentCalls is GET /Accounts/:sid/RecentCalls (one account's calls) and
// GET /ServiceProviders/:sid/RecentCalls (all its accounts'):
// {total, batch, page, data}.
func (v *v1) recentCalls(c *fiber.Ctx, tgt target) error {
	s, _, err := tgt(c)
	if err != nil {
		return v.fail(c, "recent calls", err)
	}
	pq, err := v.readPageQuery(c)
	if err != nil {
		return err
	}
	q := store.CDRQuery{Page: pq.page, Count: pq.count, Start: pq.start, End: pq.end,
		From: c.Query("from"), To: c.Query("to")}
	switch d := c.Query("direction"); d {
	case "", "inbound", "outbound":
		q.Direction = d
	default:
		return fiber.NewError(fiber.StatusBadRequest, `invalid "direction" query arg`)
	}
	if a := c.Query("answered"); a != "" {
		b, err := strconv.ParseBool(a)
		if err != nil {
			return fiber.NewError(fiber.StatusBadRequest, `invalid "answered" query arg`)
		}
		q.Answered = &b
	}
	recs, total, err := v.prov.ListCDRs(c.UserContext(), s, q)
	if err != nil {
		return v.fail(c, "recent calls", err)
	}
	data := make([]cdrView, len(recs))
	for i, r := range recs {
		data[i] = viewCDR(r)
	}
	return c.JSON(fiber.Map{"total": total, "batch": len(data), "page": pq.page, "data": data})
}

// alerts is GET /Accounts/:sid/Alerts and /ServiceProviders/:sid/Alerts:
// {total, batch, page, data}.
func (v *v1) alerts(c *fiber.Ctx, tgt target) error {
	s, _, err := tgt(c)
	if err != nil {
		return v.fail(c, "alerts", err)
	}
	pq, err := v.readPageQuery(c)
	if err != nil {
		return err
	}
	recs, total, err := v.prov.ListAlerts(c.UserContext(), s, store.AlertQuery{
		Page: pq.page, Count: pq.count, AlertType: c.Query("alert_type"), Start: pq.start, End: pq.end})
	if err != nil {
		return v.fail(c, "alerts", err)
	}
	if recs == nil {
		recs = []store.Alert{}
	}
	return c.JSON(fiber.Map{"total": total, "batch": len(recs), "page": pq.page, "data": recs})
}
