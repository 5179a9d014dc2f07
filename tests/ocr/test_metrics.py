"""The paper's metrics on hand-computed cases."""
import pytest

from ocr import metrics


def test_levenshtein_hand_cases():
    assert metrics.levenshtein("kitten", "sitting") == 3
    assert metrics.levenshtein("", "abc") == 3
    assert metrics.levenshtein("abc", "") == 3
    assert metrics.levenshtein("EXP", "EXP") == 0


def test_sample_scores_substitution():
    s = metrics.sample_scores("L0T 123", "LOT 123")  # one substitution in 7 chars
    assert not s["exact"]
    assert s["distance"] == 1
    assert s["cer"] == pytest.approx(1 / 7.0)
    # multiset intersection: all but the 0/O pair -> 6 of 7 on both sides
    assert s["precision"] == pytest.approx(6 / 7.0)
    assert s["recall"] == pytest.approx(6 / 7.0)


def test_multiset_counts_repeats():
    s = metrics.sample_scores("1111", "12")  # one '1' matches; '2' missed; three extra '1's
    assert s["tp"] == 1
    assert s["precision"] == pytest.approx(0.25)
    assert s["recall"] == pytest.approx(0.5)


def test_empty_prediction_and_empty_truth():
    s = metrics.sample_scores("", "EXP")
    assert s["cer"] == 1.0 and s["precision"] == 0.0 and s["recall"] == 0.0
    s = metrics.sample_scores("AB", "")
    assert s["cer"] == 2.0  # denominator 1 for an empty truth: each extra char costs 1
    assert s["precision"] == 0.0 and s["recall"] == 0.0
    s = metrics.sample_scores("", "")
    assert s["exact"] and s["cer"] == 0.0 and s["precision"] == 1.0 and s["recall"] == 1.0


def test_evaluate_raw_and_normalised():
    pairs = [("EXP 2025.05.02", "EXP2025.05.02"), ("lot a1", "LOT A1"), ("ABC", "ABD")]
    r = metrics.evaluate(pairs)
    assert r["raw"]["strict_accuracy"] == 0.0
    assert r["normalised"]["strict_accuracy"] == pytest.approx(2 / 3.0)
    # corpus CER (normalised): distances 0 + 0 + 1 over 13 + 5 + 3 truth chars
    assert r["normalised"]["corpus_cer"] == pytest.approx(1 / 21.0)
    assert r["normalised"]["cer"] == pytest.approx((0 + 0 + 1 / 3.0) / 3)


def test_paper_example():
    truth = "PRO:08/2022EXP:08/2023L2215029520H02:05"
    pred = "R00872022FXP:08/20232213029520H02'05"
    r = metrics.evaluate([(pred, truth)])["raw"]
    assert r["strict_accuracy"] == 0.0
    assert 0 < r["cer"] < 0.3


def test_threshold_for_precision():
    recs = [(0.99, True), (0.95, True), (0.9, True), (0.8, False), (0.7, True), (0.6, False)]
    thr = metrics.threshold_for_precision(recs, 0.99)
    assert thr == 0.9
    prec, cov = metrics.precision_at_threshold(recs, thr)
    assert prec == 1.0 and cov == pytest.approx(0.5)
    assert metrics.threshold_for_precision([(0.9, False)], 0.99) is None


@pytest.mark.parametrize("pred, truth, lost", [
    ("L10011", "L110011", 1), ("201 2033", "20 11 2033", 1), ("P13036", "P113036", 1), ("1", "111", 2),
    ("ABC", "ABC", 0), ("ABC", "A11BC", 0),  # a run lost whole is no collapsed repeat
    ("2022 03.20", "2022.03.20", 0), ("P11036", "P113036", 0)])
def test_collapsed_repeats(pred, truth, lost):
    assert metrics.collapsed_repeats(pred, truth) == lost


def test_evaluate_counts_reads_that_collapsed_a_repeat():
    out = metrics.evaluate([("L10011", "L110011"), ("ABC", "ABC"), ("1", "111")])
    assert out["normalised"]["collapsed_repeat_reads"] == 2
