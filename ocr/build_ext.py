"""Build the compiled decoder (ocr/_decode.c -> ocr/_decode<EXT_SUFFIX>) in place, for an installed
kit: the Nano's venvs get the kit as a pure wheel (built on the controller, any Python), so the
`kit` role compiles the extension on the Nano itself, for the venv's own Python (3.6 / 3.7, aarch64),
with gcc and that Python's headers. A checkout builds it through setup.py instead (same flags).

    python -m ocr.build_ext           # builds when the source, flags or Python changed; says which
    python -m ocr.build_ext --check   # then: it imports and reads exactly as the pure-Python path

Without the extension the kit still runs, in pure Python (ocr/compiled.py). Python 3.6 compatible.
"""
import argparse
import hashlib
import json
import os
import shlex
import subprocess
import sys
import sysconfig

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.join(HERE, "_decode.c")
# -ffp-contract=off: no fused multiply-add (aarch64's gcc fuses by default), which would round
# `a - w * b` differently from Python and change reads. setup.py uses these same flags.
CFLAGS = ["-O2", "-ffp-contract=off", "-fno-strict-aliasing", "-Wall"]


def target():
    return os.path.join(HERE, "_decode" + (sysconfig.get_config_var("EXT_SUFFIX") or ".so"))


def command(out):
    cc = shlex.split(os.environ.get("CC") or sysconfig.get_config_var("CC") or "gcc")
    include = sysconfig.get_paths()["include"]
    return cc + ["-shared", "-fPIC"] + CFLAGS + ["-I" + include, SOURCE, "-o", out]


def build(force=False):
    """Compile unless the stamp beside the module says this source, command and Python built it.
    Returns "built" or "up to date"; raises CalledProcessError (gcc's message printed) on failure."""
    out = target()
    stamp_path = out + ".stamp"
    with open(SOURCE, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    stamp = {"source": digest, "command": command(out), "python": sys.version}
    if not force and os.path.isfile(out) and os.path.isfile(stamp_path):
        with open(stamp_path) as f:
            if json.load(f) == stamp:
                return "up to date"
    tmp = out + ".tmp"
    subprocess.check_call(command(tmp))
    os.replace(tmp, out)
    with open(stamp_path, "w") as f:
        json.dump(stamp, f)
    return "built"


def check():
    """Import the built module in a fresh interpreter and compare a few reads with pure Python."""
    code = ("from ocr import compiled, formats; assert compiled.module() is not None, 'ocr._decode not importable';"
            "g = formats.default_grammar(); texts = ['EXP 05/2O25', 'LOT A1B2C3', 'BB 12.03.2025', 'x?', ''];"
            "fast = [g.correct(t) for t in texts]; compiled.PURE = True;"
            "assert fast == [g.correct(t) for t in texts], 'compiled and pure-Python reads differ';"
            "print('ocr._decode', compiled._decode.__file__, 'reads as pure Python')")
    env = dict(os.environ)
    env.pop("KIT_PURE_PYTHON", None)
    subprocess.check_call([sys.executable, "-c", code], cwd=os.path.dirname(HERE), env=env)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m ocr.build_ext", description=__doc__.split("\n\n")[0])
    ap.add_argument("--force", action="store_true", help="compile even when the stamp says up to date")
    ap.add_argument("--check", action="store_true", help="then import it and compare reads with pure Python")
    args = ap.parse_args(argv)
    try:
        print("ocr._decode: {} ({})".format(build(args.force), target()))
        if args.check:
            check()
    except (OSError, subprocess.CalledProcessError) as exc:
        print("ocr._decode: not built: {} (the kit runs in pure Python; install gcc and this Python's "
              "headers)".format(exc), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
