package scenarios

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/azsim/azsim/api"
	"github.com/azsim/azsim/world"
)

// Scenario is one reproducible pitfall (or baseline).
type Scenario struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	// Story is the customer story the scenario reproduces.
	Story string `json:"story"`
	// Fix says, in plain words, how to fix it.
	Fix   string    `json:"fix,omitempty"`
	World WorldSpec `json:"world,omitempty"`
	Steps []Step    `json:"steps"`
}

// WorldSpec builds a scenario's world: the default world (unless Extends is
// "none"), whose lists Replace replaces and Add extends.
type WorldSpec struct {
	Extends string       `json:"extends,omitempty"`
	Replace *world.World `json:"replace,omitempty"`
	Add     *world.World `json:"add,omitempty"`
}

// Step is one action with its expected outcome. Exactly one action is set.
type Step struct {
	Name           string                `json:"name,omitempty"`
	Pull           *PullStep             `json:"pull,omitempty"`
	Token          *TokenStep            `json:"token,omitempty"`
	IMDS           *IMDSStep             `json:"imds,omitempty"`
	SAToken        *SATokenStep          `json:"saToken,omitempty"`
	AdvanceClock   string                `json:"advanceClock,omitempty"`
	AssignRole     *world.RoleAssignment `json:"assignRole,omitempty"`
	Fault          *api.FaultRule        `json:"fault,omitempty"`
	RotateKeys     *RotateStep           `json:"rotateKeys,omitempty"`
	AssignIdentity *AssignIdentityStep   `json:"assignIdentity,omitempty"`
	Azidentity     *AzidentityStep       `json:"azidentity,omitempty"`
	Expect         Expect                `json:"expect,omitempty"`
	// NotIn names targets that cannot perform the step, each with the
	// reason (reported, never counted as a pass or a failure).
	NotIn map[string]string `json:"notIn,omitempty"`
}

// Targets a step's notIn may name.
var knownTargets = []string{"embedded", "kind"}

// PullStep pulls an image through the VMSS flow (NodePool) or the federated
// flow (ServiceAccount), or with a refresh token saved by an earlier step.
type PullStep struct {
	Image          string `json:"image"`
	NodePool       string `json:"nodePool,omitempty"`
	ServiceAccount string `json:"serviceAccount,omitempty"` // NAMESPACE/NAME
	Cluster        string `json:"cluster,omitempty"`
	// Identity names the identity whose client ID the pod or node uses
	// (default: the kubelet identity, or the one federated with the
	// service account).
	Identity string `json:"identity,omitempty"`
	// Audience of the service-account token (default api://AzureADTokenExchange).
	Audience string `json:"audience,omitempty"`
	// Token names a service-account token minted by an earlier saToken step.
	Token string `json:"token,omitempty"`
	// ScopeRepository requests the access token for another repository.
	ScopeRepository string `json:"scopeRepository,omitempty"`
	// Resource is the Entra resource asked for (default the ACR resource).
	Resource string `json:"resource,omitempty"`
	// SaveRefresh stores the ACR refresh token under a name; UseRefresh
	// reuses one instead of running the earlier hops.
	SaveRefresh string `json:"saveRefresh,omitempty"`
	UseRefresh  string `json:"useRefresh,omitempty"`
	// Client says who pulls a node pool's image: "kubelet" (default; on
	// kind the node's kubelet through its credential provider) or "flow"
	// (azsim's flow client, which never retries: a hand-written script; on
	// kind it runs in a pod on a node of the pool). Embedded, both are the
	// flow client.
	Client string `json:"client,omitempty"`
}

// Kubelet reports whether a node pool's kubelet can perform the pull: a
// plain pull of the pool's image, with none of the options only a client
// of its own chooses.
func (p *PullStep) Kubelet() bool {
	return p.NodePool != "" && p.Client != "flow" && p.Identity == "" && p.ScopeRepository == "" &&
		p.Resource == "" && p.SaveRefresh == "" && p.UseRefresh == ""
}

// TokenStep runs only the Entra exchange of a service-account token.
type TokenStep struct {
	ServiceAccount string `json:"serviceAccount,omitempty"`
	Cluster        string `json:"cluster,omitempty"`
	Identity       string `json:"identity,omitempty"`
	Audience       string `json:"audience,omitempty"`
	Token          string `json:"token,omitempty"`
}

// IMDSStep asks a node pool's IMDS for a token.
type IMDSStep struct {
	NodePool string `json:"nodePool"`
	// Identity names the identity to select; Selector is the parameter
	// (client_id by default; msi_res_id selects by resource ID).
	Identity string `json:"identity,omitempty"`
	Selector string `json:"selector,omitempty"`
	Resource string `json:"resource,omitempty"`
}

// SATokenStep mints a service-account token and keeps it under Name.
type SATokenStep struct {
	Name           string `json:"name"`
	ServiceAccount string `json:"serviceAccount"`
	Cluster        string `json:"cluster,omitempty"`
	Audience       string `json:"audience,omitempty"`
	Expiration     string `json:"expiration,omitempty"`
}

// AssignIdentityStep assigns a user-assigned identity to a node pool's
// VMSS acting as principal By, as an identity controller (AAD Pod Identity's
// MIC) does with the kubelet identity: ARM requires Managed Identity Operator
// on the identity and Virtual Machine Contributor on the VMSS.
type AssignIdentityStep struct {
	NodePool string `json:"nodePool"`
	Identity string `json:"identity"`
	By       string `json:"by"`
}

// AzidentityStep gets a token with a real azidentity credential:
// ManagedIdentity (through the node pool's IMDS) or ClientAssertion (with a
// service-account token), retrying as azidentity does.
type AzidentityStep struct {
	Credential     string `json:"credential"`
	NodePool       string `json:"nodePool,omitempty"`
	ServiceAccount string `json:"serviceAccount,omitempty"`
	Identity       string `json:"identity,omitempty"`
	Scope          string `json:"scope,omitempty"`
}

// RotateStep rotates a cluster's issuer signing keys.
type RotateStep struct {
	Cluster string `json:"cluster"`
	DropOld bool   `json:"dropOld,omitempty"`
}

// Expect is a step's expected outcome. With Fail false the step must
// succeed; otherwise it must fail at Hop with Status, its error must
// contain Error, and the trace's hint must contain Hint.
type Expect struct {
	Fail   bool   `json:"fail,omitempty"`
	Hop    string `json:"hop,omitempty"`
	Status int    `json:"status,omitempty"`
	Error  string `json:"error,omitempty"`
	Hint   string `json:"hint,omitempty"`
	// Pitfall is the ID of the pitfall the refusing decision's hint must
	// name (a scenario ID of the catalogue, or another known pitfall).
	Pitfall string `json:"pitfall,omitempty"`
}

//go:embed catalogue/*.yaml
var catalogueFS embed.FS

var idRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

// Catalogue loads every embedded scenario, ordered by file name.
func Catalogue() ([]*Scenario, error) {
	files, err := fs.Glob(catalogueFS, "catalogue/*.yaml")
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var out []*Scenario
	var errs []error
	for _, f := range files {
		data, err := catalogueFS.ReadFile(f)
		if err != nil {
			return nil, err
		}
		sc, err := Parse(data)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", path.Base(f), err))
			continue
		}
		out = append(out, sc)
	}
	return out, errors.Join(errs...)
}

// Find returns the scenario with id.
func Find(all []*Scenario, id string) (*Scenario, bool) {
	for _, s := range all {
		if s.ID == id {
			return s, true
		}
	}
	return nil, false
}

// Parse decodes and validates a scenario.
func Parse(data []byte) (*Scenario, error) {
	var sc Scenario
	if err := yaml.UnmarshalStrict(data, &sc); err != nil {
		return nil, fmt.Errorf("parsing scenario: %w", err)
	}
	return &sc, sc.Validate()
}

// Validate checks a scenario and reports every problem.
func (sc *Scenario) Validate() error {
	var errs []error
	if !idRE.MatchString(sc.ID) {
		errs = append(errs, fmt.Errorf("id: %q must be lower-case letters, digits and '-'", sc.ID))
	}
	if strings.TrimSpace(sc.Title) == "" || strings.TrimSpace(sc.Story) == "" {
		errs = append(errs, errors.New("title and story are required"))
	}
	if len(sc.Steps) == 0 {
		errs = append(errs, errors.New("steps: at least one step is required"))
	}
	for i, st := range sc.Steps {
		if n := st.actions(); n != 1 {
			errs = append(errs, fmt.Errorf("steps[%d]: exactly one action is required, got %d", i, n))
		}
		if !st.Expect.Fail && (st.Expect.Hop != "" || st.Expect.Error != "" || st.Expect.Hint != "" || st.Expect.Pitfall != "") {
			errs = append(errs, fmt.Errorf("steps[%d].expect: hop, error, hint and pitfall describe a failure: set fail: true", i))
		}
		if st.Expect.Hint != "" && !idRE.MatchString(st.Expect.Pitfall) {
			errs = append(errs, fmt.Errorf("steps[%d].expect.pitfall: a step that expects a hint names the pitfall the hint must name (an ID such as %s)", i, sc.ID))
		}
		if st.Pull != nil && st.Pull.Client != "" && st.Pull.Client != "kubelet" && st.Pull.Client != "flow" {
			errs = append(errs, fmt.Errorf("steps[%d].pull.client: %q must be kubelet or flow", i, st.Pull.Client))
		}
		for _, target := range slices.Sorted(maps.Keys(st.NotIn)) {
			if why := st.NotIn[target]; !slices.Contains(knownTargets, target) || strings.TrimSpace(why) == "" {
				errs = append(errs, fmt.Errorf("steps[%d].notIn: %q must name a target (%s) with a reason", i, target, strings.Join(knownTargets, ", ")))
			}
		}
	}
	if _, err := sc.BuildWorld(); err != nil {
		errs = append(errs, fmt.Errorf("world: %w", err))
	}
	return errors.Join(errs...)
}

func (st *Step) actions() int {
	n := 0
	for _, set := range []bool{st.Pull != nil, st.Token != nil, st.IMDS != nil, st.SAToken != nil, st.AdvanceClock != "",
		st.AssignRole != nil, st.Fault != nil, st.RotateKeys != nil, st.AssignIdentity != nil, st.Azidentity != nil} {
		if set {
			n++
		}
	}
	return n
}

// Action names the step's action, for reports.
func (st *Step) Action() string {
	switch {
	case st.Pull != nil:
		return "pull"
	case st.Token != nil:
		return "token"
	case st.IMDS != nil:
		return "imds"
	case st.SAToken != nil:
		return "sa-token"
	case st.AdvanceClock != "":
		return "advance-clock"
	case st.AssignRole != nil:
		return "assign-role"
	case st.Fault != nil:
		return "fault"
	case st.RotateKeys != nil:
		return "rotate-keys"
	case st.AssignIdentity != nil:
		return "assign-identity"
	case st.Azidentity != nil:
		return "azidentity"
	}
	return "?"
}
