"""Measuring and reporting: the benchmark runner, its workers, result files, reports, sanity checks."""
