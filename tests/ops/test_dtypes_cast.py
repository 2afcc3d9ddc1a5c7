"""cast: every pair of the 11 dtypes, on cpu and sim, against rules written out here independently:
float -> int truncates toward zero, saturates, NaN -> 0; int -> int wraps; -> bool is x != 0;
bool -> 0/1; -> float16/bfloat16/float32 rounds the exact value once, to nearest even."""
import numpy as np
import pytest

import gpuflow as gf
from gpuflow.ops import elementwise as ew
from tests.harness import check_grad, rand

# (significand bits, smallest normal exponent, largest finite value)
FORMATS = {"float16": (11, -14, 65504.0), "bfloat16": (8, -126, 3.3895313892515355e38),
           "float32": (24, -126, 3.4028234663852886e38)}


def round_nearest_even(v: np.ndarray, name: str) -> np.ndarray:
    """The float64 values `v` rounded once to the format `name`, in float64 arithmetic (exact here:
    scaling by powers of two, then rint)."""
    p, emin, largest = FORMATS[name]
    _, e = np.frexp(v)
    quantum = np.ldexp(1.0, np.maximum(e, emin + 1) - p)  # subnormals share the smallest quantum
    with np.errstate(invalid="ignore", over="ignore"):
        r = np.rint(v / quantum) * quantum
        return np.where(np.abs(r) > largest, np.copysign(np.inf, v), r)


def expected(x: np.ndarray, dst: gf.DType) -> np.ndarray:
    src = gf.as_dtype(x.dtype)
    if dst.is_bool:
        return x.astype(np.float64) != 0
    if src.is_bool:
        return x.astype(np.int64).astype(dst.np)
    if dst.is_integer:
        info = np.iinfo(dst.np)
        if src.is_integer:  # keep the low bits: two's complement wrap
            span = 1 << (8 * dst.itemsize)
            return np.array([(int(v) - info.min) % span + info.min for v in x.reshape(-1)], dst.np).reshape(x.shape)
        wide = x.astype(np.float64)
        out = [0 if np.isnan(v) else info.min if v <= info.min else info.max if v >= info.max else int(v)
               for v in wide.reshape(-1)]
        return np.array(out, dst.np).reshape(x.shape)
    wide = x.astype(np.float64)
    if dst == gf.float64:
        return wide
    return round_nearest_even(wide, dst.name).astype(dst.np)


def source_values(dtype: gf.DType) -> np.ndarray:
    if dtype.is_bool:
        return np.array([True, False, True, True, False])
    if dtype.is_integer:
        info = np.iinfo(dtype.np)
        special = [0, 1, -1, info.min, info.max, 255, 256, -129, 2049, 2051, 65519, 65520, 65535, 65536, -70000,
                   2 ** 24 + 1, 2 ** 24 + 3, 2 ** 24 + 2 ** 16 + 1, 2 ** 31 - 1, -(2 ** 31)]
        if dtype == gf.int64:
            special += [2 ** 40 + 2 ** 16, 2 ** 53, -(2 ** 53), 2 ** 62 + 2 ** 40]
        return np.concatenate([np.array(special, np.int64).astype(dtype.np), rand((300,), dtype.name, -1e6, 1e6)])
    special = [np.nan, -np.nan, np.inf, -np.inf, 0.0, -0.0, 0.5, -0.5, 0.75, 1.5, -1.5, 2.5, -2.99, 127.9, 128.0,
               255.9, 256.0, -129.0, 32767.5, 65504.0, 65519.0, 65520.0, 1e5, 1e10, -1e10, 2.0 ** 31, -(2.0 ** 31),
               2.0 ** 31 - 1, 2.0 ** 31 - 64, 2.0 ** 63, -(2.0 ** 63), 2.0 ** 63 - 1024, 9.3e18, 1e20, -1e20,
               3.4e38, 1e300, 1e-5, 6e-8, 1e-40, 1e-300,
               1 + 2.0 ** -11, 1 + 3 * 2.0 ** -11, 1 + 2.0 ** -8, 1 + 3 * 2.0 ** -8,  # half and bfloat16 ties
               1 + 2.0 ** -8 + 2.0 ** -30, 1 + 2.0 ** -11 + 2.0 ** -40, 2049.0000001]  # just past a tie
    with np.errstate(over="ignore"):
        values = np.array(special, np.float64).astype(dtype.np)
    return np.concatenate([values, rand((300,), dtype.name, -3e4, 3e4)])


def assert_same(actual, wanted, what):
    assert actual.dtype == wanted.dtype, what
    if actual.dtype.kind in "biu":
        np.testing.assert_array_equal(actual, wanted, err_msg=what)
        return
    a, w = actual.astype(np.float64), wanted.astype(np.float64)
    np.testing.assert_array_equal(a, w, err_msg=what)  # NaN where NaN
    same_sign = np.signbit(a) == np.signbit(w)
    assert same_sign[~np.isnan(w)].all(), f"{what}: signed zero differs"


@pytest.mark.parametrize("dst", gf.dtypes.ALL, ids=lambda d: d.name)
@pytest.mark.parametrize("src", gf.dtypes.ALL, ids=lambda d: d.name)
def test_cast_matrix(device, src, dst):
    x = source_values(src)
    out = ew.cast(gf.constant(x), dtype=dst)
    assert out.dtype == dst and out.device.startswith(device)
    assert_same(out.numpy(), expected(x, dst), f"cast {src.name} -> {dst.name} on {device}")
    empty = ew.cast(gf.constant(np.zeros((0, 3), src.np)), dtype=dst)
    assert empty.shape == (0, 3) and empty.dtype == dst


def test_public_cast(device):
    x = gf.constant([1.7, -2.5, np.nan])
    assert gf.cast(x, gf.float32) is x  # no copy, no primitive for a no-op cast
    np.testing.assert_array_equal(gf.cast(x, "int32").numpy(), [1, -2, 0])
    np.testing.assert_array_equal(gf.cast(gf.constant(70000), gf.float16).numpy(), np.float16(np.inf))
    big = gf.cast(gf.constant(np.arange(70_000, dtype=np.int32) - 35_000), gf.bfloat16)
    np.testing.assert_array_equal(big.numpy().astype(np.float64),
                                  round_nearest_even(np.arange(70_000) - 35_000.0, "bfloat16"))


def test_cast_gradient():
    # float -> float passes the gradient back in the source dtype; nothing flows through ints.
    # (A large step: the function is linear, and float32 rounding would swamp a small one.)
    check_grad(lambda x: gf.cast(gf.cast(x, gf.float32), gf.float64) * 2.0, [rand((3, 4), "float64", seed=1)],
               eps=1e-2, rtol=1e-4, atol=1e-4)
    x = gf.constant([1.5, 2.5])
    with gf.GradientTape() as tape:
        tape.watch(x)
        y = gf.reduce_sum(gf.cast(gf.cast(x, gf.int32), gf.float32))
    assert tape.gradient(y, x) is None
