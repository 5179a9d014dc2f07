"""Training pieces of the code reader: data is a pure function of (seed, index), targets encode
the charset, features collate with the blank-padding column, the schedule warms up and decays,
and a tiny run trains, checkpoints, resumes and exports an ONNX that matches PyTorch."""
import json
import os

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnx2torch")

from train.codereader import data, features, model, train  # noqa: E402


def test_encode_maps_charset_and_refuses_unknown_characters():
    assert data.encode("A0 ") == [model.CHARSET.index(c) + 1 for c in "A0 "]
    assert data.encode("A\u00e9") is None
    assert data.encode("") is None


def test_line_samples_are_deterministic_and_one_line():
    a_text, a_img = data.line_sample(5, 17)
    b_text, b_img = data.line_sample(5, 17)
    assert a_text == b_text and np.array_equal(a_img, b_img)
    assert a_img.ndim == 3 and a_img.shape[0] < 120
    texts = {data.line_sample(5, i)[0] for i in range(1, 25)}
    assert len(texts) > 15


def test_collate_pads_with_the_blank_column():
    pad = np.arange(480, dtype=np.float16)
    items = [("AB", np.ones((480, 3), np.float16)), ("C", np.zeros((480, 5), np.float16))]
    x, targets, lengths = features.collate(items, pad)
    assert tuple(x.shape) == (2, 480, 1, 5)
    assert np.allclose(x[0, :, 0, 3].numpy(), pad) and np.allclose(x[0, :, 0, :3].numpy(), 1)
    assert lengths.tolist() == [2, 1] and len(targets) == 3


def test_learning_rate_warms_up_then_decays():
    lrs = [train.lr_at(s, 600, 1e-3) for s in (0, 49, 300, 599)]
    assert lrs[0] < lrs[1] and lrs[1] > lrs[2] > lrs[3] >= 0.05e-3 - 1e-12


def test_greedy_texts_merge_repeats_and_drop_blanks():
    k = model.CHARSET.index("7") + 1
    lp = torch.full((1, 5, len(model.CHARSET) + 1), -10.0)
    for t, c in enumerate([k, k, 0, k, 0]):
        lp[0, t, c] = 0
    assert train.greedy_texts(lp) == ["77"]


@pytest.mark.slow
def test_tiny_run_trains_resumes_and_exports(tmp_path):
    import onnxruntime as ort
    out = str(tmp_path / "run")
    train.train(out, steps=2, lines=64, batch_size=8, eval_every=2, ckpt_every=1, log=lambda s: None)
    rows = [json.loads(r) for r in open(os.path.join(out, "train.jsonl"))]
    assert rows[0]["step"] == 0 and rows[-1]["step"] == 2 and "val_acc" in rows[-1]
    train.train(out, steps=3, lines=64, batch_size=8, resume=True, log=lambda s: None)
    assert torch.load(os.path.join(out, "ckpt.pt"), weights_only=False)["step"] == 3
    from train.codereader.export import load_full
    full = load_full(os.path.join(out, "codereader.pt"))
    full.net.export_probs = True
    x = torch.randn(2, 3, 48, 136)
    sess = ort.InferenceSession(os.path.join(out, "codereader.onnx"))
    ref = full(x).detach().numpy()
    got = sess.run(None, {"x": x.numpy()})[0]
    assert got.shape == ref.shape == (2, 17, len(model.CHARSET) + 1)
    assert np.abs(got - ref).max() < 1e-4
    assert sess.get_modelmeta().custom_metadata_map["charset"] == model.CHARSET
