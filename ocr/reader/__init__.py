"""`invoke read`: the kit's reader as a tool a line can use (issue 18).

capture   one layer for image files, folders, globs, video files, cameras, CSI and RTSP/HTTP streams
job       the YAML job file, validated on load (example: example-job.yml)
verify    trusted or not, and the rules: exact text, per-item expectations, pattern, date, lot file
fields    dates (ISO 8601) and lot parsed from a read
trigger   one read per passing item on video (presence rule)
pipeline  the reading loop: sources -> regions -> engine -> verdicts
output    verdict records, terminal / JSONL / CSV sinks, the summary
conveyor  a deterministic conveyor-belt video with ground truth, for tests and the stream benchmark
"""
