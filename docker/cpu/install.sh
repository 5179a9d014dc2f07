#!/usr/bin/env bash
# kit-cpu: every CPU engine (ONNX Runtime, EasyOCR on CPU torch, Paddle) on Debian, x86_64 or
# aarch64, so anyone without a Jetson can run `invoke bench --all` in a container.
# `install.sh system`: apt + venv (cached layer); `install.sh kit`: the kit and a smoke test.
source "$(dirname "$(readlink -f "$0")")/../lib.sh"

system() {
  # libgl1/libglib2.0-0: rapidocr pulls the full opencv-python, which loads them;
  # gcc/python3-dev: the kit's compiled decoder (smoke checks it).
  apt_install python3 python3-venv python3-dev gcc libgl1 libglib2.0-0 libgomp1
  make_venv python3
}

kit() {
  local mods=(ocr)
  write_constraints
  case ",$KIT_EXTRAS," in *,easyocr,*)
    # PyPI's x86_64 torch bundles CUDA (gigabytes); the CPU-only index has the same releases.
    export PIP_EXTRA_INDEX_URL=$INDEXES_TORCH_CPU
    mods+=(torch easyocr) ;;
  esac
  case ",$KIT_EXTRAS," in *,onnx,*) mods+=(onnxruntime rapidocr_onnxruntime) ;; esac
  case ",$KIT_EXTRAS," in *,paddle,*) mods+=(paddle rapidocr_paddle) ;; esac
  case ",$KIT_EXTRAS," in *,cv,*) mods+=(cv2) ;; esac
  install_kit "$KIT_EXTRAS"
  smoke "${mods[@]}"
}

"$1"
