// Package client is the one client of a simulator's admin API
// (docs/DESIGN.md "Admin API"): world, clock, trace, faults, service-account
// tokens and key rotation. It speaks api's types and links no simulator, so
// the CLI, kindenv, the conformance harness and tests in other repositories
// share it.
package client
