package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/voxrun/voxrun/sip"
)

// startSIP serves SIP over UDP and TCP on sip_addr.
func startSIP(ctx context.Context, cfg Config, log *slog.Logger) (*sip.Server, error) {
	srv, err := sip.New(sip.Config{Addr: cfg.SIPAddr, Logger: log, UserAgent: "voxrun/" + version})
	if err != nil {
		return nil, fmt.Errorf("sip: %w", err)
	}
	if err := srv.Start(ctx); err != nil {
		return nil, fmt.Errorf("sip listen %s: %w", cfg.SIPAddr, err)
	}
	return srv, nil
}
