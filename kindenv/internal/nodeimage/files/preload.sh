#!/bin/bash
# Imports the image tarballs in /kind/images into containerd's k8s.io
# namespace while the node image is built (ref §7).
set -o errexit -o nounset -o pipefail
containerd >/tmp/containerd-preload.log 2>&1 &
pid=$!
for _ in $(seq 1 120); do
	ctr version >/dev/null 2>&1 && break
	sleep 0.25
done
ctr version >/dev/null
for t in /kind/images/*.tar; do
	ctr -n k8s.io images import --no-unpack --all-platforms --digests "$t"
done
ctr -n k8s.io images list -q
kill "$pid"
wait "$pid" || :
rm -rf /run/containerd /tmp/containerd-preload.log
