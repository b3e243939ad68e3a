#!/usr/bin/env bash
# hack/docker-bootstrap.sh — make sure a Docker engine answers on this host.
#
# Idempotent. On a host where `docker info` already answers it does nothing.
# Otherwise it:
#   1. installs Debian's docker.io when dockerd is missing;
#   2. only when the capability bounding set lacks CAP_SYS_RESOURCE (bit 24,
#      as on our CI VMs), installs a runtime wrapper that strips that
#      capability from the OCI spec (--bundle config.json and --process file)
#      and execs the real runc, and makes it dockerd's default runtime (kind
#      always runs nodes --privileged, which asks for every capability);
#   3. starts dockerd and waits until it answers.
#
# Sourcing the script (`AZSIM_BOOTSTRAP_SOURCE_ONLY=1 source ...`) only
# defines its functions; hack/bootstrap_test.go tests the capability check.
set -euo pipefail

CAP_SYS_RESOURCE=24
WRAPPER="${AZSIM_RUNC_WRAPPER:-/usr/local/sbin/azsim-runc-nosysres}"
RUNTIME_NAME=nosysres
DAEMON_JSON="${AZSIM_DAEMON_JSON:-/etc/docker/daemon.json}"
DOCKERD_LOG="${AZSIM_DOCKERD_LOG:-/var/log/azsim-dockerd.log}"
WAIT_SECONDS="${AZSIM_DOCKER_WAIT:-60}"

log() { echo "docker-bootstrap: $*" >&2; }

# cap_bnd_lacks STATUS_FILE BIT
# Exit status 0 when capability BIT is missing from the CapBnd line of
# STATUS_FILE (a /proc/<pid>/status), 1 when it is present, 2 when the file
# has no usable CapBnd line.
cap_bnd_lacks() {
	local file="$1" bit="$2" hex
	hex="$(awk '$1 == "CapBnd:" { print $2; exit }' "$file" 2>/dev/null || true)"
	if [[ ! "$hex" =~ ^[0-9a-fA-F]{1,16}$ ]]; then
		echo "no CapBnd line in $file" >&2
		return 2
	fi
	if (( (16#$hex >> bit) & 1 )); then
		return 1
	fi
	return 0
}

# needs_sysres_wrapper [STATUS_FILE] — 0 when this host needs the wrapper.
needs_sysres_wrapper() {
	cap_bnd_lacks "${1:-/proc/self/status}" "$CAP_SYS_RESOURCE"
}

engine_answers() {
	command -v docker >/dev/null 2>&1 && timeout 20 docker info >/dev/null 2>&1
}

apt_install() {
	export DEBIAN_FRONTEND=noninteractive
	if ! apt-get install -y --no-install-recommends "$@"; then
		apt-get update
		apt-get install -y --no-install-recommends "$@"
	fi
}

write_wrapper() {
	local real_runc
	real_runc="$(command -v runc || echo /usr/sbin/runc)"
	mkdir -p "$(dirname "$WRAPPER")"
	cat >"$WRAPPER.tmp" <<WRAP
#!/bin/sh
# Installed by azsim hack/docker-bootstrap.sh: this host's capability bounding
# set lacks CAP_SYS_RESOURCE, so strip it from the OCI spec before runc sees it.
bundle=; process=; prev=
for a in "\$@"; do
	case "\$prev" in --bundle|-b) bundle="\$a" ;; --process|-p) process="\$a" ;; esac
	case "\$a" in --bundle=*) bundle="\${a#--bundle=}" ;; --process=*) process="\${a#--process=}" ;; esac
	prev="\$a"
done
strip() {
	[ -f "\$1" ] || return 0
	tmp="\$1.azsim.\$\$"
	jq -c '
	  def strip: if type == "object" and (.capabilities | type) == "object"
	    then .capabilities |= map_values(if type == "array" then map(select(. != "CAP_SYS_RESOURCE")) else . end)
	    else . end;
	  if (.process | type) == "object" then .process |= strip else strip end' "\$1" >"\$tmp" && mv "\$tmp" "\$1"
}
if [ -n "\$bundle" ]; then strip "\$bundle/config.json"; fi
if [ -n "\$process" ]; then strip "\$process"; fi
exec $real_runc "\$@"
WRAP
	chmod 0755 "$WRAPPER.tmp"
	mv "$WRAPPER.tmp" "$WRAPPER"
}

configure_runtime() {
	mkdir -p "$(dirname "$DAEMON_JSON")"
	local cur='{}'
	[[ -s "$DAEMON_JSON" ]] && cur="$(cat "$DAEMON_JSON")"
	jq --arg name "$RUNTIME_NAME" --arg path "$WRAPPER" \
		'.runtimes[$name] = {path: $path} | ."default-runtime" = $name' <<<"$cur" >"$DAEMON_JSON.tmp"
	mv "$DAEMON_JSON.tmp" "$DAEMON_JSON"
	log "default runtime '$RUNTIME_NAME' ($WRAPPER) configured in $DAEMON_JSON"
}

start_dockerd() {
	if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null 2>&1; then
		log "starting docker through systemd"
		systemctl start docker
		return
	fi
	log "starting dockerd (log: $DOCKERD_LOG)"
	# Detached from this shell so it outlives the caller (CI step, make).
	setsid nohup dockerd >>"$DOCKERD_LOG" 2>&1 </dev/null &
}

wait_engine() {
	local i
	for ((i = 0; i < WAIT_SECONDS * 2; i++)); do
		if engine_answers; then
			return 0
		fi
		sleep 0.5
	done
	log "dockerd did not answer within ${WAIT_SECONDS}s; last log lines:"
	tail -n 30 "$DOCKERD_LOG" >&2 || true
	return 1
}

main() {
	if engine_answers; then
		local rt
		rt="$(docker info -f '{{.DefaultRuntime}}' 2>/dev/null || true)"
		if needs_sysres_wrapper && [[ "$rt" != "$RUNTIME_NAME" ]]; then
			log "warning: CAP_SYS_RESOURCE is missing from the bounding set but the running engine's default runtime is '$rt'; privileged containers (kind nodes) may fail"
		fi
		log "a Docker engine answers (default runtime: ${rt:-unknown}); nothing to do"
		return 0
	fi
	if [[ $(id -u) -ne 0 ]]; then
		log "no Docker engine answers and this is not root; cannot install or start one"
		return 1
	fi
	local pkgs=()
	command -v dockerd >/dev/null 2>&1 || pkgs+=(docker.io)
	local wrap=0
	if needs_sysres_wrapper; then
		wrap=1
		command -v jq >/dev/null 2>&1 || pkgs+=(jq)
	fi
	if ((${#pkgs[@]})); then
		log "installing ${pkgs[*]}"
		apt_install "${pkgs[@]}"
	fi
	if ((wrap)); then
		log "CAP_SYS_RESOURCE is missing from the capability bounding set: installing $WRAPPER"
		write_wrapper
		configure_runtime
	else
		log "CAP_SYS_RESOURCE is in the bounding set: plain runc"
	fi
	if ! pgrep -x dockerd >/dev/null 2>&1; then
		start_dockerd
	else
		log "dockerd is running but not answering yet; waiting"
	fi
	wait_engine
	log "Docker engine ready: server $(docker version -f '{{.Server.Version}}' 2>/dev/null), default runtime $(docker info -f '{{.DefaultRuntime}}' 2>/dev/null)"
}

if [[ "${AZSIM_BOOTSTRAP_SOURCE_ONLY:-}" != 1 ]]; then
	main "$@"
fi
