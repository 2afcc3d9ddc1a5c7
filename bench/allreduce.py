"""All-reduce bandwidth of gf.distribute, per buffer size (1-256 MB of float32).

    python bench/allreduce.py [--backend auto|cuda|cpu|sim] [--replicas N] [--sizes-mb 1,4,16,64,256] [--out DIR]

What it times is what a training step pays: `cross_device_ops.sum_buffers` on one flat buffer per replica
(the gradients packed into a bucket), giving every replica the sum on its device.
- cuda: NcclAllReduce over the GPUs here (every GPU; --replicas to use fewer). On one GPU that is a
  communicator of nranks=1 (a device copy), the path the 1-GPU test runs.
- cpu / sim: ReductionToOneDevice over N logical devices (default 2): copy to the first device, add in
  replica order, copy back. On a CPU these are memcpy/add bandwidths of the host, not of a network.
Reported as nccl-tests do: algbw = bytes / time, busbw = algbw * 2 (n - 1) / n (what each link carries in
a ring; 0 for one replica). Each point: 2 warm-up calls, then the median of >= 5 (a point stops adding
samples after ~3 s), every call synchronised on all devices at both ends.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

import gpuflow as gf  # noqa: E402
from gpuflow.distribute import NcclAllReduce, ReductionToOneDevice  # noqa: E402


def setup(backend, replicas):
    if backend == "cuda":
        count = len(gf.config.list_physical_devices("GPU"))
        if not count:
            raise SystemExit("--backend cuda: no usable GPU here")
        devices = [gf.devices.Device("cuda", i) for i in range(replicas or count)]
        return devices, NcclAllReduce()
    kind = backend.upper()
    n = replicas or 2
    gf.config.set_logical_device_configuration(gf.config.list_physical_devices(kind)[0],
                                               [gf.config.LogicalDeviceConfiguration()] * n)
    return [gf.devices.Device(backend, i) for i in range(n)], ReductionToOneDevice()


def sync(devices):
    for d in devices:
        if d.kind == "cuda":
            import cupy
            with cupy.cuda.Device(d.index):
                cupy.cuda.get_current_stream().synchronize()


def time_point(fn, devices, max_s=3.0, min_samples=5):
    for _ in range(2):
        fn()
    sync(devices)
    times, started = [], time.perf_counter()
    while len(times) < min_samples or (time.perf_counter() - started < max_s and len(times) < 50):
        sync(devices)
        t = time.perf_counter()
        fn()
        sync(devices)
        times.append(time.perf_counter() - t)
    return times


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["auto", "cuda", "cpu", "sim"], default="auto")
    parser.add_argument("--replicas", type=int, default=None)
    parser.add_argument("--sizes-mb", default="1,4,16,64,256")
    parser.add_argument("--out", default=str(common.ROOT / "bench" / "results"))
    args = parser.parse_args()
    backend = args.backend if args.backend != "auto" else ("cuda" if common.cuda_usable() else "cpu")
    devices, reducer = setup(backend, args.replicas)
    n = len(devices)
    meta = common.metadata([str(d) for d in devices])
    path = common.results_path("allreduce", meta, args.out)
    points = []
    for mb in [float(s) for s in common.parse_list(args.sizes_mb)]:
        count = int(mb * 2**20) // 4
        buffers = []
        for i, d in enumerate(devices):
            with gf.device(str(d)):
                buffers.append([gf.fill([count], float(i + 1))])
        times = time_point(lambda: reducer.sum_buffers(buffers, devices), devices)
        check = reducer.sum_buffers(buffers, devices)[-1][0]
        assert float(check[0].numpy()) == n * (n + 1) / 2, "wrong sum"
        seconds = statistics.median(times)
        algbw = count * 4 / seconds / 1e9
        points.append({"size_mb": mb, "bytes": count * 4, "median_s": seconds, "algbw_GBps": algbw,
                       "busbw_GBps": algbw * 2 * (n - 1) / n, "samples": common.sig(times)})
        common.write_json(path, meta, {"backend": backend, "replicas": n, "reducer": type(reducer).__name__,
                                       "points": points, "complete": False})
    common.write_json(path, meta, {"backend": backend, "replicas": n, "reducer": type(reducer).__name__,
                                   "points": points, "complete": True})
    common.print_table(["MB", "median", "algbw GB/s", "busbw GB/s"],
                       [[p["size_mb"], common.fmt_time(p["median_s"]), p["algbw_GBps"], p["busbw_GBps"]]
                        for p in points], title=f"all-reduce: {type(reducer).__name__}, {n} x {devices[0].kind}")
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
