"""Verdicts: REJECT when not trusted, PASS/FAIL by the rules; date rules on a fixed clock."""
import datetime

import pytest

from ocr.reader import verify
from ocr.reader.job import _pattern_rule

NOW = datetime.date(2026, 1, 10)
FMT = [["labelled_date"]]


def test_date_rule_relative_to_a_fixed_clock():
    rule = verify.DateRule("EXP between today+540d and today+550d")
    v = verify.Verifier(date=rule, now=NOW)
    # 2026-01-10 + 540 d = 2027-07-04, + 550 d = 2027-07-14
    assert v.judge("EXP 05/07/2027", 0.99, FMT, "a")[0] == verify.PASS
    assert v.judge("EXP 14/07/2027", 0.99, FMT, "a")[0] == verify.PASS
    verdict, reason, parsed = v.judge("EXP 15/07/2027", 0.99, FMT, "a")
    assert verdict == verify.FAIL and "2027-07-15 breaks" in reason and parsed["date"] == "2027-07-15"
    assert v.judge("EXP 03/07/2027", 0.99, FMT, "a")[0] == verify.FAIL


def test_date_rule_picks_the_labelled_date_and_other_operators():
    mfg = verify.Verifier(date=verify.DateRule("MFG on today"), now=NOW)
    assert mfg.judge("MFG 10/01/2026 EXP 10/01/2028", 0.9, FMT, "a")[0] == verify.PASS
    assert mfg.judge("EXP 10/01/2026", 0.9, FMT, "a")[1] == "no production date read"
    assert verify.Verifier(date=verify.DateRule("before 2026-02-01"), now=NOW).judge(
        "31.01.2026", 0.9, FMT, "a")[0] == verify.PASS
    assert verify.Verifier(date=verify.DateRule("after today+2w"), now=NOW).judge(
        "24.01.2026", 0.9, FMT, "a")[0] == verify.FAIL  # exactly two weeks is not after


@pytest.mark.parametrize("bad", ["EXP between today and", "EXP around today", "XYZ on today",
                                 "EXP on tomorrow", "EXP before today+5x"])
def test_bad_date_rules_fail_on_load(bad):
    with pytest.raises(verify.RuleError):
        verify.DateRule(bad)


def test_reject_when_not_trusted():
    v = verify.Verifier(threshold=0.7, formats=["labelled_date"], text="EXP 05/2027")
    assert v.judge("EXP 05/2027", 0.69, FMT, "a")[:2] == (verify.REJECT, "confidence 0.690 < 0.700")
    assert v.judge("EXP 05/2027", 0.9, None, "a")[:2] == (verify.REJECT, "fits no format")
    assert v.judge("EXP 05/2027", 0.9, [["date"]], "a")[:2] == (verify.REJECT, "format date not expected")
    assert v.judge("", 0.9, FMT, "a")[0] == verify.REJECT
    assert v.judge("EXP 05/2027", 0.9, FMT, "a")[0] == verify.PASS
    assert v.judge("EXP 05/2028", 0.9, FMT, "a")[0] == verify.FAIL


def test_text_matching_normalised_or_exact_and_per_item():
    loose = verify.Verifier(text="EXP 05/2027")
    assert loose.judge("exp05/2027", 0.9, FMT, "a")[0] == verify.PASS
    strict = verify.Verifier(text="EXP 05/2027", match="exact")
    assert strict.judge("EXP05/2027", 0.9, FMT, "a")[0] == verify.FAIL
    per_item = verify.Verifier(expect={"crops/a.png": "L1234", "2": "L999"})
    assert per_item.judge("L1234", 0.9, FMT, "/data/crops/a.png")[0] == verify.PASS  # by file name
    assert per_item.judge("L1234", 0.9, FMT, "2")[0] == verify.FAIL
    assert per_item.judge("L1234", 0.9, FMT, "3")[1] == "no expected text for 3"


def test_pattern_rule_in_the_formats_language():
    v = verify.Verifier(pattern=_pattern_rule("EXP <MM>/<YYYY>"))
    assert v.judge("EXP 05/2027", 0.9, FMT, "a")[0] == verify.PASS
    assert v.judge("EXP05/2027", 0.9, FMT, "a")[0] == verify.PASS    # a pattern's space is optional
    assert v.judge("EXP 13/2027", 0.9, FMT, "a")[0] == verify.FAIL   # no month 13
    assert v.judge("EXP O5/2027", 0.9, FMT, "a")[0] == verify.FAIL   # no look-alike swaps here
    assert v.judge("EXP 05/2027 EXP 05/2027", 0.9, FMT, "a")[0] == verify.FAIL  # one item only
    with pytest.raises(verify.RuleError):
        _pattern_rule("EXP <NOPE>")


def test_lot_from_a_file_is_reread_when_it_changes(tmp_path):
    lot = tmp_path / "lot.txt"
    lot.write_text("\nA12345\n")
    v = verify.Verifier(lot_file=verify.LotFile(str(lot)))
    assert v.judge("LOT A12345", 0.9, [["labelled_lot"]], "a")[0] == verify.PASS
    lot.write_text("B777\n")
    import os
    os.utime(str(lot), (1, 1))  # a new stamp even within the file system's time resolution
    verdict, reason, _ = v.judge("LOT A12345", 0.9, [["labelled_lot"]], "a")
    assert verdict == verify.FAIL and reason == "lot A12345 (file: B777)"
