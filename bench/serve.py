"""`invoke serve` at the bench layer: the reader service (ocr/reader/service/) with the kit's
telemetry wired in on a Jetson, so that /metrics carries its temperatures and the throttle rule of
bench/telemetry.py (the service itself sits below bench/ and takes telemetry as a callable); and
the service's benchmark, `invoke read-bench --service` (results/RUN/serve-ENGINE.json)."""
import os

from ocr.reader.service import serve_cli as _serve_cli

from . import telemetry


def newest_sample(source, rule):
    """A started telemetry.Sampler that holds only the newest sample (a service runs for months)."""
    return telemetry.Sampler(source=source, rule=rule, keep=1).start()


def serve_cli(job, source=None, interval_ms=2000):
    sampler = None
    if telemetry.TegrastatsSource.available():  # a Jetson: tegrastats is there
        sampler = newest_sample(telemetry.TegrastatsSource(interval_ms), telemetry.ThrottleRule.read())
    try:
        return _serve_cli(job, source, telemetry=sampler.latest if sampler else None)
    finally:
        if sampler is not None:
            sampler.stop()


# --- the service's benchmark (not a CI test): invoke read-bench --service ----------------------------
SCHEMA = "nano-ocr-kit/serve-result/1"


def run(out_dir, items=40, seed=0, speed=12, uploads=20):
    """The conveyor video (bench/stream.py's) as the service's camera, played at its frame rate,
    then the frames where `uploads` of its items cover the region, POSTed to /read over HTTP one
    after another (JPEG, item numbers as the keys of the expected texts). Line latency is capture
    to verdict; upload latency the client's round trip."""
    import json
    import time
    import types
    from urllib.request import Request, urlopen

    from ocr.reader import conveyor
    from ocr.reader.job import load_job
    from ocr.reader.service import api
    from ocr.reader.service.service import Service

    from .runner import timing_stats
    from .stream import score, warm_up

    truth = conveyor.write_video(out_dir, items, seed, speed)
    job_path = os.path.join(out_dir, "job.yml")
    log_path = os.path.join(out_dir, "serve.jsonl")
    if os.path.exists(log_path):
        os.unlink(log_path)
    token = "bench-token-0000"
    with open(job_path, "a") as f:  # no replay: the run ends with the video
        f.write("serve: {{token: {}, port: 0, source: '{}', retry_s: [3600, 3600], log: {{path: serve.jsonl}}}}\n"
                .format(token, os.path.join(os.path.abspath(out_dir), truth["video"])))
    job = load_job(job_path)
    service = Service(job)
    warm_up(service.reader, job, os.path.join(out_dir, truth["video"]))
    t0 = time.perf_counter()
    server = api.serve_in_background(service, "127.0.0.1", 0)
    try:
        while service.health()[1]["camera"]["state"] != "lost":
            time.sleep(0.1)
        seconds = time.perf_counter() - t0
        counters = service.counts()
        url = "http://127.0.0.1:{}/read".format(server.server_address[1])
        round_trips, upload_verdicts = [], []
        for item, body in _item_frames(os.path.join(out_dir, truth["video"]), truth, uploads):
            t = time.perf_counter()
            req = Request("{}?item={}".format(url, item), body, {"Authorization": "Bearer " + token})
            with urlopen(req, timeout=60) as resp:
                upload_verdicts += [v["verdict"] for v in json.loads(resp.read().decode("utf-8"))["verdicts"]]
            round_trips.append((time.perf_counter() - t) * 1000.0)
    finally:
        server.shutdown()
        server.server_close()
        service.stop()
    with open(log_path) as f:
        line = [json.loads(x) for x in f if '"origin": "line"' in x]
    scored = score([types.SimpleNamespace(**r) for r in line], truth)
    return {"truth": truth, "job": job.spec, "engine": service.reader.engine.describe(), "seconds": round(seconds, 2),
            "frames": truth["frames"], "counters": counters, "score": scored,
            "items_per_s": round(len(line) / seconds, 3) if seconds else None,
            "latency_ms": timing_stats([r["latency_ms"] for r in line]),
            "upload_round_trip_ms": timing_stats(round_trips), "uploads": len(round_trips),
            "upload_counts": {k: upload_verdicts.count(k) for k in ("PASS", "FAIL", "REJECT")}}


def _item_frames(video, truth, n):
    """(item number, JPEG bytes) of the first frame where each of the first n items covers the
    region: what a line camera would upload."""
    import cv2
    want = {it["covers_region"][0]: it["item"] for it in truth["items"][:n]}
    cap = cv2.VideoCapture(video)
    index, out = 0, []
    while want:
        ok, image = cap.read()
        if not ok:
            break
        if index in want:
            out.append((want.pop(index), cv2.imencode(".jpg", image)[1].tobytes()))
        index += 1
    cap.release()
    return out


def bench_cli(out_dir, items=40, seed=0, speed=12, results_dir="results", argv=None, echo=print):

    from tabulate import tabulate

    from . import results
    from .stream import _ms
    doc, path = results.write_stream_result(results_dir, "serve", SCHEMA,
                                            lambda: run(out_dir, items, seed, speed), argv)
    s, lat, up = doc["score"], doc["latency_ms"] or {}, doc["upload_round_trip_ms"] or {}
    echo(tabulate([[s["items_in"], s["read_once"], s["missed"], s["verdicts"]["right_pass"],
                    s["verdicts"]["wrong_pass"], doc["items_per_s"], _ms(lat.get("p50")), _ms(lat.get("p90")),
                    _ms(lat.get("p99")), doc["counters"]["items_dropped"], doc["counters"]["frames_dropped"],
                    _ms(up.get("p50")), _ms(up.get("p99"))]],
                   headers=["items in", "read once", "missed", "PASS (right)", "PASS (wrong)", "items/s",
                            "latency p50 ms", "p90", "p99", "items dropped", "frames dropped",
                            "POST /read p50 ms", "p99"]))
    echo("wrote " + path)
    return 1 if s["verdicts"]["wrong_pass"] else 0


if __name__ == "__main__":  # python -m bench.serve JOB [SOURCE]: the systemd unit's command (no tasks.py needed)
    import sys
    if len(sys.argv) not in (2, 3):
        sys.exit("usage: python -m bench.serve JOB [SOURCE]")
    sys.exit(serve_cli(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None))
