"""The replicated train step under MirroredStrategy: what one step asks of the runtime, eager against compiled.

    python bench/distribute_step.py [--device sim|cpu|cuda] [--replicas N] [--bytes-per-pack B] [--json]
                                    [--steps N] [--warmup W] [--out DIR]

The model is bench/step_anatomy.py's (784-128(relu)-10 MLP, Adam, sparse cross-entropy, accuracy), global batch
128 split across N replicas (default 2) of MirroredStrategy: logical devices sim:0..N-1 or cpu:0..N-1 (the
in-process all-reduce), or N GPUs (NCCL; needs N >= 2, since one replica has nothing to sum). Two modes on a
fresh model each, same seed: `eager` (compile(run_eagerly=True): every replica's step op by op) and `compiled`
(the default: each replica's step a gf.function whose graph holds one collective start/done pair per bucket).
--bytes-per-pack sets the bucket size (CommunicationOptions.bytes_per_pack; 0: the default, 25 MiB).

A step is `model.make_train_function()(batch)` on a batch already packed from host NumPy, as fit calls it.
After --warmup steps, --steps steps are counted one by one with gpuflow.runtime.counters; each figure is the
mean per step (an int when every step counted the same):
- launches, raw_allocs, pool_allocs, h2d, d2h (+ _bytes): as in bench/step_anatomy.py, summed over replicas;
- collectives: all-reduce calls (one per bucket), collective_bytes: the bytes they summed (one replica's);
- host_us: host wall time per step (on cpu and sim that is the whole step, the replicas taking turns);
- compiled only, `overlap_ops`: per bucket, the ops (primitives: the rest of the backward pass, the other
  buckets' packing and unpacking) that replica 0's graph runs between the bucket's collective start node and
  its done node: the work its all-reduce can overlap on cuda, where NCCL runs on a stream of its own. On cpu
  and sim the sum runs at the start node, synchronously. With the default 25 MiB buckets this small model has
  one bucket, which completes with the last gradient: nothing to overlap (try --bytes-per-pack 65536).

Prints one JSON line per mode, its "step" saying which (--json: only those), else also a table. --out DIR writes a results file
(distribute-step-<device>-<machine>-<time>.json) with the run's metadata.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402
from step_anatomy import BATCH, CLASSES, FEATURES, HIDDEN, compiled_mlp  # noqa: E402

MODES = ("eager", "compiled")
COUNTS = ("launches", "raw_allocs", "pool_allocs", "h2d", "d2h", "h2d_bytes", "d2h_bytes", "collectives",
          "collective_bytes")


def replica_devices(gf, device: str, replicas: int) -> list[str]:
    if device == "cuda":
        found = len(gf.config.list_physical_devices("GPU"))
        if found < max(replicas, 2):
            raise SystemExit(f"--device cuda: {found} GPU(s) here; a replicated step needs 2 or more")
        return [f"cuda:{i}" for i in range(replicas)]
    gf.config.set_logical_device_configuration(gf.config.list_physical_devices(device.upper())[0],
                                               [gf.config.LogicalDeviceConfiguration()] * replicas)
    return [f"{device}:{i}" for i in range(replicas)]


def make_model(gf, devices: list[str], bytes_per_pack: int, eager: bool):
    keras = gf.keras
    reducer = gf.distribute.NcclAllReduce(num_packs=None) if devices[0].startswith("cuda") \
        else gf.distribute.ReductionToOneDevice()
    reducer.bytes_per_pack = bytes_per_pack
    strategy = gf.distribute.MirroredStrategy(devices, cross_device_ops=reducer)
    keras.utils.set_random_seed(0)
    with strategy.scope():
        return compiled_mlp(keras, eager)


def overlap_ops(graph) -> list[int]:
    """Per bucket: the ops (primitives, not effects) between its collective start node and its done node."""
    from gpuflow.graph.ir import COLLECTIVE, Effect
    start, out = {}, []
    for i, node in enumerate(graph.nodes):
        if node.prim is COLLECTIVE:
            if node.params["op"] == "all_reduce_start":
                start[node.params["bucket"]] = i
            else:
                begin = start[node.params["bucket"]]
                out.append(sum(not isinstance(n.prim, Effect) for n in graph.nodes[begin + 1:i]))
    return out


def measure(gf, devices, mode: str, bytes_per_pack: int, steps: int, warmup: int) -> dict:
    from gpuflow.keras.engine.data_adapter import pack
    from gpuflow.runtime import counters
    rng = np.random.default_rng(0)
    x = rng.random((BATCH, FEATURES), dtype=np.float32)
    y = rng.integers(0, CLASSES, BATCH).astype(np.int32)
    model = make_model(gf, devices, bytes_per_pack, eager=mode == "eager")
    function = model.make_train_function()
    batch = pack(x, y)
    for _ in range(warmup):
        function(batch)
    for d in devices:
        common.synchronize(d)
    counts, times = [], []
    for _ in range(steps):
        with counters.measure() as measured:
            start = time.perf_counter()
            function(batch)
            times.append(time.perf_counter() - start)
        counts.append(measured.delta)
    for d in devices:
        common.synchronize(d)
    record = {"step": mode, "devices": devices, "bytes_per_pack": bytes_per_pack}
    for key in COUNTS:
        values = [c[key] for c in counts]
        record[key] = values[0] if len(set(values)) == 1 else sum(values) / len(values)
    record["host_us"] = round(1e6 * sum(times) / len(times), 1)
    record["traces"] = function.experimental_get_tracing_count()
    if mode == "compiled":
        record["overlap_ops"] = overlap_ops(function.concrete_functions[0].graph)
    record["steps"] = steps
    return record


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="sim", choices=["sim", "cpu", "cuda"])
    ap.add_argument("--replicas", type=int, default=2)
    ap.add_argument("--bytes-per-pack", type=int, default=0, help="bucket size in bytes (0: 25 MiB)")
    ap.add_argument("--json", action="store_true", help="print only the JSON lines, no table")
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--out", default=None, help="also write a results file into this folder")
    args = ap.parse_args(argv)
    if args.steps < 1 or args.warmup < 1 or args.replicas < 2:
        ap.error("--steps and --warmup must be at least 1, --replicas at least 2")

    import gpuflow as gf
    devices = replica_devices(gf, args.device, args.replicas)
    records = []
    for mode in MODES:
        record = measure(gf, devices, mode, args.bytes_per_pack, args.steps, args.warmup)
        records.append(record)
        print(json.dumps(record), flush=True)
    if not args.json:
        common.print_table(["step", *COUNTS, "host time"],
                           [[r["step"], *(r[k] for k in COUNTS), common.fmt_time(r["host_us"] / 1e6)] for r in records],
                           title=f"one replicated MLP train step (global batch {BATCH}) on {', '.join(devices)}, "
                                 f"mean of {args.steps} steps")
    if args.out:
        meta = common.metadata(devices)
        path = common.results_path(f"distribute-step-{common.slug(args.device)}", meta, args.out)
        common.write_json(path, meta, {"model": f"{FEATURES}-{HIDDEN}-{CLASSES} MLP, Adam, global batch {BATCH}",
                                       "steps": args.steps, "warmup": args.warmup, "complete": True,
                                       "results": records})
        print(f"wrote {path}", file=sys.stderr if args.json else sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
