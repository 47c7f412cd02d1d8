// Package schematest runs documents and hook payloads through the reference
// implementation, the npm package @jambonz/schema (pinned in
// schemas/testdata/oracle), for tests anywhere in voxrun: the schemas
// package checks its own validator against it, and the runtime can check
// every hook payload it sends against jambonz's callback schemas.
//
// It needs node; the first use installs the oracle's node_modules with
// npm ci. Without node a test is skipped, unless the environment variable CI
// is "true", where it fails instead.
//
// It is test support only: it imports nothing from voxrun and no production
// code may import it.
package schematest
