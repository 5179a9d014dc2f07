# Sourced by .ci/run: starts and stops (by pid) the services the test tiers need.
# Each tier owns an executable .ci/services.d/NN-name.sh taking `start` or `stop`; it keeps its
# state (pids, sockets) under $KIT_CI_STATE and may append `export VAR=...` lines to
# $KIT_CI_STATE/env, which is sourced after all have started so the tests see them.
export KIT_CI_STATE=${KIT_CI_STATE:-/tmp/kit-ci}
_kit_started=()
services_start() {
  mkdir -p "$KIT_CI_STATE"
  : > "$KIT_CI_STATE/env"
  local f
  for f in .ci/services.d/*.sh; do
    [ -e "$f" ] || continue
    echo "== service start: $f"
    _kit_started=("$f" "${_kit_started[@]}")
    bash "$f" start
  done
  # shellcheck source=/dev/null
  source "$KIT_CI_STATE/env"
}
services_stop() {
  local f
  for f in "${_kit_started[@]}"; do
    echo "== service stop: $f"
    bash "$f" stop || true
  done
  _kit_started=()  # idempotent: the EXIT trap may run after an explicit stop
}
