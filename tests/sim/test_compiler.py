"""Compilation: caches, options, errors, and common.cuh on the sim."""
from pathlib import Path

import numpy as np
import pytest

from gpuflow.errors import KernelError
from gpuflow.runtime.sim import SimModule, compiler

TINY = '#include "common.cuh"\nextern "C" __global__ void inc(int* y) { y[threadIdx.x] += VALUE; }\n'


def test_include_path_option():
    extra = Path(__file__).parent / "kernels" / "extra"  # a fixed folder, so the build stays cached
    code = '#include "extra.cuh"\n#define VALUE EXTRA_VALUE\n' + TINY
    for opts in ((f"-I{extra}",), ("-I", str(extra)), (f"--include-path={extra}",)):
        y = np.zeros(2, np.int32)
        SimModule(code, options=opts).get_function("inc")(1, 2, (y,))
        assert (y == 11).all()


def test_compile_error_has_the_compiler_message():
    bad = '#include "common.cuh"\nextern "C" __global__ void broken(float* y) {\n  y[0] = undeclared_thing;\n}\n'
    with pytest.raises(KernelError, match=r"(?s)compilation of kernel module 'broken.cu' failed.*"
                                          r"broken.cu:3:.*undeclared_thing"):
        SimModule(bad, name="broken.cu")


def test_bad_name_expression_is_a_compile_error():
    with pytest.raises(KernelError, match="no_such_kernel"):
        SimModule(TINY, options=("-DVALUE=1",), name_expressions=("no_such_kernel<float>",))


def test_extern_c_block_kernels_are_found():
    code = '#include "common.cuh"\nextern "C" {\n__global__ void a(int* y) { y[0] = 1; }\n' \
           '__global__ void b(int* y) { y[0] = 2; }\n}\n'
    m = SimModule(code)
    y = np.zeros(1, np.int32)
    m.get_function("b")(1, 1, (y,))
    assert y[0] == 2


def test_caches(tmp_path, monkeypatch):
    """Memory and disk hits skip the compiler; only a header the module includes invalidates it."""
    monkeypatch.setenv("GPUFLOW_CACHE_DIR", str(tmp_path / "cache"))
    inc = tmp_path / "inc"
    inc.mkdir()
    (inc / "used.cuh").write_text("#define VALUE 5\n")
    (inc / "unused.cuh").write_text("// not included\n")
    code = '#include "used.cuh"\n' + TINY
    opts = (f"-I{inc}", "-std=c++17", "--use_fast_math", "-arch=sm_90")  # NVRTC-only options are ignored
    before = dict(compiler.stats)

    def run():
        y = np.zeros(2, np.int32)
        SimModule(code, options=opts).get_function("inc")(1, 2, (y,))
        return int(y[0])

    assert run() == 5
    assert compiler.stats["compiles"] == before["compiles"] + 1
    assert list((tmp_path / "cache" / "sim").glob("*.so"))
    assert run() == 5
    assert compiler.stats["memory_hits"] >= before["memory_hits"] + 1
    compiler.clear_memory_cache()
    assert run() == 5
    assert compiler.stats["disk_hits"] == before["disk_hits"] + 1
    (inc / "unused.cuh").write_text("// edited, still not included\n")
    compiler.clear_memory_cache()
    assert run() == 5
    assert compiler.stats["compiles"] == before["compiles"] + 1  # an unrelated header does not invalidate
    (inc / "used.cuh").write_text("#define VALUE 6\n")
    assert run() == 6  # no need to clear: the in-memory cache checks the headers too
    assert compiler.stats["compiles"] == before["compiles"] + 2
    # Options, name expressions and the initcheck mode are part of the key.
    keys = {compiler._hash_inputs(TINY, o, e, i) for o, e, i in
            [(("-DVALUE=3",), (), False), (("-DVALUE=4",), (), False), (("-DVALUE=3",), ("inc",), False),
             (("-DVALUE=3",), (), True)]}
    assert len(keys) == 4
