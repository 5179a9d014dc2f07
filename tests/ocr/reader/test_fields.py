"""Dates as ISO 8601 and lots, parsed from the default set's code formats."""
import pytest

from ocr.reader import fields


@pytest.mark.parametrize("text, date, lot", [
    ("EXP 2027.05.09", "2027-05-09", None),
    ("BEST BEFORE 12/05/2026", "2026-05-12", None),
    ("12 JUN 2026", "2026-06-12", None),
    ("JUN-12-2026", "2026-06-12", None),
    ("EXP JUN 05, 2027", "2027-06-05", None),
    ("BB 03 MAR 27", "2027-03-03", None),
    ("BEST IF USED BY JUN 2021", "2021-06", None),
    ("P112104 09/20", "2020-09", None),
    ("PRO:03/2024 EXP:03/2027 L0123456789 H12:30", "2027-03", "0123456789"),
    ("12/05/26 L12345", "2026-05-12", "12345"),
    ("LOT A12345-B1", None, "A12345-B1"),
    ("BATCH #AB12CD", None, "AB12CD"),
    ("EXP 13/2025", None, None),   # no month 13: no date, rather than a wrong one
])
def test_parse_fields(text, date, lot):
    parsed = fields.parse_fields(text)
    assert (parsed["date"], parsed["lot"]) == (date, lot)


def test_labels_say_which_date_and_month_dates_end_their_month():
    dates = fields.parse_dates("MFG:2024.03.01 EXP 02/2026")
    assert [(d.kind, d.iso) for d in dates] == [("production", "2024-03-01"), ("expiry", "2026-02")]
    assert str(dates[1].last_day) == "2026-02-28"


def test_date_order():
    assert fields.parse_fields("05/12/2026")["date"] == "2026-12-05"
    assert fields.parse_fields("05/12/2026", order="MDY")["date"] == "2026-05-12"
    assert fields.parse_fields("25/12/2026", order="MDY")["date"] == "2026-12-25"  # 25 is no month
