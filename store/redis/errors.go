package redisstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"

	"github.com/redis/go-redis/v9"

	"github.com/voxrun/voxrun/store"
)

// ErrClosed is returned by every operation on a store after Close.
var ErrClosed = errors.New("store/redis: closed")

// wrap prefixes err with the operation and maps what Redis says onto the
// store's sentinels: a missing key is store.ErrNotFound, an unreachable or
// closed server store.ErrUnavailable. Context errors stay visible to errors.Is.
func wrap(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, redis.Nil):
		return fmt.Errorf("store/redis: %s: %w", op, store.ErrNotFound)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("store/redis: %s: %w", op, err)
	case errors.Is(err, redis.ErrClosed):
		return fmt.Errorf("store/redis: %s: %w: %w", op, ErrClosed, err)
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) {
		return fmt.Errorf("store/redis: %s: %w: %w", op, store.ErrUnavailable, err)
	}
	return fmt.Errorf("store/redis: %s: %w", op, err)
}
