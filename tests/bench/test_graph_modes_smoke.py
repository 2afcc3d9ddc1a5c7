"""bench/graph_modes.py runs end to end on cpu: one JSON line per mode, a step time each, the compiled modes with
fewer or as many launches as eager, and a results file (plumbing and counts, never speed). The cuda modes and
torch.compile run in the GPU session (bench/gpu_session.sh, step `graphs`)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_one_json_line_per_mode(tmp_path):
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "graph_modes.py"), "--device", "cpu", "--batch", "32",
                           "--json", "--out", str(tmp_path)], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    records = {r["mode"]: r for r in map(json.loads, proc.stdout.splitlines())}
    assert list(records) == ["eager", "compiled", "cuda_graphs", "torch_eager"]
    for mode in ("eager", "compiled", "cuda_graphs"):
        assert records[mode]["step_us"] > 0 and isinstance(records[mode]["launches"], int)
    assert records["compiled"]["launches"] <= records["eager"]["launches"]
    assert "step_us" in records["torch_eager"] or "skipped" in records["torch_eager"]
    (path,) = tmp_path.glob("graph-modes-cpu-*.json")
    assert json.loads(path.read_text())["results"][0]["mode"] == "eager"
