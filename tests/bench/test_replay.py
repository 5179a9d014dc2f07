"""bench/replay.py: the cache is built once and reused, a piece the splitter cuts differently is a
clear error, and the CLI times the shipped or a patched set of hot loops, restoring them after."""
import json

import numpy as np
import pytest

pytest.importorskip("onnxruntime")


def test_cache_is_reused_and_a_foreign_piece_is_an_error(tmp_path, monkeypatch):
    from bench import replay
    monkeypatch.setenv("KIT_REPLAY_CACHE", str(tmp_path))
    first = replay.Replay(limit=4, threads=2)
    assert first.path.startswith(str(tmp_path)) and len(first.probs) >= 4
    again = replay.Replay(limit=4, threads=2)
    assert sorted(again.probs) == sorted(first.probs)
    assert [p.text for p in again.run()] == [p.text for p in first.run()]
    with pytest.raises(replay.CacheMiss, match="not cached"):
        again.run([np.full((40, 200), 200, np.uint8)])


def test_cli_times_a_patched_path_and_puts_the_shipped_one_back(tmp_path, monkeypatch):
    from bench import replay
    from ocr import ctc
    monkeypatch.setenv("KIT_REPLAY_CACHE", str(tmp_path))
    shipped = ctc.greedy
    out = tmp_path / "r.json"
    assert replay.main(["--limit", "4", "--repeats", "1", "--patches", "tests.ocr.reference", "--out", str(out)]) == 0
    assert ctc.greedy is shipped
    doc = json.loads(out.read_text())
    assert doc["patches"] == "tests.ocr.reference" and len(doc["reads"]) == 4
    assert {"split", "decode", "split+decode", "cpu"} <= set(doc["timing"])


def test_compare_times_both_sides_in_turn(tmp_path, monkeypatch):
    from bench import replay
    monkeypatch.setenv("KIT_REPLAY_CACHE", str(tmp_path))
    out = tmp_path / "c.json"
    assert replay.main(["--limit", "4", "--repeats", "2", "--compare", "tests.ocr.reference", "--out", str(out)]) == 0
    both = json.loads(out.read_text())["compare"]
    assert set(both) == {"shipped", "tests.ocr.reference"}
    assert all(t["cpu"] > 0 and t["split+decode"] > 0 for t in both.values())
