"""bench/overlap.py on sim: the scheduler hides every upload after the first, without it none (issue 12's targets)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_overlap_smoke(tmp_path):
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "overlap.py"), "--device", "sim", "--json",
                           "--trace", str(tmp_path)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = {r["mode"]: r for r in map(json.loads, proc.stdout.splitlines())}
    with_it, without = rows["scheduler"], rows["sync"]
    assert with_it["steps"] == without["steps"] == 20 and with_it["uploads"] == without["uploads"] == 20
    assert with_it["overlapped_uploads"] == with_it["steps"] - 1
    assert with_it["races"] == 0 and with_it["compute_idle_fraction"] < 0.05
    assert without["overlapped_uploads"] == 0 and without["compute_idle_fraction"] > with_it["compute_idle_fraction"]
    assert with_it["final_loss"] == without["final_loss"]
    for mode in ("scheduler", "sync"):
        (trace,) = (tmp_path / mode).rglob("*.trace.json")
        assert json.loads(trace.read_text())["traceEvents"]
