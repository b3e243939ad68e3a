// Package fakeimds is the Azure Instance Metadata Service (IMDS) of one
// simulated node pool (VMSS): the managed-identity token endpoint
// (GET /metadata/identity/oauth2/token) with the real selection rules for
// system- and user-assigned identities, the instance metadata document
// (GET /metadata/instance[/<path>]) and the version list
// (GET /metadata/versions).
//
// The wire behaviour follows protocols.md 2: exact error
// bodies and statuses, all-string success bodies with keys in alphabetical
// order, `Metadata: true` enforcement and the DefaultAzureCredential probe.
// Facts the reference marks [L] (unconfirmed) are configurable through
// WithMessages and WithAPIVersions.
//
// The handler reads the world per request (world.Store.Snapshot), so world
// changes apply at once, and takes every time from the store's simulated
// clock. Entra access tokens come from a TokenIssuer, which the fake Entra ID
// implements; fakeimds never imports another fake.
package fakeimds
