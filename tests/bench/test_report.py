"""bench/report.py draws its plots and page from the committed results (cpu/sim today), and from GPU and
step-anatomy results in the formats their benchmarks write."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("matplotlib", reason='matplotlib is not installed (pip install "gpuflow[interop]")')
Image = pytest.importorskip("PIL.Image", reason='Pillow is not installed (pip install "gpuflow[interop]")')

pytestmark = pytest.mark.interop

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT / "bench"))
import report  # noqa: E402


def _pictures(page: Path) -> list:
    text = page.read_text()
    return [page.parent / line.split("](")[1].rstrip(")") for line in text.splitlines() if line.startswith("![")]


def _check_png(path: Path):
    with Image.open(path) as picture:
        assert picture.format == "PNG" and picture.width >= 800 and picture.height >= 300
        assert len(np.unique(np.asarray(picture.convert("L")))) > 10  # something is drawn, not a blank canvas


def test_report_from_the_committed_results(tmp_path):
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "report.py"), "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    page = tmp_path / "report.md"
    text = page.read_text()
    ops_files = [p for p in RESULTS.glob("ops-*.json")]
    assert ops_files, "the committed results have an ops run"
    anatomy_files = list(RESULTS.glob("step-anatomy-*.json"))
    pictures = _pictures(page)
    assert len(pictures) == 2 * len(ops_files) + len(anatomy_files)  # speed-up and roofline per run, anatomy
    for picture in pictures:
        _check_png(picture)
    assert "No GPU results yet" in text and ("No step-anatomy results yet" in text) == (not anatomy_files)
    for path in anatomy_files:  # each mode's row, from the JSON
        for r in json.loads(path.read_text())["results"]:
            assert (f"| {r['mode']} | {r['device']} | {r['launches']} | {r['raw_allocs']} | {r['h2d']} | {r['d2h']} | "
                    f"{r['host_us']:.0f} |") in text
    # the table's numbers are the JSON's: the largest cpu point of exp
    data = json.loads(ops_files[0].read_text())
    exp = max((r for r in data["results"] if r["op"] == "exp" and r["device"] == "cpu"), key=lambda r: r["n"])
    cell = f"{exp['n']:.0e}, {exp['speedup_vs_numpy']:.2f}×, {100 * exp['frac_copy_bw']:.0f}%"
    assert f"| exp | elementwise | {cell}" in text
    assert f"copy bandwidth measured in the same run: cpu {data['copy_bandwidth']['host']['gb_s']:.1f} GB/s" in text
    assert "## fit()" in text and "## Eager overhead" in text and "`sim-vm-20261122.json`" in text


def test_gpu_runs_and_step_anatomy_lines_are_drawn(tmp_path):
    results = tmp_path / "results"
    results.mkdir()
    ops = json.loads(next(RESULTS.glob("ops-*.json")).read_text())
    gpu_rows = [dict(r, device="cuda", speedup_vs_numpy=10 * (r["speedup_vs_numpy"] or 1), gb_s=900.0,
                     frac_copy_bw=0.3) for r in ops["results"] if r["device"] == "cpu"]
    ops.update(results=gpu_rows + [r for r in ops["results"] if r["device"] == "numpy"],
               copy_bandwidth={"cuda": {"gb_s": 3000.0}, "host": {"gb_s": 4.0}})
    ops["meta"]["device_name"] = "NVIDIA H100 80GB HBM3"
    (results / "ops-h100.json").write_text(json.dumps(ops))
    (results / "step-anatomy-h100.jsonl").write_text(
        '{"mode": "eager", "launches": 41, "raw_allocs": 37, "h2d": 2, "d2h": 1, "host_us": 2150.5}\n'
        '{"mode": "function", "launches": 12, "raw_allocs": 0, "h2d": 2, "d2h": 1, "host_us": 310.2}\n')
    shutil.copy(next(RESULTS.glob("fit-*.json")), results)

    page = report.write_report(results, tmp_path / "out")
    text = page.read_text()
    assert "No GPU results yet" not in text and "## Ops: NVIDIA H100 80GB HBM3" in text
    assert "cuda 3000.0 GB/s, numpy 4.0 GB/s" in text  # each device against its own copy bandwidth
    assert "| eager | – | 41 | 37 | 2 | 1 | 2150 |" in text and "| function | – | 12 | 0 | 2 | 1 | 310 |" in text
    pictures = _pictures(page)
    assert [p.name for p in pictures] == ["ops-h100-speedup.png", "ops-h100-roofline.png",
                                          "step-anatomy-h100-anatomy.png"]
    for picture in pictures:
        _check_png(picture)


def test_files_are_recognised_by_content():
    assert report.classify({"copy_bandwidth": {}, "results": []}) == "ops"
    assert report.classify([{"mode": "eager", "launches": 3}]) == "anatomy"
    assert report.classify({"results": [{"framework": "gpuflow", "ms_per_step": 1.0}]}) == "fit"
    assert report.classify({"benchmark": "sim elementwise"}) is None
