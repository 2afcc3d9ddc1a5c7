"""bench/serve_load.py end to end at a tiny scale: both modes, a version swap, 0 errors, JSON out. Speed is
never asserted here (bench/README.md)."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("uvicorn", reason="gpuflow[serving] is not installed")
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.serving
def test_serve_load_runs_both_modes_through_a_swap(tmp_path):
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "serve_load.py"), "--device", "cpu", "--clients", "4",
                           "--duration", "2", "--out", str(tmp_path)], cwd=ROOT, capture_output=True, text=True,
                          timeout=180)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    for mode in ("no_batching", "batching"):
        result = report["results"][mode]
        assert result["requests"] > 0 and result["errors"] == 0
        assert result["versions_after"] == {"1": "END", "2": "AVAILABLE"}
        assert set(result) >= {"p50_ms", "p99_ms", "throughput_rps", "answered_by_version"}
    assert report["results"]["batching"]["batches"] > 0 and report["checks"]["zero_errors"]
    (written,) = tmp_path.glob("serve-*.json")
    assert json.loads(written.read_text())["meta"]["git"]["commit"]
