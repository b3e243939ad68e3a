#!/bin/sh
# Rendered by azsim kindenv.RenderRoutesScript; do not edit.
# Pod subnets of the other nodes, as seen from mn-worker.
set -e
ip route replace 10.244.0.0/24 via 172.18.0.2
ip route replace 10.244.2.0/24 via 172.18.0.4
