package render

import (
	"errors"
	"fmt"
	"strings"
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
