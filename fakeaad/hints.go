package fakeaad

import (
	"fmt"
	"strings"
	"time"

	"github.com/azsim/azsim/api"
	"github.com/azsim/azsim/world"
)

// Hints explain a refusal from what the refusing check compared: the
// assertion's claims against the principal's federated credentials, the
// client ID and resource asked for (protocols.md 1.7, 1.8). Each is built
// where the error is, from the same snapshot and the same claims.

// compareFIC records how one federated credential compared with the
// assertion, field by field (protocols.md 1.8: exact, case-sensitive).
func compareFIC(f world.FederatedCredential, c *assertionClaims, now time.Time) api.Considered {
	k := api.Considered{Kind: api.ConsideredFederatedCredential, Name: f.Name}
	var why []string
	if f.Issuer != c.Iss {
		why = append(why, fmt.Sprintf("issuer %q ≠ token's %q", f.Issuer, c.Iss))
	}
	switch {
	case f.Subject == c.Sub:
	case strings.EqualFold(f.Subject, c.Sub):
		why = append(why, fmt.Sprintf("subject %q differs from token's %q in case only", f.Subject, c.Sub))
	default:
		why = append(why, fmt.Sprintf("subject %q ≠ token's %q", f.Subject, c.Sub))
	}
	audOK := false
	for _, a := range f.Audiences {
		audOK = audOK || c.Aud.Contains(a)
	}
	if !audOK {
		why = append(why, fmt.Sprintf("audiences %q do not include the token's %q", f.Audiences, []string(c.Aud)))
	}
	if f.EffectiveAfter != nil && now.Before(*f.EffectiveAfter) {
		why = append(why, "not propagated until "+f.EffectiveAfter.UTC().Format(time.RFC3339))
	}
	k.Applies, k.Why = len(why) == 0, strings.Join(why, "; ")
	return k
}

func issuerHint(p *world.Principal, iss string) *api.Hint {
	for _, f := range p.FederatedCredentials {
		if strings.TrimSuffix(f.Issuer, "/") == strings.TrimSuffix(iss, "/") {
			return &api.Hint{Pitfall: "issuer-trailing-slash", Principal: p.Name, Scope: f.Name,
				Fix: fmt.Sprintf("set the credential's issuer to %q", iss),
				Text: fmt.Sprintf("issuer trailing-slash mismatch: the federated credential %q of %s has issuer %q but the token's issuer is %q; AKS issuer URLs end with '/': set the credential's issuer to exactly %q",
					f.Name, p.Name, f.Issuer, iss, iss)}
		}
	}
	return &api.Hint{Pitfall: "fic-issuer-mismatch", Principal: p.Name,
		Fix: "az identity federated-credential create --issuer \"$(az aks show --query oidcIssuerProfile.issuerUrl -o tsv)\"",
		Text: fmt.Sprintf("no federated credential of %s trusts issuer %q (it trusts %s); add one for this cluster's issuer (az aks show --query oidcIssuerProfile.issuerUrl)",
			p.Name, iss, quoted(p.FederatedCredentials, func(f world.FederatedCredential) string { return f.Issuer }))}
}

func subjectHint(p *world.Principal, sub string, sameIssuer []world.FederatedCredential) *api.Hint {
	return &api.Hint{Pitfall: "fic-subject-mismatch", Principal: p.Name, Scope: sub,
		Fix: fmt.Sprintf("add a federated credential with subject %q", sub),
		Text: fmt.Sprintf("subject mismatch: the token is for %q but the federated credentials of %s accept %s; check the pod's namespace and service account, or add a credential for %q",
			sub, p.Name, quoted(sameIssuer, func(f world.FederatedCredential) string { return f.Subject }), sub)}
}

func subjectCaseHint(p *world.Principal, sub string) *api.Hint {
	return &api.Hint{Pitfall: "fic-subject-case", Principal: p.Name, Scope: sub,
		Fix:  fmt.Sprintf("make the credential's subject exactly %q", sub),
		Text: fmt.Sprintf("subject case mismatch: Entra compares subjects case-sensitively; the token's %q differs from the credential only in case: make the credential's subject exactly %q", sub, sub)}
}

func audienceHint(p *world.Principal, aud string, sameIssuer []world.FederatedCredential) *api.Hint {
	return &api.Hint{Pitfall: "fic-audience-mismatch", Principal: p.Name, Scope: aud,
		Fix: "project the service-account token with the credential's audience",
		Text: fmt.Sprintf("audience mismatch: the token's audience is %q but the federated credentials of %s expect %s; project the service-account token with that audience (the workload-identity webhook uses api://AzureADTokenExchange) or change the credential's audience",
			aud, p.Name, quoted(sameIssuer, func(f world.FederatedCredential) string { return f.Audiences[0] }))}
}

func notPropagatedHint(p *world.Principal, pending bool) *api.Hint {
	text := "no federated credential matches yet: a new or changed credential takes a while to propagate; retry after a few minutes"
	if !pending {
		text = "Entra answered with its older, generic federated-credential error (70021); compare the token's issuer, subject and audience with the credentials of " + p.Name
	}
	return &api.Hint{Pitfall: "fic-not-propagated", Principal: p.Name, Fix: "retry with back-off", Text: text}
}

// windowHint explains an assertion outside its validity window. When the
// assertion was issued at a simulated time the clock jumped over, it came
// from an issuer on another clock (a real kube-apiserver): the simulated
// clock is ahead, and re-reading the token file would not help.
func (e *Entra) windowHint(c *assertionClaims) *api.Hint {
	exp := ""
	if c.Exp != nil {
		exp = c.Exp.UTC().Format(time.RFC3339)
	}
	// A token issued within clockTolerance after the jump started counts
	// as issued before it: an issuer on the same host differs from the
	// simulated clock by less (whole-second iat, a reset to a whole second).
	if c.Iat != nil && e.store.Clock().Skipped(c.Iat.Add(-clockTolerance)) {
		now := e.now().UTC().Format(time.RFC3339)
		return &api.Hint{Pitfall: "simulated-clock-ahead", Fix: "set the simulated clock back (POST /api/clock {\"set\": ...})",
			Text: fmt.Sprintf("the simulated clock (%s) is ahead of the clock of the issuer that minted this token at %s (exp %s): the token is fresh for its issuer; move the simulated clock back, or mint the token after moving it with azsim's issuer", now, c.Iat.UTC().Format(time.RFC3339), exp)}
	}
	return &api.Hint{Pitfall: "expired-sa-token", Fix: "re-read AZURE_FEDERATED_TOKEN_FILE for every exchange",
		Text: fmt.Sprintf("the service-account token expired (exp %s) or is not valid yet; projected tokens are refreshed by the kubelet: re-read AZURE_FEDERATED_TOKEN_FILE instead of caching the token", exp)}
}

// clockTolerance is how far an issuer's clock may differ from the
// simulated one before a token counts as minted on another clock.
const clockTolerance = 5 * time.Second

func keyRotatedHint(kid, iss string) *api.Hint {
	return &api.Hint{Pitfall: "issuer-key-rotated", Scope: iss, Fix: "request a fresh service-account token",
		Text: fmt.Sprintf("the token was signed with key %q, which issuer %s no longer publishes (its signing keys were rotated); request a fresh service-account token", kid, iss)}
}

func issuerUnreachableHint(iss string) *api.Hint {
	return &api.Hint{Pitfall: "issuer-unreachable", Scope: iss, Fix: "serve .well-known/openid-configuration over HTTPS",
		Text: fmt.Sprintf("Entra could not fetch the discovery document or JWKS of issuer %q; the issuer must be reachable over HTTPS and serve .well-known/openid-configuration", iss)}
}

func unknownClientHint(clientID, tenantID string) *api.Hint {
	return &api.Hint{Pitfall: "unknown-client-id", Scope: clientID, Fix: "set AZURE_CLIENT_ID to the identity's client ID",
		Text: fmt.Sprintf("client ID %s is not an identity or application of tenant %s: check AZURE_CLIENT_ID (the identity's client ID, not its object ID) and AZURE_TENANT_ID", clipLog(clientID), tenantID)}
}

func unknownResourceHint(resource string) *api.Hint {
	return &api.Hint{Pitfall: "unknown-resource", Scope: resource, Fix: "request https://containerregistry.azure.net/.default",
		Text: fmt.Sprintf("resource %q is unknown; ACR tokens are for https://containerregistry.azure.net/.default", clipLog(resource))}
}

func scopeHint(scope string) *api.Hint {
	return &api.Hint{Pitfall: "scope-without-default", Scope: clipLog(scope), Fix: "append /.default to the resource",
		Text: "client-credential scopes must be '<resource>/.default', e.g. https://containerregistry.azure.net/.default"}
}

// quoted lists f of each x, quoted ("none" for no x).
func quoted[T any](xs []T, f func(T) string) string {
	if len(xs) == 0 {
		return "none"
	}
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = fmt.Sprintf("%q", f(x))
	}
	return strings.Join(parts, ", ")
}

func assertionAppHint(clientID string, c *assertionClaims) *api.Hint {
	return &api.Hint{Pitfall: "assertion-app-mismatch", Scope: clientID, Fix: "set iss and sub of the assertion to the client ID",
		Text: fmt.Sprintf("the certificate assertion names iss %q and sub %q but client_id is %s: a certificate assertion's iss and sub must both be the application's client ID",
			clipLog(c.Iss), clipLog(c.Sub), clipLog(clientID))}
}

func assertionAudienceHint(aud []string, want []string) *api.Hint {
	return &api.Hint{Pitfall: "assertion-audience", Scope: clipLog(strings.Join(aud, ",")), Fix: "set aud to " + want[0],
		Text: fmt.Sprintf("the certificate assertion's aud %q is not this tenant's token endpoint: Entra takes %s (on the host the request is sent to)",
			clipLog(strings.Join(aud, ",")), quoted(want, func(s string) string { return s }))}
}
