"""Export models to ONNX and prove the export computes what the original does.

`invoke accel.export` exports EasyOCR's recogniser (FP32, dynamic batch and width), converts it
to FP16, and checks the FP32 export against PyTorch on calibration crops: the largest absolute
logit difference and whether every decoded text is identical. Exports are named by the source
model's sha256, so a changed model never reuses an old export.
"""
import inspect
import json
import os
import sys

from ..models import sha256_file
from . import calib, easyocr_rec

DEFAULT_OUT = os.path.join("build", "accel")
MAX_ABS_DIFF = 1e-3  # FP32 ONNX vs PyTorch logits; observed ~1e-5, reordered float sums only


def _export_kwargs():
    import torch
    # torch >= 2.5 defaults to the dynamo exporter; the TorchScript one handles LSTM with dynamic
    # width and is the only one on the Nano's torch 1.10.
    return {"dynamo": False} if "dynamo" in inspect.signature(torch.onnx.export).parameters else {}


def export_easyocr_rec(out_dir=DEFAULT_OUT, reader=None, opset=13, force=False):
    """english_g2 -> ONNX with dynamic batch/width. Returns the .onnx path (reused if present)."""
    import torch

    from .. import models
    src = models.locate("easyocr", "english_g2.pth")
    digest = sha256_file(src)
    path = os.path.join(out_dir, f"easyocr_english_g2.{digest[:12]}.fp32.onnx")
    if os.path.isfile(path) and not force:
        return path
    reader = reader or easyocr_rec.load_reader()
    module = easyocr_rec.exportable(reader.recognizer).cpu().float()
    if not os.path.isdir(out_dir):
        os.makedirs(out_dir)
    tmp = path + ".tmp"
    with torch.no_grad():
        torch.onnx.export(module, (torch.zeros(1, 1, easyocr_rec.HEIGHT, 256),), tmp,
                          input_names=["image"], output_names=["logits"], opset_version=opset,
                          dynamic_axes={"image": {0: "batch", 3: "width"},
                                        "logits": {0: "batch", 1: "steps"}},
                          **_export_kwargs())
    _set_metadata(tmp, {"source": os.path.basename(src), "source_sha256": digest,
                        "characters": json.dumps(list(reader.converter.character))})
    os.rename(tmp, path)
    return path


def _set_metadata(path, items):
    import onnx
    model = onnx.load(path)
    for key, value in sorted(items.items()):
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(model, path)


def metadata(path):
    import onnx
    return {p.key: p.value for p in onnx.load(path, load_external_data=False).metadata_props}


def to_fp16(src, dst=None, op_block_list=None):
    """FP16 weights and compute, FP32 inputs/outputs (so callers feed the same arrays)."""
    import onnx
    try:  # the maintained converter; onnxruntime ships a copy of it
        from onnxconverter_common.float16 import convert_float_to_float16
    except ImportError:
        from onnxruntime.transformers.float16 import convert_float_to_float16
    dst = dst or src.replace(".fp32.onnx", ".fp16.onnx")
    if dst == src:
        dst = os.path.splitext(src)[0] + ".fp16.onnx"
    if not os.path.isfile(dst) or os.path.getmtime(dst) < os.path.getmtime(src):
        model = convert_float_to_float16(onnx.load(src), keep_io_types=True, op_block_list=op_block_list)
        if not os.path.isdir(os.path.dirname(os.path.abspath(dst))):
            os.makedirs(os.path.dirname(os.path.abspath(dst)))
        onnx.save(model, dst + ".tmp")
        os.rename(dst + ".tmp", dst)
    return dst


def is_fp16(path):
    import onnx
    model = onnx.load(path, load_external_data=False)
    return any(t.data_type == onnx.TensorProto.FLOAT16 for t in model.graph.initializer)


def ort_session(path, threads=0, providers=None, provider_options=None):
    import onnxruntime as ort
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    if threads:
        opts.intra_op_num_threads = int(threads)
    if is_fp16(path):
        # ORT's extended CPU fusions crash (segfault) on EasyOCR's FP16 graph (seen with 1.32);
        # basic optimisations (constant folding, redundant casts) are safe.
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    return ort.InferenceSession(path, sess_options=opts, providers=providers or ["CPUExecutionProvider"],
                                provider_options=provider_options)


def compare_easyocr_rec(onnx_path, crops, reader=None, threads=0):
    """ONNX (ONNX Runtime, CPU) vs PyTorch FP32 on each crop at its own width.

    Returns max_abs_diff over all logits, n, identical (texts equal), mismatches [(torch, onnx)].
    """
    import torch
    reader = reader or easyocr_rec.load_reader()
    module = easyocr_rec.exportable(reader.recognizer).cpu().float()
    session = ort_session(onnx_path, threads)
    chars = list(reader.converter.character)
    worst, mismatches, identical = 0.0, [], 0
    for crop in crops:
        x = easyocr_rec.batch([crop])
        with torch.no_grad():
            ref = module(torch.from_numpy(x)).numpy()
        out = session.run(None, {"image": x})[0].astype(ref.dtype)
        worst = max(worst, float(abs(out - ref).max()))
        (t_ref, _), (t_out, _) = easyocr_rec.decode(ref, chars)[0], easyocr_rec.decode(out, chars)[0]
        if t_ref == t_out:
            identical += 1
        else:
            mismatches.append((t_ref, t_out))
    return {"model": os.path.basename(onnx_path), "n": len(crops), "max_abs_diff": worst,
            "identical": identical, "mismatches": mismatches}


def export_cli(out=DEFAULT_OUT, data=None, limit=calib.DEFAULT_LIMIT, fp16=True, stream=sys.stdout):
    """Export, convert, verify; print the verdict and write it beside the models. 0 if equivalent."""
    reader = easyocr_rec.load_reader()
    fp32 = export_easyocr_rec(out, reader)
    if data:
        samples, source = calib.dataset_samples(data, limit), data
    else:
        samples, source = calib.default_samples(limit)
    crops = [c for c, _ in samples]
    report = {"data": source, "fp32": compare_easyocr_rec(fp32, crops, reader)}
    if fp16:
        report["fp16"] = compare_easyocr_rec(to_fp16(fp32), crops, reader)
    r = report["fp32"]
    ok = r["max_abs_diff"] <= MAX_ABS_DIFF and r["identical"] == r["n"]
    report["equivalent"] = ok
    with open(os.path.splitext(fp32)[0] + ".equivalence.json", "w") as f:
        json.dump(report, f, indent=1)
    for key in ("fp32", "fp16"):
        if key in report:
            r = report[key]
            stream.write("{:5s} {}  max|diff| {:.2e}  identical texts {}/{}\n".format(
                key, r["model"], r["max_abs_diff"], r["identical"], r["n"]))
    stream.write("data: {}; FP32 export {} PyTorch (tolerance {:g})\n".format(
        source, "matches" if ok else "DOES NOT match", MAX_ABS_DIFF))
    return 0 if ok else 1
