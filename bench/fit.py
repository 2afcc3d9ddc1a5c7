"""Epoch time of Keras-style fit() on the MNIST-sized MLP: gpuflow compiled and eager on each device, vs PyTorch eager.

    python bench/fit.py [--devices cpu,cuda] [--samples 60000] [--epochs 3] [--sim] [--no-torch]
                        [--modes function,eager] [--out bench/results/]

Model: 784 -> Dense(128, relu) -> Dense(10) logits; Adam(1e-3, eps 1e-7); sparse categorical
cross-entropy from logits; batch 128, no shuffling; synthetic float32 data (random pixels,
labels from a fixed random linear map so the loss can fall). One warm-up epoch, then the
median over --epochs timed epochs. gpuflow runs `fit` twice per device: compiled (the default,
mode "function": a gf.function train step, logs read when the epoch ends) and eager
(compile(run_eagerly=True)), in the same process. Both frameworks get the same batches the same
way: sliced from host NumPy arrays each step and copied to the device. PyTorch runs its usual
eager loop (zero_grad, forward, backward, step) and, like gpuflow's compiled fit, reads the loss
at the end of the epoch only; it gets Keras' init (Glorot-uniform kernels, zero biases), on cuda
when available, else cpu.
"""
from __future__ import annotations

import argparse
import math
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


def epoch_times_gpuflow(device: str, x, y, epochs: int, mode: str = "function") -> tuple[list[float], float]:
    import gpuflow as gf
    keras = gf.keras

    class EpochTimer(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.times = []

        def on_epoch_begin(self, epoch, logs=None):
            common.synchronize(device)
            self._t = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            common.synchronize(device)  # queued GPU work belongs to this epoch
            self.times.append(time.perf_counter() - self._t)

    with gf.device(device):
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input(shape=(FEATURES,)),
                                  keras.layers.Dense(HIDDEN, activation="relu"),
                                  keras.layers.Dense(CLASSES)])
        model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3),
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), run_eagerly=mode == "eager")
        timer = EpochTimer()
        history = model.fit(x, y, batch_size=BATCH, epochs=1 + epochs, shuffle=False, verbose=0, callbacks=[timer])
    return timer.times[1:], float(history.history["loss"][-1])


def epoch_times_torch(device: str, x, y, epochs: int) -> tuple[list[float], float]:
    import torch
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(FEATURES, HIDDEN), torch.nn.ReLU(), torch.nn.Linear(HIDDEN, CLASSES))
    for layer in (model[0], model[2]):  # Keras' defaults, so both start from the same kind of weights
        torch.nn.init.xavier_uniform_(layer.weight)
        torch.nn.init.zeros_(layer.bias)
    model.to(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    loss_fn = torch.nn.CrossEntropyLoss()
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    steps = math.ceil(len(x) / BATCH)
    times, loss = [], float("nan")
    for epoch in range(1 + epochs):
        sync()
        t = time.perf_counter()
        total = torch.zeros((), device=device)
        for s in range(steps):
            xb = torch.from_numpy(x[s * BATCH:(s + 1) * BATCH]).to(device)
            yb = torch.from_numpy(y[s * BATCH:(s + 1) * BATCH].astype(np.int64)).to(device)
            opt.zero_grad(set_to_none=True)
            out = loss_fn(model(xb), yb)
            out.backward()
            opt.step()
            total += out.detach()  # the epoch's mean loss, read once at its end as gpuflow's compiled fit does
        loss = total.item() / steps
        sync()
        times.append(time.perf_counter() - t)
    return times[1:], loss


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
    ap.add_argument("--out", default=str(common.ROOT / "bench" / "results"))
    args = ap.parse_args(argv)

    devices = common.parse_list(args.devices) if args.devices else ["cpu"] + (["cuda"] if common.cuda_usable() else [])
    if args.sim and "sim" not in devices:
        devices.append("sim")
    tdev = None if args.no_torch else torch_device()
    meta = common.metadata(devices + ([f"torch-{tdev}"] if tdev else []))
    print(f"# {meta['device_name']} | fit MLP 784-128-10, batch {BATCH}, Adam | {args.samples} samples | "
          f"git {str(meta['git'].get('commit'))[:10]}")

    modes = common.parse_list(args.modes)
    runs = [("gpuflow", d, m) for d in devices for m in modes] + ([("torch", tdev, "eager")] if tdev else [])
    path = common.results_path("fit", meta, args.out)
    payload = {"model": "784-128(relu)-10, Adam(1e-3), sparse CE from logits", "epochs_timed": args.epochs,
               "complete": False, "results": []}
    results = payload["results"]
    for framework, device, mode in runs:
        samples = min(args.samples, SIM_SAMPLES) if device == "sim" else args.samples
        x, y = synthetic(samples)
        steps = math.ceil(samples / BATCH)
        rec = {"framework": framework, "device": device, "mode": mode, "samples": samples, "batch_size": BATCH,
               "steps": steps}
        try:
            if framework == "gpuflow":
                times, loss = epoch_times_gpuflow(device, x, y, args.epochs, mode)
            else:
                times, loss = epoch_times_torch(device, x, y, args.epochs)
            med = common.median(times)
            rec.update({"epoch_times_s": times, "median_epoch_s": med, "ms_per_step": 1e3 * med / steps,
                        "samples_per_s": samples / med, "final_loss": loss})
        except Exception as e:  # report the failure, keep the other frameworks' numbers
            rec["error"] = f"{type(e).__name__}: {e}"[:500]
            print(f"  ! {framework} ({mode}) on {device}: {rec['error']}", file=sys.stderr)
        results.append(rec)
        common.write_json(path, meta, payload)

    base = next((r["median_epoch_s"] for r in results if r["framework"] == "torch" and "median_epoch_s" in r), None)
    eager = {r["device"]: r["median_epoch_s"] for r in results
             if r["framework"] == "gpuflow" and r["mode"] == "eager" and "median_epoch_s" in r}
    rows = []
    for r in results:
        if "error" in r:
            rows.append([r["framework"], r["mode"], r["device"], r["samples"], "ERROR", None, None, None, None, None])
            continue
        r["speedup_vs_torch"] = base / r["median_epoch_s"] if base and r["framework"] != "torch" else None
        r["time_vs_eager"] = (r["median_epoch_s"] / eager[r["device"]]
                              if r["framework"] == "gpuflow" and r["device"] in eager else None)
        rows.append([r["framework"], r["mode"], r["device"], r["samples"], common.fmt_time(r["median_epoch_s"]),
                     r["ms_per_step"], r["samples_per_s"], r["final_loss"], r["time_vs_eager"],
                     r["speedup_vs_torch"]])
    common.print_table(["framework", "mode", "device", "samples", "epoch", "ms/step", "samples/s", "loss",
                        "t / eager", "x torch"], rows,
                       title=f"fit: median epoch over {args.epochs} epochs after a warm-up epoch")
    payload["complete"] = True
    common.write_json(path, meta, payload)
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
