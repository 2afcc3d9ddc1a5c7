"""Step anatomy: what one steady-state training step asks of the runtime, eager against gf.function.

    python bench/step_anatomy.py [--device sim|cpu|cuda] [--json] [--steps N] [--warmup W] [--out DIR] [--passes]

The model is bench/fit.py's: the 784-128(relu)-10 MLP, Adam(1e-3), SparseCategoricalCrossentropy(from_logits=True),
metrics=["accuracy"], on random MNIST-shaped data (float32 pixels in [0, 1), int32 labels), batch 128. Two
modes, each on a fresh model with the same seed: `eager` (compile(run_eagerly=True)) and `function` (the
default: fit's compiled step).

A step is what fit() pays per batch: the batch's upload from host NumPy through fit's path
(gpuflow.data.device.device_batches: on cuda and sim the stream scheduler copies batch k+1 into its double
buffer of static inputs on the copy stream; on cpu a conversion) plus `model.make_train_function()(batch)`. The logs stay on the device, as in fit between
progress-bar draws: nothing here reads them. After --warmup steps (compiling kernels, tracing, filling the
allocator's cache), --steps steps are counted one by one with gpuflow.runtime.counters; each count reported
is the mean per step (an int when every step counted the same, as steady steps do):

- launches: kernel launches (gpuflow's kernels and cuBLAS GEMMs on cuda/sim; on cpu, primitives run);
- raw_allocs: new blocks the caching allocator took from the device (cuda) or host (sim); pool_allocs: every
  request to it, cache hits included (cpu has no allocator: 0);
- h2d, d2h (+ _bytes): host-to-device uploads and device-to-host reads (cpu: 0, the host is the device);
- host_us: mean wall time of a step on the host. On cpu and sim that is the whole step (their work runs on
  the host, synchronously); on cuda it is the host's side only, as fit sees it, without waiting for the GPU.

--json prints one JSON line per mode (bench/report.py draws them); otherwise a table. --out DIR also writes
a results file (step-anatomy-<device>-<machine>-<time>.json) with the run's metadata.

--passes measures the compiled mode once per prefix of the graph compiler's pass pipeline instead (none, +dce,
+cse, +fold, ...): see bench/pass_anatomy.py for its configurations and columns.
"""
from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

BATCH, HIDDEN, CLASSES, FEATURES = 128, 128, 10, 784
MODES = ("eager", "function")
COUNTS = ("launches", "raw_allocs", "pool_allocs", "h2d", "d2h", "h2d_bytes", "d2h_bytes")


def make_model(gf, device: str, eager: bool):
    with gf.device(device):
        gf.keras.utils.set_random_seed(0)
        return compiled_mlp(gf.keras, eager)


def compiled_mlp(keras, eager: bool):
    """The benchmark's MLP, compiled (Adam, sparse cross-entropy, accuracy), in the caller's device or scope."""
    model = keras.Sequential([keras.Input(shape=(FEATURES,)), keras.layers.Dense(HIDDEN, activation="relu"),
                              keras.layers.Dense(CLASSES)])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"],
                  run_eagerly=eager)
    return model


def anatomy(gf, device: str, mode: str, steps: int, warmup: int, after=None) -> dict:
    """Per-step counts and host time of `steps` steady-state train steps of `mode` on `device`; `after(train
    function)` is called once they are counted (--passes reads the function's graph)."""
    from gpuflow.data.device import device_batches
    from gpuflow.runtime import counters
    rng = np.random.default_rng(0)
    x = rng.random((BATCH, FEATURES), dtype=np.float32)
    y = rng.integers(0, CLASSES, BATCH).astype(np.int32)
    model = make_model(gf, device, eager=mode == "eager")
    with gf.device(device):
        function = model.make_train_function()

        batches = device_batches(itertools.repeat((x, y)), device)  # fit's upload path, one batch ahead

        def step():
            return function(next(batches))
        for _ in range(warmup):
            step()
        common.synchronize(device)
        counts, times = [], []
        for _ in range(steps):
            with counters.measure() as measured:
                start = time.perf_counter()
                step()
                times.append(time.perf_counter() - start)
            counts.append(measured.delta)
        common.synchronize(device)
    if after is not None:
        after(function)
    record = {"mode": mode, "device": device}
    for key in COUNTS:
        values = [c[key] for c in counts]
        record[key] = values[0] if len(set(values)) == 1 else sum(values) / len(values)
    record["host_us"] = round(1e6 * sum(times) / len(times), 1)
    record["steps"] = steps
    return record


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="sim", help="cpu, sim or cuda (default: sim)")
    ap.add_argument("--json", action="store_true", help="print one JSON line per mode instead of a table")
    ap.add_argument("--steps", type=int, default=10, help="steady-state steps counted per mode (default 10)")
    ap.add_argument("--warmup", type=int, default=3, help="steps run first and not counted (default 3)")
    ap.add_argument("--out", default=None, help="also write a results file into this folder")
    ap.add_argument("--passes", action="store_true",
                    help="the compiled mode once per pass pipeline prefix (none, +dce, +cse, +fold, ...)")
    args = ap.parse_args(argv)
    if args.steps < 1 or args.warmup < 1:
        ap.error("--steps and --warmup must be at least 1 (the first step traces and compiles)")

    import gpuflow as gf
    if args.passes:
        import pass_anatomy
        return pass_anatomy.main(gf, anatomy, args, f"the compiled MLP train step (batch {BATCH}) per pass "
                                 f"configuration, mean of {args.steps} steps")
    records = []
    for mode in MODES:
        record = anatomy(gf, args.device, mode, args.steps, args.warmup)
        records.append(record)
        if args.json:
            print(json.dumps(record), flush=True)
    if not args.json:
        common.print_table(["mode", "device", *COUNTS, "host time"],
                           [[r["mode"], r["device"], *(r[k] for k in COUNTS), common.fmt_time(r["host_us"] / 1e6)]
                            for r in records],
                           title=f"one steady-state MLP train step (batch {BATCH}), mean of {args.steps} steps")
    if args.out:
        meta = common.metadata([args.device])
        path = common.results_path(f"step-anatomy-{common.slug(args.device)}", meta, args.out)
        # BLAS threads decide cpu host times on a small shared machine (spinning threads of a busy 2-core VM cost
        # several times the step): say how they were set
        blas = {k: os.environ.get(k) for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}
        common.write_json(path, meta, {"model": f"{FEATURES}-{HIDDEN}-{CLASSES} MLP, Adam, batch {BATCH}",
                                       "steps": args.steps, "warmup": args.warmup, "blas_threads_env": blas,
                                       "complete": True, "results": records})
        print(f"wrote {path}", file=sys.stderr if args.json else sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
