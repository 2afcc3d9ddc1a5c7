"""half / bfloat16 conversions bit-exact against numpy.float16 and ml_dtypes.bfloat16."""
import ml_dtypes
import numpy as np
import pytest

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")  # numpy warns on overflow to inf, as intended

BF16 = ml_dtypes.bfloat16
CONVERT_TEMPLATES = ("arith<__half>", "arith<__nv_bfloat16>", "axpb<float>", "axpb<__half>", "axpb<__nv_bfloat16>")


def conv(load):
    return load("convert.cu", CONVERT_TEMPLATES)


def interesting_floats() -> np.ndarray:
    """Random bit patterns plus every half boundary: ties, subnormals, overflow, inf, NaN."""
    rng = np.random.default_rng(0)
    bits = rng.integers(0, 2**32, 200_000, dtype=np.uint64).astype(np.uint32)
    halves = np.arange(2**16, dtype=np.uint32).astype(np.uint16).view(np.float16).astype(np.float32)
    nxt = np.nextafter(halves, np.float32(np.inf))
    prv = np.nextafter(halves, np.float32(-np.inf))
    mids = (halves.astype(np.float64)[:-1] + halves.astype(np.float64)[1:]) / 2  # exact ties
    special = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 65504, 65519.99, 65520, 65536, 1e-8, 2**-24,
                        2**-25, 3 * 2**-26, 2**-14, 5.96e-8, -2**-25, 1e30, -1e30], np.float32)
    return np.concatenate([bits.view(np.float32), halves, nxt, prv, mids.astype(np.float32), special])


def same_bits_or_both_nan(a: np.ndarray, b: np.ndarray) -> None:
    nan = np.isnan(a.astype(np.float32))
    assert (np.isnan(b.astype(np.float32)) == nan).all()
    np.testing.assert_array_equal(a[~nan].view(np.uint16), b[~nan].view(np.uint16))


def test_float_to_half_rounds_like_numpy(load):
    x = interesting_floats()
    bits = np.zeros(x.size, np.uint16)
    conv(load).get_function("f32_to_f16")(64, 256, (x, bits, np.int32(x.size)))
    same_bits_or_both_nan(bits.view(np.float16), x.astype(np.float16))


def test_half_to_float_exact(load):
    bits = np.arange(2**16, dtype=np.uint32).astype(np.uint16)
    y = np.zeros(bits.size, np.float32)
    conv(load).get_function("f16_to_f32")(64, 256, (bits, y, np.int32(bits.size)))
    ref = bits.view(np.float16).astype(np.float32)
    nan = np.isnan(ref)
    assert (np.isnan(y) == nan).all()
    np.testing.assert_array_equal(y[~nan].view(np.uint32), ref[~nan].view(np.uint32))


def test_float_to_bfloat16_rounds_like_ml_dtypes(load):
    b = np.arange(2**16, dtype=np.uint32).astype(np.uint16).view(BF16).astype(np.float32)
    b = b[np.isfinite(b)]
    b.sort()
    mids = ((b.astype(np.float64)[:-1] + b.astype(np.float64)[1:]) / 2).astype(np.float32)  # exact ties
    x = np.concatenate([interesting_floats(), b, mids, np.nextafter(mids, np.float32(np.inf)),
                        np.nextafter(mids, np.float32(-np.inf))])
    bits = np.zeros(x.size, np.uint16)
    conv(load).get_function("f32_to_bf16")(64, 256, (x, bits, np.int32(x.size)))
    same_bits_or_both_nan(bits.view(BF16), x.astype(BF16))


def test_bfloat16_to_float_exact(load):
    bits = np.arange(2**16, dtype=np.uint32).astype(np.uint16)
    y = np.zeros(bits.size, np.float32)
    conv(load).get_function("bf16_to_f32")(64, 256, (bits, y, np.int32(bits.size)))
    ref = bits.view(BF16).astype(np.float32)
    nan = np.isnan(ref)
    assert (np.isnan(y) == nan).all()
    np.testing.assert_array_equal(y[~nan], ref[~nan])


@pytest.mark.parametrize("name,dtype", [("arith<__half>", np.float16), ("arith<__nv_bfloat16>", BF16)])
def test_16bit_arithmetic_is_correctly_rounded(load, name, dtype):
    rng = np.random.default_rng(5)
    a = rng.standard_normal(4000).astype(np.float32) * 100
    b = rng.standard_normal(4000).astype(np.float32)
    a, b = a.astype(dtype), b.astype(dtype)
    out = np.zeros(4 * a.size, dtype)
    conv(load).get_function(name)(8, 128, (a, b, out, np.int32(a.size)))
    fa, fb = a.astype(np.float64), b.astype(np.float64)
    ref = np.stack([fa + fb, fa - fb, fa * fb, fa / fb], 1).reshape(-1).astype(dtype)  # one rounding
    same_bits_or_both_nan(out, ref)


@pytest.mark.parametrize("name,dtype", [("axpb<float>", np.float32), ("axpb<__half>", np.float16),
                                        ("axpb<__nv_bfloat16>", BF16)])
def test_common_cuh_load_store(load, name, dtype):
    x = np.linspace(-10, 10, 999).astype(dtype)
    y = np.zeros_like(x)
    conv(load).get_function(name)(4, 64, (x, y, np.float32(0.3), np.int32(x.size)))
    ref = (x.astype(np.float32) * np.float32(0.3) + np.float32(1)).astype(dtype)
    if dtype == np.float32:
        np.testing.assert_array_equal(y, ref)
    else:
        same_bits_or_both_nan(y, ref)


def test_half2_helpers(load):
    y = np.zeros(3, np.float32)
    conv(load).get_function("half2_ops")(1, 1, (np.array([1.5, -0.25], np.float32), y))
    assert list(y) == [1.25, 1.25, 2048.0]
