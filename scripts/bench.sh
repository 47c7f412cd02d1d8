#!/usr/bin/env bash
# bench.sh: the benchmarks behind docs/benchmarks.md, in one run. Each is
# bounded in count and time and stops by itself; all traffic stays on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
. ./.cache/test-env.sh

echo "== cold start: voxrun serve to /readyz 200, embedded defaults (median of 10)"
go run ./bench/coldstart -bin bin/voxrun -n 10

echo "== live state: memory vs Redis call-hash writes"
go test -run '^$' -bench . -benchtime 3s ./bench/livestate/

echo "== CDRs: 10,000 batched inserts, SQLite vs MySQL"
go test -run '^$' -bench BenchmarkCDRInsert10k -benchtime 10x ./bench/cdr/

echo "== per-hook overhead: through the runtime vs the webhook called directly"
go test -run '^$' -bench . -benchtime 3000x ./bench/hooks/

echo "== JS apps: hook round trip through the sandbox's worker boundary vs a keep-alive Node.js webhook"
go run ./bench/jsapps -bin bin/voxrun -n 20000

echo "== checkpoint per verb"
go test -run '^$' -bench Checkpoint -benchtime 20000x ./runtime/

echo "== full calls through SIP: 500 and 1,000 calls/s for 20 s"
go run ./bench/calls -bin bin/voxrun -rate 500 -seconds 20 -pause 1s
go run ./bench/calls -bin bin/voxrun -rate 1000 -seconds 20 -pause 1s
echo "== full calls with a JS app vs the same webhook app, 1,000 calls/s for 10 s"
go run ./bench/calls -bin bin/voxrun -rate 1000 -seconds 10 -pause 1s -app js
go run ./bench/calls -bin bin/voxrun -rate 1000 -seconds 10 -pause 1s -app webhook
go run ./bench/sipload -rates 1000,2000,4000 -seconds 5 -hold 1000 -hold-pause 10s -settle 5s -overload-seconds 10

echo "== media: concurrent RTP legs over loopback (voxrun vs a bare Go UDP peer doing the same packets)"
go run ./bench/media -modes play -legs 1000,2000,3000,4000 -seconds 10s
go run ./bench/media -modes relay,transcode -legs 2000 -seconds 10s

echo "== live calls over REST: GET and POST /Calls with Redis live state (vs GET /healthz in the same run)"
go run ./bench/restcalls -bin bin/voxrun -held 200 -seconds 5 -clients 8
