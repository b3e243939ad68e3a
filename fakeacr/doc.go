// Package fakeacr is the Azure Container Registry of the simulator: for every
// registry of the world, served by request Host, the ACR token endpoints
// (POST /oauth2/exchange, GET|POST /oauth2/token), the /v2/ bearer challenge,
// a real OCI registry per registry (package ocistore: go-containerregistry
// pkg/registry, in memory or on disk with WithStorageDir) behind an
// authorization middleware that enforces the scopes Azure role assignments
// grant, and the two ACR metadata endpoints the Azure SDK uses
// (/acr/v1/_catalog, /acr/v1/<name>/_tags).
//
// The wire behaviour follows protocols.md 3 (and section 4
// for RBAC, evaluated by world.Index); each handler cites its section.
// Entra access tokens are checked by a TokenVerifier (signature, issuer and
// expiry; the fake Entra ID implements it); fakeacr checks the audience, the
// tenant and that the principal exists. Every time comes from the store's
// simulated clock, and the world is read per request, so role assignment
// changes apply to the next token request.
//
// Decisions where protocols.md is silent or marks a fact [L]:
//
//   - ACR access tokens are computed from the role assignments at the moment
//     /oauth2/token is called; denied actions are dropped, so a principal
//     without rights gets 200 and an access entry with no actions (section
//     3.3), and the data plane then answers 401 insufficient_scope.
//     Requesting the action "*" on a repository grants every action held.
//   - On anonymous-pull registries "pull" is added to every grant.
//   - Basic credentials are accepted directly on data-plane requests, as ACR
//     does for docker login (section 3.5): the admin user, an application's
//     client ID + secret, and 00000000-0000-0000-0000-000000000000 with an
//     ACR refresh token (access computed then) or ACR access token (limited
//     to the access it carries, as containerd sends msi-acrpull secrets).
//     Wrong Basic credentials get `Basic realm="Azure Container Registry"`.
//   - The GET /oauth2/token response carries only access_token unless
//     WithRefreshTokenInTokenResponse is set (clients.md 5.3: unverified
//     whether ACR returns refresh_token to docker's GET).
//   - POST /oauth2/exchange with grant_type=refresh_token: the fake Entra ID
//     issues no refresh tokens, so the refresh_token field is checked as an
//     Entra access token by the TokenVerifier.
//   - Error bodies of the token endpoints other than the confirmed ones use
//     ACR's envelope {"errors":[{"code","message"}]} with codes UNAUTHORIZED
//     (401) and BAD_REQUEST (400) and messages of our own wording [L].
//   - Blobs are linked to the repositories they were pushed to: a blob of
//     another repository is unknown here, as in a real registry.
package fakeacr
