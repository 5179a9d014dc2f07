#!/usr/bin/env bash
# kit-easyocr on l4t-pytorch (Python 3.6, NVIDIA's torch 1.10; CUDA/TensorRT from the host).
# `install.sh system`: apt, venv, torch2trt (a layer cached while this file is unchanged);
# `install.sh kit`: the kit with EasyOCR, staged models, smoke test.
source "$(dirname "$(readlink -f "$0")")/../lib.sh"

system() {
  # l4t-pytorch has python3 3.6 but not venv, git or patch; the stand-in base has none of them.
  apt_install python3 python3-venv python3-dev git patch ca-certificates
  make_venv python3
  if nvidia_only "torch2trt $PINS_TORCH2TRT with plugins (CUDA + TensorRT at build time)"; then
    git clone --quiet --depth 1 --branch "$PINS_TORCH2TRT" "$REPOS_TORCH2TRT" /opt/torch2trt
    (cd /opt/torch2trt && venv_python setup.py -q install --plugins)
  fi
}

kit() {
  write_constraints PINS_NUMPY PINS_EASYOCR PINS_PYTHON_BIDI
  if nvidia_only "EasyOCR $PINS_EASYOCR on the base image's torch (extras: $KIT_EXTRAS)"; then
    install_kit "$KIT_EXTRAS"
    apply_patches
  else
    install_kit ""
  fi
  # Python 3.6 cannot install the model package itself: unpack its files (same pin as the playbook).
  stage_models easyocr "$KIT_MODELS_EASYOCR"
  if nvidia_only "smoke test: torch sees CUDA, TensorRT and torch2trt import"; then
    smoke torch torchvision easyocr tensorrt torch2trt
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
