"""Epoch time of Keras-style fit() on the MNIST-sized MLP: gpuflow compiled and eager on each device, vs PyTorch eager.

    OMP_NUM_THREADS=1 python bench/fit.py [--devices cpu,cuda] [--samples 60000] [--epochs 3] [--sim]
                        [--no-torch] [--modes function,eager] [--json] [--out bench/results/]

Model: 784 -> Dense(128, relu) -> Dense(10) logits; Adam(1e-3, eps 1e-7); sparse categorical
cross-entropy from logits; batch 128, no shuffling; synthetic float32 data (random pixels,
labels from a fixed random linear map so the loss can fall). gpuflow trains the model twice per
device, in the same process: compiled (the default of fit, mode "function": a gf.function train
step, logs read when the epoch ends) and eager (compile(run_eagerly=True)). Both frameworks get
the same batches: sliced from host NumPy arrays each step and given to the device. PyTorch runs
its usual eager loop (zero_grad, forward, backward, step) and, like gpuflow's compiled fit, reads
the loss at the end of the epoch only; it gets Keras' init (Glorot-uniform kernels, zero biases),
on cuda when available, else cpu.

Schedule: every run trains a warm-up epoch, then --epochs rounds of one epoch each, interleaved
(each round runs every model once, the order rotating), and each run's median epoch is reported.
Interleaving puts the runs compared under the same load, which drifts on a shared machine. Each
epoch is timed twice: wall time (`ms_per_step`, `time_vs_eager`, `speedup_vs_torch`) and the CPU
time the process used (`cpu_ms_per_step`, `cpu_time_vs_eager`, `cpu_speedup_vs_torch`), which
leaves out the time spent waiting for a core while other work runs; single-threaded on an idle
machine the two agree.

Threads: on cpu, NumPy's OpenBLAS and PyTorch both size their thread pools from OMP_NUM_THREADS
when they load, so set it in the command (as above) to compare them on equal terms. The report's
cpu numbers use OMP_NUM_THREADS=1: the machine's 2 cores are shared, and a second BLAS thread
measures the neighbours' load more than the frameworks. The results file records the settings.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

BATCH, HIDDEN, CLASSES, FEATURES = 128, 128, 10, 784
SIM_SAMPLES = 512  # the simulator runs every thread on the CPU: a few steps are all it can afford


def synthetic(samples: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.random((samples, FEATURES), dtype=np.float32)
    w = rng.standard_normal((FEATURES, CLASSES), dtype=np.float32)
    y = (x @ w).argmax(-1).astype(np.int32)
    return x, y


class GpuflowRun:
    """One gpuflow model on one device in one mode; `epoch()` trains one more epoch and returns its time."""

    def __init__(self, device: str, x, y, mode: str = "function"):
        import gpuflow as gf
        self.gf, self.device, self.x, self.y = gf, device, x, y
        keras = gf.keras

        class EpochTimer(keras.callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                common.synchronize(device)
                self.start = time.perf_counter(), time.process_time()

            def on_epoch_end(self, epoch, logs=None):
                common.synchronize(device)  # queued GPU work belongs to this epoch
                self.seconds = time.perf_counter() - self.start[0], time.process_time() - self.start[1]

        self.timer = EpochTimer()
        with gf.device(device):
            keras.utils.set_random_seed(0)
            self.model = keras.Sequential([keras.Input(shape=(FEATURES,)),
                                           keras.layers.Dense(HIDDEN, activation="relu"),
                                           keras.layers.Dense(CLASSES)])
            self.model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3),
                               loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                               run_eagerly=mode == "eager")

    def epoch(self) -> tuple[tuple[float, float], float]:
        """((wall, cpu) seconds, the epoch's mean loss): one fit() call of one epoch, timed inside it by a callback."""
        with self.gf.device(self.device):
            history = self.model.fit(self.x, self.y, batch_size=BATCH, epochs=1, shuffle=False, verbose=0,
                                     callbacks=[self.timer])
        return self.timer.seconds, float(history.history["loss"][-1])


class TorchRun:
    """The same MLP in PyTorch's usual eager loop (zero_grad, forward, backward, step)."""

    def __init__(self, device: str, x, y):
        import torch
        self.torch, self.device = torch, device
        torch.manual_seed(0)
        self.model = torch.nn.Sequential(torch.nn.Linear(FEATURES, HIDDEN), torch.nn.ReLU(),
                                         torch.nn.Linear(HIDDEN, CLASSES))
        for layer in (self.model[0], self.model[2]):  # Keras' defaults, so both start from the same kind of weights
            torch.nn.init.xavier_uniform_(layer.weight)
            torch.nn.init.zeros_(layer.bias)
        self.model.to(device)
        self.opt = torch.optim.Adam(self.model.parameters(), lr=1e-3, eps=1e-7)
        self.loss_fn = torch.nn.CrossEntropyLoss()
        self.sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
        self.x, self.y, self.steps = x, y, math.ceil(len(x) / BATCH)

    def epoch(self) -> tuple[tuple[float, float], float]:
        torch, x, y, device = self.torch, self.x, self.y, self.device
        self.sync()
        t, c = time.perf_counter(), time.process_time()
        total = torch.zeros((), device=device)
        for s in range(self.steps):
            xb = torch.from_numpy(x[s * BATCH:(s + 1) * BATCH]).to(device)
            yb = torch.from_numpy(y[s * BATCH:(s + 1) * BATCH].astype(np.int64)).to(device)
            self.opt.zero_grad(set_to_none=True)
            out = self.loss_fn(self.model(xb), yb)
            out.backward()
            self.opt.step()
            total += out.detach()  # the epoch's mean loss, read once at its end as gpuflow's compiled fit does
        loss = total.item() / self.steps
        self.sync()
        return (time.perf_counter() - t, time.process_time() - c), loss


def torch_device():
    try:
        import torch
    except Exception:
        return None
    return "cuda" if torch.cuda.is_available() else "cpu"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--devices", default=None, help="gpuflow devices (default: cpu, and cuda when usable)")
    ap.add_argument("--samples", type=int, default=60000)
    ap.add_argument("--epochs", type=int, default=3, help="timed epochs after one warm-up epoch (>= 3 for the report)")
    ap.add_argument("--sim", action="store_true", help=f"also run gpuflow on sim, with at most {SIM_SAMPLES} samples")
    ap.add_argument("--no-torch", action="store_true", help="skip PyTorch even when it is importable")
    ap.add_argument("--modes", default="function,eager", help="gpuflow modes: function (compiled, the default of "
                                                              "fit) and/or eager (run_eagerly=True)")
    ap.add_argument("--json", action="store_true", help="print one JSON line per run instead of the table")
    ap.add_argument("--out", default=str(common.ROOT / "bench" / "results"))
    args = ap.parse_args(argv)

    devices = common.parse_list(args.devices) if args.devices else ["cpu"] + (["cuda"] if common.cuda_usable() else [])
    if args.sim and "sim" not in devices:
        devices.append("sim")
    tdev = None if args.no_torch else torch_device()
    meta = common.metadata(devices + ([f"torch-{tdev}"] if tdev else []))
    meta["threads"] = threads(tdev)
    log = sys.stderr if args.json else sys.stdout
    print(f"# {meta['device_name']} | fit MLP 784-128-10, batch {BATCH}, Adam | {args.samples} samples | "
          f"git {str(meta['git'].get('commit'))[:10]} | threads {meta['threads']}", file=log)

    modes = common.parse_list(args.modes)
    specs = [("gpuflow", d, m) for d in devices for m in modes] + ([("torch", tdev, "eager")] if tdev else [])
    path = common.results_path("fit", meta, args.out)
    payload = {"model": "784-128(relu)-10, Adam(1e-3), sparse CE from logits", "epochs_timed": args.epochs,
               "schedule": "interleaved: a warm-up epoch of each run, then rounds of one epoch of each, the order "
                           "rotating each round", "complete": False, "results": []}
    results = payload["results"]
    runs = []
    for framework, device, mode in specs:
        samples = min(args.samples, SIM_SAMPLES) if device == "sim" else args.samples
        x, y = synthetic(samples)
        rec = {"framework": framework, "device": device, "mode": mode, "samples": samples, "batch_size": BATCH,
               "steps": math.ceil(samples / BATCH), "epoch_times_s": [], "epoch_cpu_s": []}
        results.append(rec)
        try:
            runs.append((rec, GpuflowRun(device, x, y, mode) if framework == "gpuflow" else TorchRun(device, x, y)))
        except Exception as e:  # report the failure, keep the other frameworks' numbers
            _failed(rec, e)
    # Every run trains one epoch per round, in an order that rotates: on a shared machine the load drifts, and
    # interleaving puts the runs compared under the same drift.
    for round_ in range(1 + args.epochs):
        for k in range(len(runs)):
            rec, run = runs[(round_ + k) % len(runs)]
            if "error" in rec:
                continue
            try:
                seconds, rec["final_loss"] = run.epoch()
            except Exception as e:
                _failed(rec, e)
                continue
            if round_:  # round 0 warms up: traces, first allocations, BLAS threads
                rec["epoch_times_s"].append(seconds[0])
                rec["epoch_cpu_s"].append(seconds[1])
        common.write_json(path, meta, payload)
    summarize(results)
    if args.json:
        for r in results:
            print(json.dumps({k: v for k, v in r.items() if k not in ("epoch_times_s", "epoch_cpu_s")}), flush=True)
    else:
        print_table(results, args.epochs)
    payload["complete"] = True
    common.write_json(path, meta, payload)
    print(f"\nwrote {path}", file=log)
    return 0


def _failed(rec, e):
    rec["error"] = f"{type(e).__name__}: {e}"[:500]
    print(f"  ! {rec['framework']} ({rec['mode']}) on {rec['device']}: {rec['error']}", file=sys.stderr)


def summarize(results):
    """Medians per run, and ratios of medians against gpuflow eager on the same device and against PyTorch:
    of wall time, and of the CPU time the process used (on a shared machine, time spent waiting for a core
    counts in the wall time but not in the CPU time; with one thread per framework the two agree when idle)."""
    done = [r for r in results if "error" not in r and r["epoch_times_s"]]
    for r in done:
        med, cpu = common.median(r["epoch_times_s"]), common.median(r["epoch_cpu_s"])
        r.update({"median_epoch_s": med, "ms_per_step": 1e3 * med / r["steps"], "samples_per_s": r["samples"] / med,
                  "median_epoch_cpu_s": cpu, "cpu_ms_per_step": 1e3 * cpu / r["steps"]})
    torch_rec = next((r for r in done if r["framework"] == "torch"), None)
    eager = {r["device"]: r for r in done if r["framework"] == "gpuflow" and r["mode"] == "eager"}
    for r in done:
        base = eager.get(r["device"]) if r["framework"] == "gpuflow" else None
        for prefix, key in (("", "median_epoch_s"), ("cpu_", "median_epoch_cpu_s")):
            r[prefix + "time_vs_eager"] = r[key] / base[key] if base else None
            r[prefix + "speedup_vs_torch"] = (torch_rec[key] / r[key] if torch_rec and r["framework"] != "torch"
                                              else None)


def print_table(results, epochs):
    rows = []
    for r in results:
        if "median_epoch_s" not in r:
            rows.append([r["framework"], r["mode"], r["device"], r["samples"], "ERROR"] + [None] * 8)
            continue
        rows.append([r["framework"], r["mode"], r["device"], r["samples"], common.fmt_time(r["median_epoch_s"]),
                     r["ms_per_step"], r["samples_per_s"], r["final_loss"], r["time_vs_eager"],
                     r["speedup_vs_torch"], r["cpu_ms_per_step"], r["cpu_time_vs_eager"], r["cpu_speedup_vs_torch"]])
    common.print_table(["framework", "mode", "device", "samples", "epoch", "ms/step", "samples/s", "loss",
                        "t / eager", "x torch", "cpu ms/step", "cpu t / eager", "cpu x torch"], rows,
                       title=f"fit: median epoch over {epochs} epochs after a warm-up epoch (wall; cpu: process "
                             f"CPU time)")


def threads(tdev) -> dict:
    """The thread settings the BLAS libraries started with (see the module doc), and PyTorch's intra-op count."""
    found = {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")}
    if tdev is not None:
        import torch
        found["torch"] = torch.get_num_threads()
    return found


if __name__ == "__main__":
    sys.exit(main())
