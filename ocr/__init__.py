"""The OCR library of the Jetson Nano OCR kit: datasets, preprocessing, engines, post-processing,
metrics. Python 3.6-compatible (the Nano's system Python)."""
__version__ = "0.1.0"
