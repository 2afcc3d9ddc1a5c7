"""`python -m gpuflow.kernels check [--arch sm_80 --arch sm_90]` and `python -m gpuflow.kernels warm [--arch sm_90]`

check: compiles every kernel file in kernels/, and the graph compiler's generated kernels (its samples),
with NVRTC (no GPU or driver needed), prints one row
per kernel and architecture (registers, spills, shared memory, stack), and exits non-zero on
any compile error or on spills in the elementwise and reduction families.
warm: fills the CUBIN cache with every listed instantiation for one architecture (the GPU's by
default), in a process pool (gpuflow/kernels/warm.py); exits non-zero if any failed.
"""
from __future__ import annotations

import argparse
import sys

from . import instantiations
from .nvrtc import compile_file
from ..runtime.sources import kernel_files

# Families that must never spill: they are bandwidth-bound and a spill is a second trip to memory.
NO_SPILL = ("elementwise.cu", "reduce.cu", "softmax.cu", "random.cu", "numerics.cu")


def check(archs, out=sys.stdout) -> int:
    table = instantiations()
    failures = 0
    rows = []
    for path in kernel_files():
        for arch in archs:
            result = compile_file(path.name, table.get(path.name, []), arch)
            if not result.ok:
                failures += 1
                print(f"\n{path.name} [{arch}]: COMPILE ERROR\n{result.log}\n", file=out)
                continue
            demangled = {v: k for k, v in result.lowered.items()}
            for k in result.kernels:
                spills = k.spill_stores + k.spill_loads
                if spills and path.name in NO_SPILL:
                    failures += 1
                rows.append((path.name, arch, demangled.get(k.name, k.name), k.registers, spills, k.shared_bytes,
                             k.stack_bytes))
    failures += _check_generated(archs, rows, out)
    width = max((len(r[2]) for r in rows), default=10)
    print(f"{'file':<16} {'arch':<6} {'kernel':<{width}} {'regs':>5} {'spill B':>8} {'smem B':>7} {'stack B':>8}",
          file=out)
    for r in rows:
        flag = "  <-- spills" if r[4] and r[0] in NO_SPILL else ""
        print(f"{r[0]:<16} {r[1]:<6} {r[2]:<{width}} {r[3]:>5} {r[4]:>8} {r[5]:>7} {r[6]:>8}{flag}", file=out)
    print(f"\n{len(rows)} kernel builds over {len(kernel_files())} files for {', '.join(archs)}: "
          f"{'OK' if not failures else f'{failures} FAILED'}", file=out)
    return 1 if failures else 0


def _check_generated(archs, rows, out) -> int:
    """The graph compiler's generated kernels, as its samples (gpuflow/graph/fusion/samples.py) stand for them."""
    from ..graph.fusion.samples import sample_kernels
    from .nvrtc import compile_program, cubin_options
    failures = 0
    for name, source in sample_kernels():
        for arch in archs:
            result = compile_program(source.encode(), f"{name}.cu", [name], cubin_options(arch) + ("--ptxas-options=-v",))
            if not result.ok:
                failures += 1
                print(f"\ngenerated {name} [{arch}]: COMPILE ERROR\n{result.log}\n{source}\n", file=out)
                continue
            for k in result.kernels:
                rows.append(("<generated>", arch, name, k.registers, k.spill_stores + k.spill_loads, k.shared_bytes,
                             k.stack_bytes))
    return failures


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gpuflow.kernels")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("check", help="compile every kernel with NVRTC and report resources")
    p.add_argument("--arch", action="append", help="e.g. sm_90 (repeatable; default sm_80 and sm_90)")
    w = sub.add_parser("warm", help="compile every kernel into the CUBIN cache ($GPUFLOW_CACHE_DIR/cuda)")
    w.add_argument("--arch", help="e.g. sm_90 or 90 (default: the current GPU's, through CuPy)")
    w.add_argument("--file", action="append", dest="files", help="only this kernel file (repeatable)")
    w.add_argument("--jobs", type=int, default=None, help="processes (default: one per CPU core)")
    args = parser.parse_args(argv)
    try:
        import cuda.bindings.nvrtc  # noqa: F401
    except ImportError:
        print(f"gpuflow.kernels {args.command} needs NVRTC: pip install 'gpuflow[nvrtc]' "
              "(cuda-python, nvidia-cuda-nvrtc-cu12, nvidia-cuda-runtime-cu12)", file=sys.stderr)
        return 2
    if args.command == "check":
        return check(args.arch or ["sm_80", "sm_90"])
    from .warm import device_arch, warm
    arch = args.arch
    if arch is None:
        try:
            arch = device_arch()
        except Exception as e:  # noqa: BLE001 - no CuPy, no driver or no GPU: all mean "say the arch"
            print(f"gpuflow.kernels warm: no GPU to ask for its architecture ({type(e).__name__}: {e}); "
                  f"give one, e.g. --arch sm_90", file=sys.stderr)
            return 2
    try:
        return 1 if warm(arch, args.files, args.jobs) else 0
    except ValueError as e:
        print(f"gpuflow.kernels warm: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
