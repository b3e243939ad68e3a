package conformance

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/azsim/azsim/client"
)

// Features of the providers suite. A target gets each one from what it
// declares; Target.Features turns any of them on or off explicitly.
const (
	// FeatureEntra: an Entra ID authority (entra.authority).
	FeatureEntra Feature = "entra"
	// FeatureInstanceDiscovery: the authority answers instance discovery.
	FeatureInstanceDiscovery Feature = "entra-instance-discovery"
	// FeatureFederated: a federated identity and a way to get its
	// service-account assertions (admin API or assertionFile).
	FeatureFederated Feature = "federated-identity"
	// FeatureIMDS: an IMDS and the kubelet identity assigned to its pool.
	FeatureIMDS Feature = "imds"
	// FeatureIMDSResourceID, FeatureIMDSObjectID: the kubelet identity's
	// resource ID or object ID is declared (selection by msi_res_id, object_id).
	FeatureIMDSResourceID Feature = "imds-msi-res-id"
	FeatureIMDSObjectID   Feature = "imds-object-id"
	// FeatureMultiIdentityPool: a pool whose VMSS has several user-assigned
	// identities.
	FeatureMultiIdentityPool Feature = "imds-multiple-identities"
	// FeatureOIDC: an AKS OIDC issuer.
	FeatureOIDC Feature = "oidc-issuer"
	// FeatureACR: a registry with an image and an identity that may pull it.
	FeatureACR Feature = "acr"
	// FeatureNoPull: an identity without pull on the registry.
	FeatureNoPull Feature = "no-pull-identity"
	// FeatureAdmin: azsim's admin API (mint service-account tokens, move
	// the clock).
	FeatureAdmin Feature = "admin"
	// FeatureFixtures: the harness installed its fixture identities
	// through the admin API (FIC issuer without trailing slash, subject that
	// differs only in case, an identity without pull).
	FeatureFixtures Feature = "admin-fixtures"
)

// providers is the state of one providers run.
type providers struct {
	t     *Target
	http  *http.Client
	admin *client.Client
	feat  FeatureSet
	fx    fixtures
}

// ProvidersSuite returns the providers suite for t.
func ProvidersSuite(t *Target) (*Suite, error) {
	if err := t.Validate(); err != nil {
		return nil, err
	}
	hc, err := t.HTTPClient()
	if err != nil {
		return nil, err
	}
	p := &providers{t: t, http: hc, admin: newAdminClient(t)}
	p.feat = p.features()
	name := t.Name
	if name == "" {
		name = t.TenantID
	}
	s := &Suite{Name: "providers", Target: name, Features: p.feat, Setup: p.setup, Teardown: p.teardown}
	for _, group := range [][]Case{p.entraCases(), p.ficCases(), p.imdsCases(), p.oidcCases(), p.acrCases(), p.acrTokenCases()} {
		s.Cases = append(s.Cases, group...)
	}
	return s, nil
}

func (p *providers) features() FeatureSet {
	t, ids := p.t, p.t.Identities
	f := FeatureSet{
		FeatureEntra:             t.Entra != nil,
		FeatureInstanceDiscovery: t.Entra != nil,
		FeatureAdmin:             p.admin != nil,
		FeatureFederated:         t.Entra != nil && p.canToken(ids.Federated) && ids.Federated.SA != "",
		FeatureIMDS:              ids.Kubelet != nil && ids.Kubelet.Pool != "",
		FeatureOIDC:              len(t.Issuers) > 0,
		FeatureACR:               len(t.Registries) > 0 && p.canToken(ids.Kubelet),
		FeatureNoPull:            len(t.Registries) > 0 && p.canToken(ids.NoPull),
	}
	f[FeatureIMDSResourceID] = f[FeatureIMDS] && ids.Kubelet.ResourceID != ""
	f[FeatureIMDSObjectID] = f[FeatureIMDS] && ids.Kubelet.ObjectID != ""
	for _, m := range t.IMDS {
		f[FeatureMultiIdentityPool] = f[FeatureMultiIdentityPool] || len(m.Identities) > 1
	}
	p.override(f)
	return f
}

func (p *providers) override(f FeatureSet) {
	for k, v := range p.t.Features {
		f[k] = v
	}
}

// canToken reports whether the harness can get Entra tokens for id.
func (p *providers) canToken(id *Identity) bool {
	switch {
	case id == nil:
		return false
	case id.Pool != "":
		return p.t.imds(id.Pool) != nil
	case id.SA != "":
		return p.t.Entra != nil && (p.admin != nil || id.AssertionFile != "")
	}
	return false
}

func (p *providers) setup(ctx context.Context) error {
	if p.admin == nil || p.t.Admin.NoFixtures {
		return nil
	}
	if err := p.installFixtures(ctx); err != nil {
		return fmt.Errorf("installing fixture identities through the admin API: %w", err)
	}
	p.feat[FeatureFixtures] = true
	p.feat[FeatureNoPull] = p.feat[FeatureNoPull] || len(p.t.Registries) > 0
	if p.fx.sharedPool != nil {
		p.feat[FeatureMultiIdentityPool] = true
	}
	p.override(p.feat)
	return nil
}

func (p *providers) teardown(ctx context.Context) error {
	if p.fx.original == nil {
		return nil
	}
	return p.admin.PutWorld(ctx, p.fx.original, nil)
}

// noPull is the identity without pull: the target's, else the fixture's.
func (p *providers) noPull() *Identity {
	if p.canToken(p.t.Identities.NoPull) {
		return p.t.Identities.NoPull
	}
	return p.fx.noPull
}

// multiPool is a pool with several identities.
func (p *providers) multiPool() *IMDSTarget {
	for i := range p.t.IMDS {
		if len(p.t.IMDS[i].Identities) > 1 {
			return &p.t.IMDS[i]
		}
	}
	return p.fx.sharedPool
}

// clusterOf names the cluster whose issuer is iss, for admin minting.
func (p *providers) clusterOf(iss string) string {
	for _, is := range p.t.Issuers {
		if is.URL == iss || strings.TrimSuffix(is.URL, "/") == strings.TrimSuffix(iss, "/") {
			return is.Cluster
		}
	}
	return ""
}

func decodeJSON(b []byte, v any) error {
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("body is not the expected JSON: %w (body %q)", err, clip(string(b)))
	}
	return nil
}

func clip(s string) string {
	if len(s) > 400 {
		return s[:400] + "…"
	}
	return s
}
