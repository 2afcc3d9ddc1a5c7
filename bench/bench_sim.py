"""Time a 1M-element elementwise kernel launch on the sim device.

    python bench/bench_sim.py [--n 1048576] [--repeat 7]

Runs tests/sim/kernels/basic.cu's `affine` (y = x * 2 + 1 over float32, grid-stride loop)
end to end through SimFunction.__call__ (argument checks, guard copies, the launch), after a
warm-up, in two launch shapes: one thread per element as on a GPU (n/256 blocks of 256) and
a few blocks as a sim-aware launcher would pick. Prints the medians and writes JSON to
bench/results/sim-<hostname>-<date>.json. Target: under 1 s for the GPU-style launch.
"""
from __future__ import annotations

import argparse
import datetime
import json
import platform
import socket
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from a checkout without installing


def median_seconds(fn, repeat: int) -> tuple[float, list[float]]:
    fn()  # warm-up: compile/load, commit fiber stacks
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1 << 20)
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()

    from gpuflow.runtime.sim import SimModule, compiler

    t = time.perf_counter()
    mod = SimModule((ROOT / "tests/sim/kernels/basic.cu").read_text(), name="basic.cu")
    build_s = time.perf_counter() - t
    f = mod.get_function("affine")
    n = args.n
    x = np.random.default_rng(0).standard_normal(n).astype(np.float32)
    y = np.empty_like(x)
    results = {}
    for label, grid, block in [("gpu_style", (n + 255) // 256, 256), ("few_blocks", 64, 256)]:
        call = lambda: f(grid, block, (x, y, np.int64(n), np.float32(2), np.float32(1)))  # noqa: E731
        med, times = median_seconds(call, args.repeat)
        assert np.array_equal(y, x * np.float32(2) + np.float32(1))
        results[label] = {"grid": grid, "block": block, "median_s": med, "times_s": times}
        print(f"sim affine n={n} {label:10s} grid={grid:5d} block={block}: median {med * 1e3:8.1f} ms "
              f"({'OK' if med < 1 else 'OVER'} the 1 s target)")

    now = datetime.datetime.now()
    out = {
        "benchmark": "sim elementwise y = x*2+1 float32",
        "n": n, "repeat": args.repeat, "host": socket.gethostname(), "date": now.isoformat(timespec="seconds"),
        "python": platform.python_version(), "compiler": compiler.compiler_version(),
        "cpu": platform.processor() or platform.machine(), "build_or_load_s": build_s, "results": results,
    }
    path = ROOT / "bench" / "results" / f"sim-{socket.gethostname()}-{now:%Y%m%d}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
