"""Indexing, shared memory, templates, argument marshalling and printf on the sim device."""
import numpy as np
import pytest

from gpuflow.errors import KernelError
from gpuflow.runtime.sim import SimKernel

TEMPLATES = ("fill<float>", "fill<__half>", "fill<long long>", "scale<float>", "scale<__half>")


def basic(load):
    return load("basic.cu", TEMPLATES)


def test_grid_stride_elementwise(load):
    f = basic(load).get_function("affine")
    x = np.random.default_rng(0).standard_normal(10_000).astype(np.float32)
    y = np.zeros_like(x)
    f(7, 64, (x, y, np.int64(x.size), np.float32(2), np.float32(1)))
    np.testing.assert_array_equal(y, x * np.float32(2) + np.float32(1))


@pytest.mark.parametrize("grid,block", [((2, 3, 2), (4, 2, 3)), (3, 5), ((1, 2), (33,))])
def test_3d_indexing(load, grid, block):
    g = (grid,) if isinstance(grid, int) else tuple(grid)
    b = (block,) if isinstance(block, int) else tuple(block)
    g, b = g + (1,) * (3 - len(g)), b + (1,) * (3 - len(b))
    out = np.full((np.prod(g), np.prod(b), 6), -1, np.int32)
    basic(load).get_function("coords")(grid, block, (out,))
    for bz in range(g[2]):
        for by in range(g[1]):
            for bx in range(g[0]):
                bid = (bz * g[1] + by) * g[0] + bx
                for tz in range(b[2]):
                    for ty in range(b[1]):
                        for tx in range(b[0]):
                            tid = (tz * b[1] + ty) * b[0] + tx
                            assert tuple(out[bid, tid]) == (tx, ty, tz, bx, by, bz)


def test_static_and_dynamic_shared(load):
    m = basic(load)
    x = np.arange(384, dtype=np.float32)
    expected = np.concatenate([x[i * 128:(i + 1) * 128][::-1] for i in range(3)])
    y = np.zeros_like(x)
    m.get_function("reverse_static")(3, 128, (x, y))
    np.testing.assert_array_equal(y, expected)
    y[:] = 0
    m.get_function("reverse_dynamic")(3, 128, (x, y), shared_mem=128 * 4)
    np.testing.assert_array_equal(y, expected)


def test_template_name_expressions(load):
    m = basic(load)
    y = np.zeros(100, np.float32)
    m.get_function("fill<float>")(2, 32, (y, np.float32(2.5), np.int32(100)))
    assert (y == 2.5).all()
    h = np.zeros(50, np.float16)
    m.get_function("fill<__half>")(1, 32, (h, np.float16(-1.5), np.int32(50)))
    assert (h == -1.5).all()
    q = np.zeros(10, np.int64)
    m.get_function("fill<long long>")(1, 32, (q, np.int64(2**40 + 3), np.int32(10)))
    assert (q == 2**40 + 3).all()
    x = np.linspace(-3, 3, 77).astype(np.float16)
    out = np.zeros_like(x)
    m.get_function("scale<__half>")(1, 32, (x, out, np.int64(x.size), np.float32(3)))
    np.testing.assert_array_equal(out, (x.astype(np.float32) * 3).astype(np.float16))
    with pytest.raises(KernelError, match="no kernel 'fill<double>'"):
        m.get_function("fill<double>")


def test_vector_loads_aligned(load):
    x = np.arange(64, dtype=np.float32)
    y = np.zeros_like(x)
    basic(load).get_function("copy4")(1, 8, (x, y, np.int32(16)))
    np.testing.assert_array_equal(x, y)


def test_scalar_marshalling(load):
    out = np.zeros(10, np.float64)
    pair = np.array((7, 0.25), dtype=[("a", np.int32), ("b", np.float32)])[()]
    args = (out, np.int8(-5), np.int16(300), np.int32(-70000), 2**40, np.uint32(4_000_000_000),
            np.float32(1.5), 0.1, True, pair)
    basic(load).get_function("scalars")(1, 1, args)
    np.testing.assert_array_equal(out, [-5, 300, -70000, 2**40, 4e9, 1.5, 0.1, 1, 7, 0.25])


def test_argument_checks(load):
    m = basic(load)
    f = m.get_function("affine")
    x = np.zeros(8, np.float32)
    with pytest.raises(KernelError, match=r"affine.*argument 2 is declared `long long int` .*numpy.int32"):
        f(1, 8, (x, x, np.int32(8), np.float32(1), np.float32(0)))
    with pytest.raises(KernelError, match=r"argument 3 is declared `float`.*Python float"):
        f(1, 8, (x, x, np.int64(8), 1.0, np.float32(0)))
    with pytest.raises(KernelError, match=r"takes 5 arguments, got 4"):
        f(1, 8, (x, x, np.int64(8), np.float32(1)))
    with pytest.raises(KernelError, match=r"argument 1 is a pointer .* needs a numpy.ndarray"):
        f(1, 8, (x, 3, np.int64(8), np.float32(1), np.float32(0)))
    with pytest.raises(KernelError, match=r"argument 0 .*4-byte elements.*float64"):
        f(1, 8, (np.zeros(8), x, np.int64(8), np.float32(1), np.float32(0)))
    with pytest.raises(KernelError, match="not C-contiguous"):
        f(1, 8, (np.zeros(16, np.float32)[::2], x, np.int64(8), np.float32(1), np.float32(0)))
    with pytest.raises(KernelError, match="more than 1024 threads"):
        f(1, (64, 32), (x, x, np.int64(8), np.float32(1), np.float32(0)))


def test_in_place_aliasing(load):
    x = np.arange(1000, dtype=np.float32)
    basic(load).get_function("affine")(4, 64, (x, x, np.int64(1000), np.float32(2), np.float32(0)))
    np.testing.assert_array_equal(x, np.arange(1000, dtype=np.float32) * 2)


def test_printf(capfd, load):
    basic(load).get_function("hello")(1, 4, (np.int32(42),))
    assert "hello from the sim 42" in capfd.readouterr().out


def test_simkernel_like_rawkernel():
    code = 'extern "C" __global__ void twice(float* y, int n) { GF_GRID_STRIDE_LOOP(i, n) y[i] *= 2; }'
    k = SimKernel('#include "common.cuh"\n' + code, "twice")
    y = np.ones(33, np.float32)
    k(1, 32, (y, np.int32(33)))
    assert (y == 2).all()


def test_pointer_element_kind_checks(load):
    import ml_dtypes
    m = basic(load)
    with pytest.raises(KernelError, match=r"argument 0 is `__half\*`.*bfloat16"):
        m.get_function("fill<__half>")(1, 32, (np.zeros(4, ml_dtypes.bfloat16), np.float16(1), np.int32(4)))
    with pytest.raises(KernelError, match=r"argument 1 is declared `__half`.*bfloat16"):
        m.get_function("fill<__half>")(1, 32, (np.zeros(4, np.float16), ml_dtypes.bfloat16(1), np.int32(4)))
    with pytest.raises(KernelError, match=r"argument 0 is `float\*`.*int32"):
        m.get_function("fill<float>")(1, 32, (np.zeros(4, np.int32), np.float32(1), np.int32(4)))
    raw = np.zeros(4, np.uint16)  # raw bit patterns are accepted for 16-bit floats
    m.get_function("fill<__half>")(1, 32, (raw, np.float16(1), np.int32(4)))
    assert (raw == 0x3C00).all()
