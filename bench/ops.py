"""Time gpuflow's op families on every device against plain NumPy.

    python bench/ops.py [--devices cpu,sim,cuda,numpy] [--sizes 1e3,1e4,...,1e8] [--repeat N]
                        [--ops exp,add,...] [--sim-max-size 1e5] [--out bench/results/]

Each point is one public gpuflow call (dispatch included, as a user pays it) on float32
inputs of n elements; row-wise ops see n/1000 rows of 1000. `numpy` is the baseline: the
plain NumPy expression of the same op. Bytes are the op's minimum traffic (inputs read once
+ outputs written once, as the user sees them); GB/s is that over the median time and
"%copy" is GB/s over a device-to-device copy measured in the same run. The issue's targets
at n = 1e8 on cuda: elementwise >= 85% of copy bandwidth, reductions/softmax >= 75%.
"""
from __future__ import annotations

import argparse
import gc
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

ROW = 1000                 # row length of the row-wise ops (softmax, argmax, ...)
SIM_MAX_N = 10 ** 5        # the simulator runs every thread on the CPU: slow by design
HOST_MATMUL_MAX_N = 10 ** 6  # 1000x1000: 2 GFLOP; bigger squares take seconds per run on a CPU
TARGETS = {"elementwise": 0.85, "reduction": 0.75, "softmax": 0.75}


@dataclass
class Op:
    name: str
    family: str
    make: callable             # (n, rng) -> tuple of NumPy inputs
    gf: callable               # (gf, *tensors) -> result
    np: callable               # (*arrays) -> result (the baseline)
    bytes: callable = None     # (n, inputs) -> bytes moved; default: inputs + output
    flops: callable = None     # (n, inputs) -> FLOPs, where meaningful
    host_max_n: int | None = None
    note: str = ""
    rng: np.random.Generator = field(default_factory=lambda: np.random.default_rng(1))


def rows(n):
    return (max(1, n // ROW), ROW)


def square_side(n):
    return max(1, round(math.sqrt(n)))


def matrix_2d(n):
    # near-square, both sides >= 10 from n = 1e3: (10, 100), (100, 100), ..., (1e4, 1e4)
    r = 10 ** (int(math.log10(max(n, 1))) // 2)
    return (r, max(1, n // r))


def normal(shape, rng):
    return rng.standard_normal(shape, dtype=np.float32)


def gelu_tanh(x):
    return 0.5 * x * (1 + np.tanh(np.float32(0.7978845608) * (x + np.float32(0.044715) * x ** 3)))


def softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def log_softmax(x):
    z = x - x.max(-1, keepdims=True)
    return z - np.log(np.exp(z).sum(-1, keepdims=True))


def sparse_xent(labels, logits):
    return -np.take_along_axis(log_softmax(logits), labels[:, None].astype(np.int64), -1)[:, 0]


def _dropout_np(rng):
    return lambda x: np.where(rng.random(x.shape, dtype=np.float32) >= 0.5, x * np.float32(2), np.float32(0))


def catalog() -> list[Op]:
    base = np.random.default_rng(2)
    return [
        Op("exp", "elementwise", lambda n, r: (normal(n, r),), lambda gf, x: gf.exp(x), np.exp),
        Op("relu", "elementwise", lambda n, r: (normal(n, r),), lambda gf, x: gf.nn.relu(x),
           lambda x: np.maximum(x, np.float32(0))),
        Op("gelu", "elementwise", lambda n, r: (normal(n, r),), lambda gf, x: gf.nn.gelu(x, approximate=True),
           gelu_tanh, note="tanh form (NumPy has no erf)"),
        Op("add", "elementwise", lambda n, r: (normal(n, r), normal(n, r)), lambda gf, x, y: gf.add(x, y), np.add),
        Op("multiply", "elementwise", lambda n, r: (normal(n, r), normal(n, r)),
           lambda gf, x, y: gf.multiply(x, y), np.multiply),
        Op("multiply_bcast", "elementwise", lambda n, r: (normal(rows(n), r), normal(ROW, r)),
           lambda gf, x, y: gf.multiply(x, y), np.multiply, note="(n/1000, 1000) * (1000,)"),
        Op("cast_f16", "elementwise", lambda n, r: (normal(n, r),), lambda gf, x: gf.cast(x, gf.float16),
           lambda x: x.astype(np.float16)),
        Op("reduce_sum", "reduction", lambda n, r: (normal(n, r),), lambda gf, x: gf.reduce_sum(x), np.sum),
        Op("reduce_sum_rows", "reduction", lambda n, r: (normal(rows(n), r),),
           lambda gf, x: gf.reduce_sum(x, axis=-1), lambda x: x.sum(-1)),
        Op("reduce_max", "reduction", lambda n, r: (normal(n, r),), lambda gf, x: gf.reduce_max(x), np.max),
        Op("argmax_rows", "reduction", lambda n, r: (normal(rows(n), r),),
           lambda gf, x: gf.argmax(x, axis=-1), lambda x: x.argmax(-1)),
        Op("softmax", "softmax", lambda n, r: (normal(rows(n), r),), lambda gf, x: gf.nn.softmax(x), softmax),
        Op("log_softmax", "softmax", lambda n, r: (normal(rows(n), r),),
           lambda gf, x: gf.nn.log_softmax(x), log_softmax),
        Op("sparse_xent", "softmax",
           lambda n, r: (r.integers(0, ROW, rows(n)[0], dtype=np.int32), normal(rows(n), r)),
           lambda gf, l, x: gf.nn.sparse_softmax_cross_entropy_with_logits(labels=l, logits=x), sparse_xent),
        Op("transpose", "movement", lambda n, r: (normal(matrix_2d(n), r),), lambda gf, x: gf.transpose(x),
           lambda x: np.ascontiguousarray(x.T)),
        Op("concat", "movement", lambda n, r: (normal((rows(n)[0], ROW // 2), r), normal((rows(n)[0], ROW // 2), r)),
           lambda gf, a, b: gf.concat([a, b], axis=-1), lambda a, b: np.concatenate([a, b], axis=-1),
           note="two (n/1000, 500) along the last axis"),
        Op("gather", "movement",
           lambda n, r: (normal(rows(n), r), r.integers(0, rows(n)[0], rows(n)[0], dtype=np.int32)),
           lambda gf, p, i: gf.gather(p, i), lambda p, i: np.take(p, i, axis=0),
           # reads the gathered rows (= the output's size) and the indices, writes the output
           bytes=lambda n, ins: 2 * ins[0].nbytes + ins[1].nbytes, note="n/1000 rows of 1000 by random index"),
        Op("matmul", "matmul", lambda n, r: (normal((square_side(n),) * 2, r), normal((square_side(n),) * 2, r)),
           lambda gf, a, b: gf.matmul(a, b), np.matmul, flops=lambda n, ins: 2.0 * ins[0].shape[0] ** 3,
           host_max_n=HOST_MATMUL_MAX_N, note="square, sqrt(n) a side"),
        Op("dropout", "random", lambda n, r: (normal(n, r),), lambda gf, x: gf.nn.dropout(x, 0.5),
           _dropout_np(base)),
        Op("uniform", "random", lambda n, r: (n,), lambda gf, n: gf.random.uniform((n,)),
           lambda n: base.random(n, dtype=np.float32)),
        *breadth_ops(),
    ]


# ---- sorting, scans, scatters, segments, einsum: each against the NumPy call its cpu path wraps ----
TOP_K, SEGMENTS, HEAD = 10, 100, 64


def top_k_np(x, k=TOP_K):
    """Stable descending order (ties to the lower index), as gf.math.top_k: argsort of the reversed rows."""
    idx = (x.shape[-1] - 1) - np.argsort(x[..., ::-1], axis=-1, kind="stable")[..., ::-1][..., :k]
    return np.take_along_axis(x, idx, -1), idx


def scatter_np(t, idx, u):
    out = t.copy()
    np.add.at(out, idx[:, 0], u)
    return out


def segment_np(d, ids):
    out = np.zeros((SEGMENTS,) + d.shape[1:], d.dtype)
    np.add.at(out, ids, d)
    return out


def image_batch(n):
    """(batch, 32, 32, 3) images holding about n values."""
    return (max(1, n // (32 * 32 * 3)), 32, 32, 3)


def resize_np(x, size):
    """Bilinear resize with TF 2's half-pixel centers, two taps per axis by fancy indexing (float32)."""
    def taps(n_in, n_out):
        src = (np.arange(n_out, dtype=np.float32) + np.float32(0.5)) * np.float32(n_in / n_out) - np.float32(0.5)
        lo = np.maximum(np.floor(src), 0).astype(np.intp)
        return lo, np.minimum(np.ceil(src), n_in - 1).astype(np.intp), (src - np.floor(src)).astype(np.float32)
    top, bottom, ly = taps(x.shape[1], size[0])
    left, right, lx = taps(x.shape[2], size[1])
    rows = x[:, top] + (x[:, bottom] - x[:, top]) * ly[:, None, None]
    return rows[:, :, left] + (rows[:, :, right] - rows[:, :, left]) * lx[:, None]


def attention_shapes(n):
    batch = max(1, n // (4 * HEAD * HEAD))
    return (batch, 4, HEAD, HEAD)


def breadth_ops() -> list[Op]:
    def scatter_inputs(n, r):
        t = normal(rows(n), r)
        return t, r.integers(0, t.shape[0], (t.shape[0], 1), dtype=np.int32), normal(rows(n), r)
    return [
        Op("sort_rows", "sort", lambda n, r: (normal(rows(n), r),), lambda gf, x: gf.sort(x),
           lambda x: np.sort(x, axis=-1), note="each row of 1000"),
        Op("top_k_rows", "sort", lambda n, r: (normal(rows(n), r),), lambda gf, x: gf.math.top_k(x, TOP_K),
           top_k_np, note=f"k = {TOP_K} of each row of 1000; NumPy: stable argsort + take"),
        Op("cumsum_rows", "scan", lambda n, r: (normal(rows(n), r),), lambda gf, x: gf.cumsum(x, axis=-1),
           lambda x: np.cumsum(x, axis=-1), note="along rows of 1000"),
        Op("scatter_add", "scatter", scatter_inputs, lambda gf, t, i, u: gf.tensor_scatter_nd_add(t, i, u),
           scatter_np, note="n/1000 rows of 1000 added at random rows; NumPy: np.add.at"),
        Op("segment_sum", "scatter",
           lambda n, r: (normal(rows(n), r), r.integers(0, SEGMENTS, rows(n)[0], dtype=np.int32)),
           lambda gf, d, i: gf.math.unsorted_segment_sum(d, i, SEGMENTS), segment_np,
           note=f"rows of 1000 into {SEGMENTS} segments; NumPy: np.add.at"),
        Op("resize_bilinear", "image", lambda n, r: (normal(image_batch(n), r),),
           lambda gf, x: gf.image.resize(x, [48, 48]), lambda x: resize_np(x, (48, 48)),
           note="(batch, 32, 32, 3) images to 48x48, half-pixel centers; NumPy: two taps per axis by indexing"),
        Op("einsum_attention", "matmul",
           lambda n, r: (normal(attention_shapes(n), r), normal(attention_shapes(n), r)),
           lambda gf, q, k: gf.einsum("bhqd,bhkd->bhqk", q, k), lambda q, k: np.einsum("bhqd,bhkd->bhqk", q, k),
           flops=lambda n, ins: 2.0 * ins[0].size * HEAD, host_max_n=10 ** 6,
           note=f"bhqd,bhkd->bhqk, 4 heads of {HEAD}x{HEAD}; NumPy: np.einsum"),
    ]


# ---- measuring ----------------------------------------------------------------------------------
def nbytes(x) -> int:
    if isinstance(x, (tuple, list)):
        return sum(nbytes(v) for v in x)
    if hasattr(x, "_data"):  # a gf.Tensor: its storage
        return int(x._data.nbytes)
    return int(getattr(x, "nbytes", 0))


def to_device(gf, arrays, device):
    if device == "numpy":
        return arrays
    with gf.device(device):
        return tuple(gf.convert_to_tensor(a) if isinstance(a, np.ndarray) else a for a in arrays)


def run_point(gf, op: Op, device: str, n: int, inputs, repeat):
    args = to_device(gf, inputs, device)
    if device == "numpy":
        call = lambda: op.np(*args)  # noqa: E731
    else:
        def call():
            with gf.device(device):
                return op.gf(gf, *args)
    out = call()  # the first call also checks that the op runs at all
    common.synchronize(device)
    moved = op.bytes(n, inputs) if op.bytes else sum(nbytes(a) for a in inputs if isinstance(a, np.ndarray)) + nbytes(out)
    del out
    times, per = common.timer_for(device)(call, repeat)
    med = common.median(times)
    rec = {"times_s": common.sig(times), "samples": len(times), "calls_per_sample": per, "median_s": med,
           "bytes": moved, "gb_s": moved / med / 1e9}
    if op.flops:
        rec["flops"] = op.flops(n, inputs)
        rec["flop_s"] = rec["flops"] / med
    return rec


def copy_bandwidth(device: str, n: int, repeat) -> dict:
    """Read + write bytes per second of a plain float32 copy: the ceiling memory-bound ops aim at."""
    if device == "cuda":
        import cupy
        src = cupy.asarray(np.random.default_rng(3).standard_normal(n, dtype=np.float32))
        dst = cupy.empty_like(src)
        times, _ = common.time_cuda(lambda: cupy.copyto(dst, src), repeat)
    else:
        src = np.random.default_rng(3).standard_normal(n, dtype=np.float32)
        dst = np.empty_like(src)
        times, _ = common.time_host(lambda: np.copyto(dst, src), repeat)
    med = common.median(times)
    return {"elements": n, "bytes": 2 * src.nbytes, "times_s": common.sig(times), "median_s": med,
            "gb_s": 2 * src.nbytes / med / 1e9}


def size_allowed(op: Op, device: str, n: int, sim_max_n: int) -> bool:
    if device == "sim":
        return n <= min(sim_max_n, op.host_max_n or sim_max_n)
    if device in ("cpu", "numpy") and op.host_max_n:
        return n <= op.host_max_n
    return True


def bandwidth_kind(device: str) -> str:
    return "cuda" if device.startswith("cuda") else "host"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--devices", default=None, help="comma list of cpu,sim,cuda,numpy (default: all usable; "
                    "sim only at sizes <= --sim-max-size)")
    ap.add_argument("--sizes", default="1e3,1e4,1e5,1e6,1e7,1e8")
    ap.add_argument("--repeat", type=int, default=None,
                    help="timed calls per point (default: enough for >= 0.2 s and >= 10 calls, capped at ~5 s)")
    ap.add_argument("--ops", default=None, help="comma list of op names (default: all)")
    ap.add_argument("--sim-max-size", type=float, default=SIM_MAX_N)
    ap.add_argument("--out", default=str(common.ROOT / "bench" / "results"))
    args = ap.parse_args(argv)

    devices = common.parse_list(args.devices) if args.devices else common.available_devices()
    if "cuda" in devices and not common.cuda_usable():
        ap.error("--devices has cuda but no usable CUDA GPU is here (CuPy and a driver are needed)")
    sizes = [int(float(s)) for s in common.parse_list(args.sizes)]
    ops = catalog()
    if args.ops:
        wanted = set(common.parse_list(args.ops))
        unknown = wanted - {o.name for o in ops}
        if unknown:
            ap.error(f"unknown ops {sorted(unknown)}; known: {', '.join(o.name for o in ops)}")
        ops = [o for o in ops if o.name in wanted]

    import gpuflow as gf
    meta = common.metadata(devices)
    print(f"# {meta['device_name']} | devices {','.join(devices)} | git {str(meta['git'].get('commit'))[:10]}"
          f"{' (dirty)' if meta['git'].get('dirty') else ''}")

    # The copy ceiling, once per memory system in use; 1e8 floats (800 MB moved) fills any GPU's
    # pipeline, 2.5e7 (200 MB) is well past a CPU's caches.
    copy = {}
    if any(d.startswith("cuda") for d in devices):
        with gf.device("cuda"):
            gf.zeros([1])  # installs gpuflow's allocator first, so every buffer below comes from one pool
        copy["cuda"] = copy_bandwidth("cuda", 10 ** 8, args.repeat)
    if any(not d.startswith("cuda") for d in devices):
        copy["host"] = copy_bandwidth("host", 25 * 10 ** 6, args.repeat)
    for kind, c in copy.items():
        print(f"# copy bandwidth ({kind}): {c['gb_s']:.1f} GB/s (read + write, {c['elements']:,} float32)")

    path = common.results_path("ops", meta, args.out)
    payload = {"copy_bandwidth": copy, "targets": TARGETS, "complete": False, "results": []}
    results = payload["results"]
    for op in ops:
        for n in sizes:
            inputs = op.make(n, op.rng)
            for device in devices:
                if not size_allowed(op, device, n, int(args.sim_max_size)):
                    continue
                rec = {"op": op.name, "family": op.family, "device": device, "n": n, "dtype": "float32",
                       "shapes": [list(a.shape) for a in inputs if isinstance(a, np.ndarray)], "note": op.note}
                try:
                    rec.update(run_point(gf, op, device, n, inputs, args.repeat))
                    rec["frac_copy_bw"] = rec["gb_s"] / copy[bandwidth_kind(device)]["gb_s"]
                except Exception as e:  # one failing point (OOM, missing kernel) must not lose the rest
                    rec["error"] = f"{type(e).__name__}: {e}"[:500]
                    print(f"  ! {op.name} n={n:.0e} on {device}: {rec['error']}", file=sys.stderr)
                results.append(rec)
                gc.collect()
            print(f"  done {op.name} n={n:.0e}", file=sys.stderr, flush=True)
            del inputs
        add_speedups_and_verdicts(results)
        common.write_json(path, meta, payload)

    add_speedups_and_verdicts(results)
    print_results(results, copy)
    payload["complete"] = True
    common.write_json(path, meta, payload)
    print(f"\nwrote {path}")
    return 0


def add_speedups_and_verdicts(results):
    base = {(r["op"], r["n"]): r["median_s"] for r in results if r["device"] == "numpy" and "median_s" in r}
    for r in results:
        if "median_s" not in r:
            continue
        b = base.get((r["op"], r["n"]))
        r["speedup_vs_numpy"] = b / r["median_s"] if b and r["device"] != "numpy" else None
        target = TARGETS.get(r["family"])
        if target and r["device"].startswith("cuda") and r["n"] == 10 ** 8:
            r["target_frac_copy_bw"] = target
            r["pass"] = r["frac_copy_bw"] >= target


def print_results(results, copy):
    headers = ["op", "n", "device", "median", "GB/s", "%copy", "TFLOP/s", "x numpy", "calls"]
    rows = []
    for r in results:
        if "error" in r:
            rows.append([r["op"], f"{r['n']:.0e}", r["device"], "ERROR", None, None, None, None, None])
            continue
        rows.append([r["op"], f"{r['n']:.0e}", r["device"], common.fmt_time(r["median_s"]), r["gb_s"],
                     f"{100 * r['frac_copy_bw']:.1f}", r["flop_s"] / 1e12 if "flop_s" in r else None,
                     r["speedup_vs_numpy"], r["samples"] * r["calls_per_sample"]])
    common.print_table(headers, rows, title="ops: median time per call, bytes moved / time, vs the copy ceiling")
    verdicts = [r for r in results if "pass" in r]
    if any(k == "cuda" for k in copy):
        print(f"\ntargets at n=1e8 on cuda (copy {copy['cuda']['gb_s']:.0f} GB/s): elementwise >= 85%, "
              f"reductions/softmax >= 75% of copy bandwidth")
        if not verdicts:
            print("  no 1e8 cuda point was measured: no verdict")
        for r in verdicts:
            print(f"  {'PASS' if r['pass'] else 'FAIL'}  {r['op']:<16} {100 * r['frac_copy_bw']:5.1f}% "
                  f"(target {100 * r['target_frac_copy_bw']:.0f}%)")
        for r in results:
            if "error" in r and r["device"].startswith("cuda") and r["n"] == 10 ** 8 and r["family"] in TARGETS:
                print(f"  FAIL  {r['op']:<16} error: {r['error'][:80]}")


if __name__ == "__main__":
    sys.exit(main())
