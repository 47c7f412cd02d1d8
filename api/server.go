package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/voxrun/voxrun/runtime"
	"github.com/voxrun/voxrun/store"
)

// Check is one dependency that must answer for the node to be ready (a store).
type Check struct {
	Name string
	Ping func(ctx context.Context) error
}

// Config is what the HTTP server needs from cmd.
type Config struct {
	Logger *slog.Logger
	// Gatherer serves /metrics.
	Gatherer prometheus.Gatherer
	// Ready lists what /readyz pings.
	Ready []Check
	// ReadyTimeout bounds each readiness ping.
	ReadyTimeout time.Duration

	// Provisioning serves the REST API under /v1. When it is nil, /v1 is not
	// mounted at all (only the operational endpoints answer).
	Provisioning store.Provisioning
	// Live serves the live-state reads under /v1 (RegisteredSipUsers, Queues,
	// Conferences, CallCount). When it is nil those routes answer 503.
	Live store.Live
	// Calls takes live-control commands for the calls running on this node
	// (PUT /Accounts/{sid}/Calls/{callSid}); nil answers those with 503.
	Calls CallControl
	// Creator places the calls of POST /Accounts/{sid}/Calls; nil answers
	// it with 503.
	Creator CallCreator
	// Simulations runs the console's simulated calls (api/simulate.go);
	// nil answers those routes with 503.
	Simulations Simulations
	// CompileJS checks that an uploaded JS app version compiles (cmd wires
	// sandbox's compiler). It returns a *CompileError for a syntax error,
	// answered 422 with its line and column; any other error answers 503.
	// Nil stores versions unchecked.
	CompileJS func(source string) error
	// RateLimit bounds /v1 requests per source address and per API key.
	// The zero value means the defaults of [RateLimit].
	RateLimit RateLimit
	// MaxJSONDepth is the deepest nesting of arrays and objects a /v1 request
	// body may have; deeper bodies are refused with 400. Zero means 32.
	MaxJSONDepth int
	// Now is the clock of the rate limiter and of RecentCalls' "days"; nil
	// means time.Now. Tests set it.
	Now func() time.Time
	// ReadTimeout bounds reading one whole request, headers and body, from
	// its first byte: a client that trickles a request (slowloris) is cut
	// off when it runs out. Zero means 10 s.
	ReadTimeout time.Duration
	// WriteTimeout bounds writing one response. Zero means 30 s.
	WriteTimeout time.Duration
	// IdleTimeout closes a keep-alive connection that sends no request for
	// that long. Zero means 60 s.
	IdleTimeout time.Duration
}

// CallControl delivers live-control commands to running calls
// (*runtime.Manager implements it).
type CallControl interface {
	// Control reports false when the call is not running on this node.
	Control(callSID string, c runtime.Command) bool
}

// Server is the HTTP server. Build it with New, serve with Serve, stop with Shutdown.
type Server struct {
	cfg      Config
	app      *fiber.App
	draining atomic.Bool

	mu     sync.Mutex
	closed bool
}

// New builds the server and its routes.
func New(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Gatherer == nil {
		cfg.Gatherer = prometheus.NewRegistry()
	}
	if cfg.ReadyTimeout <= 0 {
		cfg.ReadyTimeout = 2 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxJSONDepth <= 0 {
		cfg.MaxJSONDepth = 32
	}
	if cfg.ReadTimeout <= 0 {
		cfg.ReadTimeout = 10 * time.Second
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = 30 * time.Second
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 60 * time.Second
	}
	s := &Server{cfg: cfg}
	s.app = fiber.New(fiber.Config{
		DisableStartupMessage: true,
		AppName:               "voxrun",
		BodyLimit:             1 << 20,
		ReadTimeout:           cfg.ReadTimeout,
		WriteTimeout:          cfg.WriteTimeout,
		IdleTimeout:           cfg.IdleTimeout,
		ErrorHandler:          errorHandler,
	})
	s.app.Get("/healthz", s.healthz)
	s.app.Get("/readyz", s.readyz)
	s.app.Get("/metrics", adaptor.HTTPHandler(promhttp.HandlerFor(cfg.Gatherer, promhttp.HandlerOpts{})))
	mountConsole(s.app)
	if cfg.Provisioning != nil {
		mountV1(s.app, cfg)
	}
	return s
}

// errorHandler answers every error as jambonz does: a status and {"msg": ...}.
func errorHandler(c *fiber.Ctx, err error) error {
	code := fiber.StatusInternalServerError
	msg := "internal error"
	var fe *fiber.Error
	if errors.As(err, &fe) {
		code, msg = fe.Code, fe.Message
	}
	return c.Status(code).JSON(fiber.Map{"msg": msg})
}

func (s *Server) healthz(c *fiber.Ctx) error {
	return c.JSON(fiber.Map{"status": "ok"})
}

// readyz answers 200 when every store answers and the node is not draining,
// else 503 naming what failed.
func (s *Server) readyz(c *fiber.Ctx) error {
	if s.draining.Load() {
		return c.Status(fiber.StatusServiceUnavailable).JSON(fiber.Map{"status": "draining"})
	}
	failed := fiber.Map{}
	for _, chk := range s.cfg.Ready {
		ctx, cancel := context.WithTimeout(c.UserContext(), s.cfg.ReadyTimeout)
		err := chk.Ping(ctx)
		cancel()
		if err != nil {
			s.cfg.Logger.Warn("readiness check failed", "check", chk.Name, "err", err)
			failed[chk.Name] = "unreachable"
		}
	}
	if len(failed) > 0 {
		return c.Status(fiber.StatusServiceUnavailable).JSON(fiber.Map{"status": "unavailable", "failed": failed})
	}
	return c.JSON(fiber.Map{"status": "ready"})
}

// SetDraining makes /readyz answer 503 so that load balancers stop sending work.
func (s *Server) SetDraining() { s.draining.Store(true) }

// Serve answers requests on ln until Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	if err := s.app.Listener(ln); err != nil {
		return fmt.Errorf("api: serve: %w", err)
	}
	return nil
}

// Shutdown stops accepting connections and waits for in-flight requests until
// ctx ends. It is idempotent.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	return s.app.ShutdownWithContext(ctx)
}

// App exposes the fiber app to tests in this package and to route registration.
func (s *Server) App() *fiber.App { return s.app }
