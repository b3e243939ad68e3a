package render

import (
	"fmt"
	"strings"
)

// The offline image's CNI config (kind-offline.md 6.3): a multi-node cluster mounts a
// per-node rendering over it.
const (
	NodeCNIConfig  = "/etc/cni/net.d/10-azsim-ptp.conflist"
	CNINetworkName = "azsim-ptp"
)

// Route sends a pod subnet to the node that holds it.
type Route struct {
	Subnet, Via string
}

// RenderRoutesScript renders the node script that routes the other nodes'
// pod subnets (the ptp CNI routes only its own node's pods). `ip route
// replace` makes it idempotent: it is re-run on every `kind up`, so node
// addresses that changed after a restart are picked up.
func RenderRoutesScript(node string, routes []Route) []byte {
	var b strings.Builder
	b.WriteString("#!/bin/sh\n# Rendered by azsim kindenv.RenderRoutesScript; do not edit.\n")
	fmt.Fprintf(&b, "# Pod subnets of the other nodes, as seen from %s.\nset -e\n", node)
	for _, r := range routes {
		fmt.Fprintf(&b, "ip route replace %s via %s\n", r.Subnet, r.Via)
	}
	return []byte(b.String())
}
