package conformance

import (
	"context"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/azsim/azsim/api"
)

// Env is what a token-credential factory gets for one case.
type Env struct {
	// Case is the ID of the case the credential is built for.
	Case string
	// HTTPClient reaches the target: it trusts the target's CA and sends
	// its host names where the target says. Use it as
	// azcore.ClientOptions.Transport.
	HTTPClient *http.Client
	// AuthorityHost is the Entra authority with a trailing slash, as
	// azidentity's ClientOptions.Cloud.ActiveDirectoryAuthorityHost wants it.
	AuthorityHost string
	TenantID      string
	ClientID      string
	// Assertion returns a fresh service-account token of the federated
	// identity (for ClientAssertionCredential).
	Assertion func(ctx context.Context) (string, error)
	// TokenFile holds a fresh service-account token (for
	// WorkloadIdentityCredential's AZURE_FEDERATED_TOKEN_FILE); the harness
	// rewrites it when it moves the clock, as the kubelet would.
	TokenFile string
}

// CredentialFactory builds the credential under test.
type CredentialFactory func(env Env) (azcore.TokenCredential, error)

// TokenCredentialSuite is the token-credential driver of the clients
// suite; dir receives the token files. conformancetest.TestTokenCredential
// runs it as Go subtests.
func TokenCredentialSuite(target *Target, factory CredentialFactory, dir string) (*Suite, error) {
	if err := target.Validate(); err != nil {
		return nil, err
	}
	hc, err := target.HTTPClient()
	if err != nil {
		return nil, err
	}
	p := &providers{t: target, http: hc, admin: newAdminClient(target)}
	p.feat = p.features()
	k := &credCases{p: p, factory: factory, dir: dir}
	need := []Feature{FeatureFederated, FeatureAdmin}
	return &Suite{Name: "clients", Target: target.Name, Features: p.feat, Cases: []Case{
		{ID: "token-credential/baseline", Title: "a token for ACR with aud, iss, tid, appid, ver; ExpiresOn matches exp", Needs: need, Run: k.baseline},
		{ID: "token-credential/errors/audience-mismatch", Title: "an assertion with the wrong audience: an error carrying AADSTS700212", Needs: need, Run: k.mismatch},
		{ID: "token-credential/errors/unknown-client", Title: "an unknown client ID: an error carrying AADSTS700016", Needs: need, Run: k.unknownClient},
		{ID: "token-credential/refresh/after-clock-advance", Title: "after the simulated clock passes the token's expiry, a token valid at the new time", Needs: need, Run: k.afterAdvance},
	}}, nil
}

type credCases struct {
	p       *providers
	factory CredentialFactory
	dir     string
}

// env builds the Env of a case; mod changes the minted assertions.
func (k *credCases) env(c *C, clientID string, mod func(*api.ServiceAccountTokenRequest)) Env {
	id := k.p.t.Identities.Federated
	file := filepath.Join(k.dir, strings.ReplaceAll(c.ID(), "/", "_")+".token")
	e := Env{Case: c.ID(), HTTPClient: k.p.http, AuthorityHost: k.p.t.Entra.Authority + "/", TenantID: k.p.t.TenantID, ClientID: clientID, TokenFile: file}
	e.Assertion = func(ctx context.Context) (string, error) {
		req := api.ServiceAccountTokenRequest{Cluster: k.p.clusterOf(id.Issuer), Namespace: id.Namespace, ServiceAccount: id.SA, Audiences: []string{id.Audience}}
		if mod != nil {
			mod(&req)
		}
		tok, err := k.p.admin.ServiceAccountToken(ctx, req)
		return tok.Token, err
	}
	k.writeTokenFile(c, e)
	return e
}

func (k *credCases) writeTokenFile(c *C, e Env) {
	tok, err := e.Assertion(c.Context())
	if err != nil {
		c.Broken("minting a service-account token: %v", err)
	}
	if err := os.WriteFile(e.TokenFile, []byte(tok), 0o600); err != nil {
		c.Broken("writing the token file: %v", err)
	}
}

func (k *credCases) getToken(c *C, e Env) (azcore.AccessToken, error) {
	cred, err := k.factory(e)
	if err != nil {
		c.Broken("the factory failed: %v", err)
	}
	return cred.GetToken(c.Context(), policy.TokenRequestOptions{Scopes: []string{acrResource + "/.default"}})
}

func (k *credCases) checkToken(c *C, tok azcore.AccessToken, clientID string) map[string]any {
	cl := claims(c, "access token", tok.Token)
	c.Equal("aud", acrResource, str(cl, "aud"))
	c.Equal("iss", "https://sts.windows.net/"+k.p.t.TenantID+"/", str(cl, "iss"))
	c.Equal("tid", k.p.t.TenantID, str(cl, "tid"))
	c.Equal("appid", clientID, str(cl, "appid"))
	c.Equal("ver", "1.0", str(cl, "ver"))
	return cl
}

func (k *credCases) baseline(c *C) {
	id := k.p.t.Identities.Federated
	tok, err := k.getToken(c, k.env(c, id.ClientID, nil))
	c.Must(err == nil, "GetToken: %v", err)
	cl := k.checkToken(c, tok, id.ClientID)
	exp := unixClaim(c, cl, "exp")
	skew := math.Abs(tok.ExpiresOn.Sub(exp).Seconds())
	c.Check(skew <= 120, "ExpiresOn %s is %.0f s away from the token's exp %s", tok.ExpiresOn.UTC(), skew, exp.UTC())
}

func (k *credCases) expectCode(c *C, e Env, code string) {
	_, err := k.getToken(c, e)
	c.Must(err != nil, "GetToken succeeded; want an error carrying %s", code)
	c.Check(strings.Contains(err.Error(), code), "the error does not carry %s: %v", code, clip(err.Error()))
}

func (k *credCases) mismatch(c *C) {
	e := k.env(c, k.p.t.Identities.Federated.ClientID, func(r *api.ServiceAccountTokenRequest) { r.Audiences = []string{"api://conformance-wrong-audience"} })
	k.expectCode(c, e, "AADSTS700212")
}

func (k *credCases) unknownClient(c *C) {
	k.expectCode(c, k.env(c, newGUID(), nil), "AADSTS700016")
}

func (k *credCases) afterAdvance(c *C) {
	id := k.p.t.Identities.Federated
	e := k.env(c, id.ClientID, nil)
	cred, err := k.factory(e)
	if err != nil {
		c.Broken("the factory failed: %v", err)
	}
	opts := policy.TokenRequestOptions{Scopes: []string{acrResource + "/.default"}}
	first, err := cred.GetToken(c.Context(), opts)
	c.Must(err == nil, "GetToken: %v", err)
	exp := unixClaim(c, claims(c, "access token", first.Token), "exp")
	now, err := k.p.admin.Clock(c.Context())
	if err != nil {
		c.Broken("reading the clock: %v", err)
	}
	step := exp.Sub(now) + 5*time.Minute
	if _, err := k.p.admin.AdvanceClock(c.Context(), step); err != nil {
		c.Broken("advancing the clock: %v", err)
	}
	defer func() { _, _ = k.p.admin.AdvanceClock(context.WithoutCancel(c.Context()), -step) }()
	k.writeTokenFile(c, e)
	again, err := cred.GetToken(c.Context(), opts)
	c.Must(err == nil, "GetToken after the clock moved: %v", err)
	if again.Token == first.Token {
		c.Logf("the credential served its cached token (it caches by wall time, which did not move)")
	}
	fresh, err := k.getToken(c, e)
	c.Must(err == nil, "GetToken of a new credential after the clock moved: %v", err)
	freshExp := unixClaim(c, k.checkToken(c, fresh, id.ClientID), "exp")
	c.Check(freshExp.After(now.Add(step)), "the new token expires at %s, before the simulated now %s", freshExp.UTC(), now.Add(step).UTC())
}
