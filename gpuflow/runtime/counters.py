"""Runtime counters: what the runtime really did, counted where it does it, for every device at once.

    launches    kernel launches: every kernel of kernels/*.cu and every gf.cuda.RawKernel (cuda and sim), one
                per cuBLAS GEMM (xp.matmul, cuda and sim alike), and on cpu one per primitive the NumPy backend
                runs (its stand-in for a kernel)
    raw_allocs  raw device mallocs: the caching allocator asked the driver (cuda) or the host (sim) for a new
                block, i.e. a cache miss. cpu has no device allocator: always 0 there
    pool_allocs every request to the caching allocator, hits and misses (cuda and sim)
    h2d, d2h    host-to-device uploads and device-to-host reads (cuda and sim; on cpu the host is the device,
                so none), with their bytes in h2d_bytes and d2h_bytes
    collectives gf.distribute all-reduce calls: one per bucket of packed values (gradients) summed across the
                replicas in sync, whatever carries it (NCCL, the in-process sum, the workers' TCP ring); their
                bytes (one replica's buffer, the size of what is summed) in collective_bytes

Counts are process-wide (all devices summed) plain ints bumped under the GIL: cheap enough for every op, and
exact for one thread; threads racing on the same counter may, rarely, lose an increment.
Read with `snapshot()`, or measure a block:

    from gpuflow.runtime import counters
    with counters.measure() as m:
        step()
    print(m.delta["launches"])
"""
from __future__ import annotations

import contextlib

FIELDS = ("launches", "raw_allocs", "pool_allocs", "h2d", "h2d_bytes", "d2h", "d2h_bytes", "collectives",
          "collective_bytes")


class Counters:
    __slots__ = FIELDS

    def __init__(self):
        self.reset()

    def reset(self) -> None:
        for name in FIELDS:
            setattr(self, name, 0)

    def snapshot(self) -> dict:
        return {name: getattr(self, name) for name in FIELDS}

    def upload(self, nbytes: int) -> None:
        self.h2d += 1
        self.h2d_bytes += int(nbytes)

    def download(self, nbytes: int) -> None:
        self.d2h += 1
        self.d2h_bytes += int(nbytes)

    def collective(self, nbytes: int) -> None:
        self.collectives += 1
        self.collective_bytes += int(nbytes)

    @contextlib.contextmanager
    def measure(self):
        """Yields a Measurement whose `delta` (counts since the block began) is live inside the block and
        frozen when it ends."""
        measurement = Measurement(self)
        try:
            yield measurement
        finally:
            measurement.stop()


class Measurement:
    __slots__ = ("_counters", "_start", "_delta")

    def __init__(self, counters: Counters):
        self._counters, self._start, self._delta = counters, counters.snapshot(), None

    def stop(self) -> None:
        self._delta = self._since()

    def _since(self) -> dict:
        now = self._counters.snapshot()
        return {name: now[name] - self._start[name] for name in FIELDS}

    @property
    def delta(self) -> dict:
        return self._delta if self._delta is not None else self._since()


COUNTERS = Counters()
snapshot, reset, measure = COUNTERS.snapshot, COUNTERS.reset, COUNTERS.measure
