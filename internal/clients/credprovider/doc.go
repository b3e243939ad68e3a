// Package credprovider is azsim's reference kubelet image credential
// provider (the exec plugin protocol, credentialprovider.kubelet.k8s.io/v1):
// for an ACR image it gets an Entra token for https://containerregistry.azure.net
// — from IMDS with the kubelet identity of its azure.json-style config, or,
// when the kubelet passes a service-account token (KEP-4412), through a
// federated client assertion — exchanges it at the registry's
// /oauth2/exchange (found through the /v2/ challenge) and answers
// 00000000-0000-0000-0000-000000000000 with the ACR refresh token, cached per
// registry. It follows clients.md 3 and is the
// implementation the conformance clients suite is calibrated on.
package credprovider
