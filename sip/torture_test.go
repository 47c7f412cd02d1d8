package sip_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/voxrun/voxrun/sip"
	"github.com/voxrun/voxrun/sip/siptest"
)

// outcome is what the client sees after sending one torture message.
type outcome struct {
	// status is the final response expected; 0 means none at all.
	status int
	// closed: the server closes the TCP connection after answering.
	closed bool
}

func answer(status int) outcome { return outcome{status: status} }

var (
	none         = outcome{}
	answerClosed = func(status int) outcome { return outcome{status: status, closed: true} }
)

// Stand-ins until the registrar and the router exist: INVITEs reach a handler
// answering 480 (as a number without an application would), REGISTER has no
// handler yet (405 with Allow).
const (
	inviteAnswer   = 480
	registerAnswer = 405
)

// tortureCases is every message of RFC 4475 with the handling the RFC
// prescribes (quoted in rfc) and what this server does over UDP and TCP.
var tortureCases = []struct {
	file    string
	section string
	rfc     string
	udp     outcome
	tcp     outcome
}{
	// §3.1.1 valid messages: all accepted and handed to the core.
	{"wsinv", "3.1.1.1", "well-formed request", answer(inviteAnswer), answer(inviteAnswer)},
	{"intmeth", "3.1.1.2", "endpoints generate a 501", answer(501), answer(501)},
	{"esc01", "3.1.1.3", "must accept as well formed", answer(inviteAnswer), answer(inviteAnswer)},
	{"escnull", "3.1.1.4", "parsers must accept (REGISTER: registrar)", answer(registerAnswer), answer(registerAnswer)},
	{"esc02", "3.1.1.5", "an endpoint would reject with a 501", answer(501), answer(501)},
	{"lwsdisp", "3.1.1.6", "accept as well formed", answer(200), answer(200)},
	// Known gap: the 480 echoes the request's long headers and exceeds the
	// 1300 bytes sipgo sends over UDP (sip.ErrUDPMTUCongestion), so over UDP
	// the request is accepted but its answer is not sent.
	{"longreq", "3.1.1.7", "well-formed request", none, answer(inviteAnswer)},
	// Over UDP the octets after the body are noise (RFC 3261 §18.3); over
	// TCP they are the next message, whose answer the test does not read.
	{"dblreq", "3.1.1.8", "handle the REGISTER, ignore the extra octets", answer(registerAnswer), answer(registerAnswer)},
	{"semiuri", "3.1.1.9", "accept as well formed", answer(200), answer(200)},
	{"transports", "3.1.1.10", "accept as well formed", answer(200), answer(200)},
	{"mpart01", "3.1.1.11", "accept as well formed (MESSAGE: no handler)", answer(405), answer(405)},
	{"unreason", "3.1.1.12", "response, well formed (matches no transaction)", none, none},
	{"noreason", "3.1.1.13", "response, well formed (matches no transaction)", none, none},

	// §3.1.2 invalid messages.
	{"badinv01", "3.1.2.1", "respond with a 400", answer(400), answer(400)},
	// Over TCP there is nothing to do but wait for the missing octets.
	{"clerr", "3.1.2.2", "400 over UDP; over TCP wait, then close", answer(400), none},
	{"ncl", "3.1.2.3", "respond with an error; over TCP close the connection", answer(400), answerClosed(400)},
	{"scalar02", "3.1.2.4", "400 due to the CSeq error", answer(400), answer(400)},
	{"scalarlg", "3.1.2.5", "response: simply discard it", none, none},
	{"quotbal", "3.1.2.6", "return a 400", answer(400), answer(400)},
	{"ltgtruri", "3.1.2.7", "reject with a 400", answer(400), answer(400)},
	{"lwsruri", "3.1.2.8", "respond with a 400", answer(400), answer(400)},
	{"lwsstart", "3.1.2.9", "acceptable to reject as malformed", answer(400), answer(400)},
	{"trws", "3.1.2.10", "acceptable to reject as malformed", answer(400), answer(400)},
	{"escruri", "3.1.2.11", "acceptable to reject with a 400", answer(400), answer(400)},
	// voxrun does not use Date, so it does not reject for it.
	{"baddate", "3.1.2.12", "should not reject unless Date matters", answer(inviteAnswer), answer(inviteAnswer)},
	{"regbadct", "3.1.2.13", "reasonable to respond with a 400", answer(400), answer(400)},
	{"badaspec", "3.1.2.14", "reasonable to reject with a 400", answer(400), answer(400)},
	// The message has no empty line after its headers: a datagram ends
	// there, a stream has to wait for it.
	{"baddn", "3.1.2.15", "reject with a 400", answer(400), none},
	{"badvers", "3.1.2.16", "respond with a 505", answer(505), answer(505)},
	{"mismatch01", "3.1.2.17", "respond with a 400", answer(400), answer(400)},
	{"mismatch02", "3.1.2.18", "501 preferred, 400 acceptable", answer(400), answer(400)},
	{"bigcode", "3.1.2.19", "response: simply drop it", none, none},

	// §3.2 transaction-layer and application semantics.
	{"badbranch", "3.2.1", "reject with 400, or fall back to RFC 2543 matching", answer(200), answer(200)},

	// §3.3 application-layer semantics.
	{"insuf", "3.3.1", "respond with a 400", answer(400), answer(400)},
	{"unkscm", "3.3.2", "reject with a 416", answer(416), answer(416)},
	{"novelsc", "3.3.3", "reject with a 416 unless it knows the scheme", answer(416), answer(416)},
	{"unksm2", "3.3.4", "well formed (a registrar answers 400: later)", answer(registerAnswer), answer(registerAnswer)},
	{"bext01", "3.3.5", "respond with a 420 listing the unsupported extensions", answer(420), answer(420)},
	{"invut", "3.3.6", "respond with a 415", answer(415), answer(415)},
	{"regaut01", "3.3.7", "registrar answers 401 (later)", answer(registerAnswer), answer(registerAnswer)},
	{"multi01", "3.3.8", "respond with a 400", answer(400), answer(400)},
	{"mcl01", "3.3.9", "400; over TCP the framing error closes the connection", answer(400), answerClosed(400)},
	{"bcast", "3.3.10", "response: matches no transaction, discarded", none, none},
	{"zeromf", "3.3.11", "an endpoint processes the request", answer(200), answer(200)},
	{"cparam01", "3.3.12", "well formed (REGISTER: registrar, later)", answer(registerAnswer), answer(registerAnswer)},
	{"cparam02", "3.3.13", "well formed (REGISTER: registrar, later)", answer(registerAnswer), answer(registerAnswer)},
	{"regescrt", "3.3.14", "well formed (REGISTER: registrar, later)", answer(registerAnswer), answer(registerAnswer)},
	{"sdp01", "3.3.15", "INVITE core decides (406 later)", answer(inviteAnswer), answer(inviteAnswer)},

	// §3.4 backward compatibility. Deviation: sipgo's transaction layer
	// cannot match a request with neither an RFC 3261 branch nor a From tag
	// and answers 400; RFC 2543 user agents are not supported. Over TCP the
	// message has no Content-Length, which RFC 3261 §18.3 requires on a
	// stream: 400 and the connection is closed.
	{"inv2543", "3.4.1", "an RFC 2543 INVITE is accepted (deviation: 400)", answer(400), answerClosed(400)},
}

func loadTorture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "torture", name+".dat"))
	require.NoError(t, err)
	return b
}

func TestTortureSetIsComplete(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "torture", "*.dat"))
	require.NoError(t, err)
	require.Len(t, files, 49, "RFC 4475 has 49 messages")
	require.Len(t, tortureCases, 49)
	seen := map[string]bool{}
	for _, c := range tortureCases {
		require.False(t, seen[c.file], c.file)
		seen[c.file] = true
		require.FileExists(t, filepath.Join("testdata", "torture", c.file+".dat"))
	}
}

// TestTorture sends every RFC 4475 message over UDP and over TCP to a real
// server on 127.0.0.1 and checks the answer, then that the server still
// answers OPTIONS. Each message gets a server of its own: several messages
// share a Via branch and sent-by, which RFC 3261 §17.2.3 matches to one
// transaction, so on a shared server one would be taken for a
// retransmission of another.
func TestTorture(t *testing.T) {
	invite := func(_ context.Context, req *sip.Request, tx sip.ServerTransaction) {
		_ = tx.Respond(sip.NewResponse(req, inviteAnswer, "Temporarily Unavailable"))
	}
	var total sip.Stats
	for i, tc := range tortureCases {
		raw := loadTorture(t, tc.file)
		for _, network := range []string{"udp", "tcp"} {
			want := tc.udp
			if network == "tcp" {
				want = tc.tcp
			}
			t.Run(network+"/"+tc.file, func(t *testing.T) {
				srv := startServer(t, sip.Config{}, map[string]sip.Handler{"INVITE": invite})
				addr := srv.UDPAddr()
				c := dial(t, network, addr)
				require.NoError(t, c.Send(timeout(t, 5*time.Second), raw))
				expect(t, c, raw, want, tc.section+" "+tc.rfc)
				if want.closed {
					_, err := c.Read(timeout(t, 2*time.Second))
					requireClosed(t, err) // framing errors close the connection
				}
				if network == "tcp" {
					c = dial(t, network, addr) // the first stream may be left waiting (clerr)
				}
				status, err := siptest.Ping(timeout(t, 5*time.Second), c, addr, fmt.Sprintf("alive-%s-%d", network, i))
				require.NoError(t, err)
				require.Equal(t, 200, status, "server must still answer OPTIONS")
				st := srv.Stats()
				total.Rejected += st.Rejected
				total.Dropped += st.Dropped
				total.Passed += st.Passed
			})
		}
	}
	t.Logf("intake totals over all messages and pings: %+v", total)
}

// expect reads what the server sends after one torture message, skipping
// answers to earlier messages (matched by Call-ID).
func expect(t *testing.T, c siptest.Conn, raw []byte, want outcome, why string) {
	t.Helper()
	callID := siptest.Header(raw, "Call-ID")
	if callID == "" {
		callID = siptest.Header(raw, "i")
	}
	next := func(ctx context.Context) ([]byte, error) {
		for {
			msg, err := siptest.ReadFinal(ctx, c)
			if err != nil || siptest.Header(msg, "Call-ID") == callID {
				return msg, err
			}
		}
	}
	if want.status == 0 {
		msg, err := next(timeout(t, 300*time.Millisecond))
		if errors.Is(err, siptest.ErrNoReply) {
			return
		}
		require.NoError(t, err)
		require.Failf(t, "expected no answer", "%s: got %q", why, firstLine(msg))
	}
	msg, err := next(timeout(t, 5*time.Second))
	require.NoError(t, err, why)
	require.Equal(t, want.status, siptest.Status(msg), "%s: got %q", why, firstLine(msg))
	if want.status == 420 {
		require.Equal(t, "nothingSupportsThis, nothingSupportsThisEither", siptest.Header(msg, "Unsupported"))
	}
}

func firstLine(msg []byte) string {
	l, _, _ := strings.Cut(string(msg), "\r\n")
	return l
}
