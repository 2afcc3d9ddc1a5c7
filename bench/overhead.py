"""Eager per-op overhead: what one tiny gpuflow call costs end to end, per device.

    python bench/overhead.py [--devices cpu,sim,cuda] [--repeat N] [--no-train] [--out bench/results/]

On tiny tensors the compute is nothing, so these numbers are gpuflow's own Python cost per
call (dispatch, shape inference, Tensor construction, tape recording): what bounds small
models. Points:

- per-op calls, with no tape and with an active GradientTape that watches the inputs (so every
  call is recorded): `add_bcast` (float32 [4,3] + [3]), `matmul_2x2`, `reduce_sum` ([4,3] to a
  scalar), `relu` ([4,3]), `variable_assign` (Variable [4,3] assigned a tensor). Under a tape,
  one sample is a fresh tape around 10 calls, divided by 10;
- `tape_gradient_chain10`: 10 elementwise ops under a tape, then `tape.gradient` (per chain);
- `train_on_batch_mlp`: one `train_on_batch` of the 784-128(relu)-10 MLP, batch 128, Adam,
  sparse CE from logits (as bench/fit.py, without the data pipeline); reported as steps/s too.
- the `numpy` device gives the plain NumPy expression of each per-op point, the floor.

Timing: `time.perf_counter` around k consecutive calls, median over samples (bench/common.py's
plan: >= 0.2 s per point, <= 200 samples). On cuda each sample is synchronised on the current
stream before the clock starts and before it stops, so queued GPU work is inside the sample.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

OPS = ("add_bcast", "matmul_2x2", "reduce_sum", "relu", "variable_assign")
TAPED_CALLS = 10  # calls per fresh tape in the taped points
BATCH, HIDDEN, CLASSES, FEATURES = 128, 128, 10, 784


def time_synced(fn, device: str, repeat: int | None) -> tuple[list[float], int]:
    """Per-call seconds of fn(): perf_counter around k calls, synchronised on cuda at both ends."""
    sync = (lambda: common.synchronize(device))
    for _ in range(3):  # warm-up: first-use imports, kernel compilation, allocator growth
        fn()
    sync()
    t = time.perf_counter()
    fn()
    sync()
    samples, per = common.plan(time.perf_counter() - t, repeat)
    times = []
    for _ in range(samples):
        sync()
        t = time.perf_counter()
        for _ in range(per):
            fn()
        sync()
        times.append((time.perf_counter() - t) / per)
    return times, per


def numpy_points(rng) -> dict:
    x, b = rng.standard_normal((4, 3), dtype=np.float32), rng.standard_normal(3, dtype=np.float32)
    m = rng.standard_normal((2, 2), dtype=np.float32)
    holder = [x.copy()]

    def assign():
        holder[0] = np.array(x)  # a variable taking a new value's buffer
    return {"add_bcast": lambda: x + b, "matmul_2x2": lambda: m @ m, "reduce_sum": lambda: x.sum(),
            "relu": lambda: np.maximum(x, 0), "variable_assign": assign}


def gpuflow_points(gf, device: str, rng) -> dict:
    """name -> (fn, calls per fn() call, taped?)"""
    with gf.device(device):
        x = gf.constant(rng.standard_normal((4, 3), dtype=np.float32))
        b = gf.constant(rng.standard_normal(3, dtype=np.float32))
        m = gf.constant(rng.standard_normal((2, 2), dtype=np.float32))
        v = gf.Variable(rng.standard_normal((4, 3), dtype=np.float32))
        w = gf.constant(np.float32(0.9))
    ops = {"add_bcast": lambda: gf.add(x, b), "matmul_2x2": lambda: gf.matmul(m, m),
           "reduce_sum": lambda: gf.reduce_sum(x), "relu": lambda: gf.nn.relu(x),
           "variable_assign": lambda: v.assign(x)}
    points = {name: (fn, 1, False) for name, fn in ops.items()}

    def taped(op):
        def run():
            with gf.GradientTape() as tape:
                tape.watch([x, b, m])
                for _ in range(TAPED_CALLS):
                    op()
        return run
    points.update({f"{name}_taped": (taped(fn), TAPED_CALLS, True) for name, fn in ops.items()})


    def chain():
        with gf.GradientTape() as tape:
            tape.watch(x)
            y = x
            for _ in range(5):  # 10 primitive calls: multiply, tanh
                y = gf.tanh(y * w)
        return tape.gradient(y, x)
    points["tape_gradient_chain10"] = (chain, 1, True)
    return points


def train_point(gf, device: str):
    keras = gf.keras
    rng = np.random.default_rng(0)
    xb = rng.random((BATCH, FEATURES), dtype=np.float32)
    yb = rng.integers(0, CLASSES, BATCH).astype(np.int32)
    with gf.device(device):
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input(shape=(FEATURES,)), keras.layers.Dense(HIDDEN, activation="relu"),
                                  keras.layers.Dense(CLASSES)])
        model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3),
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))

    def step():
        with gf.device(device):
            model.train_on_batch(xb, yb)  # reads the loss back: a full step, synchronised
    return step


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--devices", default=None, help="gpuflow devices (default: cpu, sim, and cuda when usable); "
                                                    "add numpy for the plain-NumPy floor (default: included)")
    ap.add_argument("--repeat", type=int, default=None, help="exactly N samples of one call each (default: auto)")
    ap.add_argument("--no-train", action="store_true", help="skip the train_on_batch point")
    ap.add_argument("--out", default=str(common.ROOT / "bench" / "results"))
    args = ap.parse_args(argv)

    devices = (common.parse_list(args.devices) if args.devices
               else ["cpu", "sim"] + (["cuda"] if common.cuda_usable() else []) + ["numpy"])
    meta = common.metadata(devices)
    print(f"# {meta['device_name']} | eager overhead, tiny tensors | git {str(meta['git'].get('commit'))[:10]} | "
          f"load {meta['load_average_1_5_15']}")
    path = common.results_path("overhead", meta, args.out)
    payload = {"taped_calls_per_tape": TAPED_CALLS, "complete": False, "results": []}
    results = payload["results"]

    def record(name, device, fn, calls, taped):
        rec = {"point": name, "device": device, "taped": taped}
        try:
            times, per = time_synced(fn, device, args.repeat)
            times = [t / calls for t in times]  # per primitive call (a taped sample is a tape around `calls`)
            rec.update({"times_s": common.sig(times), "samples": len(times), "calls_per_sample": per * calls,
                        "median_s": common.median(times)})
        except Exception as e:  # report the failure, keep the other points
            rec["error"] = f"{type(e).__name__}: {e}"[:500]
            print(f"  ! {name} on {device}: {rec['error']}", file=sys.stderr)
        results.append(rec)
        common.write_json(path, meta, payload)
        return rec

    import gpuflow as gf
    for device in devices:
        rng = np.random.default_rng(0)
        if device == "numpy":
            for name, fn in numpy_points(rng).items():
                record(name, device, fn, 1, False)
            continue
        for name, (fn, calls, taped) in gpuflow_points(gf, device, rng).items():
            record(name, device, fn, calls, taped)
        if not args.no_train:
            rec = record("train_on_batch_mlp", device, train_point(gf, device), 1, True)
            if "median_s" in rec:
                rec["steps_per_s"] = 1.0 / rec["median_s"]
                common.write_json(path, meta, payload)

    floor = {r["point"]: r["median_s"] for r in results if r["device"] == "numpy" and "median_s" in r}
    rows = []
    for r in results:
        if "error" in r:
            rows.append([r["point"], r["device"], "ERROR", None, None])
            continue
        base = floor.get(r["point"].removesuffix("_taped"))
        r["x_numpy_time"] = r["median_s"] / base if base and r["device"] != "numpy" else None
        rows.append([r["point"], r["device"], common.fmt_time(r["median_s"]), r["x_numpy_time"],
                     r.get("steps_per_s")])
    common.print_table(["point", "device", "per call", "x numpy time", "steps/s"], rows,
                       title="eager overhead: median per call (taped: per call under an active tape)")
    payload["complete"] = True
    common.write_json(path, meta, payload)
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
