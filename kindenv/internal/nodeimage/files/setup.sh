#!/bin/bash
# Runs once inside the node image while it is built (not at node start).
set -o errexit -o nounset -o pipefail
mkdir -p /opt/cni /etc/kubernetes/manifests /var/lib/kubelet /etc/containerd/certs.d
if [[ ! -L /opt/cni/bin ]]; then rm -rf /opt/cni/bin; ln -s /usr/lib/cni /opt/cni/bin; fi
systemctl mask getty@.service getty.target console-getty.service serial-getty@.service \
	e2scrub_all.timer e2scrub_all.service e2scrub_reap.service apt-daily.timer \
	apt-daily-upgrade.timer dpkg-db-backup.timer fstrim.timer systemd-pstore.service >/dev/null 2>&1 || :
systemctl enable containerd.service kubelet.service
