"""bench/overhead.py runs end to end on cpu/numpy and writes well-formed JSON (plumbing, never speed)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_overhead_smoke(tmp_path):
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "overhead.py"), "--devices", "cpu,numpy",
                           "--repeat", "2", "--out", str(tmp_path)], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (path,) = tmp_path.glob("*.json")
    assert path.name.startswith("overhead-")
    data = json.loads(path.read_text())
    assert data["complete"] is True and data["meta"]["load_average_1_5_15"] is not None
    recs = {(r["point"], r["device"]): r for r in data["results"]}
    for op in ("add_bcast", "matmul_2x2", "reduce_sum", "relu", "variable_assign"):
        assert (op, "cpu") in recs and (f"{op}_taped", "cpu") in recs and (op, "numpy") in recs
    assert ("tape_gradient_chain10", "cpu") in recs
    for r in recs.values():
        assert "error" not in r, r
        assert len(r["times_s"]) == 2 and r["median_s"] > 0
    taped = recs[("add_bcast_taped", "cpu")]
    assert taped["taped"] is True and taped["calls_per_sample"] == 10
    train = recs[("train_on_batch_mlp", "cpu")]
    assert train["steps_per_s"] == 1.0 / train["median_s"]
    assert recs[("relu", "cpu")]["x_numpy_time"] > 0
    assert "train_on_batch_mlp" in proc.stdout and "x numpy time" in proc.stdout
