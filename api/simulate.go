package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gofiber/contrib/websocket"
	"github.com/gofiber/fiber/v2"

	"github.com/voxrun/voxrun/runtime"
	"github.com/voxrun/voxrun/store"
)

// Simulations runs the console's simulated calls: ordinary calls of the
// runtime on a virtual leg. cmd implements it on runtime.Simulator and the
// application transports (webhook, websocket, JS).
type Simulations interface {
	// Start runs a simulated call of app, which belongs to acct, from a
	// caller to a called number.
	Start(ctx context.Context, acct store.Account, app store.Application, from, to string) (*runtime.Simulation, error)
	// Get returns a simulated call, running or recently ended.
	Get(callSID string) (*runtime.Simulation, bool)
	// List returns an account's simulated calls, newest first.
	List(accountSID string) []*runtime.Simulation
}

// simulationsPath is where an account's simulated calls live under /v1.
const simulationsPath = "/Accounts/:sid/Simulations"

// simulationRoutes mounts the simulated calls' REST routes on the /v1 group.
func (v *v1) simulationRoutes(g fiber.Router) {
	sim := object(map[string]any{"call_sid": typ("string"), "application_sid": typ("string"), "from": typ("string"),
		"to": typ("string"), "running": typ("boolean"), "call_status": typ("string"), "failed": typ("boolean"),
		"started_at": typ("string")})
	transcript := object(map[string]any{"call_sid": typ("string"), "events": arrayOf(typ("object"))})
	const tag = "Simulations"
	v.handle(g, opDoc{method: "POST", path: simulationsPath, summary: "start a simulated call of an application (no SIP, no phone): its timeline arrives on the websocket " + simulationsPath + "/{callSid}/Events",
		tag: tag, body: object(map[string]any{"application_sid": typ("string"), "from": typ("string"), "to": typ("string")}, "application_sid"),
		status: fiber.StatusCreated, result: ref("Created")}, v.startSimulation)
	v.handle(g, opDoc{method: "GET", path: simulationsPath, summary: "the account's simulated calls, newest first (kept an hour after they end)", tag: tag,
		result: arrayOf(sim)}, v.listSimulations)
	v.handle(g, opDoc{method: "GET", path: simulationsPath + "/:callSid", summary: "a simulated call's transcript: every event so far (?download=1 as a file)", tag: tag,
		query: []string{"download"}, result: transcript}, v.getSimulation)
	v.handle(g, opDoc{method: "POST", path: simulationsPath + "/:callSid/Dtmf", summary: "the caller presses keys (0-9, *, #, A-D)", tag: tag,
		body: object(map[string]any{"digits": typ("string")}, "digits"), status: fiber.StatusAccepted}, v.simulationDTMF)
	v.handle(g, opDoc{method: "POST", path: simulationsPath + "/:callSid/Speech", summary: "the caller says text: a recognizer result for a gather listening for speech", tag: tag,
		body: object(map[string]any{"text": typ("string")}, "text"), status: fiber.StatusAccepted}, v.simulationSpeech)
	v.handle(g, opDoc{method: "POST", path: simulationsPath + "/:callSid/Hangup", summary: "the caller hangs up", tag: tag,
		status: fiber.StatusAccepted}, v.simulationHangup)
	v.handle(g, opDoc{method: "GET", path: simulationsPath + "/:callSid/Audio/:clip", summary: "what one say or play sent to the caller, as WAV (16-bit mono, 8 kHz)", tag: tag,
		result: map[string]any{"type": "string", "format": "binary"}}, v.simulationAudio)
}

// simulationsAvailable answers 503 when this node runs no simulations.
func (v *v1) simulationsAvailable() error {
	if v.sims == nil {
		return fiber.NewError(fiber.StatusServiceUnavailable, "simulated calls are not available")
	}
	return nil
}

func (v *v1) startSimulation(c *fiber.Ctx) error {
	a, err := v.account(c)
	if err != nil {
		return v.fail(c, "start simulation", err)
	}
	if err := v.simulationsAvailable(); err != nil {
		return err
	}
	var body struct {
		ApplicationSID string `json:"application_sid"`
		From           string `json:"from"`
		To             string `json:"to"`
	}
	if err := json.Unmarshal(c.Body(), &body); err != nil {
		return fiber.NewError(fiber.StatusBadRequest, "request body must be a JSON object")
	}
	if body.ApplicationSID == "" {
		return fiber.NewError(fiber.StatusBadRequest, "missing field application_sid")
	}
	if len(body.From) > 128 || len(body.To) > 128 {
		return fiber.NewError(fiber.StatusBadRequest, "from and to are at most 128 characters")
	}
	app, err := v.prov.Applications(store.ForAccount(a.ServiceProviderSID, a.AccountSID)).Get(c.UserContext(), body.ApplicationSID)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return fiber.NewError(fiber.StatusUnprocessableEntity, "unknown application_sid")
		}
		return v.fail(c, "start simulation", err)
	}
	if app.AccountSID != "" && app.AccountSID != a.AccountSID {
		return fiber.NewError(fiber.StatusUnprocessableEntity, "unknown application_sid")
	}
	x, err := v.sims.Start(c.UserContext(), a, app, body.From, body.To)
	switch {
	case errors.Is(err, runtime.ErrTooManySimulations), errors.Is(err, runtime.ErrDraining):
		c.Set(fiber.HeaderRetryAfter, "5")
		return fiber.NewError(fiber.StatusServiceUnavailable, "too many simulated calls are running; try again shortly")
	case err != nil:
		// The application cannot run (no call hook, bad env_vars, a JS app
		// without a version): a deliberate message of cmd's.
		v.log.Debug("api: simulation refused", "application_sid", app.ApplicationSID, "err", err)
		return fiber.NewError(fiber.StatusUnprocessableEntity, err.Error())
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"sid": x.CallSID(), "call_sid": x.CallSID()})
}

func (v *v1) listSimulations(c *fiber.Ctx) error {
	a, err := v.account(c)
	if err != nil {
		return v.fail(c, "list simulations", err)
	}
	if err := v.simulationsAvailable(); err != nil {
		return err
	}
	out := []fiber.Map{}
	for _, x := range v.sims.List(a.AccountSID) {
		t := x.Transcript()
		out = append(out, fiber.Map{"call_sid": t.CallSID, "application_sid": t.ApplicationSID, "from": t.From, "to": t.To,
			"running": t.Running, "call_status": t.CallStatus, "failed": t.Failed, "started_at": t.StartedAt})
	}
	return c.JSON(out)
}

// simulation resolves /Accounts/:sid/Simulations/:callSid for the key.
func (v *v1) simulation(c *fiber.Ctx) (*runtime.Simulation, error) {
	a, err := v.account(c)
	if err != nil {
		return nil, err
	}
	if err := v.simulationsAvailable(); err != nil {
		return nil, err
	}
	x, ok := v.sims.Get(c.Params("callSid"))
	if !ok || x.AccountSID() != a.AccountSID {
		return nil, store.ErrNotFound
	}
	return x, nil
}

func (v *v1) getSimulation(c *fiber.Ctx) error {
	x, err := v.simulation(c)
	if err != nil {
		return v.fail(c, "get simulation", err)
	}
	if c.Query("download") != "" {
		c.Set(fiber.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="simulation-%s.json"`, x.CallSID()))
	}
	return c.JSON(x.Transcript())
}

// simulationInput answers the caller's actions on an ended call with 409.
func simulationInput(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, runtime.ErrSimulationEnded):
		return fiber.NewError(fiber.StatusConflict, "the simulated call has ended")
	}
	return fiber.NewError(fiber.StatusBadRequest, "the simulated call cannot take that input")
}

// validDigits reports whether keys are 1 to max DTMF keys (0-9 * # A-D).
func validDigits(keys string, max int) bool {
	if keys == "" || len(keys) > max {
		return false
	}
	for _, r := range keys {
		if !strings.ContainsRune("0123456789*#ABCDabcd", r) {
			return false
		}
	}
	return true
}

func (v *v1) simulationDTMF(c *fiber.Ctx) error {
	x, err := v.simulation(c)
	if err != nil {
		return v.fail(c, "simulation dtmf", err)
	}
	var body struct {
		Digits string `json:"digits"`
	}
	if json.Unmarshal(c.Body(), &body) != nil || !validDigits(body.Digits, 32) {
		return fiber.NewError(fiber.StatusBadRequest, "digits must be 1 to 32 of 0-9, *, #, A-D")
	}
	if err := simulationInput(x.Press(c.UserContext(), strings.ToUpper(body.Digits))); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusAccepted)
}

func (v *v1) simulationSpeech(c *fiber.Ctx) error {
	x, err := v.simulation(c)
	if err != nil {
		return v.fail(c, "simulation speech", err)
	}
	var body struct {
		Text string `json:"text"`
	}
	if json.Unmarshal(c.Body(), &body) != nil || strings.TrimSpace(body.Text) == "" || len(body.Text) > 1000 {
		return fiber.NewError(fiber.StatusBadRequest, "text must be 1 to 1000 characters")
	}
	if err := simulationInput(x.Speak(body.Text)); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusAccepted)
}

func (v *v1) simulationHangup(c *fiber.Ctx) error {
	x, err := v.simulation(c)
	if err != nil {
		return v.fail(c, "simulation hangup", err)
	}
	x.HangUp()
	return c.SendStatus(fiber.StatusAccepted)
}

func (v *v1) simulationAudio(c *fiber.Ctx) error {
	x, err := v.simulation(c)
	if err != nil {
		return v.fail(c, "simulation audio", err)
	}
	n, err := c.ParamsInt("clip")
	if err != nil {
		return v.fail(c, "simulation audio", store.ErrNotFound)
	}
	wav, ok := x.ClipWAV(n)
	if !ok {
		return v.fail(c, "simulation audio", store.ErrNotFound)
	}
	c.Set(fiber.HeaderContentType, "audio/wav")
	c.Set(fiber.HeaderCacheControl, "private, max-age=3600")
	return c.Send(wav)
}

// The events websocket: GET /v1/Accounts/{sid}/Simulations/{callSid}/Events.
// A browser cannot set Authorization on a websocket, and a key never
// travels in a URL, so the first message authenticates:
//
//	→ {"type":"auth","key":"<api key>"}
//	← {"type":"ready","call_sid":"..."}, then {"type":"event","event":{...}} for
//	  every event from the first, and {"type":"end"} after the call's end
//	→ {"type":"dtmf","digits":"1"}, {"type":"speech","text":"sales"},
//	  {"type":"hangup"}
//	← {"type":"error","msg":"..."} for input it refuses
//
// A key that fails closes the socket with 1008 (policy violation).
const simulationSocketPath = "/v1" + simulationsPath + "/:callSid/Events"

// simulationAuthTimeout is how long the socket waits for the key.
const simulationAuthTimeout = 10 * time.Second

type socketMsg struct {
	Type    string         `json:"type"`
	Key     string         `json:"key,omitempty"`
	Digits  string         `json:"digits,omitempty"`
	Text    string         `json:"text,omitempty"`
	CallSID string         `json:"call_sid,omitempty"`
	Msg     string         `json:"msg,omitempty"`
	Event   *runtime.Event `json:"event,omitempty"`
	Failed  bool           `json:"failed,omitempty"`
	Status  string         `json:"call_status,omitempty"`
}

// simulationSocket registers the events websocket on app, outside the /v1
// group's header authentication.
func (v *v1) simulationSocket(app *fiber.App) {
	v.doc.add(opDoc{method: "GET", path: simulationsPath + "/:callSid/Events", tag: "Simulations",
		summary: `websocket of a simulated call's events; the first message authenticates: {"type":"auth","key":...} (docs/console.md)`,
		status:  fiber.StatusSwitchingProtocols})
	app.Get(simulationSocketPath, v.limitByAddress, func(c *fiber.Ctx) error {
		if !websocket.IsWebSocketUpgrade(c) {
			// A plain GET is answered like the rest of /v1: a key first.
			tok, ok := bearer(c.Get(fiber.HeaderAuthorization))
			if !ok {
				return fiber.NewError(fiber.StatusUnauthorized, msgUnauthorized)
			}
			if _, err := v.prov.AuthenticateAPIKey(c.UserContext(), tok); err != nil {
				return fiber.NewError(fiber.StatusUnauthorized, msgUnauthorized)
			}
			return fiber.NewError(fiber.StatusUpgradeRequired, "this is a websocket: its first message carries the key")
		}
		if v.sims == nil {
			return fiber.NewError(fiber.StatusServiceUnavailable, "simulated calls are not available")
		}
		return c.Next()
	}, websocket.New(v.serveSimulationSocket, websocket.Config{HandshakeTimeout: 5 * time.Second}))
}

// socketAuth reads the first message and resolves the key, the account and
// the simulation; it answers why not with a public message.
func (v *v1) socketAuth(conn *websocket.Conn) (*runtime.Simulation, string) {
	_ = conn.SetReadDeadline(time.Now().Add(simulationAuthTimeout))
	var m socketMsg
	if err := conn.ReadJSON(&m); err != nil || m.Type != "auth" || m.Key == "" {
		return nil, "the first message must be {\"type\":\"auth\",\"key\":...}"
	}
	_ = conn.SetReadDeadline(time.Time{})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	key, err := v.prov.AuthenticateAPIKey(ctx, m.Key)
	if err != nil {
		return nil, msgUnauthorized
	}
	if v.byKey != nil {
		if ok, _ := v.byKey.allow(key.APIKeySID); !ok {
			return nil, "too many requests"
		}
	}
	a, err := v.prov.Accounts(key.Scope()).Get(ctx, conn.Params("sid"))
	if err != nil {
		return nil, "not found"
	}
	x, ok := v.sims.Get(conn.Params("callSid"))
	if !ok || x.AccountSID() != a.AccountSID {
		return nil, "not found"
	}
	return x, ""
}

func (v *v1) serveSimulationSocket(conn *websocket.Conn) {
	x, refusal := v.socketAuth(conn)
	if x == nil {
		_ = conn.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.ClosePolicyViolation, refusal))
		return
	}
	backlog, live, cancel := x.Subscribe()
	defer cancel()

	// One writer: this goroutine. The reader goroutine hands it replies.
	replies := make(chan socketMsg, 8)
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		for {
			var m socketMsg
			if err := conn.ReadJSON(&m); err != nil {
				return
			}
			if r, ok := v.socketInput(x, m); ok {
				select {
				case replies <- r:
				default:
				}
			}
		}
	}()
	write := func(m socketMsg) bool {
		_ = conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
		return conn.WriteJSON(m) == nil
	}
	defer func() {
		_ = conn.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
		_ = conn.Close()
		<-readerDone
	}()
	if !write(socketMsg{Type: "ready", CallSID: x.CallSID()}) {
		return
	}
	for i := range backlog {
		if !write(socketMsg{Type: "event", Event: &backlog[i]}) {
			return
		}
	}
	for {
		select {
		case e, ok := <-live:
			if !ok {
				t := x.Transcript()
				if !t.Running {
					write(socketMsg{Type: "end", Failed: t.Failed, Status: t.CallStatus})
				} else {
					write(socketMsg{Type: "error", Msg: "too far behind: reload the transcript"})
				}
				return
			}
			if !write(socketMsg{Type: "event", Event: &e}) {
				return
			}
		case r := <-replies:
			if !write(r) {
				return
			}
		case <-readerDone:
			return
		}
	}
}

// socketInput applies one message of the caller's; it returns a reply when
// there is something to say.
func (v *v1) socketInput(x *runtime.Simulation, m socketMsg) (socketMsg, bool) {
	var err error
	switch m.Type {
	case "dtmf":
		if !validDigits(m.Digits, 32) {
			return socketMsg{Type: "error", Msg: "digits must be 1 to 32 of 0-9, *, #, A-D"}, true
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err = x.Press(ctx, strings.ToUpper(m.Digits))
		cancel()
	case "speech":
		if strings.TrimSpace(m.Text) == "" || len(m.Text) > 1000 {
			return socketMsg{Type: "error", Msg: "text must be 1 to 1000 characters"}, true
		}
		err = x.Speak(m.Text)
	case "hangup":
		x.HangUp()
	case "ping":
		return socketMsg{Type: "pong"}, true
	default:
		return socketMsg{Type: "error", Msg: "unknown message type"}, true
	}
	if err != nil {
		if errors.Is(err, runtime.ErrSimulationEnded) {
			return socketMsg{Type: "error", Msg: "the simulated call has ended"}, true
		}
		return socketMsg{Type: "error", Msg: "the simulated call cannot take that input"}, true
	}
	return socketMsg{}, false
}
