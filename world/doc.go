// Package world is azsim's domain model: the simulated Azure estate (tenants,
// subscriptions, resource groups, managed identities, app registrations,
// registries, role assignments and AKS clusters), its YAML form
// (apiVersion azsim.dev/v1alpha1, kind World), validation, the deterministic
// derivation of IDs from names, the simulated clock, and role evaluation.
//
// A World is plain data. Load or Parse validates it and Compile turns it into
// an immutable Index with the derived IDs and lookups every fake needs. A Store
// holds the current Index behind one lock together with the Clock; fakes read
// a snapshot per request and never mutate it.
//
// The package has no HTTP.
package world
