"""Format-aware decoding: every shipped format, look-alike correction by slot, date validation,
constrained CTC decoding, and input matching no format (returned unchanged, flagged)."""
import random

import numpy as np
import pytest

from ocr import ctc, formats
from ocr import postprocess as pp

CHARSET = ["<blank>"] + list("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ ./-:,#")


@pytest.fixture(scope="module")
def grammar():
    return formats.default_grammar()


@pytest.mark.parametrize("text,fmt", [
    ("2025.05.02", "date"), ("04/03/2023", "date"), ("03 JUL 2021", "date"), ("APR-28-2023", "date"),
    ("09/20", "date"), ("2024-11", "date"), ("EXP 2025.05.02", "labelled_date"),
    ("BEST BEFORE 04/03/2023", "labelled_date"),
    ("BEST IF USED BY JUN 2021", "labelled_date"), ("MFG:2025.05.02", "labelled_date"),
    ("PRO:08/2022", "labelled_date"), ("2027 JA 30", "date"), ("2021-JN-07", "date"),
    ("BB/MA 2029 FE 08", "labelled_date"), ("BEST BEFORE/MEILLEUR AVANT JN 28", "labelled_date"),
    ("LOT R03718-M2", "labelled_lot"), ("BATCH #7KX2M9", "labelled_lot"),
    ("H02:05", "labelled_time"), ("TIME: 14:30", "labelled_time"), ("02:05", "time"),
    ("L21X7A", "lot_code"), ("P112104", "lot_code"), ("250508202", "number"), ("X7", "code"),
])
def test_every_format_reads_its_own_text_unchanged(grammar, text, fmt):
    fixed, cost, names = grammar.correct(text)
    assert fixed == text
    if fmt:
        assert names == [fmt]
    assert grammar.accepts(text)


def test_multi_item_codes_are_split_into_their_formats(grammar):
    fixed, _, names = grammar.correct("PRO:08/2022EXP:08/2023L2215029520H02:05")
    assert fixed == "PRO:08/2022EXP:08/2023L2215029520H02:05"
    assert names[:2] == ["labelled_date", "labelled_date"]
    assert grammar.correct("MFG:2025.05.02 LOT250508202")[2] == ["labelled_date", "labelled_lot"]


@pytest.mark.parametrize("read,expected", [
    ("EXP 2O25.O5.02", "EXP 2025.05.02"),        # a digit slot never reads O
    ("BEST BEF0RE 04/03/2023", "BEST BEFORE 04/03/2023"),  # a word slot never reads 0
    ("L0T R03718-M2", "LOT R03718-M2"),
    ("03 JUL 2O2I", "03 JUL 2021"),
    ("BB 12 0CT 24", "BB 12 OCT 24"),
    ("BB/MA 2029 FE O8", "BB/MA 2029 FE 08"),     # Canada's year, bilingual month, day
])
def test_lookalikes_are_corrected_by_position(grammar, read, expected):
    assert grammar.correct(read)[0] == expected


@pytest.mark.parametrize("text", ["EXP 2025.05.02", "LOT R03718-M2", "L21X7A", "250508202", "X7",
                                  "PRO:08/2022EXP:08/2023L2215029520H02:05", "MFG:2025.05.02 LOT250508202"])
def test_stepping_costs_what_correction_charges_for_a_clean_text(grammar, text):
    """The beam steps kernels (states before their epsilon closure); the costs it reads must be
    those of the closed layers `correct` walks."""
    kernel = grammar.kernel()
    for c in text:
        kernel = grammar.step(kernel, c)
        assert kernel and grammar.least_cost(kernel) <= grammar.correct(text)[1]
    assert grammar.accept_cost(kernel) == pytest.approx(grammar.correct(text)[1])
    assert grammar.step(grammar.kernel(), "~") == {}


def test_dates_are_validated(grammar):
    assert not grammar.accepts("EXP 2025.13.02")   # month 13
    assert not grammar.accepts("EXP 32/01/2025")   # day 32
    assert grammar.accepts("EXP 31/01/2025")


@pytest.mark.parametrize("text", ["hello world!", "??", "EXP 2025.13.02"])
def test_input_matching_no_format_is_unchanged_and_flagged(grammar, text):
    assert grammar.correct(text) is None
    assert formats.correct_text(text, grammar) == (text, None)


def test_lower_case_is_kept_where_nothing_is_swapped(grammar):
    assert grammar.correct("Lot 12345")[0] == "Lot 12345"


def test_users_add_formats_as_data():
    base = formats.Grammar.from_yaml()
    assert base.correct("SN=ABC") is None
    extended = formats.Grammar.from_yaml(extra=[{"name": "serial", "pattern": "SN=[A-Z]{3}"}])
    assert extended.correct("SN=ABC") == ("SN=ABC", 0.0, ["serial"])
    assert extended.correct("SN=A8C")[0] == "SN=ABC"


def test_a_users_formats_file_adds_to_the_shipped_formats(tmp_path):
    path = tmp_path / "mine.yml"
    path.write_text("macros:\n  SER: '[A-Z]{3}'\nformats:\n  - name: serial\n    pattern: 'SN=<SER>'\n")
    grammar = formats.Grammar.from_yaml(str(path))
    assert grammar.correct("SN=ABC") == ("SN=ABC", 0.0, ["serial"])
    assert grammar.correct("EXP 05/2025")[2] == ["labelled_date"]  # the shipped formats stay
    assert grammar.correct("SN=A8C")[0] == "SN=ABC"                # and so do their look-alikes


def test_a_users_formats_file_with_replace_true_replaces_them(tmp_path):
    path = tmp_path / "mine.yml"
    path.write_text("replace: true\nformats:\n  - name: serial\n    pattern: 'SN=[A-Z]{3}'\n")
    grammar = formats.Grammar.from_yaml(str(path))
    assert grammar.correct("SN=ABC") == ("SN=ABC", 0.0, ["serial"])
    assert grammar.correct("EXP 05/2025") is None
    assert grammar.correct("SN=A8C") is None  # no look-alikes either: the file has none


def test_a_users_format_of_a_shipped_name_replaces_that_one(tmp_path):
    path = tmp_path / "mine.yml"
    path.write_text("formats:\n  - name: number\n    pattern: '[0-9]{6}'\n")
    grammar = formats.Grammar.from_yaml(str(path))
    assert grammar.names.count("number") == 1
    assert grammar.correct("123456")[2] == ["number"]


@pytest.mark.parametrize("text", ["- a list\n", "formats: 3\n", "formats: []\nreplce: true\n", "a: [\n"])
def test_a_bad_formats_file_is_one_clear_line(tmp_path, text):
    path = tmp_path / "bad.yml"
    path.write_text(text)
    with pytest.raises(formats.PatternError) as err:
        formats.Grammar.from_yaml(str(path))
    assert str(path) in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize("pattern", ["(AB", "[0-9", "<NOPE>", "A)B"])
def test_bad_patterns_raise(pattern):
    with pytest.raises((formats.PatternError, ValueError)):
        formats.Grammar([{"name": "bad", "pattern": pattern}])


def test_recursive_macro_is_refused():
    with pytest.raises(formats.PatternError):
        formats.Grammar([{"name": "x", "pattern": "<A>"}], macros={"A": "1<A>"})


def test_sampled_strings_are_accepted(grammar):
    rng = random.Random(3)
    samples = [s for s in (grammar.sample(rng) for _ in range(50)) if s]
    assert len(samples) > 20
    assert all(grammar.accepts(s) for s in samples)


def probs_for(steps, charset=CHARSET):
    """T x C probabilities from a list of {char: prob} per step (rest of the mass on blank)."""
    p = np.full((len(steps), len(charset)), 1e-6, dtype=np.float32)
    for t, dist in enumerate(steps):
        for ch, v in dist.items():
            p[t, 0 if ch == "" else charset.index(ch)] = v
        p[t, 0] += max(0.0, 1 - p[t].sum())
    return p / p.sum(axis=1, keepdims=True)


def test_greedy_and_alignment_agree_on_the_top_path():
    p = probs_for([{"A": 0.9}, {"": 0.9}, {"1": 0.6, "I": 0.3}, {"1": 0.8}])
    labels, conf = ctc.greedy(p)
    assert "".join(CHARSET[k] for k in labels) == "A1"
    assert conf == pytest.approx([0.9, 0.8], abs=1e-3)
    char_probs, logp = ctc.align(p, labels)
    assert char_probs == pytest.approx(conf, abs=1e-3)
    assert logp == pytest.approx(np.log(p.max(axis=1)).sum(), abs=1e-4)  # the top path itself
    assert ctc.align(p, [CHARSET.index(c) for c in "AIZZZZ"]) is None  # cannot fit 4 frames


def test_greedy_texts_read_rows_with_the_mean_of_first_frames():
    p = probs_for([{"A": 0.9}, {"A": 0.95}, {"": 0.9}, {"1": 0.6, "I": 0.3}])
    (text, conf), (empty, none) = ctc.greedy_texts(np.stack([p, probs_for([{"": 0.9}] * 4)]), CHARSET)
    assert text == "A1" and conf == pytest.approx((0.9 + 0.6) / 2, abs=1e-3)
    assert empty == "" and none == 0.0


def test_constrained_decoding_picks_the_best_valid_string(grammar):
    # Top path reads month 13 (invalid); the second choice at that step gives month 12.
    steps = [{c: 0.95} for c in "2025."] + [{"1": 0.95}, {"3": 0.55, "2": 0.4}] + [{c: 0.95} for c in ".02"]
    p = probs_for(steps)
    read = pp.decode(p, CHARSET, grammar)
    assert read.text == "2025.12.02"
    assert read.how == "constrained" and read.formats == ["date"]
    assert read.confidence == pytest.approx(0.4, abs=0.02)


def test_the_beam_ranks_prefixes_by_probability_and_format_prior(grammar):
    # The model leans to F (0.8) over P (0.2): by probability alone a beam of one keeps "EXF"
    # (generic codes), though "EXP" opens a labelled date whose prior is worth far more.
    steps = [{"E": 0.99}, {"X": 0.99}, {"F": 0.8, "P": 0.2}] + [{c: 0.99} for c in " 2025.12.02"]
    p = probs_for(steps)
    assert ctc.constrained(p, CHARSET, grammar, beam=1, prior_weight=0.0) == "EXF 2025.12.02"
    assert ctc.constrained(p, CHARSET, grammar, beam=1, prior_weight=pp.PRIOR_WEIGHT) == "EXP 2025.12.02"
    read = pp.decode(p, CHARSET, grammar)
    assert read.text == "EXP 2025.12.02" and read.formats == ["labelled_date"]


def test_decode_flags_what_fits_nothing(grammar):
    p = probs_for([{c: 0.9} for c in "??"] if "?" in CHARSET else [{"#": 0.9}, {"": 0.9}, {"#": 0.9}])
    read = pp.decode(p, CHARSET, grammar)
    assert read.text == "##" and read.formats is None and read.how == "unmatched"


def test_decode_keeps_a_sure_top_path_the_grammar_reads_only_by_deleting(grammar):
    # "EXP#2025" fits no format; the only valid strings drop the "#" the model is sure of
    # ("EXP2025"): the top path wins, unchanged and flagged, instead of a confident deletion.
    p = probs_for([{c: 0.9999} for c in "EXP#2025"])
    read = pp.decode(p, CHARSET, grammar)
    assert read.text == "EXP#2025" and read.formats is None and read.how == "unmatched"
    # The same deletion wins when the model barely saw that character.
    p = probs_for([{c: 0.99} for c in "EXP"] + [{"#": 0.02}] + [{c: 0.99} for c in "2025"])
    assert pp.decode(p, CHARSET, grammar).formats is not None


def test_decode_corrects_lookalikes_and_lowers_confidence(grammar):
    p = probs_for([{c: 0.97} for c in "EXP 05/2"] + [{"O": 0.9, "0": 0.08}] + [{c: 0.97} for c in "25"])
    read = pp.decode(p, CHARSET, grammar)
    assert read.text == "EXP 05/2025" and read.how == "grammar"
    assert read.confidence < 0.1  # the model did not see a 0 there


def test_the_beam_is_spared_only_when_it_cannot_win(grammar, monkeypatch):
    calls = []
    real = ctc.constrained
    monkeypatch.setattr(ctc, "constrained", lambda *a, **k: calls.append(1) or real(*a, **k))
    # A sure lot code: reads as a format that costs its prior, but every other string together
    # holds too little probability to pay for a cheaper format.
    sure = probs_for([{c: 0.9999} for c in "L21X7A"])
    assert pp.decode(sure, CHARSET, grammar).text == "L21X7A" and not calls
    # The same code read less surely: another string might win, so the beam runs.
    unsure = probs_for([{c: 0.9} for c in "L21X7A"])
    assert pp.decode(unsure, CHARSET, grammar).text == "L21X7A" and calls
