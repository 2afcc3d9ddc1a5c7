"""bench/step_anatomy.py --passes runs end to end on cpu and sim: one JSON line per pass configuration, in pipeline
order, each turning one more pass on; the counts are integers, and the passes never add launches or nodes
(plumbing and counts, never speed)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LABELS = ["none", "+dce", "+cse", "+fold", "+fusion", "+memory_plan"]  # +cuda_graphs on cuda only
COUNTS = {"launches", "raw_allocs", "pool_allocs", "h2d", "d2h", "h2d_bytes", "d2h_bytes", "steps", "nodes",
          "kernel_read_bytes", "kernel_written_bytes", "bytes_moved"}


def run_passes(*args):
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "step_anatomy.py"), "--passes", "--steps", "1",
                           "--warmup", "2", *args], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


@pytest.mark.parametrize("device", ["cpu", "sim"])
def test_one_json_line_per_pipeline_prefix(device, tmp_path):
    proc = run_passes("--device", device, "--json", "--out", str(tmp_path))
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["passes"] for r in lines] == LABELS
    assert [r["mode"] for r in lines] == [f"function {label}" for label in LABELS]
    for k, r in enumerate(lines):
        assert len(r["enabled"]) == k and lines[-1]["enabled"][:k] == r["enabled"]
        for key in COUNTS:
            assert type(r[key]) is int and r[key] >= 0, (key, r)
        assert r["bytes_moved"] == r["kernel_read_bytes"] + r["kernel_written_bytes"] + r["h2d_bytes"] + r["d2h_bytes"]
        if device == "sim":
            assert r["d2h"] == 0 and r["raw_allocs"] == 0
    for before, after in zip(lines, lines[1:]):
        assert after["launches"] <= before["launches"] and after["nodes"] <= before["nodes"]
    none, fold = lines[0], lines[LABELS.index("+fold")]
    # the MLP's gradient seed (divide, reshape, broadcast_to on constants) folds: 3 nodes, fewer bytes
    assert fold["nodes"] <= none["nodes"] - 3 and fold["launches"] < none["launches"]
    assert fold["kernel_written_bytes"] < none["kernel_written_bytes"]
    (path,) = tmp_path.glob(f"step-anatomy-passes-{device}-*.json")
    assert json.loads(path.read_text())["results"] == lines


def test_a_table_without_json():
    out = run_passes("--device", "cpu").stdout
    assert "passes" in out and "+fold" in out and "bytes_moved" in out
    assert not out.lstrip().startswith("{")
