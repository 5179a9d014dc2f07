"""The `serve:` section of a job file: where the service listens, what it reads, where it logs and
how it tells the line to reject. Checked with the rest of the job (ocr/reader/job.py): one line per
mistake. Every key is optional; `invoke serve` needs a token (`token` or `token_file`).
"""

from ..job import _number, _path, _unknown

KEYS = ("source", "bind", "port", "token", "token_file", "max_upload_mb", "queue", "retry_s", "log", "reject")
LOG_KEYS = ("path", "max_mb", "keep")
REJECT_KEYS = ("verdicts", "webhook", "tcp", "gpio")
WEBHOOK_KEYS = ("url", "timeout_s")
TCP_KEYS = ("host", "port", "timeout_s")
GPIO_KEYS = ("pin", "pulse_ms", "mode", "active")
DEFAULTS = {"source": None, "bind": "127.0.0.1", "port": 8080, "token": None, "max_upload_mb": 8.0,
            "queue": 2, "retry_s": [1.0, 30.0]}


class ServeSettings(object):
    """Validated settings; `log` and `reject` are dicts (None: not configured)."""

    def __init__(self, values):
        self.__dict__.update(values)

    @property
    def max_upload_bytes(self):
        return int(self.max_upload_mb * 1024 * 1024)


def parse(spec, base_dir, bad):
    """The `serve:` mapping -> ServeSettings; each problem reported through bad(key, msg)."""
    if spec is None:
        spec = {}
    if not isinstance(spec, dict):
        bad("serve", "a mapping ({})".format(", ".join(KEYS)))
        spec = {}
    _unknown(spec, KEYS, "serve.", bad)
    out = dict(DEFAULTS, log=None, reject=None)
    out.update({k: spec[k] for k in DEFAULTS if k in spec})
    if out["source"] is not None and not isinstance(out["source"], (str, int)):
        bad("serve.source", "one source string (a camera, a stream, a video file), not {!r}".format(out["source"]))
    elif out["source"] is not None:
        out["source"] = str(out["source"])
    if not isinstance(out["bind"], str) or not out["bind"]:
        bad("serve.bind", "an address to listen on (127.0.0.1, 0.0.0.0), not {!r}".format(out["bind"]))
    _int(out, "port", 0, 65535, "serve.", bad)
    _int(out, "queue", 1, 64, "serve.", bad)
    if not _number(out["max_upload_mb"], 0.001, 1024):
        bad("serve.max_upload_mb", "a size in MB in [0.001, 1024], not {!r}".format(out["max_upload_mb"]))
    retry = out["retry_s"]
    if not (isinstance(retry, list) and len(retry) == 2 and all(_number(v, 0.001, 3600) for v in retry)
            and retry[0] <= retry[1]):
        bad("serve.retry_s", "[first, longest] seconds between camera retries (doubling), not {!r}".format(retry))
    out["token"] = _token(spec, base_dir, bad)
    if "log" in spec:
        out["log"] = _log(spec["log"], base_dir, bad)
    if "reject" in spec:
        out["reject"] = _reject(spec["reject"], bad)
    return ServeSettings(out)


def _int(d, key, lo, hi, prefix, bad):
    v = d.get(key)
    if not (isinstance(v, int) and not isinstance(v, bool) and lo <= v <= hi):
        bad(prefix + key, "a whole number in [{}, {}], not {!r}".format(lo, hi, v))


def _token(spec, base_dir, bad):
    if "token" in spec and "token_file" in spec:
        bad("serve.token", "token or token_file, not both")
        return None
    if "token" in spec:
        if not isinstance(spec["token"], str) or len(spec["token"]) < 8:
            bad("serve.token", "a string of 8 characters or more")
            return None
        return spec["token"]
    if "token_file" in spec:
        path = _path(base_dir, spec["token_file"])
        try:
            with open(path) as f:
                token = f.read().strip()
        except (IOError, OSError) as exc:
            bad("serve.token_file", "{}: cannot read ({})".format(path, exc.strerror))
            return None
        if len(token) < 8:
            bad("serve.token_file", "{}: holds no token of 8 characters or more".format(path))
            return None
        return token
    return None


def _log(spec, base_dir, bad):
    if not isinstance(spec, dict) or "path" not in spec:
        bad("serve.log", "a mapping {path, max_mb, keep}")
        return None
    _unknown(spec, LOG_KEYS, "serve.log.", bad)
    out = {"path": _path(base_dir, spec["path"]), "max_mb": spec.get("max_mb", 50), "keep": spec.get("keep", 5)}
    if not _number(out["max_mb"], 0.0001, 100000):
        bad("serve.log.max_mb", "a size in MB (> 0), not {!r}".format(out["max_mb"]))
    _int(out, "keep", 1, 100, "serve.log.", bad)
    return out


def _reject(spec, bad):
    from ..verify import VERDICTS
    if not isinstance(spec, dict):
        bad("serve.reject", "a mapping ({})".format(", ".join(REJECT_KEYS)))
        return None
    _unknown(spec, REJECT_KEYS, "serve.reject.", bad)
    out = {"verdicts": spec.get("verdicts", ["FAIL", "REJECT"])}
    if not (isinstance(out["verdicts"], list) and out["verdicts"] and all(v in VERDICTS for v in out["verdicts"])):
        bad("serve.reject.verdicts", "a list of verdicts ({}), not {!r}".format(", ".join(VERDICTS), out["verdicts"]))
    for key, keys, check in (("webhook", WEBHOOK_KEYS, _webhook), ("tcp", TCP_KEYS, _tcp), ("gpio", GPIO_KEYS, _gpio)):
        if key in spec:
            prefix = "serve.reject.{}.".format(key)
            if not isinstance(spec[key], dict):
                bad(prefix[:-1], "a mapping ({})".format(", ".join(keys)))
                continue
            _unknown(spec[key], keys, prefix, bad)
            out[key] = check(dict(spec[key]), prefix, bad)
    return out


def _timeout(d, prefix, bad):
    d.setdefault("timeout_s", 2.0)
    if not _number(d["timeout_s"], 0.01, 60):
        bad(prefix + "timeout_s", "seconds in [0.01, 60], not {!r}".format(d["timeout_s"]))


def _webhook(d, prefix, bad):
    if not str(d.get("url", "")).startswith(("http://", "https://")):
        bad(prefix + "url", "an http:// or https:// URL, not {!r}".format(d.get("url")))
    _timeout(d, prefix, bad)
    return d


def _tcp(d, prefix, bad):
    if not isinstance(d.get("host"), str) or not d.get("host"):
        bad(prefix + "host", "a host name or address, not {!r}".format(d.get("host")))
    _int(d, "port", 1, 65535, prefix, bad)
    _timeout(d, prefix, bad)
    return d


def _gpio(d, prefix, bad):
    _int(d, "pin", 1, 255, prefix, bad)
    d.setdefault("pulse_ms", 100)
    d.setdefault("mode", "BOARD")
    d.setdefault("active", "high")
    if not _number(d["pulse_ms"], 1, 10000):
        bad(prefix + "pulse_ms", "milliseconds in [1, 10000], not {!r}".format(d["pulse_ms"]))
    if d["mode"] not in ("BOARD", "BCM"):
        bad(prefix + "mode", "BOARD or BCM (Jetson.GPIO pin numbering), not {!r}".format(d["mode"]))
    if d["active"] not in ("high", "low"):
        bad(prefix + "active", "high or low, not {!r}".format(d["active"]))
    return d
