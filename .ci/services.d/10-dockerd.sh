#!/usr/bin/env bash
# Container tier: dockerd (Debian's docker.io) on a private socket, plus stand-in base images.
# NVIDIA's l4t images cannot be pulled here (no registry), so a debootstrapped Debian root is
# imported under every base tag that versions.yml names; builds use pull=False against it.
# Usage: 10-dockerd.sh start|stop|tags      (state under $KIT_CI_STATE/docker, cache under $KIT_CI_CACHE)
set -euo pipefail
cd "$(dirname "$0")/../.."
STATE=${KIT_CI_STATE:-/tmp/kit-ci}
D=$STATE/docker
CACHE=${KIT_CI_CACHE:-/var/cache/kit-ci}
ROOTFS_TAR=$CACHE/bookworm-minbase.tar
SOCK=unix://$D/docker.sock

# Every image reference under a `base_images:` key of versions.yml (any L4T release).
base_tags() {
  awk '/^ *base_images:/ {on = 1; next}
       on && /^ *[a-z_]+: *"/ {sub(/^[^"]*"/, ""); sub(/".*/, ""); print; next}
       on {on = 0}' versions.yml | sort -u
}

# debootstrap once per machine (~100 s); later runs reuse the tarball.
make_rootfs() {
  [ -s "$ROOTFS_TAR" ] && return
  local mirror root
  mirror=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -m1 debian/ || true)
  root=$(mktemp -d "$CACHE/rootfs.XXXXXX")
  debootstrap --variant=minbase bookworm "$root" "${mirror:-http://deb.debian.org/debian}" >"$D/debootstrap.log"
  # This sandbox reaches package registries through an egress proxy with its own CA; give the
  # stand-in the host's trust store so apt and pip inside builds work (a real base never needs it).
  mkdir -p "$root/etc/ssl/certs"
  cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/kit-host-ca.crt"
  tar -C "$root" -cf "$ROOTFS_TAR.tmp" . && mv "$ROOTFS_TAR.tmp" "$ROOTFS_TAR"
  rm -rf "$root"
}

import_standin() {
  local id tag ca=/etc/ssl/certs/kit-host-ca.crt
  id=$(docker image inspect --format '{{.Id}}' kit-ci/standin:bookworm 2>/dev/null) ||
  id=$(docker import \
         --change "ENV PIP_CERT=$ca REQUESTS_CA_BUNDLE=$ca SSL_CERT_FILE=$ca" \
         --change 'CMD ["/bin/bash"]' \
         --message "kit-ci stand-in (debootstrap bookworm minbase)" "$ROOTFS_TAR" kit-ci/standin:bookworm)
  for tag in $(base_tags); do docker tag "$id" "$tag" && echo "stand-in: $tag"; done
}

start() {
  mkdir -p "$D" "$CACHE"
  export DOCKER_HOST=$SOCK
  if ! docker version >/dev/null 2>&1; then
    dockerd --host "$SOCK" --data-root "$D/data" --exec-root "$D/exec" --pidfile "$D/dockerd.pid" \
      >"$D/dockerd.log" 2>&1 &
    local i
    for i in $(seq 60); do docker version >/dev/null 2>&1 && break; sleep 1; done
    docker version --format 'dockerd {{.Server.Version}} ready' || { tail -20 "$D/dockerd.log"; exit 1; }
  fi
  make_rootfs
  import_standin
  echo "export DOCKER_HOST=$SOCK" >>"$STATE/env"
}

stop() {
  [ -s "$D/dockerd.pid" ] || return 0
  local pid
  pid=$(cat "$D/dockerd.pid")
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 20); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.5; done
  kill -9 "$pid" 2>/dev/null || true
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  tags) base_tags ;;   # what `start` tags (tests/docker checks it against versions.yml)
  *) echo "usage: $0 start|stop|tags" >&2; exit 2 ;;
esac
