"""`gf.experimental`: gpuflow's own additions that TensorFlow has no name for (yet)."""
from __future__ import annotations

from .runtime import counters as _counters


def runtime_counters() -> dict:
    """What the runtime has done in this process so far, summed over every device, as a dict of ints:

    - `launches`: kernel launches (gpuflow's kernels and gf.cuda.RawKernels on cuda and sim, one per cuBLAS
      GEMM, and on cpu one per primitive the NumPy backend runs);
    - `raw_allocs`: blocks the caching allocator took from the device (cuda) or the host (sim), i.e. its misses;
      `pool_allocs`: every request to it, hits included (both 0 on cpu, which has no allocator);
    - `h2d`, `h2d_bytes`, `d2h`, `d2h_bytes`: host-to-device uploads and device-to-host reads and their bytes
      (cuda and sim; 0 on cpu, where the host is the device).

    Take two and subtract them to measure a block of code. See docs/devices-and-memory.md."""
    return _counters.snapshot()
