"""`invoke serve`: the reader as a service beside a line (issue 19).

settings  the job file's `serve:` section (address, token, limits, log, reject signal), validated
service   capture -> trigger -> bounded queue -> read, the drop policy, faults, what endpoints show
api       the HTTP API (standard library http.server) and the live page (page.html)
metrics   counters, the latency histogram and their Prometheus text
signals   the reject signal: webhook, TCP line message, Jetson GPIO pulse
jsonlog   the result log: whole JSON lines, rotated by size
"""


def serve_cli(job_path, source=None, telemetry=None, stream=None):
    """Run until SIGTERM or Ctrl-C; exit code 0, or 2 (one line) on a bad job, an engine that cannot
    run here, a missing Jetson.GPIO, an unwritable log or a port that cannot be bound.
    `source` overrides the job's serve.source; telemetry: see Service."""
    import signal
    import sys
    import threading

    from ...errors import EngineUnavailable
    from ..job import JobError, load_job
    from . import api
    from .service import Service
    out = stream or sys.stdout
    try:
        job = load_job(job_path)
        if source is not None:
            job.serve.source = source
        if job.serve.token is None:
            raise JobError(["{}: serve.token: needed (or serve.token_file): every endpoint but /health asks "
                            "for it".format(job_path)])
        service = Service(job, telemetry=telemetry)
    except (JobError, EngineUnavailable, RuntimeError, OSError) as exc:  # one line each, nothing started
        out.write(str(exc) + "\n")
        return 2
    try:
        server = api.serve(service, job.serve.bind, job.serve.port)
    except OSError as exc:
        service.stop()
        out.write("cannot listen on {}:{}: {}\n".format(job.serve.bind, job.serve.port, exc.strerror or exc))
        return 2
    done = threading.Event()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: done.set())
    thread = threading.Thread(target=server.serve_forever, name="http")
    thread.daemon = True
    thread.start()
    host, port = server.server_address[:2]
    out.write("serving {} on http://{}:{}/ (source: {})\n".format(job_path, host, port, job.serve.source or "none"))
    out.flush()
    try:
        while not done.wait(1.0):
            pass
    except KeyboardInterrupt:
        pass
    server.shutdown()
    server.server_close()
    service.stop()
    out.write("stopped; line items: {}\n".format(service.metrics.verdict_counts("line")))
    return 0
