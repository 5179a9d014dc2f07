"""EasyOCR's english_g2 recogniser (VGG + 2 BiLSTM + CTC) as a function of an image batch, in
the form ONNX and TensorRT can take. The three export traps of the reference study:

- `AdaptiveAvgPool2d((None, 1))` pools the height of a (N, W, C, H) permuted map to 1: an
  adaptive pool does not export with a dynamic width, so it becomes a plain mean over that axis
  (the same numbers: the pool's window is the whole axis);
- the LSTMs go through ONNX's LSTM op (TensorRT's ONNX parser builds RNN layers from it);
- on a GPU EasyOCR wraps the model in `DataParallel`: the real module is `.module`.
`forward` also drops EasyOCR's unused `text` argument, which training needs and inference ignores.
"""
import math

HEIGHT = 64  # english_g2's input height


def load_reader(model_dir=None, gpu=False):
    """An easyocr.Reader with the recogniser only, FP32 weights (no dynamic int8 quantisation:
    the export is compared with the unquantised model)."""
    import easyocr

    from .. import models
    return easyocr.Reader(["en"], gpu=gpu, model_storage_directory=model_dir or models.model_dir("easyocr"),
                          download_enabled=False, detector=False, quantize=False, verbose=False)


def unwrap(module):
    """The model inside a DataParallel wrapper (EasyOCR's GPU path), else the module itself."""
    return getattr(module, "module", module)


def exportable(recognizer):
    """A module computing logits (N, T, classes) from images (N, 1, 64, W), export-ready."""
    import torch

    class ExportableRecognizer(torch.nn.Module):
        def __init__(self, model):
            super().__init__()
            self.model = model

        def forward(self, image):
            m = self.model
            feature = m.FeatureExtraction(image).permute(0, 3, 1, 2)  # N, W', C, H'
            feature = feature.mean(dim=3)                             # was AdaptiveAvgPool2d((None, 1))
            return m.Prediction(m.SequenceModeling(feature).contiguous())

    return ExportableRecognizer(unwrap(recognizer)).eval()


def batch(crops, height=HEIGHT, min_width=HEIGHT):
    """BGR/gray uint8 crops -> float32 (N, 1, height, W), EasyOCR's own resize/normalise/pad
    (AlignCollate: keep ratio, right-pad by repeating the last column)."""
    import cv2
    import numpy as np
    from easyocr.recognition import AlignCollate
    from PIL import Image
    grays = [c if c.ndim == 2 else cv2.cvtColor(c, cv2.COLOR_BGR2GRAY) for c in crops]
    width = max(min_width, max(int(math.ceil(height * g.shape[1] / float(g.shape[0]))) for g in grays))
    collate = AlignCollate(imgH=height, imgW=width, keep_ratio_with_pad=True)
    return collate([Image.fromarray(g, "L") for g in grays]).numpy().astype(np.float32)


def softmax(logits):
    import numpy as np
    e = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def decode(logits, characters):
    """Greedy CTC decode of logits (N, T, C) -> [(text, confidence)] (index 0 is the blank)."""
    from .. import ctc
    return ctc.greedy_texts(softmax(logits), characters)
