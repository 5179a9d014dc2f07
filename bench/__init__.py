"""Measuring and reporting: the benchmark runner, its workers, result files, reports, sanity checks."""
import csv
import os

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")  # reference tables, with sources


def csv_rows(path):
    """The rows (dicts) of a reference table: CSV whose lines starting with '#' are comments."""
    with open(path) as f:
        return list(csv.DictReader(line for line in f if not line.startswith("#")))
