"""int8, int16, uint8 and uint32 through the op harness on cpu and sim: elementwise arithmetic, comparisons and
reductions against references computed here in Python's exact integers and wrapped to the dtype by hand
(two's complement, as TF and NumPy wrap), with each dtype's extremes among random values; the dtype rules
(no implicit promotion, TF's signed-only ops) and their errors. Casts between all 11 dtypes are in
test_dtypes_cast.py."""
import numpy as np
import pytest

import gpuflow as gf
from gpuflow.errors import InvalidArgumentError
from gpuflow.ops import elementwise as ew
from tests.harness import check_op

NEW = [gf.int8, gf.int16, gf.uint8, gf.uint32]
SIGNED = [d for d in NEW if not d.is_unsigned]
ids = {"ids": lambda d: d.name}
PAIRS = [((300,), (300,)), ((3, 1), (4,)), ((), (7,)), ((70,), ()), ((0, 3), (1, 3)), ((2, 1, 5), (1, 6, 1))]


def wrap(values, dtype):
    """Python integers reduced into dtype's range modulo 2**bits: what a wrapping machine computes."""
    info = np.iinfo(dtype.np)
    span = 1 << (8 * dtype.itemsize)
    flat = [(int(v) - info.min) % span + info.min for v in np.asarray(values, object).reshape(-1)]
    return np.array(flat, dtype.np).reshape(np.shape(values))


def values(shape, dtype, seed=0, low=None, high=None):
    """Random values over the dtype's whole range (or [low, high]) with its extremes, 0, 1 and -1 planted."""
    info = np.iinfo(dtype.np)
    low, high = info.min if low is None else low, info.max if high is None else high
    out = np.asarray(np.random.default_rng(seed).integers(low, high, size=shape, endpoint=True)).astype(dtype.np)
    special = [v for v in (info.min, info.max, 0, 1, -1, info.max - 1, 2) if low <= v <= high]
    flat = out.reshape(-1)
    flat[:min(flat.size, len(special))] = special[:flat.size]
    return out


def elementwise(fn):
    """fn on Python ints, applied elementwise with NumPy's broadcasting (object arrays hold exact integers)."""
    return lambda *arrays: np.frompyfunc(fn, len(arrays), 1)(*[a.astype(object) for a in arrays])


def _floordiv(a, b):
    return 0 if b == 0 else a // b  # Python's // floors, as TF's floordiv; by zero: 0, as the cpu backend


def _mod(a, b):
    return 0 if b == 0 else a % b   # Python's % takes the divisor's sign, as TF's floormod


ARITHMETIC = {"add": lambda a, b: a + b, "subtract": lambda a, b: a - b, "multiply": lambda a, b: a * b,
              "floordiv": _floordiv, "mod": _mod, "maximum": max, "minimum": min}
COMPARISONS = {"equal": lambda a, b: a == b, "not_equal": lambda a, b: a != b, "less": lambda a, b: a < b,
               "less_equal": lambda a, b: a <= b, "greater": lambda a, b: a > b,
               "greater_equal": lambda a, b: a >= b}


def _binary(name):
    prim = ew.binary[name]
    return lambda x, y: prim(x, y)


@pytest.mark.parametrize("dtype", NEW, **ids)
@pytest.mark.parametrize("name", list(ARITHMETIC))
def test_arithmetic_wraps(device, name, dtype):
    ref = elementwise(ARITHMETIC[name])
    for k, (sx, sy) in enumerate(PAIRS):
        x, y = values(sx, dtype, seed=k), values(sy, dtype, seed=k + 10)
        if name in ("floordiv", "mod") and y.size > 7:  # small divisors too, so quotients are not all 0 or -1
            y.reshape(-1)[7:] = values((y.size - 7,), dtype, seed=k + 20, low=max(-9, np.iinfo(dtype.np).min),
                                       high=9)
        check_op(_binary(name), [x, y], lambda a, b: wrap(ref(a, b), dtype), device, dtype=dtype)


@pytest.mark.parametrize("dtype", NEW, **ids)
def test_operators_and_overflow_at_the_edges(device, dtype):
    info = np.iinfo(dtype.np)
    top, bottom = gf.constant(np.array([info.max], dtype.np)), gf.constant(np.array([info.min], dtype.np))
    one = gf.constant(np.array([1], dtype.np))
    assert (top + one).numpy()[0] == info.min and (bottom - one).numpy()[0] == info.max
    assert (top * top).numpy()[0] == wrap([info.max * info.max], dtype)[0]
    assert (top // one).dtype == dtype and (top % gf.constant(np.array([7], dtype.np))).numpy()[0] == info.max % 7
    if not dtype.is_unsigned:  # MIN // -1 and -MIN overflow to MIN, as in NumPy
        minus = gf.constant(np.array([-1], dtype.np))
        assert (bottom // minus).numpy()[0] == info.min and (-bottom).numpy()[0] == info.min
        assert gf.abs(bottom).numpy()[0] == info.min
    assert (top + 1).dtype == dtype and (2 * top).numpy()[0] == wrap([2 * info.max], dtype)[0]  # Python ints join


@pytest.mark.parametrize("dtype", SIGNED, **ids)
def test_pow_of_signed_integers(device, dtype):
    bits = 8 * dtype.itemsize

    def power(a, b):
        if b < 0:  # as int32's rule (kernels/elementwise.cu): 1 for base 1, +-1 for base -1, else 0
            return 1 if a == 1 else (-1 if b % 2 else 1) if a == -1 else 0
        return pow(a, b, 1 << bits)
    x = values((500,), dtype, seed=1)
    y = values((500,), dtype, seed=2, low=-3, high=40)
    check_op(_binary("pow"), [x, y], lambda a, b: wrap(elementwise(power)(a, b), dtype), device, dtype=dtype)


UNARY = {"negative": lambda a: -a, "abs": abs, "sign": lambda a: (a > 0) - (a < 0), "square": lambda a: a * a,
         "relu": lambda a: max(a, 0), "relu6": lambda a: min(max(a, 0), 6)}


# negative, abs and sign of unsigned integers are refused, as in TF (test_unsigned_refusals...)
@pytest.mark.parametrize("name,dtype", [(n, d) for n in UNARY for d in NEW
                                        if not (d.is_unsigned and n in ("negative", "abs", "sign"))],
                         ids=lambda v: getattr(v, "name", v))
def test_unary(device, name, dtype):
    prim = ew.unary[name]
    for shape in [(), (0,), (9,), (1001,)]:
        check_op(lambda x: prim(x), [values(shape, dtype, seed=3)], lambda a: wrap(elementwise(UNARY[name])(a), dtype),
                 device, dtype=dtype)


@pytest.mark.parametrize("dtype", NEW, **ids)
@pytest.mark.parametrize("name", list(COMPARISONS))
def test_comparisons(device, name, dtype):
    for k, (sx, sy) in enumerate(PAIRS):
        x, y = values(sx, dtype, seed=k), values(sy, dtype, seed=k + 10, low=0, high=3)
        if x.shape == y.shape:
            y = np.where(np.arange(y.size).reshape(y.shape) % 3 == 0, x, y)  # equal elements too
        check_op(_binary(name), [x, y], lambda a, b: elementwise(COMPARISONS[name])(a, b).astype(bool), device,
                 dtype=gf.bool)


@pytest.mark.parametrize("dtype", NEW, **ids)
def test_where_and_movement(device, dtype):
    x, y = values((4, 6), dtype, seed=1), values((4, 6), dtype, seed=2)
    cond = np.arange(24).reshape(4, 6) % 5 < 2
    check_op(lambda c, a, b: gf.where(c, a, b), [cond, x, y], lambda c, a, b: np.where(c, a, b).astype(dtype.np),
             device)
    check_op(lambda a: gf.reshape(gf.transpose(a)[1:, ::2], [-1]), [x], lambda a: a.T[1:, ::2].reshape(-1), device)
    check_op(lambda a, b: gf.concat([a, b], axis=1), [x, y], lambda a, b: np.concatenate([a, b], 1), device)
    check_op(lambda a: gf.gather(a, [3, 0, 0], axis=0), [x], lambda a: a[[3, 0, 0]], device)


REDUCTIONS = {"reduce_sum": lambda a, axis: np.sum(a, axis=axis), "reduce_prod": lambda a, axis: np.prod(a, axis=axis),
              "reduce_max": lambda a, axis: np.max(a, axis=axis), "reduce_min": lambda a, axis: np.min(a, axis=axis)}
LAYOUTS = [((0,), None), ((3, 0), 1), ((5, 7), 0), ((5, 7), 1), ((5, 7), None), ((2, 300), 1), ((3, 4, 5), (0, 2)),
           ((70_000,), None)]


def _reduced(name, dtype):
    info = np.iinfo(dtype.np)
    identity = {"reduce_sum": 0, "reduce_prod": 1, "reduce_max": info.min, "reduce_min": info.max}[name]

    def ref(a, axis):
        exact = a.astype(object)
        if exact.size == 0 or (axis is not None and 0 in [a.shape[i] for i in np.atleast_1d(axis)]):
            shape = np.sum(np.zeros(a.shape), axis=axis).shape  # an empty reduction gives the identity, as TF
            return np.full(shape, identity, dtype.np)
        return wrap(REDUCTIONS[name](exact, axis), dtype)
    return ref


@pytest.mark.parametrize("dtype", NEW, **ids)
@pytest.mark.parametrize("name", list(REDUCTIONS))
def test_reductions(device, name, dtype):
    fn, ref = getattr(gf, name), _reduced(name, dtype)
    for k, (shape, axis) in enumerate(LAYOUTS):
        # products of random values are almost all 0 mod 2**bits: small factors keep them informative
        x = values(shape, dtype, seed=k, low=0 if name == "reduce_prod" else None, high=3 if name == "reduce_prod"
                   else None)
        if name == "reduce_prod" and x.size > 50:
            x = x[..., :50] if x.ndim > 1 else x[:50]
        check_op(lambda t: fn(t, axis=axis), [x], lambda a: ref(a, axis), device, dtype=dtype)
    check_op(lambda t: fn(t, axis=1, keepdims=True), [values((3, 4), dtype)],
             lambda a: np.expand_dims(ref(a, 1), 1), device)


@pytest.mark.parametrize("dtype", NEW, **ids)
def test_argmax_argmin_and_mean(device, dtype):
    x = values((6, 40), dtype, seed=4, low=0, high=5)  # many ties: the first index wins, as TF
    for fn, ref in ((gf.argmax, np.argmax), (gf.argmin, np.argmin)):
        for axis in (0, 1):
            check_op(lambda t: fn(t, axis=axis), [x], lambda a: ref(a, axis=axis), device, dtype=gf.int64)
    big = values((4, 1000), dtype, seed=5)

    def truncated_mean(a, axis):  # the exact mean, truncated toward zero, as TF's integer means
        total = np.sum(a.astype(object), axis=axis)
        n = a.shape[axis]
        return np.array([(abs(s) // n) * (1 if s >= 0 else -1) for s in total.reshape(-1)], dtype.np)
    check_op(lambda t: gf.reduce_mean(t, axis=1), [big], lambda a: truncated_mean(a, 1), device, dtype=dtype)


def test_divide_gives_tfs_float_dtypes(device):
    for dtype, result in ((gf.int8, gf.float32), (gf.int16, gf.float32), (gf.uint8, gf.float32),
                          (gf.uint32, gf.float64), (gf.int32, gf.float64)):
        x, y = gf.constant(np.array([100, 7], dtype.np)), gf.constant(np.array([8, 7], dtype.np))
        out = x / y
        assert out.dtype == result
        np.testing.assert_array_equal(out.numpy(), [12.5, 1.0])


@pytest.mark.parametrize("dtype", NEW, **ids)
def test_mixed_dtypes_are_refused_naming_both(device, dtype):
    other = gf.int32 if dtype != gf.int32 else gf.int64
    x, y = gf.constant(np.ones(2, dtype.np)), gf.constant(np.ones(2, other.np))
    with pytest.raises(InvalidArgumentError, match=rf"add: inputs have different dtypes \({dtype.name}\[2\], "
                                                   rf"{other.name}\[2\]\).*gf.cast"):
        x + y
    with pytest.raises(InvalidArgumentError, match=rf"less: inputs have different dtypes \(float32\[2\], {dtype.name}"):
        gf.less(gf.constant([1.0, 2.0]), x)


def test_unsigned_refusals_and_the_ops_that_take_int32_only(device):
    u8 = gf.constant(np.array([1, 2], np.uint8))
    for fn, name in ((gf.negative, "negative"), (gf.abs, "abs"), (gf.sign, "sign"), (lambda t: -t, "negative"),
                     (lambda t: t ** t, "pow")):
        with pytest.raises(InvalidArgumentError, match=rf"{name}: needs a signed numeric input, got uint8\[2\]; "
                                                       rf"{name} takes float16, .*int8, int16, int32, int64: cast"):
            fn(u8)
    with pytest.raises(InvalidArgumentError, match=r"exp: needs a floating-point input, got int8\[2\]"):
        gf.exp(gf.constant(np.array([1, 2], np.int8)))
    with pytest.raises(InvalidArgumentError, match=r"matmul: needs a numeric input, got uint8\[1, 1\]; matmul takes "
                                                   r"float16, bfloat16, float32, float64, int32, int64"):
        gf.matmul(gf.constant(np.ones((1, 1), np.uint8)), gf.constant(np.ones((1, 1), np.uint8)))
    with pytest.raises(InvalidArgumentError, match=r"gather: needs integer indices input, got uint8"):
        gf.gather(gf.constant([1.0, 2.0]), u8)


def test_python_numbers_must_fit_and_numpy_data_wraps(device):
    image = gf.constant(np.array([250, 3], np.uint8))
    np.testing.assert_array_equal((image + 10).numpy(), [4, 13])  # a Python 10 becomes a uint8 10
    with pytest.raises(InvalidArgumentError, match=r"constant: 300 does not fit in uint8 \(0 to 255\)"):
        image + 300
    with pytest.raises(InvalidArgumentError, match=r"constant: -1 does not fit in uint32"):
        gf.constant(-1, dtype=gf.uint32)
    with pytest.raises(InvalidArgumentError, match=r"does not fit in int8"):
        gf.fill([2], 128, dtype=gf.int8)
    np.testing.assert_array_equal(gf.constant(np.array([300, -1]), dtype=gf.uint8).numpy(), [44, 255])  # as astype


def test_cast_semantics_as_documented(device):
    # Integer to integer keeps the low bits; float to integer truncates, saturates and sends NaN to 0.
    floats = gf.constant([-1.5, 0.7, 255.9, 300.0, np.nan, -np.inf, np.inf])
    np.testing.assert_array_equal(gf.cast(floats, gf.uint8).numpy(), [0, 0, 255, 255, 0, 0, 255])
    np.testing.assert_array_equal(gf.cast(floats, gf.int8).numpy(), [-1, 0, 127, 127, 0, -128, 127])
    np.testing.assert_array_equal(gf.cast(gf.constant([300, -1, 65536 + 5]), gf.uint8).numpy(), [44, 255, 5])
    np.testing.assert_array_equal(gf.cast(gf.constant(np.array([200], np.uint8)), gf.int8).numpy(), [-56])
    pixels = gf.cast(gf.constant(np.array([0, 128, 255], np.uint8)), gf.float32) / 255.0
    np.testing.assert_allclose(pixels.numpy(), [0.0, 128 / 255, 1.0], rtol=1e-7)


def test_dtype_objects():
    assert [d.name for d in NEW] == ["int8", "int16", "uint8", "uint32"]
    assert gf.as_dtype("uint8") is gf.uint8 and gf.as_dtype(np.int16) is gf.int16 and gf.dtypes.uint32 is gf.uint32
    assert gf.uint8.is_integer and gf.uint8.is_unsigned and not gf.int8.is_unsigned and not gf.bool.is_unsigned
    assert (gf.uint8.min, gf.uint8.max, gf.int16.min, gf.uint32.max, gf.int8.size) == (0, 255, -32768, 2**32 - 1, 1)
    with pytest.raises(TypeError, match="gpuflow has no dtype 'uint16'"):
        gf.as_dtype("uint16")
    assert gf.constant(np.array([7], np.uint16)).dtype == gf.int32  # widened: no uint16 dtype (see DType)


def test_saturate_cast_clips_instead_of_wrapping(device):
    np.testing.assert_array_equal(gf.saturate_cast(gf.constant([300, -5, 7]), gf.uint8).numpy(), [255, 0, 7])
    u8 = gf.constant(np.array([200, 5], np.uint8))
    np.testing.assert_array_equal(gf.saturate_cast(u8, gf.int8).numpy(), [127, 5])
    np.testing.assert_array_equal(gf.saturate_cast(gf.constant(np.array([-100, 5], np.int8)), "uint32").numpy(), [0, 5])
    np.testing.assert_array_equal(gf.saturate_cast(gf.constant([3e9, -1.5, np.nan]), gf.int32).numpy(),
                                  [2**31 - 1, -1, 0])
    halves = gf.saturate_cast(gf.constant([1e6, -1e6, np.nan], dtype=gf.float64), gf.float16).numpy()
    np.testing.assert_array_equal(halves, np.array([65504, -65504, np.nan], np.float16))  # NaN where NaN
    assert gf.saturate_cast(gf.constant([True]), gf.uint8).numpy().tolist() == [1]
