package kindenv

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Every simulator container on the kind network carries the Azure names as
// network aliases, so with two wired clusters at once Docker's DNS answers
// with either simulator. The names are therefore pinned, per cluster, to
// its own simulator: in each node's /etc/hosts (containerd, the kubelet's
// credential provider) and in CoreDNS (pods).
const (
	hostsMarker     = "# azsim"
	corefileBegin   = "    # azsim: the Azure names, answered by this kind cluster's simulator"
	corefileEnd     = "    # azsim end"
	corefileMainSrv = ".:53 {"
)

// RenderHostsScript renders the node script that pins hosts to ip in
// /etc/hosts. It is idempotent (azsim's previous line is dropped) and
// rewrites the file in place: Docker bind-mounts it.
func RenderHostsScript(ip string, hosts []string) []byte {
	return []byte(fmt.Sprintf(`#!/bin/sh
# Rendered by azsim kindenv.RenderHostsScript; do not edit.
set -e
{ grep -v ' %[3]s$' /etc/hosts || true; echo '%[1]s %[2]s %[3]s'; } > /tmp/azsim-hosts
cat /tmp/azsim-hosts > /etc/hosts
rm -f /tmp/azsim-hosts
`, ip, strings.Join(hosts, " "), hostsMarker))
}

// PinCorefile returns corefile with a hosts block (answering hosts with ip,
// other names falling through to the next plugins) in its main server
// block, replacing the one a previous run added.
func PinCorefile(corefile, ip string, hosts []string) (string, error) {
	var out []string
	skipping, found := false, false
	for _, line := range strings.Split(corefile, "\n") {
		switch {
		case line == corefileBegin:
			skipping = true
		case skipping:
			skipping = line != corefileEnd
		default:
			out = append(out, line)
			if strings.TrimSpace(line) == corefileMainSrv && !found {
				found = true
				out = append(out, corefileBegin, "    hosts {", "       "+ip+" "+strings.Join(hosts, " "), "       fallthrough", "    }", corefileEnd)
			}
		}
	}
	if !found {
		return "", errors.New("the CoreDNS Corefile has no main server block (" + corefileMainSrv + ")")
	}
	return strings.Join(out, "\n"), nil
}

// pinNames pins the world's host names to the simulator on every node and
// in CoreDNS; CoreDNS is restarted only when its Corefile changed.
func (r *upRun) pinNames(ctx context.Context) error {
	start := time.Now()
	hosts := r.ix.Hosts()
	for _, n := range r.nodes {
		if _, err := dockerExec(ctx, n.Name, bytes.NewReader(RenderHostsScript(r.simIP, hosts)), "sh", "-s"); err != nil {
			return fmt.Errorf("/etc/hosts of %s: %w", n.Name, err)
		}
	}
	cur, err := r.c.Kubectl(ctx, nil, "-n", "kube-system", "get", "configmap", "coredns", "-o", "jsonpath={.data.Corefile}")
	if err != nil {
		return fmt.Errorf("CoreDNS Corefile: %w", err)
	}
	next, err := PinCorefile(string(cur), r.simIP, hosts)
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
