package scenariotarget

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/azsim/azsim/api"
	"github.com/azsim/azsim/internal/clients/flow"
	"github.com/azsim/azsim/scenarios"
)

// podState is the part of a pod's status the target reads.
type podState struct {
	Spec   struct{ NodeName string }
	Status struct {
		Phase             string
		ContainerStatuses []struct {
			State struct {
				Waiting    *struct{ Reason, Message string }
				Running    *struct{}
				Terminated *struct{ ExitCode int }
			}
		}
	}
}

// started reports whether the container has run (it is running or ran):
// the image was pulled.
func (p *podState) started() bool {
	if p.Status.Phase == "Running" || p.Status.Phase == "Succeeded" || p.Status.Phase == "Failed" {
		return true
	}
	for _, cs := range p.Status.ContainerStatuses {
		if cs.State.Running != nil || cs.State.Terminated != nil {
			return true
		}
	}
	return false
}

func (p *podState) waiting() (string, string) {
	for _, cs := range p.Status.ContainerStatuses {
		if w := cs.State.Waiting; w != nil {
			return w.Reason, w.Message
		}
	}
	return "", ""
}

func (t *Target) pod(ctx context.Context, ns, name string) (*podState, error) {
	out, err := t.cluster.Kubectl(ctx, nil, "get", "pod", name, "-n", ns, "-o", "json")
	if err != nil {
		return nil, err
	}
	var p podState
	return &p, json.Unmarshal(out, &p)
}

// checkPool makes sure a node of the cluster plays pool.
func (t *Target) checkPool(ctx context.Context, pool string) error {
	out, err := t.cluster.Kubectl(ctx, nil, "get", "nodes", "-l", poolLabel+"="+pool, "-o", "name")
	if err != nil {
		return err
	}
	if strings.TrimSpace(string(out)) == "" {
		return fmt.Errorf("no node of kind cluster %s plays node pool %s (label %s)", t.env.Name, pool, poolLabel)
	}
	return nil
}

// podObject renders a pod of the target: labelled for End, on the pool's
// nodes or a pinned node, with the CA ConfigMap mounted.
func (t *Target) podObject(ns, name string, spec map[string]any, pool, node string) map[string]any {
	spec["restartPolicy"] = "Never"
	if pool != "" {
		spec["nodeSelector"] = map[string]string{poolLabel: pool}
	}
	if node != "" {
		spec["nodeName"] = node
	}
	return map[string]any{"apiVersion": "v1", "kind": "Pod",
		"metadata": map[string]any{"name": name, "namespace": ns,
			"labels": map[string]string{runLabel: t.run, "azsim.io/scenario": t.sc.ID}},
		"spec": spec}
}

func (t *Target) podName(kind string) string {
	id := t.sc.ID
	if len(id) > 40 {
		id = id[:40]
	}
	return fmt.Sprintf("%s-%s-%d-%s", strings.TrimRight(id, "-"), kind, t.seq, t.run)
}

// kubeletPull creates a pod with the image and no pull secret on a node of
// the pool: the node's kubelet pulls it through its credential provider.
// The container starting is a success; ErrImagePull is a failure whose
// hop, status and error come from the simulator's decision that caused it.
// The pod is deleted once judged, so its retries stay out of later steps.
func (t *Target) kubeletPull(ctx context.Context, st *scenarios.Step) (scenarios.Outcome, error) {
	p := st.Pull
	if err := t.checkPool(ctx, p.NodePool); err != nil {
		return scenarios.Outcome{}, err
	}
	mark, err := t.Mark(ctx)
	if err != nil {
		return scenarios.Outcome{}, err
	}
	name := t.podName("kubelet")
	obj := t.podObject("default", name, map[string]any{
		"automountServiceAccountToken": false,
		"containers":                   []any{map[string]any{"name": "image", "image": p.Image, "imagePullPolicy": "Always"}},
	}, p.NodePool, "")
	if err := t.apply(ctx, obj); err != nil {
		return scenarios.Outcome{}, err
	}
	defer func() {
		_, _ = t.cluster.Kubectl(ctx, nil, "delete", "pod", name, "--wait=false", "--ignore-not-found")
	}()
	s, why, err := t.waitPull(ctx, name, st.Expect.Fail)
	by := fmt.Sprintf("kubelet of %s (pod default/%s)", st0node(s), name)
	switch {
	case s != nil && s.started():
		return scenarios.Outcome{Hops: []flow.Hop{{Name: "pull", OK: true, Status: 200, Detail: "the kubelet pulled " + p.Image + " and the container started"}}, By: by}, nil
	case err != nil && !strings.Contains(err.Error(), "timed out"):
		return scenarios.Outcome{}, err
	}
	ds, err := t.admin.Trace(ctx, mark)
	if err != nil {
		return scenarios.Outcome{}, err
	}
	d := rootCause(ds)
	return scenarios.Outcome{Hops: []flow.Hop{failedHop(d, why)}, By: by, Decision: d}, nil
}

// waitPull waits until the pod's container started or, when a failure is
// expected, until the kubelet reports ErrImagePull. A pod expected to run
// may need the kubelet's retries (back-off 10 s, then 20 s: three attempts
// within a minute). It returns the last state and the kubelet's message.
func (t *Target) waitPull(ctx context.Context, name string, expectFail bool) (*podState, string, error) {
	var last *podState
	var why string
	err := pollEvery(ctx, time.Minute, 300*time.Millisecond, func() (bool, string) {
		s, err := t.pod(ctx, "default", name)
		if err != nil {
			return false, err.Error()
		}
		last = s
		reason, msg := s.waiting()
		why = msg
		pullFailed := reason == "ErrImagePull" || reason == "ImagePullBackOff"
		return s.started() || (pullFailed && expectFail), fmt.Sprintf("pod %s: %s %s %s", name, s.Status.Phase, reason, msg)
	})
	return last, why, err
}

func st0node(s *podState) string {
	if s == nil || s.Spec.NodeName == "" {
		return "an unscheduled pod"
	}
	return s.Spec.NodeName
}

// rootCause is the decision that made the kubelet's pull fail: the first
// refusal that names a principal or a pitfall (containerd's anonymous
// first request is always challenged), else the last refusal.
func rootCause(ds []api.Decision) *api.Decision {
	for i := range ds {
		if ds[i].Outcome != api.OutcomeAllow && (ds[i].Principal != "" || ds[i].Hint != nil) {
			return &ds[i]
		}
	}
	return scenarios.LastRefused(ds)
}

// failedHop names the hop of d as azsim's flow client names its hops.
func failedHop(d *api.Decision, kubelet string) flow.Hop {
	if d == nil {
		return flow.Hop{Name: "pull", Detail: "kubelet: " + kubelet + " (the simulator refused nothing)"}
	}
	name := "pull"
	switch {
	case d.Service == "imds":
		name = "imds"
	case d.Service == "entra" || d.Service == "oidc":
		name = "entra"
	case strings.HasSuffix(d.Path, "/oauth2/exchange"):
		name = "exchange"
	case strings.HasSuffix(d.Path, "/oauth2/token"):
		name = "token"
	}
	detail := strings.TrimSpace(d.Error + ": " + d.Reason)
	return flow.Hop{Name: name, Status: d.Status, Detail: fmt.Sprintf("%s (kubelet: %s)", detail, kubelet)}
}

// runPod runs spec's pod to completion and returns its name, node and log.
func (t *Target) runPod(ctx context.Context, s *podSpec) (string, string, string, error) {
	if s.pool != "" {
		if err := t.checkPool(ctx, s.pool); err != nil {
			return "", "", "", err
		}
	}
	if err := t.ensureServiceAccount(ctx, s.namespace, s.sa, s.action.ClientID); err != nil {
		return "", "", "", err
	}
	name := t.podName(s.action.Action)
	b, err := json.Marshal(s.action)
	if err != nil {
		return "", "", "", err
	}
	obj := t.podObject(s.namespace, name, t.podStepSpec(s, string(b)), s.pool, s.node)
	if err := t.apply(ctx, obj); err != nil {
		return "", "", "", err
	}
	var node string
	err = pollEvery(ctx, 3*time.Minute, 300*time.Millisecond, func() (bool, string) {
		p, err := t.pod(ctx, s.namespace, name)
		if err != nil {
			return false, err.Error()
		}
		node = p.Spec.NodeName
		reason, msg := p.waiting()
		return p.Status.Phase == "Succeeded" || p.Status.Phase == "Failed", fmt.Sprintf("pod %s: %s %s %s", name, p.Status.Phase, reason, msg)
	})
	if err != nil {
		return name, node, "", err
	}
	out, err := t.cluster.Kubectl(ctx, nil, "logs", "-n", s.namespace, name)
	return name, node, string(out), err
}
