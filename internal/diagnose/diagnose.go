// Package diagnose turns a denied decision into a hint: which known pitfall
// explains it and how to fix it, worked out from the decision's facts and
// the world. The trace log calls it for every decision that is not allowed,
// so scenarios, `azsim trace` and GET /api/trace show the same diagnosis.
package diagnose

import (
	"fmt"
	"strings"

	"github.com/azsim/azsim/api"
	"github.com/azsim/azsim/internal/middleware/trace"
	"github.com/azsim/azsim/world"
)

// Hinter returns a trace.Hinter that reads the current world from store.
func Hinter(store *world.Store) trace.Hinter {
	return func(d api.Decision) *api.Hint {
		ix := store.Snapshot()
		text := ""
		switch d.Service {
		case api.ServiceEntra:
			text = entra(ix, d)
		case api.ServiceIMDS:
			text = imds(ix, d)
		case api.ServiceACR, api.ServiceRegistry:
			text = acr(ix, d, store.Clock())
		}
		if text == "" {
			return nil
		}
		return &api.Hint{Text: text}
	}
}

func entra(ix *world.Index, d api.Decision) string {
	iss, sub, aud := d.Facts["issuer"], d.Facts["subject"], d.Facts["audience"]
	p, _ := ix.PrincipalByObjectID(d.PrincipalID)
	who := d.Principal
	switch d.Error {
	case "AADSTS700211":
		for _, f := range ficsOf(p) {
			if strings.TrimSuffix(f.Issuer, "/") == strings.TrimSuffix(iss, "/") {
				return fmt.Sprintf("issuer trailing-slash mismatch: the federated credential %q of %s has issuer %q but the token's issuer is %q; AKS issuer URLs end with '/': set the credential's issuer to exactly %q", f.Name, who, f.Issuer, iss, iss)
			}
		}
		return fmt.Sprintf("no federated credential of %s trusts issuer %q (it trusts %s); add one for this cluster's issuer (az aks show --query oidcIssuerProfile.issuerUrl)", who, iss, list(ficsOf(p), func(f world.FederatedCredential) string { return f.Issuer }))
	case "AADSTS700213":
		return fmt.Sprintf("subject mismatch: the token is for %q but the federated credentials of %s accept %s; check the pod's namespace and service account, or add a credential for %q", sub, who, list(matchingIssuer(p, iss), func(f world.FederatedCredential) string { return f.Subject }), sub)
	case "AADSTS7002138":
		return fmt.Sprintf("subject case mismatch: Entra compares subjects case-sensitively; the token's %q differs from the credential only in case: make the credential's subject exactly %q", sub, sub)
	case "AADSTS700212":
		return fmt.Sprintf("audience mismatch: the token's audience is %q but the federated credentials of %s expect %s; project the service-account token with that audience (the workload-identity webhook uses api://AzureADTokenExchange) or change the credential's audience", aud, who, list(matchingIssuer(p, iss), func(f world.FederatedCredential) string { return f.Audiences[0] }))
	case "AADSTS700024":
		return fmt.Sprintf("the service-account token expired (exp %s) or is not valid yet; projected tokens are refreshed by the kubelet: re-read AZURE_FEDERATED_TOKEN_FILE instead of caching the token", d.Facts["assertionExpiry"])
	case "AADSTS7000272":
		return fmt.Sprintf("the token was signed with key %q, which issuer %s no longer publishes (its signing keys were rotated); request a fresh service-account token", d.Facts["kid"], iss)
	case "AADSTS90061":
		return fmt.Sprintf("Entra could not fetch the discovery document or JWKS of issuer %q; the issuer must be reachable over HTTPS and serve .well-known/openid-configuration", iss)
	case "AADSTS70021":
		return "no federated credential matches yet: a new or changed credential takes a while to propagate; retry after a few minutes"
	case "AADSTS700016":
		return fmt.Sprintf("client ID %s is not an identity or application of tenant %s: check AZURE_CLIENT_ID (the identity's client ID, not its object ID) and AZURE_TENANT_ID", d.Facts["clientId"], d.Facts["tenant"])
	case "AADSTS500011":
		return fmt.Sprintf("resource %q is unknown; ACR tokens are for https://containerregistry.azure.net/.default", d.Resource)
	case "AADSTS1002012":
		return "client-credential scopes must be '<resource>/.default', e.g. https://containerregistry.azure.net/.default"
	}
	return ""
}

func ficsOf(p *world.Principal) []world.FederatedCredential {
	if p == nil {
		return nil
	}
	return p.FederatedCredentials
}

func matchingIssuer(p *world.Principal, iss string) []world.FederatedCredential {
	var out []world.FederatedCredential
	for _, f := range ficsOf(p) {
		if f.Issuer == iss {
			out = append(out, f)
		}
	}
	return out
}

func list[T any](xs []T, f func(T) string) string {
	if len(xs) == 0 {
		return "none"
	}
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = fmt.Sprintf("%q", f(x))
	}
	return strings.Join(parts, ", ")
}
