"""Every kernel file compiles through CuPy's own NVRTC path with the cuda loader's options, no GPU needed.

`python -m gpuflow.kernels check` compiles every instantiation with NVRTC directly; this test goes
the way `cupy.RawModule` does on a GPU (cupy._core.core.compile_with_cache), so CuPy's additions
(its include dirs ahead of ours, -ftz=true, --device-as-default-execution-space) and the loader's
include dirs and NVRTC discovery are exercised too. Only the last step, loading the cubin into a
CUDA context, needs a driver: the compile is intercepted just before it.

Skipped where CuPy or its NVRTC is missing (CI installs neither) or CuPy's internals moved.
"""
from __future__ import annotations

import pytest

cupy = pytest.importorskip("cupy", reason="CuPy is not installed (pip install gpuflow[cuda12])")

from gpuflow.kernels import instantiations  # noqa: E402
from gpuflow.runtime.loader import cuda_options  # noqa: E402
from gpuflow.runtime.sources import kernel_files, read_source  # noqa: E402

ARCH = "90"  # H100/H200; given explicitly since there may be no device to ask


class _Compiled(Exception):
    """Raised with NVRTC's (cubin, name mapping) in place of loading the cubin (that needs a driver)."""


@pytest.fixture
def compile_like_raw_module(monkeypatch):
    from gpuflow.runtime.cuda_headers import ensure_cupy_nvrtc
    try:
        ensure_cupy_nvrtc()
    except RuntimeError as e:
        pytest.skip(f"CuPy cannot load NVRTC here: {e}")
    from cupy._core import core
    from cupy.cuda import compiler
    for owner, attr in ((core, "compile_with_cache"), (compiler, "compile_using_nvrtc"),
                        (compiler, "_get_arch_for_options_for_nvrtc")):
        if not hasattr(owner, attr):
            pytest.skip(f"CuPy {cupy.__version__} has no {owner.__name__}.{attr}: this test follows CuPy 13's internals")
    nvrtc_compile = compiler.compile_using_nvrtc

    def intercept(source, options=(), arch=None, filename="kern.cu", name_expressions=None, *args, **kwargs):
        result = nvrtc_compile(source, options, arch, filename, name_expressions, *args, **kwargs)
        if name_expressions:  # the module's compile (CuPy's empty-source preprocessing run has none)
            raise _Compiled(result, options)
        return result

    monkeypatch.setattr(compiler, "compile_using_nvrtc", intercept)
    # Normally asks the current device which -arch to use (memoised per device): no device here.
    monkeypatch.setattr(compiler, "_get_arch_for_options_for_nvrtc", lambda arch=None: (f"-arch=sm_{arch}", "cubin"))

    def compile_file(file, names, tmp_dir):
        try:
            # exactly RawModule's call (cupy/_core/raw.pyx _get_raw_module), plus the arch
            core.compile_with_cache(read_source(file), cuda_options(), arch=ARCH, cachd_dir=str(tmp_dir),
                                    prepend_cupy_headers=False, name_expressions=tuple(names))
        except _Compiled as done:
            (cubin, mapping), options = done.args
            return cubin, mapping, options
        except TypeError as e:  # another CuPy's compile_with_cache signature
            pytest.skip(f"CuPy {cupy.__version__}: compile_with_cache is not CuPy 13's ({e})")
        raise AssertionError("CuPy returned a module without compiling: the interception missed")
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
    assert cubin, f"NVRTC produced no code for {file}"
    assert set(mapping) == set(names), f"CuPy lost name expressions of {file}: {sorted(mapping)}"
    assert all(mapping[n].startswith("_Z") for n in names), mapping  # C++ templates: mangled entry names
    assert set(cuda_options()) <= set(options)  # ours reached NVRTC, with CuPy's added around them

