package scenariotarget

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/azsim/azsim/internal/clients/flow"
	"github.com/azsim/azsim/kindenv/internal/simcontainer"
	"github.com/azsim/azsim/scenarios"
	"github.com/azsim/azsim/world"
)

// Where the pods of a scenario find what Kubernetes mounts for them.
const (
	// scenarioHostDir is a hostPath on the node where a pod saves an ACR
	// refresh token for a later pod (saveRefresh/useRefresh); End empties it.
	scenarioHostDir  = "/var/lib/azsim-scenarios"
	podCADir         = "/etc/azsim-ca"
	podProjectedDir  = "/var/run/secrets/azure/tokens"
	podProjectedFile = podProjectedDir + "/azure-identity-token"
	podSecretDir     = "/var/run/secrets/azsim/token"
	defaultAudience  = "api://AzureADTokenExchange"
	poolLabel        = "kubernetes.azure.com/agentpool"
	runLabel         = "azsim.io/scenario-run"
)

// tokenRef is a service-account token a saToken step got from the
// cluster's TokenRequest API, kept in a Secret.
type tokenRef struct{ namespace, secret string }

// refreshRef is a refresh token a pod saved on its node.
type refreshRef struct{ node, file string }

// podSpec is what one step's pod needs.
type podSpec struct {
	action    scenarios.PodAction
	namespace string
	sa        string // service account (federated) or "" (default, no token)
	audience  string // projected token audience
	secret    string // Secret with a named token instead of a projected one
	pool      string // node pool (nodeSelector)
	node      string // pinned node
}

// podStep runs a client step in a pod (`azsim kind pod-step`).
func (t *Target) podStep(ctx context.Context, st *scenarios.Step) (scenarios.Outcome, error) {
	ix, _, err := t.index(ctx)
	if err != nil {
		return scenarios.Outcome{}, err
	}
	spec, err := t.planPod(ix, st)
	if err != nil {
		return scenarios.Outcome{}, err
	}
	name, node, log, err := t.runPod(ctx, spec)
	if err != nil {
		return scenarios.Outcome{}, err
	}
	hops, ok := scenarios.ParsePodResult(log)
	if !ok {
		return scenarios.Outcome{}, fmt.Errorf("pod %s/%s printed no result; log:\n%s", spec.namespace, name, tail(log, 20))
	}
	if st.Pull != nil && st.Pull.SaveRefresh != "" {
		t.refresh[st.Pull.SaveRefresh] = refreshRef{node: node, file: spec.action.SaveRefreshFile}
	}
	return scenarios.Outcome{Hops: hops, By: fmt.Sprintf("azsim client in pod %s/%s on %s", spec.namespace, name, node)}, nil
}

// planPod turns a step into a pod: who the client is, which token it
// holds, where it runs.
func (t *Target) planPod(ix *world.Index, st *scenarios.Step) (*podSpec, error) {
	s := &podSpec{namespace: "default", action: scenarios.PodAction{AuthorityHost: "https://login.microsoftonline.com/"}}
	a := &s.action
	switch {
	case st.Pull != nil:
		p := st.Pull
		a.Action, a.Image, a.ScopeRepository, a.Resource = "pull", p.Image, p.ScopeRepository, p.Resource
		if p.SaveRefresh != "" {
			a.SaveRefreshFile = fmt.Sprintf("%s/%s-%d-%s", scenarioHostDir, t.run, t.seq, p.SaveRefresh)
		}
		switch {
		case p.UseRefresh != "":
			ref, ok := t.refresh[p.UseRefresh]
			if !ok {
				return nil, fmt.Errorf("no refresh token named %q", p.UseRefresh)
			}
			a.Flow, a.RefreshFile, s.node = "refresh", ref.file, ref.node
		case p.NodePool != "":
			return s, t.planNode(ix, s, p.NodePool, p.Identity, true)
		default:
			a.Flow = "federated"
			return s, t.planFederated(ix, s, p.ServiceAccount, p.Identity, p.Audience, p.Token)
		}
	case st.Token != nil:
		a.Action = "token"
		return s, t.planFederated(ix, s, st.Token.ServiceAccount, st.Token.Identity, st.Token.Audience, st.Token.Token)
	case st.IMDS != nil:
		q, err := scenarios.IMDSQuery(ix, st.IMDS)
		if err != nil {
			return nil, err
		}
		np, ok := ix.NodePool(st.IMDS.NodePool)
		if !ok {
			return nil, fmt.Errorf("unknown node pool %q", st.IMDS.NodePool)
		}
		a.Action, a.IMDSQuery, s.pool = "imds", q.Encode(), np.Name
	case st.Azidentity != nil:
		z := st.Azidentity
		a.Action, a.Credential, a.Scope = "azidentity", z.Credential, z.Scope
		if z.Credential == "ClientAssertion" {
			return s, t.planFederated(ix, s, z.ServiceAccount, z.Identity, "", "")
		}
		return s, t.planNode(ix, s, z.NodePool, z.Identity, z.Identity != "")
	}
	return s, nil
}

// planNode places the pod on a node of pool; with identity set (or
// kubelet) its client ID is that identity's (default the kubelet's).
func (t *Target) planNode(ix *world.Index, s *podSpec, pool, identity string, withID bool) error {
	np, ok := ix.NodePool(pool)
	if !ok {
		return fmt.Errorf("unknown node pool %q", pool)
	}
	s.pool, s.action.TenantID, s.action.Flow = np.Name, np.Cluster.TenantID, "vmss"
	if s.action.Action != "pull" {
		s.action.Flow = ""
	}
	if !withID {
		return nil
	}
	id := np.Cluster.Kubelet
	if identity != "" {
		if id, ok = ix.PrincipalByName(identity); !ok {
			return fmt.Errorf("unknown identity %q", identity)
		}
	}
	if id == nil {
		return fmt.Errorf("cluster %s has no kubelet identity", np.Cluster.Name)
	}
	s.action.ClientID = id.ClientID
	return nil
}

// planFederated gives the pod a service-account token: projected by the
// kubelet with audience (as the workload-identity webhook mutates a pod),
// or the named one a saToken step got.
func (t *Target) planFederated(ix *world.Index, s *podSpec, sa, identity, audience, token string) error {
	if token != "" {
		ref, ok := t.tokens[token]
		if !ok {
			return fmt.Errorf("no service-account token named %q", token)
		}
		s.namespace, s.secret = ref.namespace, ref.secret
		s.action.TokenFile = podSecretDir + "/token"
	} else {
		ns, name, ok := strings.Cut(sa, "/")
		if !ok {
			return fmt.Errorf("serviceAccount %q: want NAMESPACE/NAME", sa)
		}
		if audience == "" {
			audience = defaultAudience
		}
		s.namespace, s.sa, s.audience = ns, name, audience
		s.action.TokenFile = podProjectedFile
	}
	p, err := scenarios.FederatedPrincipal(ix, sa, t.env.WorldCluster, identity)
	if err != nil {
		return err
	}
	s.action.TenantID, s.action.ClientID = p.TenantID, p.ClientID
	return nil
}

// saToken asks the cluster's TokenRequest API for a token and keeps it in
// a Secret for the steps that name it; the token is never printed.
func (t *Target) saToken(ctx context.Context, s *scenarios.SATokenStep) (scenarios.Outcome, error) {
	ns, name, ok := strings.Cut(s.ServiceAccount, "/")
	if !ok {
		return scenarios.Outcome{}, fmt.Errorf("serviceAccount %q: want NAMESPACE/NAME", s.ServiceAccount)
	}
	d := time.Hour
	if s.Expiration != "" {
		var err error
		if d, err = time.ParseDuration(s.Expiration); err != nil {
			return scenarios.Outcome{}, fmt.Errorf("expiration: %w", err)
		}
	}
	if d < 10*time.Minute {
		return scenarios.Outcome{}, fmt.Errorf("expiration %s: kube-apiserver's TokenRequest needs at least 10m", d)
	}
	aud := s.Audience
	if aud == "" {
		aud = defaultAudience
	}
	if err := t.ensureServiceAccount(ctx, ns, name, ""); err != nil {
		return scenarios.Outcome{}, err
	}
	out, err := t.cluster.Kubectl(ctx, nil, "create", "token", name, "-n", ns, "--audience", aud, "--duration", d.String())
	if err != nil {
		return scenarios.Outcome{}, err
	}
	secret := fmt.Sprintf("azsim-sat-%s-%d", t.run, t.seq)
	// create, not apply: apply would copy the token into the
	// last-applied-configuration annotation, readable in clear text.
	b, err := json.Marshal(map[string]any{"apiVersion": "v1", "kind": "Secret",
		"metadata":   map[string]any{"name": secret, "namespace": ns, "labels": map[string]string{runLabel: t.run}},
		"stringData": map[string]string{"token": strings.TrimSpace(string(out))}})
	if err != nil {
		return scenarios.Outcome{}, err
	}
	if _, err := t.cluster.Kubectl(ctx, bytes.NewReader(b), "create", "-f", "-"); err != nil {
		return scenarios.Outcome{}, err
	}
	t.tokens[s.Name] = tokenRef{namespace: ns, secret: secret}
	hop := flow.Hop{Name: "sa-token", OK: true, Detail: fmt.Sprintf("TokenRequest for %s (audience %s, %s) kept in Secret %s/%s", s.ServiceAccount, aud, d, ns, secret)}
	return scenarios.Outcome{Hops: []flow.Hop{hop}, By: "kube-apiserver (TokenRequest)"}, nil
}

// apply creates or updates one object.
func (t *Target) apply(ctx context.Context, obj any) error {
	b, err := json.Marshal(obj)
	if err != nil {
		return err
	}
	_, err = t.cluster.Kubectl(ctx, bytes.NewReader(b), "apply", "-f", "-")
	return err
}

// ensureServiceAccount creates the namespace (with the CA ConfigMap) and
// the service account, annotated with clientID as workload identity does.
func (t *Target) ensureServiceAccount(ctx context.Context, ns, name, clientID string) error {
	ca, err := os.ReadFile(t.ep.CAFile)
	if err != nil {
		return err
	}
	objs := []any{
		map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": ns}},
		json.RawMessage(simcontainer.CAConfigMap(ns, ca)),
	}
	if name != "" {
		md := map[string]any{"name": name, "namespace": ns}
		if clientID != "" {
			md["annotations"] = map[string]string{"azure.workload.identity/client-id": clientID}
		}
		objs = append(objs, map[string]any{"apiVersion": "v1", "kind": "ServiceAccount", "metadata": md})
	}
	return t.apply(ctx, map[string]any{"apiVersion": "v1", "kind": "List", "items": objs})
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
