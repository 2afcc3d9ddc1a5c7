"""Does the stream scheduler overlap uploads with compute? 20 steps of MNIST-shaped MLP training.

    python bench/overlap.py [--device sim|cuda] [--steps 20] [--batch 128] [--json] [--trace DIR] [--out DIR]

Model: 784 -> Dense(128, relu) -> Dense(10) logits, Adam, sparse categorical cross-entropy, fed
from host-resident NumPy arrays (random pixels) by `fit`, once with the scheduler (uploads of batch
k+1 on the copy stream while step k computes) and once without (each batch copied on the compute
stream before its step: GPUFLOW_PREFETCH_TO_DEVICE=0's path). Each mode runs under gf.profiler,
and its timeline gives, per mode:

- `overlapped_uploads`: batches k >= 1 whose upload ran while the compute stream ran kernels of an
  earlier step (k-1, or before when the host runs ahead: fit's loss tracker reads the loss with
  float() after the forward pass, so the host issues batch k+1 while step k-1's backward still runs);
- `compute_idle_fraction`: the share of the compute stream's busy span (first kernel to last) with
  no kernel running;
- `races`: races the sim's checker reported (any race also fails the run);
- `steps`, `uploads`.

On sim the timeline is the simulator's model (gpuflow/runtime/timeline.py: nominal bandwidths, no
host cost), so the numbers describe the schedule's structure, not a GPU. On cuda the same numbers
come from CUDA events: the idle fraction is measured GPU idle time between kernels.
--json prints one JSON object per mode on its own line; --trace DIR also writes each mode's
Chrome trace (open in ui.perfetto.dev) under DIR/<mode>/; --out DIR writes both modes with the run's
metadata to DIR/overlap-<device>-<stamp>.json (bench/results/ on a GPU).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402
import gpuflow as gf  # noqa: E402
from gpuflow.runtime import profiling, scheduler  # noqa: E402
from gpuflow.runtime.timeline import overlap_summary  # noqa: E402

HIDDEN, CLASSES, FEATURES = 128, 10, 784


def model_for(device):
    with gf.device(device):
        gf.random.set_seed(0)
        model = gf.keras.Sequential([gf.keras.layers.Dense(HIDDEN, activation="relu"), gf.keras.layers.Dense(CLASSES)])
        model.compile(gf.keras.optimizers.Adam(1e-3),
                      gf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        model.build((None, FEATURES))
    return model


def run(device: str, mode: str, steps: int, batch: int, trace_dir=None) -> dict:
    rng = np.random.default_rng(0)
    x = rng.random((steps * batch, FEATURES), dtype=np.float32)
    y = rng.integers(0, CLASSES, size=steps * batch).astype(np.int32)
    model = model_for(device)
    scheduler.set_enabled(mode == "scheduler")
    races_before = _races()
    try:
        if trace_dir:
            gf.profiler.start(Path(trace_dir) / mode)
        else:
            profiling.start()
        with gf.device(device):
            history = model.fit(x, y, batch_size=batch, epochs=1, shuffle=False, verbose=0)
    finally:
        timeline = profiling.stop() if not trace_dir else None
        trace = gf.profiler.stop() if trace_dir else None
        scheduler.set_enabled(True)
    if trace:
        timeline = _timeline_from(trace)
    spans = [s for s in timeline.spans if s.process == str(gf.devices.parse(device))]
    summary = overlap_summary(spans, compute_track="default stream")
    return {"mode": mode, "device": device, "steps": steps, "uploads": summary["uploads"],
            "overlapped_uploads": summary["overlapped_uploads"],
            "compute_idle_fraction": round(summary["compute_idle_fraction"], 4),
            "races": _races() - races_before, "final_loss": round(history.history["loss"][-1], 6),
            **({"trace": trace} if trace else {})}


def _races() -> int:
    from gpuflow.runtime.sim.queues import engine
    return engine().checker.races


def _timeline_from(path):
    """The spans back from a written trace (so --trace measures exactly what the file shows)."""
    from gpuflow.runtime.timeline import Span, Timeline
    data = json.loads(Path(path).read_text())
    names = {e["pid"]: e["args"]["name"] for e in data["traceEvents"] if e["name"] == "process_name"}
    tracks = {(e["pid"], e["tid"]): e["args"]["name"] for e in data["traceEvents"] if e["name"] == "thread_name"}
    timeline = Timeline()
    timeline.spans = [Span(names[e["pid"]], tracks[(e["pid"], e["tid"])], e["name"], e["cat"], e["ts"] / 1e6,
                           (e["ts"] + e["dur"]) / 1e6, e["args"]) for e in data["traceEvents"] if e["ph"] == "X"]
    return timeline


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="sim", choices=("sim", "cuda"))
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--json", action="store_true", help="one JSON line per mode")
    parser.add_argument("--trace", help="also write each mode's Chrome trace under this folder")
    parser.add_argument("--out", help="write the results with the run's metadata into this folder")
    args = parser.parse_args(argv)
    results = [run(args.device, mode, args.steps, args.batch, args.trace) for mode in ("scheduler", "sync")]
    if args.out:
        meta = common.metadata([args.device])
        common.write_json(common.results_path("overlap", meta, args.out), meta,
                          {"complete": True, "steps": args.steps, "batch": args.batch, "results": results})
    for r in results:
        if args.json:
            print(json.dumps(r))
        else:
            print(f"{r['mode']:>9}: {r['overlapped_uploads']}/{r['steps'] - 1} uploads overlapped a step, compute "
                  f"idle {100 * r['compute_idle_fraction']:.1f}% of its span, {r['races']} races")
    same = results[0]["final_loss"] == results[1]["final_loss"]
    if not same:
        print(f"the two modes trained differently: {results[0]['final_loss']} vs {results[1]['final_loss']}",
              file=sys.stderr)
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
