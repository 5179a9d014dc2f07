#!/usr/bin/env bash
# kit-paddle on l4t-base: Python 3.7 (Paddle Inference's Jetson wheel for TensorRT 8.2 is cp37
# only), that wheel checked by its sha256, paddleocr and the kit with its Paddle extra. What pip
# installs comes from $REQUIREMENTS (versions.yml), the same files as the playbook's paddle venv,
# checked by the real-index tier (requirements/<l4t>/targets.yml: target paddle-image).
# `install.sh system`: apt + venv (cached layer); `install.sh kit`: the rest and a smoke test.
source "$(dirname "$(readlink -f "$0")")/../lib.sh"
REQ_CONSTRAINTS=paddle.constraints.txt

system() {
  local py=python$PYTHON_PADDLE
  if nvidia_only "Python $PYTHON_PADDLE from the base's Ubuntu packages (the stand-in is Debian: none)"; then
    apt_install "$py" "$py-venv" "$py-dev" gcc ca-certificates
  else
    py=python3
    apt_install python3 python3-venv python3-dev gcc
  fi
  make_venv "$py"
}

kit() {
  if nvidia_only "Paddle Inference wheel, paddleocr and the kit from $REQUIREMENTS (extras: $KIT_EXTRAS)"; then
    KIT_PADDLE_WHEEL=$(fetch_wheel "$WHEELS_PADDLE_INFERENCE_URL" "$WHEELS_PADDLE_INFERENCE_SHA256" \
      "${WHEELS_PADDLE_INFERENCE_URL##*/}")
    export KIT_PADDLE_WHEEL
    req_install py37-build.txt baidu-paddle.txt paddleocr.txt kit-py37.txt
    req_install --no-deps paddleocr.nodeps.txt kit-py37.nodeps.txt
    pip install -q --no-deps "$KIT"
    smoke paddle paddleocr rapidocr_paddle
    venv_python -c "import paddle; assert paddle.is_compiled_with_cuda(); print('== smoke: TensorRT', paddle.inference.get_trt_compile_version())"
  else
    write_constraints
    install_kit ""
    smoke ocr yaml
  fi
}

"$1"
