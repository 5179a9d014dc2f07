"""The stream benchmark's scoring (the benchmark itself is timed, so it is no CI test: `invoke
read-bench` writes its result file): verdicts matched to ground-truth items by frame."""
from bench import stream
from ocr.reader.output import Verdict

TRUTH = {"speed_px_per_frame": 10, "region": [100, 0, 200, 50], "items": [
    {"item": 1, "text": "EXP 05/2027", "x_start": -150, "size": [120, 60]},   # over the region at frames ~25-35
    {"item": 2, "text": "L1234", "x_start": -450, "size": [120, 60]},         # ~55-65
    {"item": 3, "text": "2026.11.30", "x_start": -750, "size": [120, 60]},    # ~85-95: never read
]}


def _v(frame, text, verdict):
    return Verdict(frame=frame, text=text, verdict=verdict)


def test_score_counts_items_read_once_missed_and_wrong_passes():
    got = stream.score([_v(30, "EXP05/2027", "PASS"), _v(58, "L1284", "PASS"), _v(61, "L1234", "FAIL"),
                        _v(400, "X", "REJECT")], TRUTH)
    assert (got["items_in"], got["read_once"], got["missed"], got["read_more_than_once"]) == (3, 1, 1, 1)
    assert got["verdicts_outside_items"] == 1
    assert got["verdicts"] == {"right_pass": 1, "wrong_pass": 1, "fail_right_read": 1, "fail_misread": 0,
                               "reject": 0}
