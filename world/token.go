package world

import "time"

// Token lifetimes and the backdating Entra applies (protocols.md 1.6).
const (
	// ManagedIdentityLifetime is the lifetime of managed-identity tokens (24 h).
	ManagedIdentityLifetime = 24 * time.Hour
	// Backdate is how far Entra backdates iat/nbf.
	Backdate = 5 * time.Minute
)
