"""kit-easyocr: one real EasyOCR recognition on the Nano's GPU (`invoke docker.test --image easyocr`)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import image_tools  # noqa: E402  (docker/image_tools.py)

sys.exit(image_tools.check("easyocr-rec", gpu=True))
