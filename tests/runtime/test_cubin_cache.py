"""The cuda loader's CUBIN disk cache (gpuflow/runtime/cubin_cache.py), up to the module load.

NVRTC (cuda-python) compiles for sm_90 without a GPU, so everything but the final
cupy.RawModule(path=...) load runs here; that load, and a launch, is the gpu-marked test at the end.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import struct
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

pytest.importorskip("cuda.bindings.nvrtc", reason="cuda-python is not installed (pip install gpuflow[nvrtc])")

from gpuflow.kernels import nvrtc as nvrtc_driver  # noqa: E402
from gpuflow.runtime import cubin_cache, loader  # noqa: E402
from gpuflow.runtime.sources import kernel_dir  # noqa: E402

if not cubin_cache.available():
    pytest.skip("cuda-python cannot open NVRTC here", allow_module_level=True)

ARCH = "90"  # H100/H200, given explicitly: there is no device to ask
FILE, NAME = "bias_act.cu", "bias_act<float, gf::act::Relu>"
TANH = "bias_act<float, gf::act::Tanh>"
SAMPLE = [(FILE, NAME), ("bias_act.cu", "bias_act<__half, gf::act::Sigmoid>"),
          ("reduce.cu", "reduce_rows<gf::SumOp<__nv_bfloat16>>")]


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty cache folder and zeroed counters."""
    monkeypatch.setenv("GPUFLOW_CACHE_DIR", str(tmp_path / "cache"))
    for k in cubin_cache.stats:
        monkeypatch.setitem(cubin_cache.stats, k, 0)
    return tmp_path / "cache" / "cuda"


@pytest.fixture
def kernels(tmp_path):
    """A copy of kernels/ that a test may edit."""
    root = tmp_path / "kernels"
    root.mkdir()
    for p in list(kernel_dir().glob("*.cu")) + list(kernel_dir().glob("*.cuh")):
        shutil.copy(p, root / p.name)
    return root


@pytest.fixture
def gf_log(caplog):
    """gpuflow's log lines (its logger does not propagate to the root one that caplog watches)."""
    logger = logging.getLogger("gpuflow")
    logger.addHandler(caplog.handler)
    caplog.handler.setLevel(logging.INFO)
    yield caplog
    logger.removeHandler(caplog.handler)


def _no_nvrtc(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("NVRTC was called on a cache hit")
    monkeypatch.setattr(nvrtc_driver, "compile_program", refuse)


def test_sample_names_are_instantiations_we_ship():
    from gpuflow.kernels import instantiations
    table = instantiations()
    for file, name in SAMPLE + [(FILE, TANH)]:
        assert name in table.get(file, []), f"{file}: {name} is not in kernels/instantiations.txt; pick another"


@pytest.mark.parametrize("file,name", SAMPLE)
def test_compiles_to_a_cubin_for_the_asked_arch(cache, file, name):
    entry = cubin_cache.get(file, name, ARCH)
    data = entry.path.read_bytes()
    assert entry.path.parent == cache
    assert data[:4] == b"\x7fELF" and data[7] == 0x33, "not a CUDA ELF (a CUBIN): PTX?"
    # The SM is the low byte of e_flags up to sm_90 (from Blackwell on, it moved to the next byte).
    e_flags = struct.unpack_from("<I", data, 48)[0]
    assert e_flags & 0xFF == 90, hex(e_flags)
    assert entry.lowered.startswith("_Z") and entry.lowered.encode() in data, "no such entry in the CUBIN"
    meta = json.loads(entry.path.with_suffix(".json").read_text())
    assert meta["arch"] == "sm_90" and meta["name"] == name and meta["lowered"] == entry.lowered
    assert meta["sha256"] == hashlib.sha256(data).hexdigest()
    assert cubin_cache.stats == {"compiles": 1, "disk_hits": 0, "rejected": 0}


def test_options_are_the_raw_modules_but_do_not_flush_denormals():
    options = nvrtc_driver.cubin_options("90")
    assert options[:len(loader.cuda_options())] == loader.cuda_options()
    assert "-ftz=false" in options and "-ftz=true" not in options
    assert "-arch=sm_90" in options and "--device-as-default-execution-space" in options


def test_the_second_get_is_a_disk_hit_without_nvrtc(cache, monkeypatch):
    first = cubin_cache.get(FILE, NAME, ARCH)
    _no_nvrtc(monkeypatch)
    again = cubin_cache.get(FILE, NAME, "sm_90")  # either spelling of the arch: one key
    assert again == first
    assert cubin_cache.stats == {"compiles": 1, "disk_hits": 1, "rejected": 0}


def test_a_new_process_finds_the_cache(cache):
    first = cubin_cache.get(FILE, NAME, ARCH)
    script = textwrap.dedent(f"""
        from gpuflow.kernels import nvrtc
        from gpuflow.runtime import cubin_cache
        def refuse(*a, **k):
            raise SystemExit("NVRTC was called: the cache missed")
        nvrtc.compile_program = refuse
        entry = cubin_cache.get({FILE!r}, {NAME!r}, {ARCH!r})
        print(entry.path, entry.lowered, cubin_cache.stats["disk_hits"])
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=os.environ.copy())
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [str(first.path), first.lowered, "1"]


def test_other_arch_name_or_nvrtc_version_is_another_key():
    options = nvrtc_driver.cubin_options("90")
    base = dict(file=FILE, source=b"src", headers={"common.cuh": b"h"}, name=NAME, options=options,
                nvrtc_version=(12, 9))
    key = cubin_cache.cache_key(**base)
    assert key == cubin_cache.cache_key(**base)
    for change in (dict(options=nvrtc_driver.cubin_options("80")), dict(name=TANH),
                   dict(nvrtc_version=(12, 8)), dict(file="other.cu"), dict(source=b"src "),
                   dict(headers={"common.cuh": b"h "}), dict(headers={"common.cuh": b"h", "new.cuh": b""})):
        assert cubin_cache.cache_key(**{**base, **change}) != key, change


def test_a_source_change_recompiles(cache, kernels, monkeypatch):
    first = cubin_cache.get(FILE, NAME, ARCH, root=kernels)
    (kernels / FILE).write_text((kernels / FILE).read_text() + "\n// edited\n")
    second = cubin_cache.get(FILE, NAME, ARCH, root=kernels)
    assert second.path != first.path and cubin_cache.stats["compiles"] == 2
    _no_nvrtc(monkeypatch)
    assert cubin_cache.get(FILE, NAME, ARCH, root=kernels) == second


def test_a_header_change_recompiles(cache, kernels):
    first = cubin_cache.get(FILE, NAME, ARCH, root=kernels)
    common = kernels / "common.cuh"
    common.write_text(common.read_text() + "\n#define GF_TEST_EDIT 1\n")
    second = cubin_cache.get(FILE, NAME, ARCH, root=kernels)
    assert second.path != first.path and cubin_cache.stats == {"compiles": 2, "disk_hits": 0, "rejected": 0}


def _truncate(cubin, meta):
    cubin.write_bytes(cubin.read_bytes()[:100])


def _flip_a_byte(cubin, meta):
    data = bytearray(cubin.read_bytes())
    data[len(data) // 2] ^= 0xFF
    cubin.write_bytes(bytes(data))


def _empty_cubin(cubin, meta):
    cubin.write_bytes(b"")


def _garbage_json(cubin, meta):
    meta.write_bytes(b"\xff\xfe{ not json")


def _truncated_json(cubin, meta):
    meta.write_text(meta.read_text()[:20])


def _json_without_hash(cubin, meta):
    m = json.loads(meta.read_text())
    del m["sha256"]
    meta.write_text(json.dumps(m))


def _json_a_list(cubin, meta):
    meta.write_text("[1, 2]")


@pytest.mark.parametrize("damage", [_truncate, _flip_a_byte, _empty_cubin, _garbage_json, _truncated_json,
                                    _json_without_hash, _json_a_list])
def test_a_damaged_entry_is_rebuilt_not_trusted(cache, damage, gf_log):
    first = cubin_cache.get(FILE, NAME, ARCH)
    good = first.path.read_bytes()
    damage(first.path, first.path.with_suffix(".json"))
    again = cubin_cache.get(FILE, NAME, ARCH)
    assert cubin_cache.stats == {"compiles": 2, "disk_hits": 0, "rejected": 1}
    assert "recompiling" in gf_log.text
    assert again.path.read_bytes() == good  # rebuilt in place (NVRTC is deterministic)
    assert cubin_cache.get(FILE, NAME, ARCH) == again and cubin_cache.stats["disk_hits"] == 1


def test_a_missing_half_is_a_plain_miss(cache):
    first = cubin_cache.get(FILE, NAME, ARCH)
    first.path.unlink()  # e.g. a writer killed between the two renames leaves only the JSON... or the reverse
    assert cubin_cache.get(FILE, NAME, ARCH) == first
    first.path.with_suffix(".json").unlink()
    assert cubin_cache.get(FILE, NAME, ARCH) == first
    assert cubin_cache.stats == {"compiles": 3, "disk_hits": 0, "rejected": 0}


def test_clear_empties_the_folder(cache):
    cubin_cache.get(FILE, NAME, ARCH)
    assert any(cache.iterdir())
    cubin_cache.clear()
    assert not cache.exists() or not any(cache.iterdir())


_WRITER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from gpuflow.runtime import cubin_cache
    path, byte, start = Path(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    payload = bytes([byte]) * (4 << 20)
    while time.time() < start:
        pass
    for _ in range(40):
        cubin_cache._write_atomic(path, payload)
""")


def test_concurrent_writers_never_expose_a_partial_file(tmp_path):
    """Two processes rewrite one file (4 MiB, distinct bytes) while this one reads it: every read is
    one writer's whole payload. A plain open-and-write would show short or mixed files here."""
    path = tmp_path / "entry.cubin"
    start = time.time() + 1.0
    writers = [subprocess.Popen([sys.executable, "-c", _WRITER, str(path), str(b), str(start)]) for b in (1, 2)]
    seen = set()
    try:
        while any(w.poll() is None for w in writers):
            try:
                data = path.read_bytes()
            except FileNotFoundError:
                continue
            assert len(data) == 4 << 20 and data.count(data[:1]) == len(data), "a partial or mixed file was read"
            seen.add(data[0])
    finally:
        for w in writers:
            w.wait()
    assert [w.returncode for w in writers] == [0, 0]
    assert path.read_bytes()[:1] in (b"\x01", b"\x02")
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")], "temporary files were left behind"


_COMPILER = textwrap.dedent("""
    import sys, time
    from gpuflow.runtime import cubin_cache
    start = float(sys.argv[1])
    while time.time() < start:
        pass
    for file, name in {sample!r}:
        e = cubin_cache.get(file, name, "90")
        print(e.path.name, e.lowered)
""")


def test_two_processes_compiling_the_same_kernels_leave_a_valid_cache(cache, monkeypatch):
    start = time.time() + 2.0
    script = _COMPILER.format(sample=SAMPLE)
    procs = [subprocess.Popen([sys.executable, "-c", script, str(start)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=os.environ.copy()) for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err for _, err in outs]
    assert outs[0][0] == outs[1][0] and len(outs[0][0].splitlines()) == len(SAMPLE)
    _no_nvrtc(monkeypatch)
    for file, name in SAMPLE:
        cubin_cache.get(file, name, ARCH)
    assert cubin_cache.stats == {"compiles": 0, "disk_hits": len(SAMPLE), "rejected": 0}
    assert len(list(cache.glob("*.cubin"))) == len(SAMPLE) and not list(cache.glob(".*"))


# ---- the loader's use of the cache, with CuPy's device and module replaced (no GPU here) ----

class _FakeModule:
    made = []
    refuse_cubins = False

    def __init__(self, code=None, *, path=None, options=(), name_expressions=None):
        self.code, self.path, self.options, self.names = code, path, options, name_expressions
        _FakeModule.made.append(self)

    def get_function(self, name):
        if self.path is not None and _FakeModule.refuse_cubins:
            import cupy

            class NoBinary(cupy.cuda.driver.CUDADriverError):  # its own __init__ needs libcuda
                def __init__(self):
                    Exception.__init__(self, "CUDA_ERROR_NO_BINARY_FOR_GPU")
            raise NoBinary()
        return ("function", name)


@pytest.fixture
def fake_cupy(monkeypatch, cache):
    cupy = pytest.importorskip("cupy")

    class Device:
        compute_capability = ARCH

    monkeypatch.setattr(cupy.cuda, "Device", Device)
    monkeypatch.setattr(cupy, "RawModule", _FakeModule)
    monkeypatch.setattr(_FakeModule, "made", [])
    monkeypatch.setattr(_FakeModule, "refuse_cubins", False)
    monkeypatch.setattr(loader, "_use_cubin_cache", None)
    from gpuflow.runtime import cuda_headers
    monkeypatch.setattr(cuda_headers, "ensure_cupy_nvrtc", lambda: (12, 9))
    return _FakeModule


def test_the_loader_loads_the_cached_cubin_by_path(fake_cupy):
    fn = loader.KernelLoader("cuda").get(FILE, NAME)
    (module,) = fake_cupy.made
    entry = cubin_cache.get(FILE, NAME, ARCH)
    assert module.path == str(entry.path) and module.code is None
    assert fn.fn == ("function", entry.lowered)


def test_without_cuda_python_the_loader_compiles_through_cupy_and_says_so_once(fake_cupy, monkeypatch, gf_log):
    monkeypatch.setattr(cubin_cache, "available", lambda: False)
    ld = loader.KernelLoader("cuda")
    ld.get(FILE, NAME)
    ld.get(FILE, TANH)
    assert [m.names for m in fake_cupy.made] == [(NAME,), (TANH,)]
    assert all(m.path is None and m.options == loader.cuda_options() for m in fake_cupy.made)
    assert gf_log.text.count("again in every process") == 1
    assert cubin_cache.stats["compiles"] == 0


def test_a_cubin_the_driver_refuses_turns_the_cache_off(fake_cupy, gf_log):
    fake_cupy.refuse_cubins = True
    ld = loader.KernelLoader("cuda")
    fn = ld.get(FILE, NAME)
    ld.get(FILE, TANH)
    assert fn.fn == ("function", NAME)  # CuPy's path, by name expression
    assert [m.path is not None for m in fake_cupy.made] == [True, False, False]
    assert gf_log.text.count("cannot load NVRTC's CUBIN") == 1


def test_an_nvrtc_failure_cupy_gets_past_turns_the_cache_off(fake_cupy, monkeypatch, gf_log):
    calls = []

    def fail(*args, **kwargs):  # e.g. cuda-python's NVRTC does not know the GPU's architecture yet
        calls.append(args)
        raise cubin_cache.CubinCompileError("NVRTC could not compile it: invalid value for --gpu-architecture")
    monkeypatch.setattr(cubin_cache, "get", fail)
    ld = loader.KernelLoader("cuda")
    fn = ld.get(FILE, NAME)
    ld.get(FILE, TANH)
    assert fn.fn == ("function", NAME) and [m.names for m in fake_cupy.made] == [(NAME,), (TANH,)]
    assert len(calls) == 1 and loader._use_cubin_cache is False
    assert gf_log.text.count("--gpu-architecture") == 1 and "again in every process" in gf_log.text


def test_a_kernel_neither_compiles_raises_and_leaves_the_cache_on(fake_cupy, monkeypatch, kernels, gf_log):
    (kernels / FILE).write_text((kernels / FILE).read_text() + "\nthis is not C++;\n")
    monkeypatch.setattr(loader, "kernel_dir", lambda: kernels)
    monkeypatch.setattr(loader, "read_source", lambda file: (kernels / file).read_text())
    get = cubin_cache.get
    monkeypatch.setattr(cubin_cache, "get", lambda file, name, arch: get(file, name, arch, root=kernels))

    def cupy_refuses(self, name):
        raise RuntimeError("CuPy: compile error")
    monkeypatch.setattr(fake_cupy, "get_function", cupy_refuses)
    with pytest.raises(RuntimeError, match="CuPy: compile error"):
        loader.KernelLoader("cuda").get(FILE, NAME)
    assert loader._use_cubin_cache is True and "again in every process" not in gf_log.text


# ---- on a GPU: the load itself ----

@pytest.mark.gpu
def test_on_a_gpu_the_cached_cubin_loads_runs_and_keeps_denormals(cache, monkeypatch):
    import cupy
    monkeypatch.setattr(loader, "_use_cubin_cache", None)
    arch = cupy.cuda.Device().compute_capability
    entry = cubin_cache.get(FILE, NAME, arch)
    cupy.RawModule(path=str(entry.path)).get_function(entry.lowered)  # the driver accepts it

    fn = loader.KernelLoader("cuda").get(FILE, NAME)
    assert loader._use_cubin_cache, "the loader fell back to CuPy's compile"
    assert cubin_cache.stats["disk_hits"] == 1  # the loader found what get() stored
    x = cupy.asarray(np.array([1e-40, -2.0, 3e-39, 5.0], np.float32))  # two float32 denormals
    b = cupy.zeros(1, np.float32)
    y = cupy.empty_like(x)
    fn((1,), (32,), (x, b, y, np.int64(4), np.int64(1)))
    # relu(x + 0) with denormals kept (-ftz=false), as on cpu and sim; CuPy's -ftz=true would give 0.
    np.testing.assert_array_equal(y.get(), np.array([1e-40, 0.0, 3e-39, 5.0], np.float32))
