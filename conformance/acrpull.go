package conformance

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"github.com/azsim/azsim/client"
	"github.com/azsim/azsim/internal/platform/jwtx"
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

// apbStatus is what the harness reads of a binding.
type apbStatus struct {
	LastTokenRefreshTime string `json:"lastTokenRefreshTime"`
	TokenExpirationTime  string `json:"tokenExpirationTime"`
	Error                string `json:"error"`
}

func (d *apb) createBinding(c *C, name, sa, scope, server, auth string) {
	if server == "" {
		server = d.server
	}
	if auth == "" {
		auth = fmt.Sprintf("workloadIdentity: {serviceAccountRef: %s}", sa)
	}
	d.mustKubectl(c, fmt.Sprintf(`apiVersion: acrpull.microsoft.com/v1beta2
kind: AcrPullBinding
metadata: {name: %s, namespace: %s}
spec:
  acr: {server: %s, scope: %q, environment: PublicCloud}
  auth: {%s}
  serviceAccountName: %s
`, name, d.cfg.Namespace, server, scope, auth, sa), "apply", "-f", "-")
	c.Logf("created AcrPullBinding %s (server %s, scope %s, SA %s, auth %s)", name, server, scope, sa, auth)
}

func (d *apb) status(c *C, name string) apbStatus {
	var b struct {
		Status apbStatus `json:"status"`
	}
	out := d.mustKubectl(c, "", "get", "acrpullbinding", "-n", d.cfg.Namespace, name, "-o", "json")
	if err := json.Unmarshal([]byte(out), &b); err != nil {
		c.Broken("AcrPullBinding %s: %v", name, err)
	}
	return b.Status
}

// wait polls f every 2 s until it reports done or the timeout passes.
func wait(c *C, timeout time.Duration, f func() (bool, string)) (bool, string) {
	deadline := time.Now().Add(timeout)
	for {
		ok, why := f()
		if ok || time.Now().After(deadline) {
			return ok, why
		}
		select {
		case <-c.Context().Done():
			return false, why + " (case timeout)"
		case <-time.After(2 * time.Second):
		}
	}
}

// waitStatus waits until the binding reports a refresh (ok) or an error.
// A binding that must fail and reports a refresh fails at once; one that
// must succeed gets 30 s after its first error to recover.
func (d *apb) waitStatus(c *C, name string, wantError bool) apbStatus {
	var st apbStatus
	var firstErr time.Time
	ok, _ := wait(c, 90*time.Second, func() (bool, string) {
		st = d.status(c, name)
		if wantError {
			return st.Error != "" || st.LastTokenRefreshTime != "", ""
		}
		if st.Error != "" && firstErr.IsZero() {
			firstErr = time.Now()
		}
		return (st.Error == "" && st.LastTokenRefreshTime != "" && st.TokenExpirationTime != "") ||
			(!firstErr.IsZero() && time.Since(firstErr) > 30*time.Second), ""
	})
	c.Logf("status of %s: %+v", name, st)
	switch {
	case wantError && st.Error == "":
		c.Fatalf("AcrPullBinding %s: want status.error, got none (status %+v)", name, st)
	case !wantError && (!ok || st.Error != "" || st.LastTokenRefreshTime == ""):
		c.Fatalf("AcrPullBinding %s: no successful refresh (status %+v)", name, st)
	}
	return st
}

// pullSecret is what the harness reads of acr-pull-<binding>.
type pullSecret struct {
	Type     string
	Labels   map[string]string
	Username string
	Password string
	Auth     string
	Owner    string
	Servers  []string
}

func (d *apb) secret(c *C, binding string) (*pullSecret, bool) {
	out, err := d.kubectl(c.Context(), "", "get", "secret", "-n", d.cfg.Namespace, apbSecretPrefix+binding, "-o", "json")
	if err != nil {
		if strings.Contains(err.Error(), "NotFound") {
			return nil, false
		}
		c.Broken("%v", err)
	}
	var s struct {
		Type     string `json:"type"`
		Metadata struct {
			Labels          map[string]string `json:"labels"`
			OwnerReferences []struct {
				Kind, Name string
			} `json:"ownerReferences"`
		} `json:"metadata"`
		Data map[string]string `json:"data"`
	}
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		c.Broken("secret: %v", err)
	}
	ps := &pullSecret{Type: s.Type, Labels: s.Metadata.Labels}
	for _, o := range s.Metadata.OwnerReferences {
		if o.Kind == "AcrPullBinding" {
			ps.Owner = o.Name
		}
	}
	raw, _ := base64.StdEncoding.DecodeString(s.Data[".dockerconfigjson"])
	var cfg struct {
		Auths map[string]struct{ Username, Password, Auth string } `json:"auths"`
	}
	if err := json.Unmarshal(raw, &cfg); err != nil {
		c.Failf("secret %s: .dockerconfigjson is not a Docker config JSON: %v", apbSecretPrefix+binding, err)
		return ps, true
	}
	for srv, a := range cfg.Auths {
		ps.Servers = append(ps.Servers, srv)
		if srv == d.server || srv == "https://"+d.server {
			ps.Username, ps.Password, ps.Auth = a.Username, a.Password, a.Auth
		}
	}
	return ps, true
}

func (d *apb) saPullSecrets(c *C, sa string) []string {
	out := d.mustKubectl(c, "", "get", "serviceaccount", "-n", d.cfg.Namespace, sa, "-o", "jsonpath={.imagePullSecrets[*].name}")
	return strings.Fields(out)
}

// checkSecret asserts the pull secret's shape and that it holds an ACR
// token whose exp is the status's tokenExpirationTime; it returns the token.
func (d *apb) checkSecret(c *C, binding, sa string, st apbStatus) string {
	ps, ok := d.secret(c, binding)
	c.Must(ok, "secret %s%s does not exist", apbSecretPrefix, binding)
	c.Equal("secret type", "kubernetes.io/dockerconfigjson", ps.Type)
	c.Equal("secret label acr.microsoft.com/binding", binding, ps.Labels["acr.microsoft.com/binding"])
	c.Equal("secret owner (controller reference)", binding, ps.Owner)
	c.Must(ps.Password != "", "the secret has no auths entry for %s (has %v)", d.server, ps.Servers)
	c.Equal("username", apbPullUser, ps.Username)
	if ps.Auth != "" {
		c.Equal("auth", base64.StdEncoding.EncodeToString([]byte(ps.Username+":"+ps.Password)), ps.Auth)
	}
	tok, err := jwtx.Parse(ps.Password)
	c.Must(err == nil, "the password is not a JWT: %v", err)
	var claims struct {
		Iss string   `json:"iss"`
		Aud any      `json:"aud"`
		Exp *float64 `json:"exp"`
	}
	c.Must(tok.Claims(&claims) == nil, "the password's claims do not decode")
	c.Check(!strings.Contains(claims.Iss, "login.microsoftonline.com") && !strings.Contains(claims.Iss, "sts.windows.net"),
		"the password is an Entra token (iss %s), want an ACR token from /oauth2/token", claims.Iss)
	c.Check(fmt.Sprint(claims.Aud) == d.server, "the password's aud is %v, want the registry %s (an ACR token)", claims.Aud, d.server)
	if c.Check(claims.Exp != nil, "the ACR token has no exp") {
		exp := time.Unix(int64(*claims.Exp), 0).UTC()
		got, err := time.Parse(time.RFC3339, st.TokenExpirationTime)
		c.Check(err == nil && got.Sub(exp).Abs() <= time.Second,
			"status.tokenExpirationTime %s, want the token's exp %s", st.TokenExpirationTime, exp.Format(time.RFC3339))
	}
	c.Check(contains(d.saPullSecrets(c, sa), apbSecretPrefix+binding), "service account %s imagePullSecrets %v lack %s%s",
		sa, d.saPullSecrets(c, sa), apbSecretPrefix, binding)
	return ps.Password
}

// pull runs a pod with sa and image (imagePullPolicy Always, no
// imagePullSecrets of its own) and reports whether the kubelet pulled it.
func (d *apb) pull(c *C, pod, sa, image string, want bool) {
	d.mustKubectl(c, fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: %s, namespace: %s}
spec:
  serviceAccountName: %s
  restartPolicy: Never
  containers:
  - {name: c, image: %s, imagePullPolicy: Always}
`, pod, d.cfg.Namespace, sa, image), "apply", "-f", "-")
	defer func() {
		_, _ = d.kubectl(context.WithoutCancel(c.Context()), "", "delete", "pod", "-n", d.cfg.Namespace, pod, "--wait=false")
	}()
	var phase, reason string
	wait(c, 2*time.Minute, func() (bool, string) {
		out, err := d.kubectl(c.Context(), "", "get", "pod", "-n", d.cfg.Namespace, pod, "-o",
			`jsonpath={.status.phase} {.status.containerStatuses[0].state.waiting.reason}`)
		if err != nil {
			return false, err.Error()
		}
		phase, reason, _ = strings.Cut(strings.TrimSpace(out), " ")
		return phase == "Succeeded" || phase == "Running" || phase == "Failed" || reason == "ErrImagePull" || reason == "ImagePullBackOff", ""
	})
	ev, _ := d.kubectl(c.Context(), "", "get", "events", "-n", d.cfg.Namespace, "--field-selector", "involvedObject.name="+pod,
		"-o", `jsonpath={range .items[*]}{.type} {.reason}: {.message}{"\n"}{end}`)
	c.Logf("pod %s: phase %s, waiting %q; events:\n%s", pod, phase, reason, ev)
	pulled := strings.Contains(ev, "Successfully pulled image") || phase == "Running" || phase == "Succeeded"
	switch {
	case want && !pulled:
		c.Failf("pod %s (service account %s) did not pull %s: phase %s, waiting %q", pod, sa, image, phase, reason)
	case !want && pulled:
		c.Failf("pod %s (service account %s) pulled %s, want the pull denied", pod, sa, image)
	case !want && reason != "ErrImagePull" && reason != "ImagePullBackOff":
		c.Failf("pod %s: want ErrImagePull/ImagePullBackOff, got phase %s, waiting %q", pod, phase, reason)
	}
}

func (d *apb) caseOK(c *C) {
	d.createBinding(c, "apb-wi", "apb-wi", "repository:"+repoOf(d.image)+":pull", "", "")
	st := d.waitStatus(c, "apb-wi", false)
	d.checkSecret(c, "apb-wi", "apb-wi", st)
	d.pull(c, "apb-wi-pull", "apb-wi", d.image, true)
}

func (d *apb) caseSpecIDs(c *C) {
	d.createBinding(c, "apb-spec-ids", "apb-spec-ids", "repository:"+repoOf(d.image)+":pull", "",
		fmt.Sprintf("workloadIdentity: {serviceAccountRef: apb-spec-ids, clientID: %q, tenantID: %q}", d.clients[apbIdentity], d.tenant))
	st := d.waitStatus(c, "apb-spec-ids", false)
	d.checkSecret(c, "apb-spec-ids", "apb-spec-ids", st)
}

func (d *apb) caseScope(c *C) {
	d.createBinding(c, "apb-scope", "apb-scope", "repository:azsim-apb-other:pull", "", "")
	st := d.waitStatus(c, "apb-scope", false)
	d.checkSecret(c, "apb-scope", "apb-scope", st)
	d.pull(c, "apb-scope-pull", "apb-scope", d.image, false)
}

// checkNoSecret asserts that a failing binding left no pull secret.
func (d *apb) checkNoSecret(c *C, binding, sa string) {
	_, ok := d.secret(c, binding)
	c.Check(!ok, "secret %s%s exists although the binding failed", apbSecretPrefix, binding)
	c.Check(!contains(d.saPullSecrets(c, sa), apbSecretPrefix+binding), "service account %s lists %s%s although the binding failed", sa, apbSecretPrefix, binding)
}

func (d *apb) caseMissingClientID(c *C) {
	d.createBinding(c, "apb-no-client-id", "apb-no-client-id", "repository:"+repoOf(d.image)+":pull", "", "")
	st := d.waitStatus(c, "apb-no-client-id", true)
	c.Check(strings.Contains(st.Error, "azure.workload.identity/client-id"), "status.error %q should name the azure.workload.identity/client-id annotation", st.Error)
	d.checkNoSecret(c, "apb-no-client-id", "apb-no-client-id")
}

func (d *apb) caseWrongAudience(c *C) {
	d.createBinding(c, "apb-wrong-audience", apbSAWrongAudience, "repository:"+repoOf(d.image)+":pull", "", "")
	st := d.waitStatus(c, "apb-wrong-audience", true)
	c.Check(strings.Contains(st.Error, "AADSTS700212"), "status.error %q should carry Entra's AADSTS700212 (no federated credential for audience %s)", st.Error, apbAudience)
	d.checkNoSecret(c, "apb-wrong-audience", apbSAWrongAudience)
}

func (d *apb) caseWrongServer(c *C) {
	d.createBinding(c, "apb-wrong-server", "apb-wrong-server", "repository:"+repoOf(d.image)+":pull", "azsimapbmissing.azurecr.io", "")
	d.waitStatus(c, "apb-wrong-server", true)
	d.checkNoSecret(c, "apb-wrong-server", "apb-wrong-server")
}

func (d *apb) caseRefresh(c *C) {
	d.createBinding(c, "apb-refresh", "apb-refresh", "repository:"+repoOf(d.image)+":pull", "", "")
	st := d.waitStatus(c, "apb-refresh", false)
	first := d.checkSecret(c, "apb-refresh", "apb-refresh", st)
	exp, err := time.Parse(time.RFC3339, st.TokenExpirationTime)
	c.Must(err == nil, "status.tokenExpirationTime %q: %v", st.TokenExpirationTime, err)
	now, err := d.admin.Clock(c.Context())
	if err != nil {
		c.Broken("%v", err)
	}
	if _, err := d.admin.AdvanceClock(c.Context(), exp.Sub(now)+time.Minute); err != nil {
		c.Broken("%v", err)
	}
	c.Logf("simulated clock advanced past the token's expiry %s", exp.Format(time.RFC3339))
	d.pull(c, "apb-refresh-expired", "apb-refresh", d.image, false)
	// Back to the present: a new service-account token would not be valid
	// at the advanced time either. The controller's refresh boundary is on
	// the real clock; a missing secret makes it regenerate at once.
	if _, err := d.admin.SetClock(c.Context(), time.Now().UTC().Truncate(time.Second)); err != nil {
		c.Broken("%v", err)
	}
	d.mustKubectl(c, "", "delete", "secret", "-n", d.cfg.Namespace, apbSecretPrefix+"apb-refresh")
	var st2 apbStatus
	ok, _ := wait(c, 90*time.Second, func() (bool, string) {
		st2 = d.status(c, "apb-refresh")
		_, have := d.secret(c, "apb-refresh")
		return have && st2.Error == "" && st2.LastTokenRefreshTime != st.LastTokenRefreshTime, ""
	})
	c.Must(ok, "after the secret was deleted the binding was not refreshed (status %+v)", st2)
	second := d.checkSecret(c, "apb-refresh", "apb-refresh", st2)
	c.Check(second != first, "the regenerated secret holds the old token")
	d.pull(c, "apb-refresh-renewed", "apb-refresh", d.image, true)
}

func (d *apb) caseMI(c *C) {
	d.createBinding(c, "apb-mi", "apb-mi", "repository:"+repoOf(d.image)+":pull", "", fmt.Sprintf("managedIdentity: {clientID: %q}", d.clients[apbMIIdentity]))
	st := d.waitStatus(c, "apb-mi", false)
	d.checkSecret(c, "apb-mi", "apb-mi", st)
	d.pull(c, "apb-mi-pull", "apb-mi", d.image, true)
}

// repoOf returns the repository of server/repo:tag.
func repoOf(image string) string {
	_, rest, _ := strings.Cut(image, "/")
	repo, _, _ := strings.Cut(rest, ":")
	return repo
}
