package carrierreg

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/voxrun/voxrun/sip/leg"
	"github.com/voxrun/voxrun/store"
)

// Defaults for Config's zero values.
const (
	DefaultExpires  = time.Hour
	DefaultInterval = time.Minute
	DefaultRetry    = 30 * time.Second
	MaxRetry        = 5 * time.Minute
	requestTimeout  = 32 * time.Second // Timer F with T1 500 ms
)

// ErrConfig wraps configuration errors of New.
var ErrConfig = errors.New("sip/carrierreg: invalid configuration")

// StatusKey is the live-state key of a carrier's registration status.
func StatusKey(carrierSID string) string { return "carrier-register:" + carrierSID }

// Status is a carrier registration's outcome, as stored in live state and
// (status and reason) in the carrier's register_status.
type Status struct {
	// Status is "ok" or "fail".
	Status string `json:"status"`
	// Reason is the final response ("200 OK", "403 Forbidden") or why no
	// response came ("timeout", "no outbound gateway").
	Reason string `json:"reason"`
	// Expires is the expiry the carrier granted, in seconds (ok only).
	Expires int `json:"expires,omitempty"`
	// Gateway is where the REGISTER went (host:port).
	Gateway string `json:"gateway,omitempty"`
	// At is when the attempt ended.
	At time.Time `json:"at"`
}

// Config configures a Registrar.
type Config struct {
	// Provisioning is where carriers and gateways are read and
	// register_status written. Required.
	Provisioning store.Provisioning
	// Live keeps the status of each registration. Required.
	Live store.Values
	// Requester sends the REGISTERs in client transactions on the SIP
	// server's transports. Required.
	Requester leg.Requester
	// LocalAddr is the SIP server's address for a transport ("UDP",
	// "TCP"): REGISTERs over UDP leave from that socket, and it is the
	// Contact. Required.
	LocalAddr func(transport string) netip.AddrPort
	// Host is the host of the Contact (the node's public address,
	// public_ip); empty means LocalAddr's address.
	Host string
	// Expires is the expiry asked for. Default 1 h.
	Expires time.Duration
	// Interval is how often the carriers are read again (new, changed and
	// removed carriers). Default 1 min.
	Interval time.Duration
	// Retry is the first delay after a failed registration; it doubles up
	// to MaxRetry. Default 30 s.
	Retry time.Duration
	// UserAgent is the User-Agent header. Default "voxrun".
	UserAgent string
	// Logger receives the registrations' logs; nil means slog.Default().
	Logger *slog.Logger
}

// Registrar keeps voxrun registered with carriers. Start it with Start
// and stop it with Close.
type Registrar struct {
	cfg Config
	log *slog.Logger

	mu       sync.Mutex
	bindings map[string]*binding // by carrier sid
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	wake     chan struct{}
}

// New builds a registrar.
func New(cfg Config) (*Registrar, error) {
	if cfg.Provisioning == nil || cfg.Live == nil || cfg.Requester == nil || cfg.LocalAddr == nil {
		return nil, fmt.Errorf("%w: Provisioning, Live, Requester and LocalAddr are required", ErrConfig)
	}
	if cfg.Expires <= 0 {
		cfg.Expires = DefaultExpires
	}
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.Retry <= 0 {
		cfg.Retry = DefaultRetry
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = "voxrun"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Registrar{cfg: cfg, log: cfg.Logger.With("component", "sip/carrierreg"),
		bindings: map[string]*binding{}, wake: make(chan struct{}, 1)}, nil
}

// Start reads the carriers now and every Interval, and keeps one
// registration running per carrier that requires it.
func (r *Registrar) Start(ctx context.Context) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	r.mu.Lock()
	r.cancel = cancel
	r.mu.Unlock()
	r.wg.Go(func() {
		t := time.NewTicker(r.cfg.Interval)
		defer t.Stop()
		for {
			r.sync(ctx)
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			case <-r.wake:
			}
		}
	})
}

// Refresh makes the registrar read the carriers again now (after a
// carrier changed over the REST API).
func (r *Registrar) Refresh() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Close stops every registration, unregistering each binding (Expires: 0,
// bounded by ctx), and waits for them.
func (r *Registrar) Close(ctx context.Context) error {
	r.mu.Lock()
	cancel := r.cancel
	bs := make([]*binding, 0, len(r.bindings))
	for _, b := range r.bindings {
		bs = append(bs, b)
	}
	r.bindings = map[string]*binding{}
	r.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	r.wg.Wait()
	var wg sync.WaitGroup
	for _, b := range bs {
		wg.Go(func() { b.stop(ctx) })
	}
	wg.Wait()
	return nil
}

// sync starts, restarts and stops registrations to match the carriers.
func (r *Registrar) sync(ctx context.Context) {
	p := r.cfg.Provisioning
	carriers, err := p.VoipCarriers(store.Admin()).List(ctx, store.Filter{"requires_register": true, "is_active": true})
	if err != nil {
		if ctx.Err() == nil {
			r.log.Warn("carriers unreadable", "err", err)
		}
		return
	}
	want := map[string]target{}
	for _, c := range carriers {
		gws, err := p.SipGateways(store.Admin()).List(ctx, store.Filter{"voip_carrier_sid": c.VoipCarrierSID, "outbound": true, "is_active": true})
		if err != nil {
			r.log.Warn("gateways unreadable", "voip_carrier_sid", c.VoipCarrierSID, "err", err)
			continue
		}
		t, ok := targetOf(c, gws)
		if !ok {
			r.record(ctx, c, Status{Status: "fail", Reason: "no outbound gateway", At: time.Now()}, 0)
			continue
		}
		want[c.VoipCarrierSID] = t
	}
	r.mu.Lock()
	var stale []*binding
	for sid, b := range r.bindings {
		if t, ok := want[sid]; !ok || t != b.t {
			stale = append(stale, b)
			delete(r.bindings, sid)
		}
	}
	var started []*binding
	for sid, t := range want {
		if _, ok := r.bindings[sid]; ok {
			continue
		}
		b := &binding{r: r, t: t, stopped: make(chan struct{}), done: make(chan struct{})}
		r.bindings[sid] = b
		started = append(started, b)
	}
	r.mu.Unlock()
	for _, b := range stale {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), requestTimeout)
		b.stop(sctx)
		cancel()
	}
	for _, b := range started {
		go b.run(ctx)
	}
}

// target is what a registration is made of; a change restarts it.
type target struct {
	carrier   store.VoipCarrier
	gateway   string // host:port
	transport string // "UDP" or "TCP"
	aorUser   string
	aorHost   string
	username  string
	password  string
}

func targetOf(c store.VoipCarrier, gws []store.SipGateway) (target, bool) {
	slices.SortFunc(gws, func(a, b store.SipGateway) int {
		return cmp.Or(cmp.Compare(a.IPv4, b.IPv4), cmp.Compare(a.Port, b.Port))
	})
	for _, gw := range gws {
		proto := strings.ToUpper(strings.TrimSpace(gw.Protocol))
		if proto == "" {
			proto = "UDP"
		}
		if proto != "UDP" && proto != "TCP" {
			continue // TLS: not served by the agent yet
		}
		port := gw.Port
		if port == 0 {
			port = 5060
		}
		t := target{
			gateway:   net.JoinHostPort(strings.TrimSpace(gw.IPv4), strconv.Itoa(port)),
			transport: proto,
			username:  c.RegisterUsername, password: c.RegisterPassword,
			aorUser: cmp.Or(c.RegisterFromUser, c.RegisterUsername),
			aorHost: cmp.Or(c.RegisterFromDomain, c.RegisterSIPRealm, strings.TrimSpace(gw.IPv4)),
		}
		// Only the fields that shape the REGISTER make a change.
		t.carrier = store.VoipCarrier{VoipCarrierSID: c.VoipCarrierSID, Name: c.Name, RegisterSIPRealm: c.RegisterSIPRealm}
		return t, true
	}
	return target{}, false
}

// record writes a registration's status to live state (for ttl, or an
// hour for failures) and to the carrier's register_status when it changed.
func (r *Registrar) record(ctx context.Context, c store.VoipCarrier, st Status, ttl time.Duration) {
	b, _ := json.Marshal(st)
	if ttl <= 0 {
		ttl = time.Hour
	}
	if err := r.cfg.Live.SetValue(ctx, StatusKey(c.VoipCarrierSID), b, ttl); err != nil {
		r.log.Warn("registration status not kept", "voip_carrier_sid", c.VoipCarrierSID, "err", err)
	}
	col, _ := json.Marshal(struct {
		Status string `json:"status"`
		Reason string `json:"reason"`
	}{st.Status, st.Reason})
	cur, err := r.cfg.Provisioning.VoipCarriers(store.Admin()).Get(ctx, c.VoipCarrierSID)
	if err != nil || cur.RegisterStatus == string(col) {
		return
	}
	if err := r.cfg.Provisioning.VoipCarriers(store.Admin()).Update(ctx, c.VoipCarrierSID, store.Patch{"register_status": string(col)}); err != nil {
		r.log.Warn("register_status not written", "voip_carrier_sid", c.VoipCarrierSID, "err", err)
	}
}
