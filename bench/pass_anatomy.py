"""`bench/step_anatomy.py --passes`: the compiled MLP step once per prefix of the graph compiler's pipeline.

    python bench/step_anatomy.py --passes [--device sim|cpu|cuda] [--json] [--steps N] [--warmup W] [--out DIR]

The passes are turned on one at a time, in pipeline order, with gf.config.optimizer.set_experimental_options
(every other option off), each configuration on a fresh model (same seed) traced and planned under it:

    none, +dce, +cse, +fold, +fusion, +memory_plan, and +cuda_graphs on cuda

(+dce turns dead_code_elimination on, so also the pipeline's last DCE; an option whose pass has not landed
measures the same as the row above it). Per configuration, per steady-state step (step_anatomy.py's counts,
measured by gpuflow.runtime.counters):

- launches, raw_allocs, pool_allocs, h2d, d2h, h2d_bytes, d2h_bytes: as in step_anatomy.py;
- nodes: the nodes of the graph the plan runs (the traced graph after the passes on);
- kernel_read_bytes, kernel_written_bytes: a MODEL of the traffic the step's kernels make, counted from that
  graph, not measured (the runtime counts no kernel bytes): each primitive node (not reads, assigns, feeds,
  prints or control flow) reads each of its inputs once and writes each of its outputs once, at their traced
  shapes and dtypes. It ignores caches, GEMMs re-reading their operands, ops that are views (reshape launches
  nothing on sim and cuda but is counted) and in-place optimizer updates; it moves when a pass removes or
  fuses nodes, which is what it is for. bytes_moved = kernel_read_bytes + kernel_written_bytes + h2d_bytes +
  d2h_bytes;
- host_us: mean host time per step (see step_anatomy.py).

--json prints one JSON line per configuration (`mode` is "function <configuration>", `passes` the configuration,
`enabled` its options); --out DIR writes step-anatomy-passes-<device>-<machine>-<time>.json.
"""
from __future__ import annotations

import json
import sys

import common

STEPS = (("+dce", "dead_code_elimination"), ("+cse", "common_subexpression_elimination"),
         ("+fold", "constant_folding"), ("+fusion", "fusion"), ("+memory_plan", "memory_plan"),
         ("+cuda_graphs", "cuda_graphs"))
COLUMNS = ("launches", "raw_allocs", "pool_allocs", "h2d", "d2h", "nodes", "kernel_read_bytes",
           "kernel_written_bytes", "bytes_moved")


def configurations(device: str) -> list[tuple[str, tuple]]:
    """[(label, options on)]: none, then each pipeline prefix (cuda_graphs only on cuda)."""
    steps = [s for s in STEPS if s[1] != "cuda_graphs" or device.startswith("cuda")]
    return [("none", ())] + [(label, tuple(name for _, name in steps[:k + 1])) for k, (label, _) in enumerate(steps)]


def graph_costs(graph) -> dict:
    """nodes, and the modelled kernel bytes of the module doc, for the graph a plan runs."""
    from gpuflow.graph.ir import Effect
    read = written = 0
    for node in graph.nodes:
        if isinstance(node.prim, Effect) or getattr(node.prim, "control_flow", False):
            continue
        read += sum(_nbytes(s) for s in node.inputs)
        written += sum(_nbytes(s) for s in node.outputs)
    return {"nodes": len(graph.nodes), "kernel_read_bytes": read, "kernel_written_bytes": written}


def _nbytes(symbol) -> int:
    count = 1
    for d in symbol.shape:
        count *= d or 0  # an unknown dim counts nothing (the bench's step has none)
    return count * symbol.dtype.np.itemsize


def run(gf, anatomy, args) -> list[dict]:
    """One record per configuration; the optimizer options are restored afterwards."""
    from gpuflow.config_optimizer import NAMES
    from gpuflow.graph.passes import optimize
    saved = gf.config.optimizer.get_experimental_options()
    records = []
    try:
        for label, enabled in configurations(args.device):
            gf.config.optimizer.set_experimental_options({name: name in enabled for name in NAMES})
            planned = []
            record = anatomy(gf, args.device, "function", args.steps, args.warmup,
                             after=lambda function: planned.extend(function.concrete_functions))
            # The same options are on, so optimize() gives the graph the step's plan runs (its kernels ran then).
            record.update(graph_costs(optimize(planned[-1].graph)))
            record["bytes_moved"] = (record["kernel_read_bytes"] + record["kernel_written_bytes"] +
                                     record["h2d_bytes"] + record["d2h_bytes"])
            record.update(mode=f"function {label}", passes=label, enabled=list(enabled))
            records.append(record)
            if args.json:
                print(json.dumps(record), flush=True)
    finally:
        gf.config.optimizer.set_experimental_options(saved)
    return records


def main(gf, anatomy, args, title: str) -> int:
    records = run(gf, anatomy, args)
    if not args.json:
        common.print_table(["passes", *COLUMNS, "host time"],
                           [[r["passes"], *(r[k] for k in COLUMNS), common.fmt_time(r["host_us"] / 1e6)]
                            for r in records], title=title)
    if args.out:
        meta = common.metadata([args.device])
        path = common.results_path(f"step-anatomy-passes-{common.slug(args.device)}", meta, args.out)
        common.write_json(path, meta, {"steps": args.steps, "warmup": args.warmup, "complete": True,
                                       "results": records})
        print(f"wrote {path}", file=sys.stderr if args.json else sys.stdout)
    return 0
