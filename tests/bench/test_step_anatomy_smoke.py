"""bench/step_anatomy.py runs end to end on cpu and sim and reports what the issue asks (plumbing and counts, never
speed): one JSON line per mode with integer counts per steady-state step, and a results file with --out."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
KEYS = {"mode", "device", "launches", "raw_allocs", "pool_allocs", "h2d", "d2h", "h2d_bytes", "d2h_bytes", "host_us",
        "steps"}


def run_anatomy(*args):
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "step_anatomy.py"), *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


@pytest.mark.parametrize("device", ["cpu", "sim"])
def test_json_lines_per_mode(device, tmp_path):
    proc = run_anatomy("--device", device, "--json", "--steps", "2", "--out", str(tmp_path))
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["mode"] for r in lines] == ["eager", "function"]
    for r in lines:
        assert set(r) == KEYS and r["device"] == device and r["steps"] == 2
        for key in KEYS - {"mode", "device", "host_us"}:
            assert type(r[key]) is int and r[key] >= 0, (key, r)  # the same count in every steady step
        assert r["host_us"] > 0 and r["launches"] > 0
    eager, function = lines
    if device == "cpu":  # the host is the device: no copies, no device allocator
        assert all(r[k] == 0 for r in lines for k in ("raw_allocs", "pool_allocs", "h2d", "d2h"))
    else:  # the targets for the compiled step: no reads, no raw allocations, fewer launches than eager
        assert function["d2h"] == 0 and function["raw_allocs"] == 0
        assert function["launches"] < eager["launches"]
        assert function["h2d"] == 3  # x, y and the optimizer's step vector
        assert function["h2d_bytes"] == 128 * 784 * 4 + 128 * 4 + 4 * 8  # Adam: (lr, beta powers, apply)
    (path,) = tmp_path.glob(f"step-anatomy-{device}-*.json")
    data = json.loads(path.read_text())
    assert data["complete"] is True and data["results"] == lines and data["meta"]["git"]["commit"]


def test_table_without_json():
    proc = run_anatomy("--device", "cpu", "--steps", "1")
    assert "launches" in proc.stdout and "eager" in proc.stdout and "function" in proc.stdout
    assert not proc.stdout.lstrip().startswith("{")
