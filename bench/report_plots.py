"""The figures of bench/report.py, drawn with matplotlib (Agg: files only, no display needed).

Each function takes plain records (the dicts of the results JSON) and a PNG path, draws one figure and
returns the path; what to plot is decided by bench/report.py.
"""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402

LINESTYLES = {"cuda": "-", "cpu": "--", "sim": ":", "numpy": "-."}
ANATOMY_COUNTS = [("launches", "kernel launches"), ("raw_allocs", "raw allocations"),
                  ("h2d", "host → device copies"), ("d2h", "device → host copies")]


def _style(device: str) -> str:
    return LINESTYLES.get(device.split(":")[0], "-")


def _save(fig, path: Path, layout: bool = True) -> Path:
    if layout:
        fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _grid(count: int, width: float = 4.6, height: float = 3.4):
    cols = min(count, 3)
    rows = (count + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows), squeeze=False)
    for axis in axes.flat[count:]:
        axis.set_visible(False)
    return fig, list(axes.flat[:count])


def speedup(records: list, families: list, title: str, path: Path) -> Path:
    """Speed-up over NumPy against size: one panel per op family, a line per op (colour) and device
    (line style); above the dashed line at 1 the device beats NumPy."""
    fig, axes = _grid(len(families))
    devices = set()
    for axis, family in zip(axes, families):
        ops = list(dict.fromkeys(r["op"] for r in records if r["family"] == family))
        colours = dict(zip(ops, plt.cm.tab10.colors))
        for (op, device), points in _series(records, family).items():
            sizes, values = zip(*[(r["n"], r["speedup_vs_numpy"]) for r in points])
            axis.plot(sizes, values, _style(device), marker="o", markersize=3, color=colours[op])
            devices.add(device)
        axis.axhline(1.0, color="grey", linestyle="--", linewidth=0.8)
        axis.set(xscale="log", yscale="log", title=family, xlabel="elements (n)", ylabel="× NumPy (higher is faster)")
        axis.legend([Line2D([], [], color=colours[op]) for op in ops], ops, fontsize=7)  # colour: the op
    fig.suptitle(title)
    styles = sorted(devices)
    fig.legend([Line2D([], [], color="black", linestyle=_style(d)) for d in styles], styles, loc="upper right",
               title="device", fontsize=8)  # line style: the device
    return _save(fig, path)


def _series(records: list, family: str) -> dict:
    series = {}
    for r in sorted(records, key=lambda r: r["n"]):
        if r["family"] == family and r.get("speedup_vs_numpy") is not None:
            series.setdefault((r["op"], r["device"]), []).append(r)
    return series


def roofline(records: list, ceilings: dict, title: str, path: Path) -> Path:
    """Achieved GB/s against size, one panel per device, under the copy bandwidth measured in the same
    run (the ceiling a memory-bound op can reach); colours are op families."""
    devices = sorted({r["device"] for r in records})
    families = sorted({r["family"] for r in records})
    colours = dict(zip(families, plt.cm.tab10.colors))
    fig, axes = _grid(len(devices), height=3.8)
    for axis, device in zip(axes, devices):
        mine = [r for r in records if r["device"] == device and r.get("gb_s")]
        axis.set(xscale="log", yscale="log", title=device, xlabel="elements (n)", ylabel="achieved GB/s")
        for family in families:
            points = [r for r in mine if r["family"] == family]
            axis.scatter([r["n"] for r in points], [r["gb_s"] for r in points], s=12, color=colours[family])
        ceiling = ceilings.get(device)
        if ceiling:
            axis.axhline(ceiling, color="black", linewidth=1.2)
            axis.annotate(f"copy {ceiling:.1f} GB/s", (0.98, ceiling), xycoords=("axes fraction", "data"),
                          textcoords="offset points", xytext=(0, 3), fontsize=8, ha="right")
            top = max([ceiling] + [r["gb_s"] for r in mine])
            axis.set_ylim(top=top * 3)  # room above the ceiling for its label
    fig.suptitle(title)
    fig.legend([Line2D([], [], marker="o", linestyle="", color=colours[f]) for f in families], families,
               loc="lower center", ncol=len(families), fontsize=8)
    fig.tight_layout(rect=(0, 0.07, 1, 1))  # the legend row below the panels
    return _save(fig, path, layout=False)


def step_anatomy(records: list, title: str, path: Path) -> Path:
    """Per training step, eager against compiled (gf.function): what each mode costs in launches,
    allocations and copies (bars), and in host time (the last panel)."""
    modes = [r.get("mode", "?") + (f" ({r['device']})" if "device" in r else "") for r in records]
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), gridspec_kw={"width_ratios": [3, 1]})
    width = 0.8 / max(len(records), 1)
    for i, (record, mode) in enumerate(zip(records, modes)):
        xs = [k + i * width for k in range(len(ANATOMY_COUNTS))]
        bars = axes[0].bar(xs, [record.get(key, 0) for key, _ in ANATOMY_COUNTS], width, label=mode)
        axes[0].bar_label(bars, fontsize=7)
    axes[0].set_xticks([k + width * (len(records) - 1) / 2 for k in range(len(ANATOMY_COUNTS))],
                       [label for _, label in ANATOMY_COUNTS])
    axes[0].set(ylabel="per step", title="launches, allocations and copies")
    axes[0].legend()
    bars = axes[1].bar(modes, [r.get("host_us", 0) for r in records], color=plt.cm.tab10.colors[:len(records)])
    axes[1].bar_label(bars, fmt="%.0f", fontsize=7)
    axes[1].set(ylabel="µs of host time per step", title="host time")
    fig.suptitle(title)
    return _save(fig, path)
