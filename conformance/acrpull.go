package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"github.com/azsim/azsim/client"
)

// DriverAcrPullBinding is the clients-suite driver for controllers that
// implement the acrpull.microsoft.com/v1beta2 AcrPullBinding API.
const DriverAcrPullBinding = "acrpullbinding"

// AcrPullBindingConfig configures the acrpullbinding driver. The cluster
// must be wired to the simulator (`azsim kind up`): its service-account
// issuer is the world's cluster's, pods resolve the Azure host names to the
// simulator and the nodes trust its CA.
type AcrPullBindingConfig struct {
	// Install installs the controller under test (run with sh -c);
	// Uninstall, when set, removes it after the last case.
	Install, Uninstall string
	// Kubectl is the kubectl command line the harness uses, e.g.
	// ["kubectl", "--kubeconfig", "/path"].
	Kubectl []string
	// Namespace is where the harness creates its service accounts,
	// bindings and pods (created, and deleted afterwards).
	Namespace string
	// Target is the simulator (it must have the admin API).
	Target *Target
}

// apb is a run of the driver.
type apb struct {
	cfg     AcrPullBindingConfig
	admin   *client.Client
	world   json.RawMessage // as before the run, restored by Teardown
	server  string          // registry login server
	image   string          // an image of it
	tenant  string
	clients map[string]string // identity name → client ID
	// installed is set once the install command succeeded.
	installed bool
}

// identities the harness adds to the world.
const (
	apbIdentity      = "azsim-apb-wi" // federated for api://AzureCRTokenExchange, AcrPull
	apbADIdentity    = "azsim-apb-ad" // federated for api://AzureADTokenExchange only, AcrPull
	apbMIIdentity    = "azsim-apb-mi" // on the node pool, AcrPull
	apbAudience      = "api://AzureCRTokenExchange"
	apbSecretPrefix  = "acr-pull-"
	apbPullUser      = "00000000-0000-0000-0000-000000000000"
	apbWrongAudience = "api://AzureADTokenExchange"
)

// service accounts of the cases, each federated with apbIdentity except
// apbSAWrongAudience (federated with apbADIdentity).
var apbServiceAccounts = []string{"apb-wi", "apb-spec-ids", "apb-scope", "apb-refresh", "apb-wrong-server", "apb-no-client-id"}

const apbSAWrongAudience = "apb-wrong-audience"

// AcrPullBindingSuite returns the suite for the acrpullbinding driver.
func AcrPullBindingSuite(cfg AcrPullBindingConfig) *Suite {
	if cfg.Namespace == "" {
		cfg.Namespace = "azsim-apb"
	}
	if len(cfg.Kubectl) == 0 {
		cfg.Kubectl = []string{"kubectl"}
	}
	d := &apb{cfg: cfg}
	s := &Suite{Name: "clients", Target: DriverAcrPullBinding + " " + cfg.Install, Setup: d.setup, Teardown: d.teardown}
	add := func(id, title string, run func(c *C)) {
		s.Cases = append(s.Cases, Case{ID: DriverAcrPullBinding + "/" + id, Title: title, Run: run})
	}
	add("workload-identity/ok", "client ID from the SA's annotations: secret, imagePullSecrets, status and a real pull", d.caseOK)
	add("workload-identity/spec-ids", "client and tenant IDs from spec.auth.workloadIdentity", d.caseSpecIDs)
	add("workload-identity/scope", "the secret holds a token for spec.acr.scope only: another repository's image is denied", d.caseScope)
	add("workload-identity/missing-client-id", "an SA without client-id annotation: status error, no secret", d.caseMissingClientID)
	add("workload-identity/wrong-audience", "the identity is federated for api://AzureADTokenExchange only: status error (AADSTS700212)", d.caseWrongAudience)
	add("workload-identity/wrong-server", "a registry that does not exist: status error, no secret", d.caseWrongServer)
	add("workload-identity/expiry-refresh", "past the token's expiry on the simulated clock the pull fails; the regenerated secret pulls", d.caseRefresh)
	add("managed-identity/ok", "managedIdentity.clientID through IMDS: secret, status and a real pull", d.caseMI)
	return s
}

func (d *apb) kubectl(ctx context.Context, stdin string, args ...string) (string, error) {
	a := append(append([]string(nil), d.cfg.Kubectl[1:]...), args...)
	cmd := exec.CommandContext(ctx, d.cfg.Kubectl[0], a...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("kubectl %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return out.String(), nil
}

func (d *apb) mustKubectl(c *C, stdin string, args ...string) string {
	out, err := d.kubectl(c.Context(), stdin, args...)
	if err != nil {
		c.Broken("%v", err)
	}
	return out
}

func sh(ctx context.Context, command string) error {
	out, err := exec.CommandContext(ctx, "sh", "-c", command).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %v: %s", command, err, bytes.TrimSpace(out))
	}
	return nil
}

func (d *apb) setup(ctx context.Context) error {
	if d.cfg.Target == nil || d.cfg.Target.Admin == nil {
		return errors.New("the acrpullbinding driver needs the simulator's admin API")
	}
	d.admin = newAdminClient(d.cfg.Target)
	d.tenant = d.cfg.Target.TenantID
	var err error
	if err = d.admin.World(ctx, &d.world); err != nil {
		return err
	}
	var m map[string]any
	if err := json.Unmarshal(d.world, &m); err != nil {
		return err
	}
	regs, _ := m["registries"].([]any)
	clusters, _ := m["clusters"].([]any)
	ids, _ := m["identities"].([]any)
	if len(regs) == 0 || len(clusters) == 0 || len(ids) == 0 {
		return errors.New("the world needs a registry, a cluster and an identity")
	}
	reg := regs[0].(map[string]any)
	d.server, _ = reg["loginServer"].(string)
	if d.server == "" {
		d.server = fmt.Sprint(reg["name"]) + ".azurecr.io"
	}
	imgs, _ := reg["images"].([]any)
	if len(imgs) == 0 {
		return fmt.Errorf("registry %s has no image", d.server)
	}
	im := imgs[0].(map[string]any)
	d.image = fmt.Sprintf("%s/%s:%s", d.server, im["repository"], im["tag"])
	cluster := clusters[0].(map[string]any)
	rg := ids[0].(map[string]any)["resourceGroup"]
	fic := func(sa, aud string) map[string]any {
		return map[string]any{"name": "apb-" + sa, "cluster": cluster["name"],
			"subject": "system:serviceaccount:" + d.cfg.Namespace + ":" + sa, "audiences": []any{aud}}
	}
	var fics []any
	for _, sa := range apbServiceAccounts {
		fics = append(fics, fic(sa, apbAudience))
	}
	m["identities"] = append(ids,
		map[string]any{"name": apbIdentity, "resourceGroup": rg, "federatedCredentials": fics},
		map[string]any{"name": apbADIdentity, "resourceGroup": rg, "federatedCredentials": []any{fic(apbSAWrongAudience, apbWrongAudience)}},
		map[string]any{"name": apbMIIdentity, "resourceGroup": rg})
	if pools, _ := cluster["nodePools"].([]any); len(pools) > 0 {
		pool := pools[0].(map[string]any)
		pids, _ := pool["identities"].([]any)
		pool["identities"] = append(pids, apbMIIdentity)
	}
	// Only the harness's identities may pull: the kubelet's own identity
	// must not make a pull succeed without the binding's secret.
	scope := "registry/" + fmt.Sprint(reg["name"])
	m["roleAssignments"] = []any{
		map[string]any{"principal": apbIdentity, "role": "AcrPull", "scope": scope},
		map[string]any{"principal": apbADIdentity, "role": "AcrPull", "scope": scope},
		map[string]any{"principal": apbMIIdentity, "role": "AcrPull", "scope": scope},
	}
	if err := d.admin.PutWorld(ctx, m, nil); err != nil {
		return err
	}
	var list []struct {
		Name     string `json:"name"`
		ClientID string `json:"clientId"`
	}
	if err := d.admin.Objects(ctx, "identities", &list); err != nil {
		return err
	}
	d.clients = map[string]string{}
	for _, id := range list {
		d.clients[id.Name] = id.ClientID
	}
	if err := sh(ctx, d.cfg.Install); err != nil {
		return fmt.Errorf("install: %w", err)
	}
	d.installed = true
	// A namespace of an earlier run may still be terminating.
	_, _ = d.kubectl(ctx, "", "wait", "--for=delete", "namespace/"+d.cfg.Namespace, "--timeout=120s")
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: v1\nkind: Namespace\nmetadata: {name: %s}\n", d.cfg.Namespace)
	for _, sa := range append(append([]string(nil), apbServiceAccounts...), apbSAWrongAudience, "apb-mi") {
		client := d.clients[apbIdentity]
		switch sa {
		case apbSAWrongAudience:
			client = d.clients[apbADIdentity]
		case "apb-no-client-id", "apb-spec-ids", "apb-mi":
			client = ""
		}
		fmt.Fprintf(&b, "---\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: %s\n  namespace: %s\n", sa, d.cfg.Namespace)
		if client != "" {
			fmt.Fprintf(&b, "  annotations: {azure.workload.identity/client-id: %q, azure.workload.identity/tenant-id: %q}\n", client, d.tenant)
		}
	}
	if _, err := d.kubectl(ctx, b.String(), "apply", "-f", "-"); err != nil {
		return err
	}
	return nil
}

func (d *apb) teardown(ctx context.Context) error {
	var errs []error
	if d.world != nil {
		errs = append(errs, d.admin.PutWorld(ctx, d.world, nil))
		_, err := d.admin.SetClock(ctx, time.Now().UTC().Truncate(time.Second))
		errs = append(errs, err)
	}
	if !d.installed {
		return errors.Join(errs...)
	}
	_, err := d.kubectl(ctx, "", "delete", "namespace", d.cfg.Namespace, "--wait=false", "--ignore-not-found")
	errs = append(errs, err)
	if d.cfg.Uninstall != "" {
		errs = append(errs, sh(ctx, d.cfg.Uninstall))
	}
	return errors.Join(errs...)
}
