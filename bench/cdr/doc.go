// Package cdr benchmarks writing call detail records to the provisioning
// database: 10,000 CDRs per operation through store/sql's batched, idempotent
// WriteCDRs (one transaction, multi-row INSERTs of 500 rows), on SQLite and on
// MySQL/MariaDB side by side in one run, so that the figure that matters is
// the ratio between the two on the same machine.
//
// Run it with the test MariaDB (scripts/test-deps.sh starts it):
//
//	VOXRUN_TEST_MYSQL='voxrun_test:voxrun_test@tcp(127.0.0.1:3306)/' \
//	  go test -run '^$' -bench BenchmarkCDRInsert10k -benchtime 10x ./bench/cdr/
//
// It reports ms/10k and cdrs/s for each database, and x_sqlite on the mysql
// line: MySQL's time divided by SQLite's. It is
// not a load test of the REST API or of call handling, and it holds no code
// that production uses.
package cdr
