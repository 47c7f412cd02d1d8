// Package store holds voxrun's records and the interfaces to its two kinds of
// storage: provisioning (what tenants configure, kept in SQL) and live state
// (what is happening now: calls, registrations, queues, conferences, caches,
// kept in a key/value store with expiry).
//
// It is a leaf of the package graph: it knows no database driver. The
// implementations live beside it: store/sql (SQLite and MySQL), store/memory
// and store/redis (live state); store/storetest holds the conformance suites
// that every implementation passes.
//
// Tenant scoping is part of the provisioning interface: every repository is
// obtained for a [Scope] (admin, service provider or account), and the
// implementation applies it to every query, so that no caller filters by hand.
package store
