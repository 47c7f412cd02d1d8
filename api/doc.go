// Package api is voxrun's HTTP face on gofiber/fiber v2: the REST API under
// /v1 (jambonz-compatible paths, bearer API keys with admin, service-provider
// and account scope), live call control, the tenant console, and the
// operational endpoints /healthz, /readyz and /metrics.
//
// It reaches calls through runtime and records through store's scoped
// interfaces; it never opens a database or a SIP socket itself.
package api
