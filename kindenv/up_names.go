package kindenv

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/azsim/azsim/kindenv/internal/docker"
	"github.com/azsim/azsim/kindenv/internal/render"
)

// pinNames pins the world's host names to the simulator on every node and
// in CoreDNS; CoreDNS is restarted only when its Corefile changed.
func (r *upRun) pinNames(ctx context.Context) error {
	start := time.Now()
	hosts := r.ix.Hosts()
	for _, n := range r.nodes {
		if _, err := docker.Exec(ctx, n.Name, bytes.NewReader(render.RenderHostsScript(r.simIP, hosts)), "sh", "-s"); err != nil {
			return fmt.Errorf("/etc/hosts of %s: %w", n.Name, err)
		}
	}
	cur, err := r.c.Kubectl(ctx, nil, "-n", "kube-system", "get", "configmap", "coredns", "-o", "jsonpath={.data.Corefile}")
	if err != nil {
		return fmt.Errorf("CoreDNS Corefile: %w", err)
	}
	next, err := render.PinCorefile(string(cur), r.simIP, hosts)
	if err != nil {
		return err
	}
	if next != string(cur) {
		patch, _ := json.Marshal(map[string]any{"data": map[string]string{"Corefile": next}})
		if _, err := r.c.Kubectl(ctx, nil, "-n", "kube-system", "patch", "configmap", "coredns", "--type", "merge", "-p", string(patch)); err != nil {
			return fmt.Errorf("CoreDNS Corefile: %w", err)
		}
		if _, err := r.c.Kubectl(ctx, nil, "-n", "kube-system", "rollout", "restart", "deployment", "coredns"); err != nil {
			return fmt.Errorf("restarting CoreDNS: %w", err)
		}
	}
	r.step("names pinned to simulator", start)
	return nil
}

// waitCoreDNS waits for CoreDNS (restarted by pinNames) to be rolled out
// and ready: pods resolve the Azure names through it.
func (r *upRun) waitCoreDNS(ctx context.Context) error {
	start := time.Now()
	if _, err := r.c.Kubectl(ctx, nil, "-n", "kube-system", "rollout", "status", "deployment", "coredns", "--timeout", "3m"); err != nil {
		return fmt.Errorf("CoreDNS not rolled out: %w", err)
	}
	if err := r.c.WaitCoreDNS(ctx, 3*time.Minute); err != nil {
		return fmt.Errorf("CoreDNS not ready: %w", err)
	}
	r.step("CoreDNS ready", start)
	return nil
}
