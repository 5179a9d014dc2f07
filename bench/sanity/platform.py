"""Group `platform`: L4T release, board, power mode, clocks, swap, free disk, throttling now."""
from .common import FAIL, PASS, SKIP, off_jetson, outcome

MIN_SWAP_MB = 4096   # torch + TensorRT engine builds run out of the Nano's 4 GB without it
MIN_DISK_MB = 2048   # room for model files and TensorRT engines


def check_l4t(ctx):
    res = outcome("platform", "l4t")
    if not ctx.on_jetson:
        return off_jetson(res, "nothing to compare with versions.yml")
    l4t, releases = ctx.state["l4t"], ctx.expected["l4t_releases"]
    if l4t in releases:
        return res(PASS, "L4T {} (JetPack {})".format(l4t, ctx.state["jetpack"]))
    return res(FAIL, "L4T {} is not one of {}".format(l4t, ", ".join(releases)),
               "flash JetPack 4.6.x (L4T 32.7.x): the kit's wheels are built for it")


def check_board(ctx):
    res = outcome("platform", "board")
    model = ctx.state["board_model"]
    if not ctx.on_jetson:
        return off_jetson(res, "board model {!r}".format(model))
    if ctx.is_nano:
        return res(PASS, model)
    return res(FAIL, "{!r} is not a Jetson Nano".format(model),
               "the references and pins of this kit are the Jetson Nano's")


def jetson_reading(ctx, res, value, command, judge):
    """The frame of checks on what only a Jetson, and often only root, can read."""
    if not ctx.on_jetson:
        return off_jetson(res, "no " + command.split()[0])
    if value is None:
        return res(SKIP, "`{}` gave nothing".format(command), "run with sudo")
    return judge(value)


def check_power_mode(ctx):
    res = outcome("platform", "power_mode")

    def judge(mode):
        if mode["name"] == "MAXN":
            return res(PASS, "nvpmodel MAXN (id {})".format(mode["id"]))
        return res(FAIL, "nvpmodel {} (id {}), not MAXN".format(mode["name"], mode["id"]),
                   "sudo nvpmodel -m 0 (the ansible power role keeps it there)")
    return jetson_reading(ctx, res, ctx.state["nvpmodel_mode"], "nvpmodel -q", judge)


def check_clocks(ctx):
    res = outcome("platform", "jetson_clocks")

    def judge(pinned):
        if pinned:
            return res(PASS, "CPU and GPU clocks pinned at their maximum")
        return res(FAIL, "clocks are scaling (jetson_clocks not active)",
                   "sudo jetson_clocks (the ansible power role installs a unit that runs it at boot)")
    return jetson_reading(ctx, res, ctx.state["jetson_clocks"], "jetson_clocks --show", judge)


def check_swap(ctx):
    res = outcome("platform", "swap")
    if not ctx.on_jetson:
        return off_jetson(res, "the swap need is the Nano's ({} MB)".format(MIN_SWAP_MB))
    swap = ctx.state["swap_mb"] or 0
    status = PASS if swap >= MIN_SWAP_MB else FAIL
    return res(status, "{} MB of swap (need {} MB)".format(swap, MIN_SWAP_MB),
               "" if status == PASS else "add a swap file (ansible role swap, swap_file_size_mb)")


def check_disk(ctx):
    res = outcome("platform", "disk_free")
    free = ctx.state["disk_free_mb"]
    if free is None:
        return res(SKIP, "statvfs({}) failed".format(ctx.root))
    status = PASS if free >= MIN_DISK_MB else FAIL
    return res(status, "{} MB free on {} (need {} MB)".format(free, ctx.root, MIN_DISK_MB),
               "" if status == PASS else "free space: remove old TensorRT engines, apt-get clean, docker prune")


def check_thermal(ctx):
    res = outcome("platform", "thermal")
    throttled, reasons = ctx.state["throttled"], ctx.state["throttle_reasons"]
    trips = ctx.state["trip_points_c"]
    temps = ", ".join("{} {:.1f} C (trip {:.0f})".format(n, t, trips[n]) if n in trips else "{} {:.1f} C".format(n, t)
                      for n, t in sorted(ctx.state["temperatures"].items()))
    if throttled is None:
        seen = " ({})".format(temps) if temps else ""
        return res(SKIP, "no thermal trip points or clock pins readable here" + seen)
    if throttled:
        return res(FAIL, "throttling now: " + "; ".join(reasons),
                   "add a fan / let it cool; check the 5 V 4 A barrel supply")
    return res(PASS, "under the throttle trip points: " + temps)


CHECKS = [check_l4t, check_board, check_power_mode, check_clocks, check_swap, check_disk, check_thermal]
