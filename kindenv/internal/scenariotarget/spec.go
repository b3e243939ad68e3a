package scenariotarget

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/azsim/azsim/kindenv/internal/docker"
	"github.com/azsim/azsim/kindenv/internal/kindstate"
)

// podStepSpec is the pod spec of a client step: azsim's image running
// `azsim kind pod-step`, with the environment the workload-identity webhook
// injects when the client holds a service-account token.
func (t *Target) podStepSpec(s *podSpec, action string) map[string]any {
	env := []any{
		map[string]string{"name": "AZSIM_STEP", "value": action},
		map[string]string{"name": "SSL_CERT_FILE", "value": podCADir + "/ca.crt"},
	}
	mounts := []any{map[string]any{"name": "ca", "mountPath": podCADir, "readOnly": true}}
	volumes := []any{map[string]any{"name": "ca", "configMap": map[string]string{"name": "azsim-ca"}}}
	a := s.action
	if a.TokenFile != "" {
		env = append(env,
			map[string]string{"name": "AZURE_CLIENT_ID", "value": a.ClientID},
			map[string]string{"name": "AZURE_TENANT_ID", "value": a.TenantID},
			map[string]string{"name": "AZURE_FEDERATED_TOKEN_FILE", "value": a.TokenFile},
			map[string]string{"name": "AZURE_AUTHORITY_HOST", "value": a.AuthorityHost})
	}
	switch {
	case s.secret != "":
		mounts = append(mounts, map[string]any{"name": "token", "mountPath": podSecretDir, "readOnly": true})
		volumes = append(volumes, map[string]any{"name": "token", "secret": map[string]string{"secretName": s.secret}})
	case s.audience != "":
		mounts = append(mounts, map[string]any{"name": "azure-identity-token", "mountPath": podProjectedDir, "readOnly": true})
		volumes = append(volumes, map[string]any{"name": "azure-identity-token", "projected": map[string]any{
			"sources": []any{map[string]any{"serviceAccountToken": map[string]any{
				"path": "azure-identity-token", "audience": s.audience, "expirationSeconds": 3600}}}}})
	}
	if a.SaveRefreshFile != "" || a.RefreshFile != "" {
		mounts = append(mounts, map[string]any{"name": "scenario", "mountPath": scenarioHostDir})
		volumes = append(volumes, map[string]any{"name": "scenario", "hostPath": map[string]string{"path": scenarioHostDir, "type": "DirectoryOrCreate"}})
	}
	spec := map[string]any{
		"automountServiceAccountToken": false,
		"containers": []any{map[string]any{"name": "client", "image": kindstate.SimImage, "imagePullPolicy": "Never",
			"args": []string{"kind", "pod-step"}, "env": env, "volumeMounts": mounts}},
		"volumes": volumes,
	}
	if s.sa != "" {
		spec["serviceAccountName"] = s.sa
	}
	return spec
}

// restartKubelets restarts the kubelet of every node, which forgets the
// credentials its provider returned (cacheDuration), so a scenario's
// kubelet pulls start from IMDS as on a fresh node.
func (t *Target) restartKubelets(ctx context.Context) error {
	nodes := t.cluster.NodeNames(ctx)
	for _, node := range nodes {
		if _, err := docker.Exec(ctx, node, nil, "systemctl", "restart", "kubelet"); err != nil {
			return fmt.Errorf("restarting the kubelet of %s: %w", node, err)
		}
	}
	for _, node := range nodes {
		err := pollEvery(ctx, time.Minute, 200*time.Millisecond, func() (bool, string) {
			out, err := t.cluster.Kubectl(ctx, nil, "get", "--raw", "/api/v1/nodes/"+node+"/proxy/healthz")
			return err == nil && strings.TrimSpace(string(out)) == "ok", fmt.Sprintf("%s %v", out, err)
		})
		if err != nil {
			return fmt.Errorf("kubelet of %s after restart: %w", node, err)
		}
	}
	return nil
}

// pollEvery calls f every interval until it reports done or timeout passes.
func pollEvery(ctx context.Context, timeout, interval time.Duration, f func() (bool, string)) error {
	deadline := time.Now().Add(timeout)
	for {
		done, why := f()
		if done {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %s: %s", timeout, why)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(interval):
		}
	}
}
