package sqlstore_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that no test leaves a goroutine behind: every DB the tests
// open is closed, with its pools.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
