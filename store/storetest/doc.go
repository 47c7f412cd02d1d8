// Package storetest holds the conformance suites that every store
// implementation passes (memory and Redis for live state, SQLite and MySQL for
// provisioning) and the helpers that find the real servers used in tests.
//
// It is test support only: no production code imports it.
package storetest
