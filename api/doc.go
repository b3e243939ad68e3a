// Package api holds azsim's own contracts: what the simulator and its
// clients exchange, and what the fakes share with one another. It imports
// the standard library only, so that any program (a conformance run against
// another emulator, a dashboard, a test in another repository) can speak to
// a simulator without linking it.
//
//   - Endpoints: <state-dir>/endpoints.json and GET /api/endpoints.
//   - The admin API's requests and answers (clock, service-account tokens,
//     key rotation, errors), docs/DESIGN.md "Admin API".
//   - Decision: one traced request, its outcome, the facts that made it and
//     the hint derived from those facts, docs/DESIGN.md "Trace and diagnosis".
//   - FaultRule: a failure injected in front of a service.
//   - EntraClaims, IssuedToken and ProtocolError: what one fake hands another.
package api
