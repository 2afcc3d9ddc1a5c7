"""Turn the benchmark results (bench/results/*.json) into plots and one markdown page.

    python bench/report.py [--results bench/results] [--out bench/results]

writes `<out>/report.md` and its figures in `<out>/report/`:

- per ops run (`ops-*.json`): speed-up over NumPy against size for each op family, and achieved GB/s
  against the copy bandwidth measured in the same run (the memory roofline), with a table at the
  largest size each device ran;
- the step anatomy (kernel launches, raw allocations, copies and host time per training step, eager
  against gf.function), from the JSON lines `bench/step_anatomy.py --json` prints, saved as any
  `*.json`/`*.jsonl` file in the results folder; the page says so when there is none yet;
- tables of the `fit()` epoch benchmarks and the latest eager-overhead run.

Files are recognised by their content, not their names, so GPU results committed later (cuda rows,
a `cuda` copy bandwidth) are drawn the same way; files of other benchmarks are listed and skipped.
Needs matplotlib (`pip install "gpuflow[interop]"`).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import report_plots  # noqa: E402

FAMILY_ORDER = ["elementwise", "reduction", "softmax", "movement", "matmul", "random"]


def read_records(path: Path):
    """A results file as JSON (a dict, or a list), or as JSON lines; None when it is neither."""
    text = path.read_text()
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        pass
    try:
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    except json.JSONDecodeError:
        return None


def _entries(data) -> list:
    if isinstance(data, dict):
        data = data.get("results")
    return [r for r in data if isinstance(r, dict)] if isinstance(data, list) else []


def classify(data) -> str | None:
    """Which benchmark wrote a file: 'ops', 'fit', 'overhead', 'anatomy', or None."""
    entries = _entries(data)
    if isinstance(data, dict) and "copy_bandwidth" in data:
        return "ops"
    if entries and all("mode" in r and "launches" in r for r in entries):
        return "anatomy"
    if entries and all("framework" in r and "ms_per_step" in r for r in entries):
        return "fit"
    if entries and all("point" in r for r in entries):
        return "overhead"
    return None


def load(folder: Path) -> dict:
    found = {"ops": [], "fit": [], "overhead": [], "anatomy": [], "other": []}
    for path in sorted([*folder.glob("*.json"), *folder.glob("*.jsonl")]):
        data = read_records(path)
        kind = classify(data) if data is not None else None
        found[kind or "other"].append((path, data))
    return found


def _date(data) -> str:
    return (data.get("meta", {}).get("date", "") if isinstance(data, dict) else "") or ""


def _machine(data) -> str:
    meta = data.get("meta", {}) if isinstance(data, dict) else {}
    return meta.get("device_name") or meta.get("cpu_name") or meta.get("host") or "unknown machine"


def _ceilings(data: dict) -> dict:
    """Each device's copy bandwidth from the same run: cuda rows against the GPU copy, the rest the host's."""
    copy = data.get("copy_bandwidth", {})
    devices = {r["device"] for r in _entries(data)}
    kind = {d: "cuda" if d.startswith("cuda") else "host" for d in devices}
    return {d: copy[k]["gb_s"] for d, k in kind.items() if k in copy and copy[k].get("gb_s")}


def _fmt(value, spec) -> str:
    return "–" if value is None else format(value, spec)


def ops_table(records: list) -> list:
    """One row per op: for each device, × NumPy and % of copy bandwidth at the largest size it ran."""
    devices = sorted({r["device"] for r in records if r["device"] != "numpy"})
    head = ["op", "family"] + [f"{d}: n, × NumPy, % copy" for d in devices]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for op in dict.fromkeys(r["op"] for r in records):
        rows = [r for r in records if r["op"] == op]
        cells = [op, rows[0]["family"]]
        for device in devices:
            mine = [r for r in rows if r["device"] == device]
            if not mine:
                cells.append("–")
                continue
            last = max(mine, key=lambda r: r["n"])
            frac = last.get("frac_copy_bw")
            cells.append(f"{last['n']:.0e}, {_fmt(last.get('speedup_vs_numpy'), '.2f')}×, "
                         f"{_fmt(None if frac is None else 100 * frac, '.0f')}%")
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def ops_section(path: Path, data: dict, figures: Path, rel: str) -> list:
    records = [r for r in _entries(data) if "error" not in r]
    failed = [r for r in _entries(data) if "error" in r]
    families = [f for f in FAMILY_ORDER if any(r["family"] == f for r in records)]
    families += sorted({r["family"] for r in records} - set(families))
    title = f"{_machine(data)}, {_date(data)}"
    stem = path.stem
    report_plots.speedup(records, families, f"speed-up over NumPy: {title}", figures / f"{stem}-speedup.png")
    ceilings = _ceilings(data)
    report_plots.roofline(records, ceilings, f"bandwidth against copy: {title}", figures / f"{stem}-roofline.png")
    meta = data.get("meta", {})
    commit = str(meta.get("git", {}).get("commit", "?"))[:10]
    load_average = _fmt(meta.get("load_average_1_5_15", [None])[0], ".1f")
    lines = [f"## Ops: {title}", "",
             f"From `{path.name}` (`{meta.get('command', '?')}`, commit {commit}, 1-minute load average "
             f"{load_average}).", "",
             f"![speed-up over NumPy]({rel}/{stem}-speedup.png)", "",
             "Speed-up over plain NumPy doing the same op (median per call, dispatch included); above 1 is faster.",
             "", f"![bandwidth against copy]({rel}/{stem}-roofline.png)", "",
             "Achieved GB/s (the op's minimum traffic over its median time) under the copy bandwidth measured in "
             "the same run: " + ", ".join(f"{d} {v:.1f} GB/s" for d, v in sorted(ceilings.items())) + ". Small "
             "operands stay in cache, so below ~1e6 elements an op can beat the copy of a large array.", ""]
    lines += ops_table(records) + [""]
    if failed:
        lines += [f"Failed points: " + ", ".join(f"{r['op']} on {r['device']} at n={r['n']}" for r in failed), ""]
    return lines


def anatomy_section(found: list, figures: Path, rel: str) -> list:
    lines = ["## Step anatomy: eager against gf.function", ""]
    if not found:
        return lines + ["No step-anatomy results yet. `python bench/step_anatomy.py --json > "
                        "bench/results/step-anatomy-<machine>.jsonl` writes one line per mode "
                        "(`mode`, `launches`, `raw_allocs`, `h2d`, `d2h`, `host_us`), then rerun this report.", ""]
    for path, data in found:
        records = _entries(data)
        figure = report_plots.step_anatomy(records, f"one training step ({path.name})",
                                           figures / f"{path.stem}-anatomy.png")
        lines += [f"![step anatomy]({rel}/{figure.name})", "",
                  "| mode | device | launches | raw allocations | h2d copies | d2h copies | host µs |",
                  "|---|---|---|---|---|---|---|"]
        lines += [f"| {r.get('mode')} | {r.get('device', '–')} | {r.get('launches')} | {r.get('raw_allocs')} | "
                  f"{r.get('h2d')} | {r.get('d2h')} | {_fmt(r.get('host_us'), '.0f')} |" for r in records]
        lines += ["", f"From `{path.name}`.", ""]
    return lines


def fit_section(found: list) -> list:
    if not found:
        return []
    lines = ["## fit(): the MNIST-sized MLP", "", "| file | framework | device | ms/step | samples/s | final loss |",
             "|---|---|---|---|---|---|"]
    for path, data in found:
        for r in _entries(data):
            lines.append(f"| `{path.name}` | {r['framework']} | {r['device']} | {_fmt(r.get('ms_per_step'), '.2f')} "
                         f"| {_fmt(r.get('samples_per_s'), ',.0f')} | {_fmt(r.get('final_loss'), '.4f')} |")
    return lines + [""]


def overhead_section(found: list) -> list:
    if not found:
        return []
    path, data = max(found, key=lambda item: _date(item[1]))
    lines = [f"## Eager overhead (latest run, `{path.name}`)", "", "| point | device | median µs | × NumPy time |",
             "|---|---|---|---|"]
    for r in _entries(data):
        name = r["point"] + (" (taped)" if r.get("taped") else "")
        lines.append(f"| {name} | {r['device']} | {1e6 * r['median_s']:.1f} | {_fmt(r.get('x_numpy_time'), '.1f')} |")
    return lines + [""]


def write_report(results: Path, out: Path) -> Path:
    found = load(results)
    figures = out / "report"
    figures.mkdir(parents=True, exist_ok=True)
    rel = figures.name
    gpu = any(r["device"].startswith("cuda") for _, data in found["ops"] for r in _entries(data))
    lines = ["# gpuflow benchmark report", "",
             f"Made by `python bench/report.py` from the JSON files in `{results.name}/`; each file names its "
             "machine, commit, command and load average. Host timings move with other work on the machine.", ""]
    if not gpu:
        lines += ["**No GPU results yet**: every number here is from `cpu`, `sim` (our CUDA kernels run by the "
                  "simulator, slow by design) and NumPy on the host. The same page draws `cuda` rows once a GPU "
                  "session commits them.", ""]
    for path, data in sorted(found["ops"], key=lambda item: _date(item[1])):
        lines += ops_section(path, data, figures, rel)
    lines += anatomy_section(found["anatomy"], figures, rel)
    lines += fit_section(found["fit"]) + overhead_section(found["overhead"])
    if found["other"]:
        lines += ["Not drawn (other benchmarks' files): " + ", ".join(f"`{p.name}`" for p, _ in found["other"]), ""]
    page = out / "report.md"
    page.write_text("\n".join(lines))
    return page


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=HERE / "results", help="folder of results JSON files")
    parser.add_argument("--out", type=Path, default=HERE / "results",
                        help="where report.md and its report/ folder of PNG figures go")
    args = parser.parse_args(argv)
    if not args.results.is_dir():
        parser.error(f"--results {args.results} is not a folder")
    page = write_report(args.results, args.out)
    print(f"wrote {page} and its figures in {page.parent / 'report'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
