package scenarios

import (
	"fmt"

	"sigs.k8s.io/yaml"
)

// KubeletCase is a scenario seen from a kubelet image credential provider:
// the node pool's kubelet pulls Image in World and either succeeds or is
// denied by the registry.
type KubeletCase struct {
	ID       string
	Title    string
	World    []byte // world YAML
	NodePool string // as written in the scenario (pool name)
	Image    string
	// Denied is true when the pull must fail (whatever credentials the
	// provider returns).
	Denied bool
	// Hint is the diagnosis the simulator gives for the denial.
	Hint string
}

// KubeletCases derives the credential-provider cases from the catalogue:
// every scenario whose first step is a plain node-pool pull, plus the
// several-identities world, where a provider that sends no client_id cannot
// get a token.
func KubeletCases(all []*Scenario) ([]KubeletCase, error) {
	var out []KubeletCase
	for _, sc := range all {
		st := sc.Steps[0]
		p := st.Pull
		if sc.ID == "several-identities-no-selector" {
			p = &PullStep{NodePool: "nodepool1", Image: "azsimacr.azurecr.io/hello:v1"}
			st = Step{Pull: p}
		}
		if p == nil || p.NodePool == "" || p.Identity != "" || p.ScopeRepository != "" || p.Resource != "" || p.UseRefresh != "" {
			continue
		}
		w, err := sc.BuildWorld()
		if err != nil {
			return nil, fmt.Errorf("scenario %s: %w", sc.ID, err)
		}
		b, err := yaml.Marshal(w)
		if err != nil {
			return nil, err
		}
		out = append(out, KubeletCase{ID: sc.ID, Title: sc.Title, World: b, NodePool: p.NodePool, Image: p.Image,
			Denied: st.Expect.Fail, Hint: st.Expect.Hint})
	}
	return out, nil
}
