package livestate

import (
	"context"
	"fmt"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/voxrun/voxrun/store"
	"github.com/voxrun/voxrun/store/memory"
	redisstore "github.com/voxrun/voxrun/store/redis"
	"github.com/voxrun/voxrun/store/storetest"
)

// benchDB is this package's logical database on the shared test server
// (store/redis's tests use 9).
const benchDB = "10"

// calls is how many distinct calls the writes cycle through: the first pass
// creates hashes, the rest merge into them, as status updates do.
const calls = 10_000

const accountSID = "9351f46a-678c-43f5-b8a6-d4eb58d131af"

// callFields is a call's hash as the runtime writes it: the hook payload's
// call info, 15 fields.
func callFields(callSID string) map[string]string {
	return map[string]string{
		"call_sid":                   callSID,
		"account_sid":                accountSID,
		"application_sid":            "0dddaabf-0a30-43e3-84e8-426873b1a78b",
		"parent_call_sid":            "",
		"direction":                  "inbound",
		"from":                       "+15085550100",
		"to":                         "+15085550199",
		"caller_name":                "Alice",
		"call_id":                    callSID + "@10.0.0.1",
		"sip_status":                 "200",
		"sip_reason":                 "OK",
		"call_status":                "in-progress",
		"originating_sip_ip":         "203.0.113.7",
		"originating_sip_trunk_name": "carrier-a",
		"service_url":                "http://10.0.0.2:3000",
	}
}

type backend struct {
	name string
	open func(b *testing.B) store.Live
}

func backends() []backend {
	return []backend{
		{"memory", func(b *testing.B) store.Live {
			s := memory.New()
			b.Cleanup(func() { _ = s.Close() })
			return s
		}},
		{"redis", func(b *testing.B) store.Live {
			raw := storetest.Server(b, storetest.RedisEnv)
			u, err := url.Parse(raw)
			require.NoError(b, err)
			u.Path = "/" + benchDB
			ctx := context.Background()
			s, err := redisstore.Open(ctx, u.String())
			require.NoError(b, err)
			require.NoError(b, s.Client().FlushDB(ctx).Err())
			b.Cleanup(func() {
				_ = s.Client().FlushDB(ctx).Err()
				_ = s.Close()
			})
			return s
		}},
	}
}

func callSIDs() ([]string, []map[string]string) {
	sids := make([]string, calls)
	fields := make([]map[string]string, calls)
	for i := range sids {
		sids[i] = fmt.Sprintf("c0a8%04x-6f1b-4a4e-9d7e-%012x", i%0x10000, i)
		fields[i] = callFields(sids[i])
	}
	return sids, fields
}

func reportOps(b *testing.B) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}

// BenchmarkCallHashWrite is one writer: each op is one PutCall, a round trip
// for Redis.
func BenchmarkCallHashWrite(b *testing.B) {
	sids, fields := callSIDs()
	for _, be := range backends() {
		b.Run(be.name, func(b *testing.B) {
			s := be.open(b)
			ctx := context.Background()
			i := 0
			for b.Loop() {
				if err := s.PutCall(ctx, accountSID, sids[i%calls], fields[i%calls]); err != nil {
					b.Fatal(err)
				}
				i++
			}
			reportOps(b)
		})
	}
}

// parallelism multiplies GOMAXPROCS into the number of writers, so that many
// calls write at once, as on a busy node: Redis then serves MULTI blocks from
// many connections concurrently.
const parallelism = 16

// BenchmarkCallHashWriteParallel is many writers at once.
func BenchmarkCallHashWriteParallel(b *testing.B) {
	sids, fields := callSIDs()
	for _, be := range backends() {
		b.Run(be.name, func(b *testing.B) {
			s := be.open(b)
			ctx := context.Background()
			b.SetParallelism(parallelism)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					if err := s.PutCall(ctx, accountSID, sids[i%calls], fields[i%calls]); err != nil {
						b.Error(err)
						return
					}
					i += 7
				}
			})
			reportOps(b)
		})
	}
}
