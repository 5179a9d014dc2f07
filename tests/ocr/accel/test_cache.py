"""Engine cache keys: any field that changes the built engine changes the folder."""
import json
import os

import pytest

from ocr.accel import cache

BASE = {"model_sha256": "a" * 64, "tensorrt": "8.2.1", "gpu": "NVIDIA Tegra X1 sm_53", "precision": "fp16",
        "shapes": {"image": [[1, 1, 64, 64], [8, 1, 64, 256], [8, 1, 64, 1024]]}}


@pytest.mark.parametrize("field,other", [
    ("model_sha256", "b" * 64), ("tensorrt", "8.5.2"), ("gpu", "NVIDIA GeForce RTX 3090 sm_86"),
    ("precision", "fp32"), ("shapes", {"image": [[1, 1, 64, 64], [8, 1, 64, 256], [8, 1, 64, 2048]]})])
def test_key_differs_on_every_field(field, other):
    changed = dict(BASE, **{field: other})
    assert cache.key(cache.key_fields(**changed)) != cache.key(cache.key_fields(**BASE))


def test_key_is_stable_and_ignores_tuple_vs_list():
    as_tuples = dict(BASE, shapes={"image": tuple(tuple(s) for s in BASE["shapes"]["image"])})
    assert cache.key(cache.key_fields(**BASE)) == cache.key(cache.key_fields(**as_tuples))


def test_extra_build_fields_count():
    assert cache.key(cache.key_fields(builder="torch2trt", **BASE)) != cache.key(cache.key_fields(**BASE))


def test_missing_sha_or_precision_is_refused():
    with pytest.raises(ValueError):
        cache.key_fields(**dict(BASE, model_sha256=""))
    with pytest.raises(ValueError):
        cache.key_fields(**dict(BASE, precision=None))


def test_folder_records_fields_and_refuses_a_foreign_cache(tmp_path):
    fields = cache.key_fields(**BASE)
    path = cache.folder("trt", fields, base=str(tmp_path))
    assert path == cache.folder("trt", fields, base=str(tmp_path))  # reused as is
    with open(os.path.join(path, "key.json")) as f:
        assert json.load(f)["gpu"] == BASE["gpu"]
    # A folder whose key.json says another GPU (copied from elsewhere) is never loaded.
    with open(os.path.join(path, "key.json"), "w") as f:
        json.dump(dict(json.loads(json.dumps(fields)), gpu="Orin"), f)
    with pytest.raises(ValueError, match="gpu"):
        cache.folder("trt", fields, base=str(tmp_path))


def test_no_gpu_here_reads_as_none_in_the_key():
    assert cache.key_fields(**dict(BASE, gpu=None, tensorrt=None))["gpu"] == "none"


def test_jetson_gpu_name_from_the_device_tree(tmp_path):
    tree = tmp_path / "model"
    tree.write_bytes(b"NVIDIA Jetson Nano Developer Kit\x00")
    assert cache.jetson_model(str(tree)) == "NVIDIA Jetson Nano Developer Kit"
    tree.write_bytes(b"Raspberry Pi 4 Model B\x00")
    assert cache.jetson_model(str(tree)) is None
    assert cache.jetson_model(str(tmp_path / "absent")) is None
