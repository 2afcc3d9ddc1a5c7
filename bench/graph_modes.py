"""Step time of one MLP train step per execution mode: eager, compiled without CUDA Graphs, compiled with them;
next to PyTorch eager and `torch.compile(mode="reduce-overhead")` (PyTorch's CUDA Graphs) on the same device.

    python bench/graph_modes.py [--device cuda|sim|cpu] [--batch 128] [--json] [--out DIR]

Model: bench/step_anatomy.py's 784-128(relu)-10 MLP, Adam(1e-3), sparse cross-entropy from logits, batch 128,
on one device-resident batch (the step alone, no upload). Modes (gpuflow): `eager` (compile(run_eagerly=True)),
`compiled` (gf.function with every graph pass but cuda_graphs), `cuda_graphs` (all passes; on cpu and sim the
same as compiled: there is no capture there). Each mode reports the median step time (CUDA events on cuda,
perf_counter elsewhere) and, from gpuflow's runtime counters, the launches of one step; `cuda_graphs` also
reports `replay_us_per_kernel`: its step time over the kernels the captured step holds (the compiled mode's
launch count), the issue's "replay costs <= 1.5 µs per kernel" when the GPU work is small.
PyTorch modes run when torch is importable (`torch_eager`; `torch_compile` on cuda only: reduce-overhead is
PyTorch's CUDA Graph mode). --json prints one line per mode; --out DIR writes bench/results-style JSON.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

HIDDEN, CLASSES, FEATURES = 128, 10, 784


def gpuflow_step(gf, device, mode, batch):
    """A zero-argument function running one train step of `mode` on `device`, and its launches per step."""
    import step_anatomy
    from gpuflow.runtime import counters
    gf.config.optimizer.set_experimental_options({"cuda_graphs": mode == "cuda_graphs"})
    model = step_anatomy.make_model(gf, device, eager=mode == "eager")
    rng = np.random.default_rng(0)
    with gf.device(device):
        data = (gf.constant(rng.random((batch, FEATURES), dtype=np.float32)),
                gf.constant(rng.integers(0, CLASSES, batch).astype(np.int32)))
        function = model.make_train_function()

    def step():
        with gf.device(device):
            return function(data)
    for _ in range(5):  # trace, record the memory plan, capture
        step()
    common.synchronize(device)
    with counters.measure() as measured:
        step()
    common.synchronize(device)
    return step, measured.delta["launches"]


def torch_step(device, compiled, batch):
    import torch
    dev = "cuda" if device.startswith("cuda") else "cpu"
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(FEATURES, HIDDEN), torch.nn.ReLU(), torch.nn.Linear(HIDDEN, CLASSES))
    model = model.to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, capturable=compiled)
    x = torch.rand(batch, FEATURES, device=dev)
    y = torch.randint(0, CLASSES, (batch,), device=dev)

    def train():
        opt.zero_grad(set_to_none=True)
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss
    fn = torch.compile(train, mode="reduce-overhead") if compiled else train
    for _ in range(5):
        fn()
    return fn


def run(device, batch, modes):
    import gpuflow as gf
    timer = common.timer_for(device)
    records, compiled_launches = [], None
    saved = gf.config.optimizer.get_experimental_options()
    try:
        for mode in modes:
            if mode.startswith("torch"):
                try:
                    fn = torch_step(device, mode == "torch_compile", batch)
                except Exception as e:  # noqa: BLE001 - no torch, or torch.compile refused: say so, go on
                    records.append({"mode": mode, "device": device, "skipped": f"{type(e).__name__}: {e}"[:200]})
                    continue
                launches = None
            else:
                fn, launches = gpuflow_step(gf, device, mode, batch)
            times, per = timer(fn)
            record = {"mode": mode, "device": device, "batch": batch, "step_us": round(1e6 * common.median(times), 2),
                      "samples": len(times), "calls_per_sample": per}
            if launches is not None:
                record["launches"] = launches
            if mode == "compiled":
                compiled_launches = launches
            if mode == "cuda_graphs" and device.startswith("cuda") and compiled_launches:
                record["replay_us_per_kernel"] = round(record["step_us"] / compiled_launches, 3)
            records.append(record)
    finally:
        gf.config.optimizer.set_experimental_options(saved)
    return records


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cuda" if common.cuda_usable() else "sim")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)
    modes = ["eager", "compiled", "cuda_graphs", "torch_eager"]
    if args.device.startswith("cuda"):
        modes.append("torch_compile")
    records = run(args.device, args.batch, modes)
    if args.json:
        for r in records:
            print(json.dumps(r), flush=True)
    else:
        common.print_table(["mode", "device", "step", "launches", "replay/kernel"],
                           [[r["mode"], r["device"], common.fmt_time(r["step_us"] / 1e6) if "step_us" in r else
                             r.get("skipped", ""), r.get("launches", ""), r.get("replay_us_per_kernel", "")]
                            for r in records],
                           title=f"one MLP train step (batch {args.batch}) per execution mode")
    if args.out:
        meta = common.metadata([args.device])
        path = common.results_path(f"graph-modes-{common.slug(args.device)}", meta, args.out)
        common.write_json(path, meta, {"model": f"{FEATURES}-{HIDDEN}-{CLASSES} MLP, Adam, batch {args.batch}",
                                       "complete": True, "results": records})
        print(f"wrote {path}", file=sys.stderr if args.json else sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
