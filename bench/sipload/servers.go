package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	sipgosip "github.com/emiago/sipgo/sip"

	"github.com/voxrun/voxrun/media/clock"
	"github.com/voxrun/voxrun/media/netpoll"
	"github.com/voxrun/voxrun/media/ports"
	"github.com/voxrun/voxrun/sip"
	"github.com/voxrun/voxrun/sip/admission"
	"github.com/voxrun/voxrun/sip/leg"
)

// server is one UAS under test, serving UDP on 127.0.0.1.
type server interface {
	Addr() string
	// Active is the number of dialogs the server holds now.
	Active() int
	Close() error
}

// udpReadBuffer is what both servers ask for their UDP socket, so that the
// comparison is not one of kernel buffers.
const udpReadBuffer = 8 << 20

// bareSDP is the fixed answer of the bare UAS (RFC 4566).
var bareSDP = []byte("v=0\r\no=bare 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
	"m=audio 6000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n")

// bare is a UAS on sipgo alone: 200 with a fixed SDP, dialog state in
// sipgo's DialogServerCache until the BYE, no RTP.
type bare struct {
	ua     *sipgo.UserAgent
	conn   *net.UDPConn
	active atomic.Int64
	stop   chan struct{}
	wg     sync.WaitGroup // serve loop and INVITE handlers
}

func newBare() (*bare, error) {
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, err
	}
	_ = conn.SetReadBuffer(udpReadBuffer)
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("bare"))
	if err != nil {
		conn.Close()
		return nil, err
	}
	srv, err := sipgo.NewServer(ua)
	if err != nil {
		ua.Close()
		conn.Close()
		return nil, err
	}
	cli, err := sipgo.NewClient(ua)
	if err != nil {
		ua.Close()
		conn.Close()
		return nil, err
	}
	b := &bare{ua: ua, conn: conn, stop: make(chan struct{})}
	port := conn.LocalAddr().(*net.UDPAddr).Port
	cache := sipgo.NewDialogServerCache(cli, sipgosip.ContactHeader{Address: sipgosip.Uri{Scheme: "sip", Host: "127.0.0.1", Port: port}})
	srv.OnInvite(func(req *sipgosip.Request, tx sipgosip.ServerTransaction) {
		b.wg.Add(1)
		defer b.wg.Done()
		dlg, err := cache.ReadInvite(req, tx)
		if err != nil {
			_ = tx.Respond(sipgosip.NewResponseFromRequest(req, 400, "Bad Request", nil))
			return
		}
		b.active.Add(1)
		defer b.active.Add(-1)
		defer dlg.Close()
		if err := dlg.RespondSDP(bareSDP); err != nil {
			return // no ACK
		}
		select {
		case <-dlg.Context().Done(): // BYE
		case <-b.stop:
		}
	})
	srv.OnAck(func(req *sipgosip.Request, tx sipgosip.ServerTransaction) { _ = cache.ReadAck(req, tx) })
	srv.OnBye(func(req *sipgosip.Request, tx sipgosip.ServerTransaction) {
		if err := cache.ReadBye(req, tx); err != nil {
			_ = tx.Respond(sipgosip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
		}
	})
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		_ = srv.ServeUDP(conn)
	}()
	return b, nil
}

func (b *bare) Addr() string { return b.conn.LocalAddr().String() }
func (b *bare) Active() int  { return int(b.active.Load()) }
func (b *bare) Close() error {
	close(b.stop)
	err := b.conn.Close()
	b.wg.Wait()
	_ = b.ua.Close()
	return err
}

// vox is voxrun's SIP stack: sip.Server (intake, admission with loopback
// exempt from pike) and sip/leg's Agent, which builds an inbound leg with an
// RTP session (two UDP sockets from the port range, registered on one shared
// media clock) for every call, answers 200 with its SDP and keeps the dialog
// until the UAC's BYE.
type vox struct {
	srv   *sip.Server
	agent *leg.Agent
	clk   *clock.Clock
	ports *ports.Allocator
	// poller reads the RTP sockets as voxrun serve does (nil without epoll).
	poller *netpoll.Poller

	mu     sync.Mutex
	causes map[leg.Cause]int // why each leg ended
	slow   int               // legs that lived longer than a second
}

func newVox(budget admission.BudgetConfig, rtpMin, rtpMax int) (*vox, error) {
	v := &vox{causes: make(map[leg.Cause]int)}
	log := slog.New(slog.DiscardHandler)
	poller, perr := netpoll.New(netpoll.Config{})
	if perr != nil {
		poller = nil // package net's sockets, as serve falls back to
	}
	v.poller = poller
	alloc, err := ports.New(ports.Config{Min: rtpMin, Max: rtpMax, Poller: poller})
	if err != nil {
		return nil, err
	}
	srv, err := sip.New(sip.Config{
		Addr:          "127.0.0.1:0",
		UDPReadBuffer: udpReadBuffer,
		Pike:          admission.PikeConfig{Exempt: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}},
		Budget:        budget,
		Logger:        log,
	})
	if err != nil {
		return nil, err
	}
	clk := clock.New(clock.Config{})
	agent, err := leg.NewAgent(leg.Config{
		Ports: alloc, Clock: clk, MediaAddr: netip.MustParseAddr("127.0.0.1"),
		Requester: leg.TransactionLayer(srv.TransactionLayer()),
		Logger:    log,
	})
	if err != nil {
		_ = clk.Close()
		return nil, err
	}
	srv.Handle("INVITE", agent.InviteHandler(func(ctx context.Context, req *sip.Request, tx sip.ServerTransaction) {
		l, err := agent.Accept(ctx, req, tx)
		if err != nil {
			return // answered already (503 when no RTP port is left)
		}
		t0 := time.Now()
		defer func() {
			_ = l.Close()
			v.mu.Lock()
			v.causes[l.Cause()]++
			if time.Since(t0) > time.Second {
				v.slow++
			}
			v.mu.Unlock()
		}()
		if err := l.Answer(ctx); err != nil {
			return
		}
		_ = l.Wait(ctx) // until the BYE
	}))
	for _, m := range leg.DialogMethods {
		srv.Handle(m, agent.ServeDialog)
	}
	if err := srv.Start(context.Background()); err != nil {
		_ = clk.Close()
		return nil, err
	}
	v.srv, v.agent, v.clk, v.ports = srv, agent, clk, alloc
	return v, nil
}

func (v *vox) Addr() string { return v.srv.UDPAddr().String() }
func (v *vox) Active() int  { return v.agent.Len() }
func (v *vox) Close() error {
	err := v.agent.Close()
	if cerr := v.srv.Close(); cerr != nil && err == nil {
		err = cerr
	}
	_ = v.clk.Close()
	if v.poller != nil {
		_ = v.poller.Close()
	}
	return err
}

func (v *vox) String() string {
	st := v.srv.Stats()
	v.mu.Lock()
	defer v.mu.Unlock()
	return fmt.Sprintf("intake passed %d, rejected %d, dropped %d, limited %d, overloaded (503) %d; legs ended by %v, %d lived over 1 s",
		st.Passed, st.Rejected, st.Dropped, st.Limited, st.Overloaded, v.causes, v.slow)
}
