"""Job files: the documented example loads; every mistake is one line, all of them at once."""
import datetime
import os

import pytest

from ocr.reader import job as jobs
from tests.conftest import ROOT

EXAMPLE = os.path.join(ROOT, "ocr", "reader", "example-job.yml")


def test_the_documented_example_loads(tmp_path):
    text = open(EXAMPLE).read()
    path = tmp_path / "job.yml"
    path.write_text(text)
    (tmp_path / "lot.txt").write_text("A12345\n")
    (tmp_path / "reader.token").write_text("a-long-secret\n")
    job = jobs.load_job(str(path))
    s = job.serve
    assert (s.bind, s.port, s.token, s.queue, s.retry_s) == ("0.0.0.0", 8080, "a-long-secret", 2, [1, 30])
    assert s.reject["verdicts"] == ["FAIL", "REJECT"] and s.reject["gpio"]["pin"] == 12
    assert job.engine == "codereader" and job.now == datetime.date(2026, 11, 30)
    assert [(r.name, r.box, r.find) for r in job.regions] == [("cap", [160, 120, 480, 360], "auto")]
    assert job.output["jsonl"] == str(tmp_path / "out" / "verdicts.jsonl")
    v = job.verifier(0.74)
    assert v.threshold == 0.74 and v.formats == {"labelled_date", "labelled_lot"}
    # 2026-11-30 + 540..550 d = 2028-05-23..2028-06-02
    good = "EXP 24/05/2028 LOT A12345"
    assert v.judge(good, 0.9, [["labelled_date", "labelled_lot"]], "1")[0] == "PASS"
    assert v.judge("EXP 24/05/2028 LOT A12346", 0.9, [["labelled_date", "labelled_lot"]], "1")[0] == "FAIL"


def test_the_gpu_twin_is_used_where_it_is_available(monkeypatch):
    from ocr.engines import registry
    monkeypatch.setitem(registry.ENGINES, "codereader-trt", "ocr.engines.codereader:CodeReader")
    job = jobs.Job.from_dict({})
    monkeypatch.setattr(registry, "availability", lambda name: (False, "no TensorRT"))
    assert job.engine_name() == "codereader"
    monkeypatch.setattr(registry, "availability", lambda name: (True, ""))
    assert job.engine_name() == "codereader-trt"
    assert jobs.Job.from_dict({"gpu_twin": False}).engine_name() == "codereader"
    assert jobs.Job.from_dict({"engine": "ppocr-onnx-rec"}).engine_name() == "ppocr-onnx-rec-trt"
    assert jobs.Job.from_dict({"engine": "ppocr-onnx-rec-fp16"}).engine_name() == "ppocr-onnx-rec-fp16"  # none
    with pytest.raises(jobs.JobError, match="gpu_twin: true or false"):
        jobs.Job.from_dict({"gpu_twin": "yes"})


def test_no_job_means_whole_frame_and_no_rule():
    job = jobs.load_job(None)
    assert [(r.name, r.box, r.find) for r in job.regions] == [("frame", None, None)]
    assert job.verifier(None).judge("EXP 05/2027", 0.1, [["labelled_date"]], "x")[0] == "PASS"
    assert jobs.Job.from_dict({"regions": "auto"}).needs_detector


def test_every_mistake_is_one_line(tmp_path):
    path = tmp_path / "bad.yml"
    path.write_text("\n".join([
        "engine: nope",
        "colour: red",
        "threshold: 2",
        "regions:",
        "  - {name: a, box: [10, 10, 5, 20]}",
        "  - {name: a, find: sometimes, size: 3}",
        "formats: [date, dates]",
        "match: fuzzy",
        "now: yesterday",
        "verify:",
        "  date: EXP around today",
        "  pattern: '<NOPE>'",
        "  lot_file: missing-lot.txt",
        "  expect: missing.jsonl",
        "  colour: blue",
        "trigger: {rule: motion, cover: 3}",
    ]) + "\n")
    with pytest.raises(jobs.JobError) as err:
        jobs.load_job(str(path))
    lines = err.value.problems
    p = str(path)
    expected = [
        p + ": colour: unknown key",
        p + ": engine: unknown engine 'nope'",
        p + ": threshold: 'shipped', null or a number in [0, 1], not 2",
        p + ": regions[0].box: four pixel coordinates",
        p + ": regions[1].size: unknown key",
        p + ": regions[1].name: 'a' used twice",
        p + ": regions[1].find: 'auto' or absent, not 'sometimes'",
        p + ": formats: unknown format 'dates'",
        p + ": match: 'normalised' or 'exact', not 'fuzzy'",
        p + ": now: a date YYYY-MM-DD, not 'yesterday'",
        p + ": verify.colour: unknown key",
        p + ": verify.pattern: pattern '<NOPE>': unknown macro <NOPE>",
        p + ": verify.date: 'EXP around today': expected",
        p + ": verify.lot_file: lot_file " + str(tmp_path / "missing-lot.txt") + ": No such file",
        p + ": verify.expect: " + str(tmp_path / "missing.jsonl") + ": cannot read",
        p + ": trigger.rule: 'presence' is the one rule, not 'motion'",
        p + ": trigger.cover: a number in [0.0, 1.0], not 3",
    ]
    assert len(lines) == len(expected), "\n".join(lines)
    for want in expected:
        assert any(line.startswith(want) for line in lines), want + "\n--- got:\n" + "\n".join(lines)
    assert all("\n" not in line for line in lines)


@pytest.mark.parametrize("text, problem", [
    ("engine: [\n", "not YAML"),
    ("- a\n- b\n", "a job is a mapping"),
])
def test_unreadable_jobs_say_so_in_one_line(tmp_path, text, problem):
    path = tmp_path / "j.yml"
    path.write_text(text)
    with pytest.raises(jobs.JobError) as err:
        jobs.load_job(str(path))
    assert len(err.value.problems) == 1 and problem in err.value.problems[0]


def test_expectations_from_a_manifest_a_map_or_a_truth_file(tmp_path):
    (tmp_path / "m.jsonl").write_text('{"manifest": {"line_join": " "}}\n{"image": "crops/a.png", "text": "L1"}\n')
    assert jobs.load_expectations("m.jsonl", str(tmp_path)) == {"crops/a.png": "L1"}
    (tmp_path / "truth.json").write_text('{"items": [{"item": 1, "text": "EXP 05/27"}]}')
    assert jobs.load_expectations(str(tmp_path / "truth.json")) == {"1": "EXP 05/27"}
    assert jobs.load_expectations({3: "X"}) == {"3": "X"}
    (tmp_path / "bad.jsonl").write_text('{"image": "a.png"}\n')
    with pytest.raises(ValueError, match="bad.jsonl:1: needs image"):
        jobs.load_expectations(str(tmp_path / "bad.jsonl"))
