"""`invoke bench`: argument handling, the run loop over engines, and the printed tables."""
import os
import sys

from ocr import dataset as datasets
from ocr.engines import registry

from . import results, runner, tables


class UsageError(Exception):
    pass


def _value(text):
    """Option values from the command line: int, float, bool or string."""
    low = text.lower()
    if low in ("true", "yes", "on"):
        return True
    if low in ("false", "no", "off"):
        return False
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def parse_options(items, engines):
    """['threads=2', 'easyocr.batch=4', 'pre=gray+clahe'] -> {engine: {key: value}}, {engine: pre}.

    A bare KEY applies to every selected engine that has that option; ENGINE.KEY to that engine.
    `pre` (the preprocessing pipeline) is the runner's, valid for every engine.
    """
    opts = {e: {} for e in engines}
    pres = {}
    for item in items:
        key, sep, val = item.partition("=")
        if not sep:
            raise UsageError("option '{}': want KEY=VALUE".format(item))
        target, _, key = key.rpartition(".")
        if target and target not in engines:
            raise UsageError("option '{}': engine '{}' is not selected".format(item, target))
        takers = [target] if target else engines
        accepted = False
        for e in takers:
            if key == "pre":
                pres[e] = val
                accepted = True
                continue
            try:
                valid = registry.engine_class(e).default_options
            except Exception:  # noqa: BLE001 - an engine that cannot import takes no options
                valid = {}
            if key in valid:
                opts[e][key] = _value(val)
                accepted = True
        if not accepted:
            raise UsageError("option '{}': no selected engine has option '{}'".format(item, key))
    return opts, pres


def select_engines(all_engines, engines):
    if all_engines:
        return registry.names()
    if not engines:
        raise UsageError("name engines with --engine NAME (repeatable) or use --all; engines: "
                         + ", ".join(registry.names()))
    for e in engines:
        if e not in registry.ENGINES:
            raise UsageError("unknown engine '{}'; valid engines: {}".format(e, ", ".join(registry.names())))
    return sorted(set(engines), key=list(engines).index)  # once each: one result file per engine


def number(flag, value, default, cast=int, minimum=0):
    """A command-line count or duration: None -> default; anything but a number >= minimum (a
    negative --limit would silently drop samples as a slice) -> UsageError."""
    if value is None:
        return default
    try:
        if isinstance(value, bool) or (cast is int and isinstance(value, float)):
            raise ValueError
        n = cast(str(value).strip())
    except ValueError:
        n = None
    if n is None or not n < float("inf") or n < minimum:  # NaN and inf fail the first test
        raise UsageError("{} wants a {} >= {}, got {!r}".format(
            flag, "whole number" if cast is int else "number", minimum, value))
    return n


def _progress(total, desc):
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, desc=desc, unit="crop", leave=False, disable=not sys.stderr.isatty())


def _telemetry_window(sampler):
    if sampler is None:
        return None
    from bench import telemetry

    def window(t0, t1, summary):
        tel = sampler.window(t0, t1)
        mean_total = (summary.get("timing", {}).get("total_ms") or {}).get("mean")
        tel["energy_per_read_mj"] = telemetry.energy_per_read_mj(tel.get("mean_power_w"), mean_total)
        return tel
    return window


def _start_sampler(enabled, state=None):
    if not enabled:
        return None
    try:
        from bench import telemetry
        sampler = telemetry.Sampler(interval_ms=100, state=state)
        sampler.start()
        return sampler
    except Exception as exc:  # noqa: BLE001 - telemetry is informative, never fatal
        print("bench: telemetry off ({})".format(exc), file=sys.stderr)
        return None


def _why(exc):
    return getattr(exc, "strerror", None) or str(exc)


def _make_run_dir(out, echo):
    """A fresh run folder, or None (one line said why: the engines are measured all the same)."""
    try:
        return results.new_run_dir(out)
    except OSError as exc:
        echo("bench: cannot create a run folder under {}: {}; measuring anyway, no result file will "
             "be written".format(out, _why(exc)))
        return None


def _remove_empty(folder):
    try:
        os.rmdir(folder)  # only if empty: a run that kept nothing leaves no folder
    except OSError:
        pass


def _save(run_dir, name, doc, echo):
    """Write one engine's result (never over an existing file); its path, or None."""
    if run_dir is None:
        return None
    path = os.path.join(run_dir, name + ".json")
    try:
        return results.write_json_atomic(path, doc, overwrite=False)
    except OSError as exc:  # full or read-only disk: this result is lost, the next engines still run
        echo("bench: {}: result not written to {}: {}".format(name, path, _why(exc)))
        return None


def bench(all_engines=False, engines=(), data=None, warmup=None, batch=None, limit=None, out="results",
          interpreters=None, options=(), telemetry=True, argv=None, warmup_image=None, echo=print,
          sample_timeout=None, load_timeout=None, allow_outside_images=False, trust_models=False):
    """Run the benchmark; print the table; return an exit code: 0 when every engine ran (under
    --all an engine unavailable on this host is fine too), 1 when one failed, an engine named
    with --engine cannot run, or a result could not be written, 2 on bad arguments or data,
    130 when interrupted."""
    try:
        names = select_engines(all_engines, engines)
        warmup = number("--warmup", warmup, 30)
        batch = number("--batch", batch, 8)
        limit = number("--limit", limit, 0)
        timeouts = (number("--load-timeout", load_timeout, None, float),
                    number("--sample-timeout", sample_timeout, None, float))
        opts, pres = parse_options(list(options), names)
        ds = datasets.load(data, allow_outside=allow_outside_images)
        table = runner.load_interpreters(interpreters)
    except (UsageError, datasets.DatasetError, ValueError, IOError) as exc:
        echo("bench: {}".format(exc))
        return 2
    for p in ds.problems:
        echo("bench: dataset problem (sample skipped): {}".format(p))
    samples = ds.samples[:limit] if limit else ds.samples
    if not samples:
        echo("bench: no valid sample in {} ({} problems above): nothing to measure".format(ds.path, len(ds.problems)))
        return 2
    warmup_image = warmup_image or runner.DEFAULT_WARMUP_IMAGE
    if warmup > 0 and not os.path.isfile(warmup_image):
        echo("bench: warm-up image missing: {} (use --warmup 0 to skip warm-up)".format(warmup_image))
        return 2
    run_dir = _make_run_dir(out, echo)
    machine, git = results.machine(), results.git_describe()  # once per run, not per engine
    sampler = _start_sampler(telemetry, machine.get("platform"))
    docs, kept, failed = [], [], not run_dir
    trusted = os.environ.get("KIT_TRUST_MODELS")
    if trust_models:  # the workers inherit it: staged model folders without SHA256SUMS are accepted
        os.environ["KIT_TRUST_MODELS"] = "1"
    try:
        for name in names:
            python = runner.interpreter_for(name, table)
            bar = _progress(len(samples), name)
            doc = runner.run_engine(name, opts.get(name, {}), pres.get(name, "gray"), ds, samples, python,
                                    warmup, batch, warmup_image, argv=argv, machine=machine, git=git,
                                    telemetry=_telemetry_window(sampler), progress=bar, timeouts=timeouts)
            if bar is not None:
                bar.close()
            path = _save(run_dir, name, doc, echo)
            kept += [path] if path else []
            docs.append(doc)
            failed = failed or not path or doc["status"] == "error" or (
                doc["status"] == "unavailable" and not all_engines)
            echo("bench: {:<16} {:<11} {}".format(name, doc["status"], doc.get("reason") or path or "(not saved)"))
    except KeyboardInterrupt:
        echo("bench: interrupted; kept {}".format(", ".join(kept) if kept else "no result file"))
        return 130
    finally:
        if sampler is not None:
            sampler.stop()
        if run_dir and not kept:
            _remove_empty(run_dir)
        if trusted is None:
            os.environ.pop("KIT_TRUST_MODELS", None)
        else:
            os.environ["KIT_TRUST_MODELS"] = trusted
    print_tables(docs, ds, samples, echo)
    echo("results: {}".format(run_dir if kept else "none written"))
    return 1 if failed else 0


def print_tables(docs, ds, samples, echo=print):
    headers, rows = tables.comparison(docs)
    label = results.dataset_label(ds.describe())
    echo("")
    echo("Dataset: {}: {} ({} samples{})".format(label, ds.path, len(samples),
                                                 ", {} problems".format(len(ds.problems)) if ds.problems else ""))
    echo(tables.render(headers, rows))
    missing = tables.not_measured(docs)
    if missing:
        echo("Not measured here ({}):".format(sum(d.get("status") != "ok" for d in docs)))
        echo("\n".join(missing))
    for title, note, h, r in tables.side_tables(docs):
        echo("")
        echo("{} [{}]: {}".format(title, label, note))
        echo(tables.render(h, r))
    rh, rr, source = tables.reference()
    echo("")
    echo("Reference: the paper's published numbers (its own 100 private crops; not the same data)")
    echo(tables.render(rh, rr))
    echo("source: " + source)
