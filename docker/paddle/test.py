"""kit-paddle: one real PP-OCR recognition through Paddle Inference (`invoke docker.test --image paddle`)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import image_tools  # noqa: E402  (docker/image_tools.py)

sys.exit(image_tools.check("paddleocr-rec"))
