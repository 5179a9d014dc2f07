#!/usr/bin/env bash
# kit-paddle on l4t-base: Python 3.7 (Paddle Inference's Jetson wheel for TensorRT 8.2 is cp37
# only), that wheel checked by its sha256, paddleocr and the kit with its Paddle extra.
# `install.sh system`: apt + venv (cached layer); `install.sh kit`: the rest and a smoke test.
source "$(dirname "$(readlink -f "$0")")/../lib.sh"

system() {
  local py=python$PYTHON_PADDLE
  if nvidia_only "Python $PYTHON_PADDLE from the base's Ubuntu packages (the stand-in is Debian: none)"; then
    apt_install "$py" "$py-venv" "$py-dev" ca-certificates
  else
    py=python3
    apt_install python3 python3-venv
  fi
  make_venv "$py"
}

kit() {
  write_constraints PINS_NUMPY PINS_PADDLEOCR
  if nvidia_only "Paddle Inference wheel, paddleocr $PINS_PADDLEOCR and the kit (extras: $KIT_EXTRAS)"; then
    install_pinned_wheel "$WHEELS_PADDLE_INFERENCE_URL" "$WHEELS_PADDLE_INFERENCE_SHA256"
    install_kit "$KIT_EXTRAS"
    pip install -q -c "$CONSTRAINTS" "paddleocr==$PINS_PADDLEOCR"
    smoke paddle paddleocr rapidocr_paddle
    venv_python -c "import paddle; assert paddle.is_compiled_with_cuda(); print('== smoke: TensorRT', paddle.inference.get_trt_compile_version())"
  else
    install_kit ""
    smoke ocr yaml
  fi
}

"$1"
