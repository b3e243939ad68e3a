#!/bin/sh
# Rendered by azsim kindenv.RenderIMDSScript; do not edit.
# IMDS of this node's pool: 169.254.169.254:80 -> 172.18.0.3:8079
set -e
iptables -t nat -N AZSIM-IMDS 2>/dev/null || true
iptables -t nat -F AZSIM-IMDS
iptables -t nat -A AZSIM-IMDS -d 169.254.169.254/32 -p tcp --dport 80 -j DNAT --to-destination 172.18.0.3:8079
for chain in PREROUTING OUTPUT; do
  iptables -t nat -C "$chain" -d 169.254.169.254/32 -j AZSIM-IMDS 2>/dev/null ||
    iptables -t nat -I "$chain" 1 -d 169.254.169.254/32 -j AZSIM-IMDS
done
