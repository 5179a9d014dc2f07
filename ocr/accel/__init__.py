"""Acceleration: model export with verified equivalence (export.py), engine-cache keys
(cache.py), the reduced-precision accuracy guard (guard.py) and roofline latency estimates for
Jetson boards (estimate.py). Heavy libraries (torch, onnx, tensorrt) are imported inside
functions so that this package imports anywhere, the Nano's Python 3.6 included."""
