// Package scenarios is the pitfall catalogue: each scenario is a world (the
// default one, extended or changed), a list of steps (pulls as a node or as
// a pod, Entra exchanges, IMDS calls, clock moves, role assignments, faults,
// key rotations) and, per step, the expected outcome — success, or the exact
// failure (hop, status, error text) and the hint the decision trace must
// give. Scenarios are data (catalogue/*.yaml, embedded); Run executes one
// on a Target (the in-process simulator of package scenarios/embedded, or a
// wired kind cluster) and reports per step; every scenario is also a Go
// test (scenarios/embedded).
package scenarios
