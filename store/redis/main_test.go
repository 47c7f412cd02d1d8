package redisstore

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that closing a store (and its subscriptions) leaves no
// goroutine behind, go-redis's included.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
