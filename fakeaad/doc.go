// Package fakeaad is a fake Microsoft Entra ID (login.microsoftonline.com).
//
// It serves the v2 and v1 token endpoints for the client-credentials grant
// with a client secret, a certificate client_assertion, or a federated
// client_assertion (workload identity federation); the v2 and v1 OpenID
// configuration documents; the signing keys; and instance discovery. Wire
// behaviour follows protocols.md 1; each handler cites the
// subsection it implements.
//
// Federated assertions are verified for real: the issuer's discovery document
// and JWKS are fetched over HTTPS (through the injected client), the RS256
// signature, kid, exp and nbf are checked on the simulated clock, and the
// assertion is matched against the federated identity credentials of the
// identity or application with the specific AADSTS codes Entra returns.
//
// The Entra type also mints managed-identity tokens for the fake IMDS and
// verifies its own access tokens for the fake ACR; both reach it through small
// interfaces those packages declare.
package fakeaad
