package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/voxrun/voxrun/store"
	memorystore "github.com/voxrun/voxrun/store/memory"
	redisstore "github.com/voxrun/voxrun/store/redis"
	sqlstore "github.com/voxrun/voxrun/store/sql"
)

// stores are the node's provisioning database and live state.
type stores struct {
	prov     *sqlstore.DB
	live     store.Live
	key      []byte // the encryption key (secrets at rest; SIP nonces derive from it)
	provKind string // "sqlite" or "mysql"
	liveKind string // "memory" or "redis"
}

// openProvisioning opens MySQL when a DSN is configured, else SQLite in the data
// directory, with secrets sealed under the configured or generated key.
func openProvisioning(ctx context.Context, cfg Config, log *slog.Logger) (*sqlstore.DB, string, error) {
	db, kind, _, err := openProvisioningKey(ctx, cfg, log)
	return db, kind, err
}

// openProvisioningKey is openProvisioning that also returns the encryption key.
func openProvisioningKey(ctx context.Context, cfg Config, log *slog.Logger) (*sqlstore.DB, string, []byte, error) {
	key, err := store.LoadOrCreateKey(cfg.EncryptionKey, keyFile(cfg))
	if err != nil {
		return nil, "", nil, err
	}
	sealer, err := store.NewSealer(key)
	if err != nil {
		return nil, "", nil, err
	}
	sc := sqlstore.Config{Driver: sqlstore.DriverSQLite, DSN: filepath.Join(cfg.DataDir, "voxrun.db"), Sealer: sealer}
	if cfg.MySQLDSN != "" {
		sc.Driver, sc.DSN = sqlstore.DriverMySQL, cfg.MySQLDSN
	}
	db, err := sqlstore.Open(ctx, sc)
	if err != nil {
		return nil, "", nil, fmt.Errorf("provisioning database (%s): %w", sc.Driver, err)
	}
	log.Debug("provisioning database open", "driver", sc.Driver)
	return db, sc.Driver, key, nil
}

// openLive opens Redis when a URL is configured, else in-memory live state.
func openLive(ctx context.Context, cfg Config) (store.Live, string, error) {
	if cfg.RedisURL == "" {
		return memorystore.New(), "memory", nil
	}
	l, err := redisstore.Open(ctx, cfg.RedisURL)
	if err != nil {
		return nil, "", fmt.Errorf("live state (redis): %w", err)
	}
	return l, "redis", nil
}

func openStores(ctx context.Context, cfg Config, log *slog.Logger) (*stores, error) {
	db, provKind, key, err := openProvisioningKey(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	live, liveKind, err := openLive(ctx, cfg)
	if err != nil {
		db.Close()
		return nil, err
	}
	return &stores{prov: db, live: live, key: key, provKind: provKind, liveKind: liveKind}, nil
}

func (s *stores) migrate(ctx context.Context) error {
	if _, err := s.prov.Migrate(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// close closes live state, then the database.
func (s *stores) close(log *slog.Logger) {
	if err := s.live.Close(); err != nil {
		log.Warn("closing live state", "err", err)
	}
	if err := s.prov.Close(); err != nil {
		log.Warn("closing the database", "err", err)
	}
}
