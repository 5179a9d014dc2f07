#!/usr/bin/env bash
# Set up .venv with every OCR engine that runs on this machine's CPU (and the dev tools with --dev).
# Usage: ./bootstrap.sh [--dev]      (idempotent; re-run after pulling)
set -euo pipefail
cd "$(dirname "$0")"
extras="cv,easyocr,paddle,onnx,report,accel"
[ "${1:-}" = "--dev" ] && extras="$extras,train,dev"
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
# torch/torchvision: on this machine kind these exact releases come from local disk (see DEVELOPERS
# notes in README); override with TORCH_SPEC on other machines, e.g. TORCH_SPEC="torch torchvision".
# shellcheck disable=SC2086
.venv/bin/python -m pip install -q ${TORCH_SPEC:-torch==2.14.1 torchvision==0.29.1}
.venv/bin/python -m pip install -q -e ".[$extras]"
echo "bootstrap: .venv ready ($extras)"
