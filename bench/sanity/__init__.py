"""`invoke sanity`: is this device set up right, and as fast as a reference Jetson Nano?

Each check gives PASS / FAIL / SKIP with a one-line reason and a hint to fix it; the run ends with
a summary table and exits non-zero when anything failed. Off a Jetson the checks that apply still
run for real (the reference models on this CPU, one OCR read per engine) and the rest SKIP saying
why: nothing PASSes without having been compared with something.

One module per check group, in the order they run: `platform`, `stack`, `reads` (group `ocr`),
`throughput`, `jetson_benchmarks`; `common` holds what they share (Result, Context), `report` what
a run prints and `cli` the run itself (`invoke sanity`, `python -m bench.sanity`).
"""
