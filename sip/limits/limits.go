package limits

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/voxrun/voxrun/sip/route"
	"github.com/voxrun/voxrun/store"
)

// Alert types written when a limit refuses a call (jambonz's names).
const (
	AlertAccountCallLimit = "account-call-limit"
)

var (
	// ErrConfig wraps configuration errors of New.
	ErrConfig = errors.New("sip/limits: invalid configuration")
	// ErrCallLimit means the account has as many calls in progress as its
	// voice_call_session limit allows.
	ErrCallLimit = errors.New("sip/limits: account call limit reached")
	// ErrCallRate means the account started as many calls in the last
	// minute as its calls_per_minute limit allows.
	ErrCallRate = errors.New("sip/limits: account calls per minute reached")
)

// DefaultTTL is how long an account's limits are cached.
const DefaultTTL = 10 * time.Second

// Config configures a Limiter.
type Config struct {
	// Provisioning is where the account limits are read. Required.
	Provisioning store.Provisioning
	// Alerts receives the account-call-limit alerts; nil writes none.
	Alerts store.Alerts
	// TTL is how long an account's limits are kept before they are read
	// again. Default 10 s.
	TTL time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives refusals; nil means slog.Default().
	Logger *slog.Logger
}

// Limiter counts calls per account. It is safe for concurrent use.
type Limiter struct {
	cfg Config
	log *slog.Logger

	mu       sync.Mutex
	accounts map[string]*account
}

// account is what the limiter knows of one account.
type account struct {
	active   int
	sessions int // voice_call_session, 0 unlimited
	perMin   int // calls_per_minute, 0 unlimited
	loaded   time.Time
	// tokens is the calls-per-minute bucket: perMin tokens, refilled at
	// perMin a minute.
	tokens    float64
	refilled  time.Time
	lastAlert map[error]time.Time
}

// New builds a limiter.
func New(cfg Config) (*Limiter, error) {
	if cfg.Provisioning == nil {
		return nil, fmt.Errorf("%w: Provisioning is required", ErrConfig)
	}
	if cfg.TTL <= 0 {
		cfg.TTL = DefaultTTL
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Limiter{cfg: cfg, log: cfg.Logger.With("component", "sip/limits"), accounts: map[string]*account{}}, nil
}

var _ route.Limiter = (*Limiter)(nil)

// Admit takes a slot for a new call of acct, or refuses it with a
// *route.RejectError (503, Retry-After) wrapping ErrCallLimit or
// ErrCallRate. release gives the slot back; it is idempotent.
func (l *Limiter) Admit(ctx context.Context, acct store.Account) (release func(), err error) {
	now := l.cfg.Now()
	a, err := l.account(ctx, acct.AccountSID, now)
	if err != nil {
		// The database is down: the call goes on (limits are not a
		// reason to fail every call).
		l.log.Warn("account limits unreadable, call admitted", "account_sid", acct.AccountSID, "err", err)
		return func() {}, nil
	}
	l.mu.Lock()
	var refused error
	var retry int
	switch {
	case a.sessions > 0 && a.active >= a.sessions:
		refused, retry = ErrCallLimit, 5
	case a.perMin > 0:
		a.tokens = min(float64(a.perMin), a.tokens+now.Sub(a.refilled).Minutes()*float64(a.perMin))
		a.refilled = now
		if a.tokens < 1 {
			refused = ErrCallRate
			retry = max(1, int((1-a.tokens)*60/float64(a.perMin)+0.999))
		} else {
			a.tokens--
		}
	}
	if refused == nil {
		a.active++
		l.mu.Unlock()
		var once sync.Once
		return func() {
			once.Do(func() {
				l.mu.Lock()
				a.active--
				l.mu.Unlock()
			})
		}, nil
	}
	alert := now.Sub(a.lastAlert[refused]) >= time.Minute
	if alert {
		a.lastAlert[refused] = now
	}
	active, sessions, perMin := a.active, a.sessions, a.perMin
	l.mu.Unlock()
	l.log.Info("call refused by account limits", "account_sid", acct.AccountSID, "reason", refused,
		"active", active, "voice_call_session", sessions, "calls_per_minute", perMin)
	if alert && l.cfg.Alerts != nil {
		msg := fmt.Sprintf("account call limit of %d calls in progress reached", sessions)
		if refused == ErrCallRate {
			msg = fmt.Sprintf("account limit of %d calls per minute reached", perMin)
		}
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		if err := l.cfg.Alerts.WriteAlerts(actx, []store.Alert{{AccountSID: acct.AccountSID, AlertType: AlertAccountCallLimit,
			Message: msg, CreatedAt: now}}); err != nil {
			l.log.Warn("alert not written", "account_sid", acct.AccountSID, "err", err)
		}
		cancel()
	}
	return nil, &route.RejectError{Status: 503, Reason: "Maximum Calls In Progress", Err: refused,
		Headers: map[string]string{"Retry-After": strconv.Itoa(retry), "X-Reason": "account call limit"}}
}

// Active is the number of calls the limiter counts for an account.
func (l *Limiter) Active(accountSID string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	if a, ok := l.accounts[accountSID]; ok {
		return a.active
	}
	return 0
}

// account returns the account's state with fresh limits. The database is
// read outside the lock.
func (l *Limiter) account(ctx context.Context, sid string, now time.Time) (*account, error) {
	l.mu.Lock()
	a, ok := l.accounts[sid]
	fresh := ok && now.Sub(a.loaded) < l.cfg.TTL
	l.mu.Unlock()
	if fresh {
		return a, nil
	}
	rows, err := l.cfg.Provisioning.AccountLimits(store.Admin()).List(ctx, store.Filter{"account_sid": sid})
	if err != nil {
		return nil, fmt.Errorf("sip/limits: account limits: %w", err)
	}
	sessions, perMin := 0, 0
	for _, r := range rows {
		switch r.Category {
		case store.LimitVoiceCallSession:
			sessions = r.Quantity
		case store.LimitCallsPerMinute:
			perMin = r.Quantity
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	a, ok = l.accounts[sid]
	if !ok {
		a = &account{tokens: float64(perMin), refilled: now, lastAlert: map[error]time.Time{}}
		l.accounts[sid] = a
	}
	if a.perMin != perMin {
		a.tokens, a.refilled = float64(perMin), now
	}
	a.sessions, a.perMin, a.loaded = sessions, perMin, now
	// Idle accounts are forgotten.
	if len(l.accounts) > 4096 {
		for k, v := range l.accounts {
			if v.active == 0 && now.Sub(v.loaded) > l.cfg.TTL {
				delete(l.accounts, k)
			}
		}
	}
	return a, nil
}
