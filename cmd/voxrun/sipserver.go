package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"time"

	"github.com/voxrun/voxrun/media/clock"
	"github.com/voxrun/voxrun/media/netpoll"
	"github.com/voxrun/voxrun/media/ports"
	"github.com/voxrun/voxrun/runtime"
	"github.com/voxrun/voxrun/sip"
	"github.com/voxrun/voxrun/sip/admission"
	"github.com/voxrun/voxrun/sip/carrierreg"
	"github.com/voxrun/voxrun/sip/digest"
	"github.com/voxrun/voxrun/sip/leg"
	"github.com/voxrun/voxrun/sip/limits"
	"github.com/voxrun/voxrun/sip/registrar"
	"github.com/voxrun/voxrun/sip/route"
)

// signaling is the node's SIP side: the server, the leg agent and the media
// clock the legs share.
type signaling struct {
	srv      *sip.Server
	agent    *leg.Agent
	clock    *clock.Clock
	poller   *netpoll.Poller // nil where there is no epoll
	limits   *limits.Limiter
	carriers *carrierreg.Registrar
}

// startSIP serves SIP over UDP and TCP on sip_addr, routing INVITEs to calls.
func startSIP(ctx context.Context, cfg Config, st *stores, calls *runtime.Manager, r reach, clk *clock.Clock, out *outbound, log *slog.Logger) (*signaling, error) {
	hooks := r.hooks
	prov := st.prov
	// RTP sockets are read by a few epoll shards (media/netpoll), not a
	// goroutine each; where there is no epoll, by package net.
	poller, perr := netpoll.New(netpoll.Config{})
	if perr != nil {
		log.Info("media: RTP sockets read by a goroutine each", "reason", perr.Error())
	}
	alloc, err := ports.New(ports.Config{Min: cfg.RTPPortMin, Max: cfg.RTPPortMax, Poller: poller})
	if err != nil {
		clk.Close()
		if poller != nil {
			_ = poller.Close()
		}
		return nil, fmt.Errorf("rtp ports: %w", err)
	}
	sg := &signaling{clock: clk, poller: poller}
	maddr := mediaAddr(cfg)
	trusted, _ := cfg.SIPTrustedPrefixes() // validated with the configuration
	tlsCfg, err := sipTLS(cfg)
	if err != nil {
		sg.clock.Close()
		return nil, err
	}
	maxCalls, perSecond := cfg.SIPBudget()
	sg.srv, err = sip.New(sip.Config{Addr: cfg.SIPAddr, Logger: log, UserAgent: "voxrun/" + version,
		Budget: admission.BudgetConfig{MaxConcurrent: maxCalls, CallsPerSecond: perSecond},
		TLS:    tlsCfg, TLSAddr: cfg.SIPTLSAddr, WSAddr: cfg.SIPWSAddr, WSSAddr: cfg.SIPWSSAddr,
		Pike: admission.PikeConfig{Exempt: trusted},
		// Session timers (RFC 4028): a UAC may require them.
		Supported: []string{"timer"}})
	if err != nil {
		sg.clock.Close()
		return nil, fmt.Errorf("sip: %w", err)
	}
	codecs, _ := cfg.RTPCodecList() // validated with the configuration
	sg.agent, err = leg.NewAgent(leg.Config{
		Ports: alloc, Clock: sg.clock, Codecs: codecs, MediaAddr: maddr, UserAgent: "voxrun/" + version, Logger: log,
		Requester: leg.TransactionLayer(sg.srv.TransactionLayer()),
		// Outbound requests leave from the server's own sockets, so that
		// Via and Contact name where answers come back.
		LocalAddr: sg.localAddr,
	})
	if err != nil {
		sg.close(log)
		return nil, fmt.Errorf("sip legs: %w", err)
	}
	sg.limits, err = limits.New(limits.Config{Provisioning: prov, Alerts: prov, Logger: log})
	if err != nil {
		sg.close(log)
		return nil, fmt.Errorf("sip limits: %w", err)
	}
	router, err := route.New(route.Config{Provisioning: prov, Registrations: st.live, Limiter: sg.limits})
	if err != nil {
		sg.close(log)
		return nil, fmt.Errorf("sip routing: %w", err)
	}
	auth, err := digest.New(digest.Config{Secret: digestSecret(st.key), Algorithms: cfg.SIPDigestAlgorithms()}, st.live)
	if err != nil {
		sg.close(log)
		return nil, fmt.Errorf("sip digest: %w", err)
	}
	reg, err := registrar.New(registrar.Config{
		Provisioning: prov, Live: st.live, Digest: auth, Hooks: registrationHooks{hooks},
		Node: nodeName(cfg), Logger: log,
	})
	if err != nil {
		sg.close(log)
		return nil, fmt.Errorf("sip registrar: %w", err)
	}
	out.agent, out.router, out.limits = sg.agent, router, sg.limits
	in := &inbound{router: router, registrar: reg, agent: sg.agent, calls: calls, reach: r, log: log}
	sg.srv.Handle("REGISTER", reg.HandleRegister)
	sg.srv.Handle("INVITE", sg.agent.InviteHandler(tracked(in.handle)))
	for _, m := range leg.DialogMethods {
		sg.srv.Handle(m, sg.agent.ServeDialog)
	}
	msgs := &messages{router: router, agent: sg.agent, hooks: hooks, log: log}
	sg.srv.Handle("MESSAGE", msgs.handle)
	if err := sg.srv.Start(ctx); err != nil {
		sg.close(log)
		return nil, fmt.Errorf("sip listen %s: %w", cfg.SIPAddr, err)
	}
	log.Info("media", "rtp_address", maddr.String(), "rtp_ports", fmt.Sprintf("%d-%d", cfg.RTPPortMin, cfg.RTPPortMax))
	// Carriers that require registration get voxrun's REGISTERs.
	sg.carriers, err = carrierreg.New(carrierreg.Config{
		Provisioning: prov, Live: st.live, Requester: leg.TransactionLayer(sg.srv.TransactionLayer()),
		LocalAddr: sg.localAddr, Host: cfg.PublicIP, UserAgent: "voxrun/" + version, Logger: log,
	})
	if err != nil {
		sg.close(log)
		return nil, fmt.Errorf("sip carrier registration: %w", err)
	}
	sg.carriers.Start(ctx)
	return sg, nil
}

// sipTLS loads sip_tls_cert and sip_tls_key when TLS or WSS is configured.
func sipTLS(cfg Config) (*tls.Config, error) {
	if cfg.SIPTLSAddr == "" && cfg.SIPWSSAddr == "" {
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(cfg.SIPTLSCert, cfg.SIPTLSKey)
	if err != nil {
		return nil, fmt.Errorf("sip_tls_cert/sip_tls_key: %w", err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

// localAddr is the SIP server's address for a transport.
func (sg *signaling) localAddr(transport string) netip.AddrPort {
	if strings.EqualFold(transport, "TCP") {
		return sg.srv.TCPAddr()
	}
	return sg.srv.UDPAddr()
}

// tracked holds the account-limit slot a routed INVITE takes until its
// handler returns, that is until the call is over.
func tracked(next sip.Handler) sip.Handler {
	return func(ctx context.Context, req *sip.Request, tx sip.ServerTransaction) {
		ctx, release := route.Track(ctx)
		defer release()
		next(ctx, req, tx)
	}
}

// close stops SIP (waiting for its handlers, hence its calls), then the legs,
// then the media clock.
func (sg *signaling) close(log *slog.Logger) {
	var errs []error
	if sg.carriers != nil {
		// Unregister from the carriers while the transports are up.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		errs = append(errs, sg.carriers.Close(ctx))
		cancel()
	}
	if sg.srv != nil {
		errs = append(errs, sg.srv.Close())
	}
	if sg.agent != nil {
		errs = append(errs, sg.agent.Close())
	}
	sg.clock.Close()
	if sg.poller != nil {
		errs = append(errs, sg.poller.Close())
	}
	if err := errors.Join(errs...); err != nil {
		log.Warn("sip close", "err", err)
	}
}
