"""bench/ops.py and bench/fit.py run end to end on cpu/numpy and write well-formed JSON.

Tiny sizes, so this checks the plumbing, not speed (speed is never asserted in tests). The
cuda paths run in a GPU session (bench/README.md).
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(script, *args, tmp_path):
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / script), *args, "--out", str(tmp_path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    files = list(tmp_path.glob("*.json"))
    assert len(files) == 1, files
    return proc.stdout, json.loads(files[0].read_text()), files[0].name


def check_meta(meta):
    for key in ("date", "command", "devices", "cpu_name", "device_name", "versions", "git"):
        assert key in meta, key
    assert meta["versions"]["numpy"] and meta["versions"]["python"]
    assert set(meta["git"]) >= {"commit", "dirty"}
    check_nvrtc(meta["nvrtc"])


def check_nvrtc(found):
    """CuPy's and cuda-python's NVRTC versions: "major.minor" where importable here, None where not."""
    assert set(found) == {"cupy", "cuda_python"}, found
    for key, module in (("cupy", "cupy"), ("cuda_python", "cuda.bindings.nvrtc")):
        try:
            __import__(module)
        except ImportError:
            assert found[key] is None, found
        else:
            assert re.fullmatch(r"\d+\.\d+", found[key] or ""), found


def test_ops_smoke(tmp_path):
    out, data, name = run("ops.py", "--devices", "cpu,numpy", "--sizes", "1e3", "--repeat", "2",
                          "--ops", "exp,add,multiply_bcast,reduce_sum,argmax_rows,softmax,sparse_xent,"
                          "transpose,concat,gather,matmul,dropout,uniform", tmp_path=tmp_path)
    assert name.startswith("ops-") and name.endswith(".json")
    check_meta(data["meta"])
    assert data["complete"] is True and data["copy_bandwidth"]["host"]["gb_s"] > 0
    recs = data["results"]
    assert {(r["op"], r["device"]) for r in recs} >= {("exp", "cpu"), ("exp", "numpy"), ("matmul", "cpu")}
    for r in recs:
        assert "error" not in r, r
        assert r["n"] == 1000 and r["dtype"] == "float32" and len(r["times_s"]) == 2 and r["calls_per_sample"] == 1
        assert r["median_s"] > 0 and r["bytes"] > 0 and r["gb_s"] > 0 and r["frac_copy_bw"] > 0
        assert (r["speedup_vs_numpy"] is None) == (r["device"] == "numpy")
    matmul = next(r for r in recs if r["op"] == "matmul" and r["device"] == "cpu")
    assert matmul["flops"] == 2 * 32 ** 3 and matmul["flop_s"] > 0
    exp = next(r for r in recs if r["op"] == "exp" and r["device"] == "numpy")
    assert exp["bytes"] == 2 * 4 * 1000  # read x, write y
    assert "median" in out and "x numpy" in out and "softmax" in out


def test_fit_smoke(tmp_path):
    out, data, name = run("fit.py", "--devices", "cpu", "--samples", "256", "--epochs", "1", "--no-torch",
                          tmp_path=tmp_path)
    assert name.startswith("fit-")
    check_meta(data["meta"])
    assert data["complete"] is True
    compiled, eager = data["results"]  # the default modes: compiled (gf.function), then eager
    assert (compiled["mode"], eager["mode"]) == ("function", "eager")
    for rec in (compiled, eager):
        assert "error" not in rec, rec
        assert rec["framework"] == "gpuflow" and rec["device"] == "cpu" and rec["steps"] == 2
        assert len(rec["epoch_times_s"]) == 1 and rec["median_epoch_s"] > 0 and rec["ms_per_step"] > 0
        assert rec["final_loss"] == rec["final_loss"]  # not NaN
    assert eager["time_vs_eager"] == 1.0 and compiled["time_vs_eager"] > 0
    assert "ms/step" in out and "gpuflow" in out and "t / eager" in out
