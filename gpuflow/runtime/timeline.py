"""A timeline of device work, one track per stream plus the host: what gf.profiler writes out.

On sim the times are a model, computed as work is issued: each stream runs its items in order,
an item starts when its stream is free, when the events its stream waits for are done and when the
host issued it; a kernel or op lasts LAUNCH_S plus the bytes it moves over DEVICE_BANDWIDTH, a copy
COPY_LATENCY_S plus its bytes over LINK_BANDWIDTH; the host spends no time issuing work and waits
only where it synchronises. So the picture shows the overlap structure, not how fast a GPU is. On
cuda the profiler fills the same spans from CUDA events.

`to_chrome()` gives the Chrome trace format (JSON object with `traceEvents`), which
ui.perfetto.dev and chrome://tracing open: a complete event (ph "X", ts/dur in microseconds) per
span, a process per device and a thread per track, named by metadata events.
"""
from __future__ import annotations

DEVICE_BANDWIDTH = 2.0e12   # bytes/s: nominal HBM of a current data-centre GPU
LINK_BANDWIDTH = 2.5e10     # bytes/s: nominal pinned host<->device copy over PCIe 4 x16
LAUNCH_S = 2e-6             # a kernel's fixed cost
COPY_LATENCY_S = 1e-6       # a copy's fixed cost

COMPUTE, COPY, HOST = "compute", "copy", "host"   # span categories: kernels/ops, copies, host steps


def kernel_seconds(nbytes: int) -> float:
    return LAUNCH_S + nbytes / DEVICE_BANDWIDTH


def copy_seconds(nbytes: int) -> float:
    return COPY_LATENCY_S + nbytes / LINK_BANDWIDTH


class Span:
    __slots__ = ("process", "track", "name", "cat", "start", "end", "args")

    def __init__(self, process: str, track: str, name: str, cat: str, start: float, end: float, args=None):
        self.process, self.track, self.name, self.cat = process, track, name, cat
        self.start, self.end, self.args = start, end, args or {}

    def __repr__(self):
        return f"<Span {self.track}: {self.name} {self.start * 1e6:.2f}-{self.end * 1e6:.2f} us>"


class Timeline:
    def __init__(self):
        self.spans: list[Span] = []
        self.step: int | None = None   # the training step the host is issuing, for tagging spans
        self.batch: int | None = None  # the batch being uploaded synchronously (no scheduler), likewise

    def add(self, process, track, name, cat, start, end, **args) -> Span:
        if self.step is not None:
            args.setdefault("step", self.step)
        if self.batch is not None and cat == COPY:
            args.setdefault("batch", self.batch)
        span = Span(process, track, name, cat, start, end, args)
        self.spans.append(span)
        return span

    def to_chrome(self) -> dict:
        events, pids, tids = [], {}, {}
        for span in self.spans:
            pid = pids.setdefault(span.process, len(pids) + 1)
            tid = tids.setdefault((span.process, span.track), len(tids) + 1)
            events.append({"name": span.name, "cat": span.cat, "ph": "X", "pid": pid, "tid": tid,
                           "ts": span.start * 1e6, "dur": (span.end - span.start) * 1e6, "args": span.args})
        meta = [{"name": "process_name", "ph": "M", "pid": pid, "tid": 0, "args": {"name": name}}
                for name, pid in pids.items()]
        meta += [{"name": "thread_name", "ph": "M", "pid": pids[process], "tid": tid, "args": {"name": track}}
                 for (process, track), tid in tids.items()]
        meta += [{"name": "thread_sort_index", "ph": "M", "pid": pids[process], "tid": tid,
                  "args": {"sort_index": tid}} for (process, track), tid in tids.items()]
        return {"traceEvents": meta + events, "displayTimeUnit": "ms"}


def _union(intervals):
    merged = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return merged


def overlap_summary(spans, compute_track: str) -> dict:
    """How uploads and compute overlapped on one device's spans.

    `overlapped_uploads`: batches k >= 1 whose upload (the copy spans with args["batch"] == k) ran, at least
    in part, while `compute_track` ran kernels of an earlier step (args["step"] < k): the copy was hidden
    behind the work before the step that needs it, instead of holding that step up. (Usually step k-1;
    earlier when the host runs more than a step ahead of the device.)
    `compute_idle_fraction`: the share of the compute track's busy span (first kernel to last) with no
    kernel running; a copy on the compute track counts as idle compute."""
    kernels = [s for s in spans if s.track == compute_track and s.cat == COMPUTE]
    uploads: dict[int, list] = {}
    for s in spans:
        if s.cat == COPY and s.args.get("batch") is not None:  # a feed's copy belongs to no batch
            uploads.setdefault(s.args["batch"], []).append((s.start, s.end))
    overlapped = 0
    for k, copies in uploads.items():
        before = _union((s.start, s.end) for s in kernels if s.args.get("step", k) < k)
        if k >= 1 and any(min(c1, b1) > max(c0, b0) for c0, c1 in copies for b0, b1 in before):
            overlapped += 1
    busy = _union((s.start, s.end) for s in kernels)
    span = busy[-1][1] - busy[0][0] if busy else 0.0
    covered = sum(end - start for start, end in busy)
    return {"uploads": len(uploads), "overlapped_uploads": overlapped,
            "compute_idle_fraction": (span - covered) / span if span else 0.0}
