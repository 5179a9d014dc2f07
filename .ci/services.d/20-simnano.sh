#!/usr/bin/env bash
# Simulated Jetson Nanos for the Ansible tier: podman containers (systemd as PID 1, sshd on
# 127.0.0.1:PORT, host network) built by ansible/tests/simnano/build.sh. Podman keeps its own
# storage under $KIT_CI_STATE/simnano, apart from the dockerd tier. Usage: 20-simnano.sh start|stop
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
state=${KIT_CI_STATE:-/tmp/kit-ci}/simnano
ports=${SIMNANO_PORTS:-2231 2232}
export CONTAINERS_CONF=$root/ansible/tests/simnano/containers.conf
export PODMAN="podman --root $state/storage --runroot $state/runroot --tmpdir $state/tmp"

start() {
  mkdir -p "$state"
  [ -f "$state/id_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C simnano -f "$state/id_ed25519"
  "$root/ansible/tests/simnano/build.sh" "$state" "$state/id_ed25519.pub"
  local i=0 port
  : > "$state/hosts"
  for port in $ports; do
    i=$((i + 1))
    printf 'ListenAddress 127.0.0.1\nPort %s\n' "$port" > "$state/sshd-$port.conf"
    $PODMAN rm -f "simnano$i" >/dev/null 2>&1 || true
    $PODMAN run -d --name "simnano$i" --hostname "simnano$i" --network host --systemd always --add-host "simnano$i:127.0.1.1" \
      -v "$state/sshd-$port.conf:/etc/ssh/sshd_config.d/10-kit-port.conf:ro" \
      localhost/simnano:latest > "$state/simnano$i.cid"
    $PODMAN inspect -f '{{.State.Pid}}' "simnano$i" > "$state/simnano$i.pid"
    echo "simnano$i 127.0.0.1 $port" >> "$state/hosts"
  done
  wait_ssh
  { echo "export SIMNANO_STATE=$state"; echo "export SIMNANO_KEY=$state/id_ed25519"
    echo "export SIMNANO_HOSTS=$state/hosts"; } >> "${KIT_CI_STATE:-/tmp/kit-ci}/env"
}

wait_ssh() {  # sshd comes up once systemd has booted the container (a few seconds)
  local name addr port n
  while read -r name addr port; do
    for n in $(seq 60); do
      ssh -n -q -i "$state/id_ed25519" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
        -o BatchMode=yes -p "$port" "jetson@$addr" true && break
      [ "$n" = 60 ] && { echo "simnano: $name not reachable on $addr:$port" >&2; return 1; }
      sleep 1
    done
    echo "simnano: $name up on $addr:$port"
  done < "$state/hosts"
}

stop() {  # by the container's recorded id; podman ends its init (pid kept for the record)
  local f
  for f in "$state"/simnano*.cid; do
    [ -e "$f" ] || continue
    $PODMAN rm -f -t 5 "$(cat "$f")" >/dev/null 2>&1 || true
    rm -f "$f" "${f%.cid}.pid"
  done
}

case "${1:-}" in
  # A failed start must not stop the other tiers: tests/ansible then fails under KIT_CI=1, saying why.
  start) start || { echo "simnano: start failed (logs in $state); the ansible tier will fail" >&2; exit 0; } ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
