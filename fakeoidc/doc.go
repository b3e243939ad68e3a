// Package fakeoidc is the fake AKS OIDC issuer
// (https://<region>.oic.prod-aks.azure.com/<tenant>/<guid>/): for every
// cluster of the world it serves the discovery document and the JWKS, keeps
// the issuer's signing keys (two during a rotation), and mints
// Kubernetes-shaped service-account tokens as kube-apiserver would
// (reference/protocols.md 5.2 and 5.3).
package fakeoidc
