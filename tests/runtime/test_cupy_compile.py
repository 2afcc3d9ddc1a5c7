"""Every kernel file compiles through CuPy's own NVRTC path with the cuda loader's options, no GPU needed.

`python -m gpuflow.kernels check` compiles every instantiation with NVRTC directly; this test goes
the way `cupy.RawModule` does on a GPU (cupy._core.core.compile_with_cache, the loader's fallback when
its CUBIN cache is off), so CuPy's additions (its include dirs ahead of ours, -ftz=true,
--device-as-default-execution-space, --pch on NVRTC 12.8+) and the loader's include dirs and NVRTC
discovery are exercised too. Only the last step, loading the cubin into a CUDA context, needs a
driver: the compile is stopped just before it, at the point each CuPy offers:

* CuPy 14: its kernel cache backend (cupy.cuda._compiler_cache.KernelCacheBackend, the extension point
  CuPy documents as experimental), whose save() receives the compiled payload before the module loads.
* CuPy 13: cupy.cuda.compiler.compile_using_nvrtc, which its compile_with_cache called (and which
  took the since-removed `cachd_dir` argument); CuPy 14's compile no longer goes through it.

Skipped, saying what is missing, where CuPy or its NVRTC is missing (CI installs neither). A CuPy
that offers neither point fails: the test must follow it, not fall silent.
"""
from __future__ import annotations

import struct

import pytest

cupy = pytest.importorskip("cupy", reason="CuPy is not installed (pip install gpuflow[cuda12] or [cuda13])")

from _cubin_elf import cuda_elf_sm  # noqa: E402
from gpuflow.runtime.sources import instantiations  # noqa: E402
from gpuflow.runtime.loader import cuda_options  # noqa: E402
from gpuflow.runtime.sources import kernel_files, read_source  # noqa: E402

ARCH = "90"  # H100/H200; given explicitly since there may be no device to ask
PAYLOAD_MAGIC = b"\x93CUPYNE\x00"  # CuPy 14's cache payload of a module built with name expressions


class _Compiled(Exception):
    """Raised with NVRTC's result in place of loading the cubin (that needs a driver)."""


def _cupy14_capture(monkeypatch, compiler):
    """CuPy 14: a cache backend that always misses and stops the compile at its save."""
    from cupy.cuda._compiler_cache import KernelCacheBackend

    class Capture(KernelCacheBackend):
        def load(self, name):
            return None  # a miss: CuPy compiles

        def save(self, name, cubin, source):
            raise _Compiled("cupy14", cubin)

    monkeypatch.setattr(compiler, "_kernel_cache_backend", Capture())


def _cupy13_capture(monkeypatch, compiler):
    nvrtc_compile = compiler.compile_using_nvrtc

    def intercept(source, options=(), arch=None, filename="kern.cu", name_expressions=None, *args, **kwargs):
        result = nvrtc_compile(source, options, arch, filename, name_expressions, *args, **kwargs)
        if name_expressions:  # the module's compile (CuPy's empty-source preprocessing run has none)
            raise _Compiled("cupy13", result, options)
        return result

    monkeypatch.setattr(compiler, "compile_using_nvrtc", intercept)


def decode_payload(payload: bytes, count: int):
    """(mangled names in sorted-name-expression order, cubin) of CuPy 14's cache payload: magic, uint32 count,
    count x (uint32 length + UTF-8 name), then the cubin (cupy/cuda/compiler.py, _encode_cache_payload)."""
    assert payload.startswith(PAYLOAD_MAGIC), f"not CuPy 14's name-expression payload: {payload[:16]!r}"
    pos = len(PAYLOAD_MAGIC)
    (stored,) = struct.unpack_from("<I", payload, pos)
    assert stored == count, f"{stored} mangled names stored for {count} name expressions"
    pos += 4
    names = []
    for _ in range(stored):
        (size,) = struct.unpack_from("<I", payload, pos)
        names.append(payload[pos + 4:pos + 4 + size].decode())
        pos += 4 + size
    return names, payload[pos:]


@pytest.fixture
def compile_like_raw_module(monkeypatch):
    from gpuflow.runtime.cuda_headers import ensure_cupy_nvrtc
    try:
        ensure_cupy_nvrtc()
    except RuntimeError as e:
        pytest.skip(f"CuPy cannot load NVRTC here (missing: libnvrtc for CuPy's CUDA major): {e}")
    from cupy._core import core
    from cupy.cuda import compiler
    if not hasattr(compiler, "_get_arch_for_options_for_nvrtc"):
        pytest.fail(f"CuPy {cupy.__version__} has no cupy.cuda.compiler._get_arch_for_options_for_nvrtc, which asks "
                    f"the device for -arch: follow its new compile path in tests/runtime/test_cupy_compile.py")
    cupy14 = hasattr(compiler, "_kernel_cache_backend")  # CuPy 14's pluggable cache, which replaced `cachd_dir`
    if cupy14:
        _cupy14_capture(monkeypatch, compiler)
    elif hasattr(compiler, "compile_using_nvrtc"):
        _cupy13_capture(monkeypatch, compiler)
    else:
        pytest.fail(f"CuPy {cupy.__version__} offers neither a kernel cache backend (CuPy 14) nor "
                    f"compile_using_nvrtc (CuPy 13) to stop its compile before the driver loads the cubin: "
                    f"follow its new compile path in tests/runtime/test_cupy_compile.py")
    # Normally asks the current device which -arch to use (memoised per device): no device here.
    monkeypatch.setattr(compiler, "_get_arch_for_options_for_nvrtc", lambda arch=None: (f"-arch=sm_{arch}", "cubin"))

    def compile_file(file, names, tmp_dir):
        """(cubin, {name expression: mangled name}, NVRTC options or None where CuPy does not show them)."""
        # exactly RawModule's call (cupy/_core/raw.pyx _get_raw_module), plus the arch
        kwargs = dict(arch=ARCH, prepend_cupy_headers=False, name_expressions=tuple(names))
        if not cupy14:
            kwargs["cachd_dir"] = str(tmp_dir)  # CuPy 13's argument (sic)
        try:
            core.compile_with_cache(read_source(file), cuda_options(), **kwargs)
        except _Compiled as done:
            if done.args[0] == "cupy14":
                mangled, cubin = decode_payload(done.args[1], len(names))
                return cubin, dict(zip(sorted(names), mangled)), None
            (cubin, mapping), options = done.args[1:]
            return cubin, mapping, options
        raise AssertionError(f"CuPy {cupy.__version__} returned a module without compiling: the interception missed")
    return compile_file


def _sample(names):
    """The first instantiation listed, and the first in each 16-bit float type (their headers are the risk)."""
    picked = names[:1]
    for ctype in ("__half", "__nv_bfloat16"):
        picked += [n for n in names if ctype in n and n not in picked][:1]
    return picked


@pytest.mark.parametrize("file", [p.name for p in kernel_files()])
def test_kernel_file_compiles_through_cupy(file, compile_like_raw_module, tmp_path):
    names = _sample(instantiations().get(file, []))
    assert names, f"{file} has no instantiation in kernels/instantiations.txt"
    cubin, mapping, options = compile_like_raw_module(file, names, tmp_path)
    assert cuda_elf_sm(cubin) == int(ARCH), f"NVRTC produced no sm_{ARCH} CUBIN for {file}"
    assert set(mapping) == set(names), f"CuPy lost name expressions of {file}: {sorted(mapping)}"
    assert all(mapping[n].startswith("_Z") for n in names), mapping  # C++ templates: mangled entry names
    if options is not None:
        assert set(cuda_options()) <= set(options)  # ours reached NVRTC, with CuPy's added around them
