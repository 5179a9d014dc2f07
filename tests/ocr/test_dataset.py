"""The manifest loader: real sets load, every bad line is reported with file:line, the rest loads."""
import io
import json
import os

import cv2
import numpy as np
import pytest

from ocr import dataset


def _write_png(path, h=30, w=90):
    img = np.full((h, w, 3), 255, np.uint8)
    cv2.putText(img, "EXP", (5, 22), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (0, 0, 0), 2)
    cv2.imwrite(path, img)


@pytest.fixture
def broken_manifest(tmp_path):
    (tmp_path / "images").mkdir()
    _write_png(str(tmp_path / "images" / "good.png"))
    _write_png(str(tmp_path / "images" / "big.png"), 100, 200)
    (tmp_path / "images" / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    lines = [
        json.dumps({"image": "images/good.png", "text": "EXP 2025.05.02", "tags": {"id": "ok-1"}}),
        "{this is not json",
        json.dumps({"image": "images/missing.png", "text": "LOT 1"}),
        json.dumps({"image": "images/corrupt.png", "text": "LOT 2"}),
        json.dumps({"image": "images/good.png", "text": "   "}),
        json.dumps({"image": "images/big.png", "text": "LOT 3", "box": [10, 10, 5, 50]}),
        json.dumps({"image": "images/big.png", "text": "LOT 4", "box": [0, 0, 500, 50]}),
        json.dumps(["a", "list"]),
        json.dumps({"text": "no image"}),
        json.dumps({"image": "images/big.png", "text": "L21X7A", "box": [0, 0, 100, 50], "tags": {"id": "ok-2"}}),
        json.dumps({"image": "images/good.png", "text": "dup", "tags": {"id": "ok-1"}}),
    ]
    path = tmp_path / "manifest.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def test_bad_lines_reported_and_rest_loads(broken_manifest):
    ds = dataset.load(broken_manifest)
    assert [s.id for s in ds.samples] == ["ok-1", "ok-2"]
    msgs = {p.line: p.message for p in ds.problems}
    assert sorted(msgs) == [2, 3, 4, 5, 6, 7, 8, 9, 11]  # one problem per broken line
    assert "bad JSON" in msgs[2]
    assert "image missing" in msgs[3]
    assert "unreadable" in msgs[4]
    assert msgs[5] == "empty text"
    assert "bad box" in msgs[6] and "bad box" in msgs[7] and "outside" in msgs[7]
    assert "not a JSON object" in msgs[8]
    assert "missing 'image'" in msgs[9]
    assert "duplicate id" in msgs[11]
    for p in ds.problems:
        assert str(p).startswith(broken_manifest + ":{}: ".format(p.line))
        assert "\n" not in str(p)


def test_check_cli_lists_each_problem(broken_manifest):
    out = io.StringIO()
    assert dataset.check_cli(broken_manifest, out=out) == 0
    text = out.getvalue()
    assert "samples                 2" in text or "samples" in text
    assert text.count("problem: ") == 9


def test_unusable_manifest_is_one_line(tmp_path):
    out = io.StringIO()
    assert dataset.check_cli(str(tmp_path / "nope.jsonl"), out=out) == 1
    assert out.getvalue().count("\n") == 1
    with pytest.raises(dataset.DatasetError):
        dataset.load(str(tmp_path))  # a folder without a manifest


def test_meta_line_sets_line_join(tmp_path):
    _write_png(str(tmp_path / "a.png"))
    (tmp_path / "m.jsonl").write_text('{"manifest": {"line_join": ""}}\n'
                                      + json.dumps({"image": "a.png", "text": "PRO:08/2022EXP:08/2023"}) + "\n")
    ds = dataset.load(str(tmp_path / "m.jsonl"))
    assert ds.line_join == "" and len(ds) == 1 and not ds.problems


def test_realdev_loads_unchanged(realdev_manifest):
    ds = dataset.load(realdev_manifest)
    assert len(ds) == 120 and not ds.problems
    info = dataset.summary(ds)
    assert info["id_prefixes"] == {"rwl": 90, "ame": 20, "ank": 6, "ngc": 4}
    assert set("0123456789") <= set(info["charset"])


def test_default_set_loads():
    ds = dataset.load()
    assert len(ds) >= 200 and not ds.problems
    assert os.path.isfile(ds.samples[0].image)


def _rgba_text(ink):
    """Text in `ink` (0 or 255) on a fully transparent background whose hidden colour is black."""
    img = np.zeros((30, 90, 4), np.uint8)
    cv2.putText(img, "EXP", (5, 22), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (ink, ink, ink, 255), 2)
    return img


@pytest.mark.parametrize("ink,background", [(0, 255), (255, 0)])
def test_transparent_png_is_composited_on_the_opposite_polarity(tmp_path, ink, background):
    path = str(tmp_path / "t.png")
    cv2.imwrite(path, _rgba_text(ink))
    img = dataset.read_image(path)
    assert img.shape == (30, 90, 3) and img.dtype == np.uint8
    assert img[0, 0].tolist() == [background] * 3  # not read as all black
    ink_mask = _rgba_text(ink)[:, :, 3] == 255
    assert ink_mask.any() and (img[ink_mask] == ink).all()


def test_gray_and_16_bit_pngs_still_read_as_bgr(tmp_path):
    cv2.imwrite(str(tmp_path / "g.png"), np.full((10, 20), 200, np.uint8))
    cv2.imwrite(str(tmp_path / "w.png"), np.full((10, 20, 3), 65535, np.uint16))
    assert dataset.read_image(str(tmp_path / "g.png"))[0, 0].tolist() == [200] * 3
    assert dataset.read_image(str(tmp_path / "w.png"))[0, 0].tolist() == [255] * 3


def test_bom_accepted_and_an_undecodable_line_costs_only_itself(tmp_path):
    _write_png(str(tmp_path / "a.png"))
    _write_png(str(tmp_path / "b.png"))
    rows = [b'\xef\xbb\xbf{"manifest": {"line_join": ""}}',
            json.dumps({"image": "a.png", "text": "LOT 1"}).encode(),
            b'{"image": "b.png", "text": "LOT \xff\xfe"}',
            json.dumps({"image": "b.png", "text": "LOT 3"}).encode()]
    (tmp_path / "m.jsonl").write_bytes(b"\n".join(rows) + b"\n")
    ds = dataset.load(str(tmp_path / "m.jsonl"))
    assert ds.line_join == "" and [s.text for s in ds.samples] == ["LOT 1", "LOT 3"]
    assert [(p.line, p.message.split(" (")[0]) for p in ds.problems] == [(3, "not UTF-8")]


def test_image_paths_leaving_the_folder_are_refused_unless_allowed(tmp_path):
    inner = tmp_path / "set"
    inner.mkdir()
    _write_png(str(tmp_path / "outside.png"))
    _write_png(str(inner / "in.png"))
    rows = [{"image": "in.png", "text": "A"}, {"image": "../outside.png", "text": "B"},
            {"image": str(tmp_path / "outside.png"), "text": "C", "tags": {"id": "c"}},
            {"image": "sub/../in.png", "text": "D", "tags": {"id": "d"}}]
    (inner / "m.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    ds = dataset.load(str(inner / "m.jsonl"))
    assert [s.text for s in ds.samples] == ["A", "D"]
    assert [p.line for p in ds.problems] == [2, 3]
    assert all("leaves the manifest's folder" in p.message for p in ds.problems)
    ds = dataset.load(str(inner / "m.jsonl"), allow_outside=True)
    assert [s.text for s in ds.samples] == ["A", "B", "C", "D"] and not ds.problems


def test_a_generated_set_is_made_once_in_the_cache_and_matches_the_writer(tmp_path, monkeypatch):
    from ocr import synth
    monkeypatch.setenv("KIT_SYNTH_CACHE", str(tmp_path / "cache"))
    ds = dataset.load("synth:doubled:2001:4")
    assert [s.id for s in ds.samples] == ["doubled-%06d" % i for i in range(1, 5)] and not ds.problems
    synth.write_dataset(str(tmp_path / "w"), n=4, seed=2001, preset="doubled")
    assert [s.text for s in ds.samples] == [s.text for s in dataset.load(str(tmp_path / "w")).samples]
    for s in ds.samples:  # the same pixels as `invoke dataset.synth` writes
        assert (tmp_path / "w" / "images" / os.path.basename(s.image)).read_bytes() == open(s.image, "rb").read()
    stamp = os.path.getmtime(ds.path)
    assert dataset.load("synth:doubled:2001:4").path == ds.path and os.path.getmtime(ds.path) == stamp
    assert not [p for p in os.listdir(os.path.dirname(os.path.dirname(ds.path))) if p.startswith(".tmp")]
    assert len(dataset.load("synth:default:5").samples) == 300  # N defaults to 300


@pytest.mark.parametrize("spec,why", [
    ("synth:nope:1", "unknown preset 'nope'"),
    ("synth:doubled", "synth:PRESET:SEED[:N]"),
    ("synth:doubled:x", "synth:PRESET:SEED[:N]"),
    ("synth:doubled:1:0", "N must be at least 1"),
])
def test_a_bad_generated_set_is_one_line_and_writes_nothing(tmp_path, monkeypatch, spec, why):
    monkeypatch.setenv("KIT_SYNTH_CACHE", str(tmp_path / "cache"))
    out = io.StringIO()
    assert dataset.check_cli(spec, out=out) == 1
    assert out.getvalue().count("\n") == 1 and why in out.getvalue() and spec in out.getvalue()
    assert not (tmp_path / "cache").exists() or not any(
        f for _, _, files in os.walk(str(tmp_path / "cache")) for f in files)
