"""What bench/ops.py and bench/fit.py share: timers per device, run metadata, JSON, tables.

Timing rules (/work/.library/device/METHOD.md): warm up first so compilation and first
allocations stay out; take the median of many runs. On cuda each run is bracketed by CUDA
events on the current stream (gpuflow launches on CuPy's current stream), so the number is
device time plus whatever launch gaps the host leaves; on cpu/numpy/sim, time.perf_counter.
"""
from __future__ import annotations

import datetime
import json
import math
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # run from a checkout without installing

MIN_TOTAL_S = 0.2    # auto repeat: calls until the timed total reaches this ...
MIN_RUNS = 10        # ... and at least this many calls
MAX_POINT_S = 5.0    # ... but a slow point (sim, big cpu matmul) stops after ~this, with >= 3 calls
MAX_SAMPLES = 200    # fast calls are timed k at a time (each sample = mean of k calls), so a
                     # point keeps <= 200 raw samples: a stable median and results files of KBs


# ---- devices ----------------------------------------------------------------------------------
def cuda_usable() -> bool:
    """gpuflow's own answer (CuPy importable, a driver, a device), so bench and the library agree."""
    from gpuflow.devices import cuda_available
    return cuda_available()


def available_devices() -> list[str]:
    """gpuflow devices usable here, plus the plain-NumPy baseline 'numpy'."""
    return ["cpu", "sim"] + (["cuda"] if cuda_usable() else []) + ["numpy"]


def synchronize(device: str) -> None:
    if device.startswith("cuda"):
        import cupy
        cupy.cuda.get_current_stream().synchronize()


# ---- timers -----------------------------------------------------------------------------------
def plan(one_call_s: float, repeat: int | None) -> tuple[int, int]:
    """(samples, calls per sample). --repeat N: N samples of one call each."""
    if repeat is not None:
        return repeat, 1
    one = max(one_call_s, 1e-9)
    calls = max(MIN_RUNS, int(MIN_TOTAL_S / one) + 1)
    calls = max(1, min(calls, max(3, int(MAX_POINT_S / one))))
    per = math.ceil(calls / MAX_SAMPLES)
    return math.ceil(calls / per), per


def time_host(fn, repeat: int | None = None, warmup: int = 1) -> tuple[list[float], int]:
    """Per-call seconds of fn() by perf_counter (cpu, numpy, sim): (samples, calls per sample)."""
    for _ in range(warmup):
        fn()
    t = time.perf_counter()  # one more call sizes the run
    fn()
    samples, per = plan(time.perf_counter() - t, repeat)
    times = []
    for _ in range(samples):
        t = time.perf_counter()
        for _ in range(per):
            fn()
        times.append((time.perf_counter() - t) / per)
    return times, per


def time_cuda(fn, repeat: int | None = None, warmup: int = 3) -> tuple[list[float], int]:
    """Per-call seconds of fn() between CUDA events on the current stream: (samples, calls per sample).

    The samples are queued back to back and the events read after the last one, as
    triton.testing.do_bench does: when the GPU is the bottleneck (large n) the host stays ahead,
    each event pair brackets device work only, and the Python dispatch of the next call
    overlaps the current kernel. When the host is the bottleneck (small n) the GPU waits
    between calls and the times include dispatch: what eager code pays there.
    """
    import cupy
    stream = cupy.cuda.get_current_stream()
    for _ in range(warmup):
        fn()
    stream.synchronize()
    t = time.perf_counter()  # one synchronised call sizes the run
    fn()
    stream.synchronize()
    samples, per = plan(time.perf_counter() - t, repeat)
    events = [(cupy.cuda.Event(), cupy.cuda.Event()) for _ in range(samples)]
    for start, end in events:
        start.record(stream)
        for _ in range(per):
            fn()
        end.record(stream)
    stream.synchronize()
    return [cupy.cuda.get_elapsed_time(start, end) / 1e3 / per for start, end in events], per


def timer_for(device: str):
    return time_cuda if device.startswith("cuda") else time_host


def median(times: list[float]) -> float:
    return statistics.median(times)


def sig(values: list[float], digits: int = 4) -> list[float]:
    """Raw times as stored: 4 significant digits is finer than any run-to-run noise."""
    return [float(f"{v:.{digits}g}") for v in values]


# ---- metadata ---------------------------------------------------------------------------------
def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def gpu_info(index: int = 0) -> dict:
    """Name and versions from nvml (nvidia-ml-py) and CuPy; fields are None where unavailable."""
    info = {"gpu_name": None, "driver_version": None, "cuda_driver_version": None, "cuda_runtime_version": None,
            "gpu_memory_bytes": None, "sm_count": None, "l2_bytes": None}
    try:
        import pynvml
        pynvml.nvmlInit()
        handle = pynvml.nvmlDeviceGetHandleByIndex(index)
        name = pynvml.nvmlDeviceGetName(handle)
        info["gpu_name"] = name.decode() if isinstance(name, bytes) else name
        driver = pynvml.nvmlSystemGetDriverVersion()
        info["driver_version"] = driver.decode() if isinstance(driver, bytes) else driver
        info["cuda_driver_version"] = _cuda_version_str(pynvml.nvmlSystemGetCudaDriverVersion())
        info["gpu_memory_bytes"] = int(pynvml.nvmlDeviceGetMemoryInfo(handle).total)
    except Exception as e:  # nvml missing or failing must not stop a benchmark
        info["nvml_error"] = repr(e)
    try:
        import cupy
        info["cuda_runtime_version"] = _cuda_version_str(cupy.cuda.runtime.runtimeGetVersion())
        props = cupy.cuda.runtime.getDeviceProperties(index)
        info["sm_count"] = props["multiProcessorCount"]
        info["l2_bytes"] = props["l2CacheSize"]
        if info["gpu_name"] is None:
            name = props["name"]
            info["gpu_name"] = name.decode() if isinstance(name, bytes) else name
    except Exception as e:
        info["cupy_error"] = repr(e)
    return info


def _cuda_version_str(v: int) -> str:
    return f"{v // 1000}.{(v % 1000) // 10}"


def _version(module: str):
    try:
        return __import__(module).__version__
    except Exception:
        return None


def nvrtc_versions() -> dict:
    """Both NVRTCs a cuda run may compile with, as "major.minor", None where not installed (an error string
    where installed but unusable): CuPy's (cupy.cuda.nvrtc.getVersion(), behind RawModule and RawKernel) and
    cuda-python's (gpuflow's CUBIN cache, `python -m gpuflow.kernels check`). Two versions can differ, and
    a CUBIN from the newer one may not load on an older driver."""
    found = {"cupy": None, "cuda_python": None}
    try:
        import cupy  # noqa: F401
    except Exception:  # not installed: None
        pass
    else:
        try:
            from gpuflow.runtime.cuda_headers import ensure_cupy_nvrtc
            version = ensure_cupy_nvrtc()  # loads the wheel's libnvrtc where CuPy cannot find it alone
            found["cupy"] = None if version is None else "%d.%d" % tuple(version)
        except Exception as e:
            found["cupy"] = f"error: {type(e).__name__}: {e}"
    try:
        import cuda.bindings.nvrtc  # noqa: F401
    except Exception:
        pass
    else:
        try:
            from gpuflow.runtime.nvrtc import nvrtc_version
            found["cuda_python"] = "%d.%d" % nvrtc_version()
        except Exception as e:
            found["cuda_python"] = f"error: {type(e).__name__}: {e}"
    return found


def git_state() -> dict:
    def git(*args):
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=20).stdout.strip()
    try:
        # dirty = tracked files differ from HEAD (untracked files of other work do not count)
        return {"commit": git("rev-parse", "HEAD"), "dirty": bool(git("status", "--porcelain", "--untracked-files=no"))}
    except Exception as e:
        return {"commit": None, "dirty": None, "error": repr(e)}


def metadata(devices: list[str]) -> dict:
    """Everything needed to know what produced a results file."""
    import numpy
    meta = {
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "host": platform.node(),
        "command": " ".join([Path(sys.executable).name] + sys.argv),
        "devices": devices,
        "cpu_name": cpu_name(),
        "cpu_count": os.cpu_count(),
        # other work on the machine skews host timings: say how busy it was
        "load_average_1_5_15": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "versions": {"python": platform.python_version(), "numpy": numpy.__version__, "gpuflow": _version("gpuflow"),
                     "cupy": _version("cupy"), "torch": _version("torch")},
        "git": git_state(),
        "nvrtc": nvrtc_versions(),
    }
    if any(d.startswith("cuda") for d in devices):
        meta.update(gpu_info())
    meta["device_name"] = meta.get("gpu_name") or meta["cpu_name"]
    return meta


# ---- output -----------------------------------------------------------------------------------
def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "unknown"


def results_path(kind: str, meta: dict, out_dir) -> Path:
    """out_dir/<kind>-<device-name-slug>-<YYYYMMDD-HHMMSS>.json"""
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path(out_dir) / f"{kind}-{slug(meta['device_name'])}-{stamp}.json"


def write_json(path: Path, meta: dict, payload: dict) -> Path:
    """Written again after each step of a run (payload["complete"] false until the end), so a run
    cut short by a time limit still leaves everything it measured."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps({"meta": meta, **payload}, indent=1)
    # one line per list of numbers (raw times), not one line per number
    text = re.sub(r"\[\s*(-?[0-9][^\[\]{}\"]*?)\s*\]", lambda m: "[" + re.sub(r"\s+", "", m.group(1)) + "]", text)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text + "\n")
    tmp.replace(path)  # never a half-written file
    return path


def print_table(headers: list[str], rows: list[list], title: str | None = None) -> None:
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    if title:
        print(f"\n{title}")
    print("  ".join(h.rjust(w) for h, w in zip(headers, widths)))
    print("  ".join("-" * w for w in widths))
    for r in cells:
        print("  ".join(c.rjust(w) for c, w in zip(r, widths)))


def _cell(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.3g}" if abs(v) < 1e4 else f"{v:.3e}"
    return str(v)


def fmt_time(s: float) -> str:
    for unit, scale in (("s", 1), ("ms", 1e-3), ("us", 1e-6)):
        if s >= scale:
            return f"{s / scale:.3g} {unit}"
    return f"{s * 1e9:.3g} ns"


def parse_list(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]
