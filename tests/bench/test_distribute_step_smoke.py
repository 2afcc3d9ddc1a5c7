"""bench/distribute_step.py runs end to end on sim and reports what the compiled distributed step is about
(plumbing and counts, never speed): per mode one JSON line, one collective call per bucket in both, and in the
compiled graph each bucket's all-reduce with ops left to overlap."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_eager_and_compiled_on_two_sim_replicas(tmp_path):
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "distribute_step.py"), "--device", "sim", "--json",
                           "--steps", "2", "--warmup", "1", "--bytes-per-pack", "65536", "--out", str(tmp_path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    eager, compiled = [json.loads(line) for line in proc.stdout.splitlines()]
    assert (eager["step"], compiled["step"]) == ("eager", "compiled")
    params = 784 * 128 + 128 + 128 * 10 + 10
    for r in (eager, compiled):
        assert r["devices"] == ["sim:0", "sim:1"] and r["launches"] > 0 and r["host_us"] > 0
        # 64 KiB buckets, filled from the last layer back: [bias, kernel of layer 2, bias of layer 1], [kernel 1]
        assert r["collectives"] == 2 and r["collective_bytes"] == 4 * params
    assert eager["traces"] == 0 and compiled["traces"] == 2  # one trace per replica device
    assert len(compiled["overlap_ops"]) == 2 and compiled["overlap_ops"][0] > 0  # bucket 0 starts before the end
    assert compiled["pool_allocs"] < eager["pool_allocs"]
    (path,) = tmp_path.glob("distribute-step-sim-*.json")
    data = json.loads(path.read_text())
    assert data["complete"] is True and data["results"] == [eager, compiled]
