"""What a sanity run prints: one line per result as it comes, then the summary tables."""
from .common import FAIL, PASS, SKIP


def print_result(result, out):
    out.write("{:4}  {}/{}: {}\n".format(result.status, result.group, result.name, result.reason))
    if result.hint and result.status != PASS:
        out.write("      fix: {}\n".format(result.hint))
    out.flush()


def clip(text, width=100):
    return text if len(text) <= width else text[:width - 3] + "..."


def platform_line(state):
    if not state["l4t"]:
        return "Platform: not a Jetson ({} MB swap, {} MB free disk)".format(state["swap_mb"], state["disk_free_mb"])
    return "Platform: {}, L4T {}, JetPack {}, power mode {}, jetson_clocks {}, swap {} MB".format(
        state["board_model"], state["l4t"], state["jetpack"], (state["nvpmodel_mode"] or {}).get("name"),
        state["jetson_clocks"], state["swap_mb"])


def summary(results, state):
    from tabulate import tabulate
    lines = ["", platform_line(state), ""]
    lines.append(tabulate([[r.status, r.group, r.name, clip(r.reason)] for r in results],
                          headers=["status", "group", "check", "reason"]))
    speed = [r.data for r in results if r.group == "throughput" and r.data]
    if speed:
        lines += ["", tabulate([[d["model"], d["backend"], d["device"], d["precision"], d["fps"], d["reference_fps"]]
                                for d in speed], headers=["model", "backend", "device", "precision", "FPS",
                                                          "Nano reference FPS"])]
    for r in results:
        if "table" in r.data:
            lines += ["", tabulate(r.data["table"], headers=["jetson_benchmarks model", "FPS", "precision",
                                                             "Nano published", "Xavier NX sample FPS"])]
    counts = {s: sum(r.status == s for r in results) for s in (PASS, FAIL, SKIP)}
    lines += ["", "sanity: {PASS} PASS, {FAIL} FAIL, {SKIP} SKIP".format(**counts)]
    return "\n".join(lines) + "\n"
