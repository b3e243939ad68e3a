package conformance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Fixture identities the harness adds to an azsim world through the admin
// API, and removes afterwards by restoring the world it read.
const (
	fixturePrefix    = "azsim-conformance-"
	fixtureNamespace = "azsim-conformance"
)

type fixtures struct {
	original json.RawMessage
	// noPull has no role assignment; it is also added to the kubelet's
	// pool so that the pool has several identities (sharedPool).
	noPull *Identity
	// caseID's credential subject differs from its tokens' only in case.
	caseID *Identity
	// noSlash's credential issuer lacks the issuer's trailing slash.
	noSlash    *Identity
	sharedPool *IMDSTarget
}

func (p *providers) installFixtures(ctx context.Context) error {
	if len(p.t.Issuers) == 0 {
		return nil
	}
	var raw json.RawMessage
	if err := p.admin.World(ctx, &raw); err != nil {
		return err
	}
	var w map[string]any
	if err := json.Unmarshal(raw, &w); err != nil {
		return fmt.Errorf("decoding world: %w", err)
	}
	rgs, _ := w["resourceGroups"].([]any)
	if len(rgs) == 0 {
		return errors.New("the world has no resource group")
	}
	rg, _ := rgs[0].(map[string]any)["name"].(string)
	iss := p.t.Issuers[0].URL
	ids := withoutFixtures(w["identities"])
	ids = append(ids,
		fixtureIdentity("nopull", rg, iss, fixtureNamespace),
		fixtureIdentity("case", rg, iss, "Azsim-conformance"),
		fixtureIdentity("noslash", rg, strings.TrimSuffix(iss, "/"), fixtureNamespace))
	w["identities"] = ids
	pool := p.addToKubeletPool(w)
	// Restoring the world as it was is safe whether or not the PUT took.
	p.fx.original = raw
	var doc worldDoc
	if err := p.admin.PutWorld(ctx, w, &doc); err != nil {
		return err
	}
	return p.readFixtures(&doc, iss, pool)
}

func fixtureIdentity(name, rg, issuer, ns string) map[string]any {
	return map[string]any{"name": fixturePrefix + name, "resourceGroup": rg, "federatedCredentials": []any{map[string]any{
		"name": "conformance", "issuer": issuer, "subject": "system:serviceaccount:" + ns + ":" + name,
		"audiences": []any{DefaultAudience}}}}
}

// withoutFixtures drops fixture identities a previous run left behind.
func withoutFixtures(v any) []any {
	list, _ := v.([]any)
	var out []any
	for _, x := range list {
		if m, ok := x.(map[string]any); ok && strings.HasPrefix(fmt.Sprint(m["name"]), fixturePrefix) {
			continue
		}
		out = append(out, x)
	}
	return out
}

// addToKubeletPool assigns the no-pull fixture to the kubelet's node pool
// and returns the pool reference ("" when there is none).
func (p *providers) addToKubeletPool(w map[string]any) string {
	k := p.t.Identities.Kubelet
	if k == nil || k.Pool == "" {
		return ""
	}
	cluster, pool, ok := strings.Cut(k.Pool, "/")
	if !ok {
		return ""
	}
	clusters, _ := w["clusters"].([]any)
	for _, c := range clusters {
		cm, _ := c.(map[string]any)
		if cm["name"] != cluster {
			continue
		}
		pools, _ := cm["nodePools"].([]any)
		for _, np := range pools {
			pm, _ := np.(map[string]any)
			if pm["name"] == pool {
				var names []any
				for _, n := range asList(pm["identities"]) {
					if !strings.HasPrefix(fmt.Sprint(n), fixturePrefix) {
						names = append(names, n)
					}
				}
				pm["identities"] = append(names, fixturePrefix+"nopull")
				return k.Pool
			}
		}
	}
	return ""
}

func asList(v any) []any { l, _ := v.([]any); return l }

func (p *providers) readFixtures(doc *worldDoc, iss, pool string) error {
	byName := map[string]string{}
	for _, id := range doc.Identities {
		byName[id.Name] = id.ClientID
	}
	mk := func(name, ns string) (*Identity, error) {
		cid := byName[fixturePrefix+name]
		if cid == "" {
			return nil, fmt.Errorf("fixture identity %s%s is missing from the updated world", fixturePrefix, name)
		}
		return &Identity{ClientID: cid, Namespace: ns, SA: name, Audience: DefaultAudience, Issuer: iss}, nil
	}
	var err error
	if p.fx.noPull, err = mk("nopull", fixtureNamespace); err != nil {
		return err
	}
	if p.fx.caseID, err = mk("case", fixtureNamespace); err != nil {
		return err
	}
	if p.fx.noSlash, err = mk("noslash", fixtureNamespace); err != nil {
		return err
	}
	if m := p.t.imds(pool); m != nil {
		for _, c := range doc.Clusters {
			for _, np := range c.NodePools {
				if c.Name+"/"+np.Name == pool {
					p.fx.sharedPool = &IMDSTarget{Pool: pool, URL: m.URL, Identities: doc.clientIDs(np.Identities)}
				}
			}
		}
	}
	return nil
}
