"""Unary and binary elementwise primitives and select: forward vs NumPy in float64 (cpu), sim parity
over dtypes and broadcasting, float64 gradient checks, the integer/float corner rules, errors."""
import math

import numpy as np
import pytest

import gpuflow as gf
from gpuflow import devices
from gpuflow.backend.cuda import elementwise as cuda_ew
from gpuflow.errors import InvalidArgumentError
from gpuflow.ops import elementwise as ew
from tests.harness import check_grad, check_op, check_parity
from tests.harness import rand as _rand

ALPHA = 0.3
SHAPES = [(), (1,), (0, 3), (7,), (3, 5, 2), (1001,)]
BIG = (70_000,)  # several 256-thread blocks' worth of grid-stride iterations



def rand(*args, **kwargs):
    return np.asarray(_rand(*args, **kwargs))  # 0-d bool draws come back as NumPy scalars


_erf = np.vectorize(math.erf, otypes=[np.float64])
_erfc = np.vectorize(math.erfc, otypes=[np.float64])

# Written from the definitions, independently of the backend's NumPy code.
UNARY_REF = {
    "negative": lambda x: -x, "abs": np.abs, "sign": np.sign, "exp": np.exp, "log": np.log,
    "log1p": np.log1p, "sqrt": np.sqrt, "rsqrt": lambda x: 1 / np.sqrt(x), "square": lambda x: x * x,
    "reciprocal": lambda x: 1 / x, "sin": np.sin, "cos": np.cos, "tanh": np.tanh,
    "sigmoid": lambda x: 1 / (1 + np.exp(-x)), "erf": _erf, "floor": np.floor, "ceil": np.ceil,
    "round": np.rint, "relu": lambda x: np.where(x > 0, x, 0 * x), "relu6": lambda x: np.minimum(np.maximum(x, 0), 6),
    "leaky_relu": lambda x: np.where(x > 0, x, ALPHA * x), "elu": lambda x: np.where(x > 0, x, ALPHA * (np.exp(x) - 1)),
    "softplus": lambda x: np.log(1 + np.exp(x)), "silu": lambda x: x / (1 + np.exp(-x)),
    "gelu": lambda x: x * 0.5 * (1 + _erf(x / math.sqrt(2))),
    "gelu_tanh": lambda x: 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3))),
    "logical_not": lambda x: ~x, "is_nan": np.isnan, "is_finite": np.isfinite,
    "erfc": _erfc, "expm1": lambda x: np.exp(x.astype(np.float64)) - 1, "tan": lambda x: np.sin(x) / np.cos(x),
    "asin": np.arcsin, "acos": np.arccos, "atan": np.arctan,
    "sinh": lambda x: (np.exp(x) - np.exp(-x)) / 2, "cosh": lambda x: (np.exp(x) + np.exp(-x)) / 2,
    "asinh": lambda x: np.log(x + np.sqrt(x * x + 1)), "acosh": lambda x: np.log(x + np.sqrt(x * x - 1)),
    "atanh": lambda x: 0.5 * np.log((1 + x) / (1 - x)),
}
DOMAIN = {"log": (0.1, 3.0), "sqrt": (0.1, 3.0), "rsqrt": (0.1, 3.0), "reciprocal": (0.2, 3.0), "log1p": (-0.5, 3.0),
          "asin": (-0.95, 0.95), "acos": (-0.95, 0.95), "atanh": (-0.9, 0.9), "acosh": (1.1, 3.0), "tan": (-1.4, 1.4)}
FLOAT_UNARY = [n for n, (acc, _) in ew.UNARY.items() if acc != "bool"]
DIFFERENTIABLE_UNARY = [n for n, prim in ew.unary.items() if prim.grad is not None]
INT_UNARY = [n for n, (acc, _) in ew.UNARY.items() if acc in ("numeric", "signed")]


def unary_op(name):
    prim = ew.unary[name]
    return (lambda x: prim(x, alpha=ALPHA)) if name in ("leaky_relu", "elu") else (lambda x: prim(x))


def unary_input(name, shape, dtype="float32", seed=0):
    if name == "logical_not":
        return rand(shape, "bool", seed=seed)
    low, high = DOMAIN.get(name, (-3.0, 3.0))
    return rand(shape, dtype, low, high, seed=seed)


def test_cuda_tables_cover_every_primitive():
    assert set(cuda_ew.UNARY) == set(ew.UNARY)
    assert set(cuda_ew.BINARY) == set(ew.BINARY)
    bools = {n for n, (_, res) in ew.UNARY.items() if res == "bool"} | \
            {n for n, (_, res) in ew.BINARY.items() if res == "bool"}
    assert cuda_ew.BOOL_RESULT == bools


@pytest.mark.parametrize("name", list(ew.UNARY))
def test_unary_forward_float64(name):
    for shape in SHAPES + [BIG]:
        x = unary_input(name, shape, "float64")
        check_op(unary_op(name), [x], UNARY_REF[name], "cpu")


@pytest.mark.parametrize("name", DIFFERENTIABLE_UNARY)
def test_unary_grad(name):
    check_grad(unary_op(name), [unary_input(name, (3, 4), "float64", seed=1)])


@pytest.mark.parametrize("name", list(ew.UNARY))
def test_unary_parity_float32(name):
    for shape in SHAPES + [BIG]:
        check_parity(unary_op(name), [unary_input(name, shape)], "sim", grad=False)
    if name in DIFFERENTIABLE_UNARY:
        check_parity(unary_op(name), [unary_input(name, (1001,), seed=2)], "sim")


SPECIAL = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-30, -1e-30, 88.0, -88.0, 100.0, -100.0, 0.5, 1.5, 2.5,
                    -0.5, -2.5, 6.0, 7.0, 1e30, -1e30], np.float32)


@pytest.mark.parametrize("name", FLOAT_UNARY)
def test_unary_special_values_parity(name):
    # NaN, infinities, signed zeros, overflow of exp, halfway points of round: same answer on sim.
    check_parity(unary_op(name), [SPECIAL], "sim", grad=False, rtol=1e-5, atol=0)


@pytest.mark.parametrize("name,dtype", [(n, d) for n in ("exp", "sigmoid", "gelu", "relu", "round", "is_nan")
                                        for d in ("float16", "bfloat16")] +
                         [(n, "float64") for n in ("exp", "erf", "elu", "softplus", "gelu_tanh", "floor")])
def test_unary_parity_other_floats(name, dtype):
    tol = {"float16": 2e-3, "bfloat16": 1.6e-2, "float64": 1e-12}[dtype]
    for shape in [(0, 3), (7,), (1001,)]:
        check_parity(unary_op(name), [unary_input(name, shape, dtype)], "sim", grad=False, rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", ["int32", "int64"])
def test_unary_integers_parity(dtype):
    info = np.iinfo(dtype)
    x = np.concatenate([rand((1001,), dtype, -50, 50), np.array([info.min, info.max, 0, -1, 6, 7], dtype)])
    for name in INT_UNARY:
        check_parity(unary_op(name), [x], "sim", grad=False)
    # Two's complement wrap, as NumPy: -MIN == MIN, |MIN| == MIN
    with gf.device("sim"):
        t = gf.constant(np.array([info.min], dtype))
        assert gf.negative(t).numpy()[0] == info.min and gf.abs(t).numpy()[0] == info.min


# ---- binary --------------------------------------------------------------------------------

BINARY_REF = {
    "add": np.add, "subtract": np.subtract, "multiply": np.multiply, "divide": np.divide,
    "floordiv": lambda x, y: np.floor(x / y), "mod": lambda x, y: x - np.floor(x / y) * y, "pow": np.power,
    "maximum": np.maximum, "minimum": np.minimum, "equal": np.equal, "not_equal": np.not_equal, "less": np.less,
    "less_equal": np.less_equal, "greater": np.greater, "greater_equal": np.greater_equal,
    "logical_and": np.logical_and, "logical_or": np.logical_or, "atan2": np.arctan2,
}
LOGICAL = ("logical_and", "logical_or")
FLOAT_BINARY = [n for n in ew.BINARY if n not in LOGICAL]
DIFFERENTIABLE_BINARY = [n for n, prim in ew.binary.items() if prim.grad is not None]
PAIRS = [((3, 1), (4,)), ((2, 1, 5), (1, 7, 1)), ((), (5,)), ((5,), ()), ((), ()), ((0, 3), (1, 3)), ((4, 0), (4, 1)),
         ((6, 4), (6, 4)), ((1001,), (1001,)), ((1, 1), (3, 1)), (BIG, BIG), (BIG, (1,)), ((4, 3, 2), (3, 1))]


def binary_inputs(name, sx, sy, dtype="float32", seed=0):
    if name in LOGICAL:
        return rand(sx, "bool", seed=seed), rand(sy, "bool", seed=seed + 1)
    if name == "pow":
        return rand(sx, dtype, 0.5, 3.0, seed), rand(sy, dtype, -2.0, 2.0, seed + 1)
    x = rand(sx, dtype, -3.0, 3.0, seed)
    if name in ("divide", "floordiv", "mod", "atan2"):  # divisors (atan2: y) of both signs, away from 0
        y = rand(sy, dtype, 0.5, 3.0, seed + 1)
        return x, np.asarray(np.where(rand(sy, "bool", seed=seed + 2), y, -y)).astype(y.dtype)
    # on a grid of 0.5, so comparisons, maximum and minimum meet ties
    y = rand(sy, dtype, -3.0, 3.0, seed + 1)
    return half_grid(x), half_grid(y)


def half_grid(a):
    return np.asarray(np.round(a.astype(np.float64) * 2) / 2).astype(a.dtype)


def binary_op(name):
    prim = ew.binary[name]
    return lambda x, y: prim(x, y)


@pytest.mark.parametrize("name", list(ew.BINARY))
def test_binary_forward_float64(name):
    for sx, sy in PAIRS:
        x, y = binary_inputs(name, sx, sy, "float64")
        check_op(binary_op(name), [x, y], BINARY_REF[name], "cpu", rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", DIFFERENTIABLE_BINARY)
@pytest.mark.parametrize("sx,sy", [((3, 4), (3, 4)), ((3, 1), (4,)), ((2, 1, 3), (1, 4, 1))])
def test_binary_grad(name, sx, sy):
    x, y = binary_inputs(name, sx, sy, "float64", seed=3)
    if name in ("maximum", "minimum", "mod"):
        y = y + 0.1234  # keep away from ties and from the jumps of mod
    check_grad(binary_op(name), [x, y])


@pytest.mark.parametrize("name", list(ew.BINARY))
def test_binary_parity_float32(name):
    for sx, sy in PAIRS:
        check_parity(binary_op(name), list(binary_inputs(name, sx, sy)), "sim", grad=False)
    if name in DIFFERENTIABLE_BINARY:
        check_parity(binary_op(name), list(binary_inputs(name, (3, 1), (4,), seed=5)), "sim")


@pytest.mark.parametrize("name,dtype", [(n, d) for n in ("add", "divide", "maximum", "floordiv", "less")
                                        for d in ("float16", "bfloat16")] +
                         [(n, "float64") for n in ("floordiv", "mod", "pow", "divide")])
def test_binary_parity_other_floats(name, dtype):
    tol = {"float16": 2e-3, "bfloat16": 1.6e-2, "float64": 1e-12}[dtype]
    for sx, sy in [((7,), (7,)), ((1001,), ()), ((3, 1), (4,))]:
        check_parity(binary_op(name), list(binary_inputs(name, sx, sy, dtype)), "sim", grad=False, rtol=tol, atol=tol)


INT_BINARY = ["add", "subtract", "multiply", "floordiv", "mod", "pow", "maximum", "minimum", "equal", "less",
              "greater_equal"]


@pytest.mark.parametrize("dtype", ["int32", "int64"])
def test_binary_integers_parity(dtype):
    info = np.iinfo(dtype)
    # divisors and exponents cover 0, -1, negatives; MIN // -1, overflow of + and *, x ** -k
    x = np.array([7, -7, 7, -7, 0, info.min, info.min, info.max, 1, -1, -1, 2, 3, -3, 5], dtype)
    y = np.array([2, 2, -2, -2, 0, -1, 0, 1, -5, -3, -4, 40, 0, 3, -1], dtype)
    big_x, big_y = rand((1001,), dtype, -100, 100, seed=1), rand((1001,), dtype, -9, 9, seed=2)
    for name in INT_BINARY:
        check_parity(binary_op(name), [x, y], "sim", grad=False)
        check_parity(binary_op(name), [big_x, big_y], "sim", grad=False)
        check_parity(binary_op(name), [big_x.reshape(7, 11, 13)[:, :1], big_y[:13]], "sim", grad=False)


def test_integer_division_and_pow_rules():
    x = gf.constant(np.array([7, -7, 7, -7, 5, -2147483648], np.int32))
    y = gf.constant(np.array([2, 2, -2, -2, 0, -1], np.int32))
    np.testing.assert_array_equal(gf.floordiv(x, y).numpy(), [3, -4, -4, 3, 0, -2147483648])
    np.testing.assert_array_equal(gf.mod(x, y).numpy(), [1, 1, -1, -1, 0, 0])
    base = gf.constant(np.array([1, -1, -1, 2, 0, 3, -2], np.int64))
    exponent = gf.constant(np.array([-3, -3, -2, -1, -1, 3, 63], np.int64))
    np.testing.assert_array_equal(gf.pow(base, exponent).numpy(), [1, -1, 1, 0, 0, 27, -(2 ** 63)])


def test_float_floordiv_mod_and_nan_rules_parity():
    vals = np.array([7.5, -7.5, 7.5, -7.5, 0.0, -0.0, 3.0, np.inf, -np.inf, np.nan, 1.0, 1e30, 5.0], np.float32)
    divs = np.array([2.0, 2.0, -2.0, -2.0, 3.0, -3.0, 0.0, 2.0, 3.0, 1.0, np.inf, 1e-30, np.nan], np.float32)
    for name in ("floordiv", "mod", "maximum", "minimum", "pow", "divide"):
        check_parity(binary_op(name), [vals, divs], "sim", grad=False, rtol=1e-6, atol=0)
    np.testing.assert_array_equal(gf.floordiv(vals, divs).numpy()[:4], [3.0, -4.0, -4.0, 3.0])
    np.testing.assert_array_equal(gf.mod(vals, divs).numpy()[:4], [1.5, 0.5, -0.5, -1.5])
    assert np.isnan(gf.maximum(vals, divs).numpy()[[9, 12]]).all()
    assert np.isnan(gf.minimum(vals, divs).numpy()[[9, 12]]).all()


@pytest.mark.parametrize("name", ["add", "equal", "not_equal", "logical_and", "logical_or"])
def test_bool_binary_parity(name):
    for sx, sy in [((37,), (37,)), ((3, 1), (1, 5)), ((), (9,))]:
        x, y = rand(sx, "bool", seed=1), rand(sy, "bool", seed=2)
        check_parity(binary_op(name), [x, y], "sim", grad=False)


def test_misaligned_operands_take_the_scalar_loop():
    backend = devices.parse("sim").backend
    x = rand((1002,), "float32", seed=3)[1:]  # 4 bytes past an aligned start: no 16-byte packs
    assert x.ctypes.data % 16 and cuda_ew.vector_width(backend, gf.float32, gf.float32, x, x) == 1
    y = rand((1001,), "float32", seed=4)
    np.testing.assert_allclose(backend.impls["subtract"](x, y), x - y, rtol=1e-6)
    np.testing.assert_allclose(backend.impls["exp"](x), np.exp(x), rtol=1e-6)


def test_broadcast_table_collapses_dims():
    table, rank = cuda_ew.broadcast_table("add", (2, 3, 4, 5), (2, 3, 4, 5), (1, 1, 4, 5))
    assert rank == 2 and table.tolist() == [6, 20, 20, 1, 0, 1]
    table, rank = cuda_ew.broadcast_table("add", (1, 7), (1, 7), (1, 1))
    assert rank == 1 and table.tolist() == [7, 1, 0]


# ---- select --------------------------------------------------------------------------------

SELECT_SHAPES = [((5,), (5,), (5,)), ((3, 1), (1, 4), ()), ((2, 1, 3), (4, 1), (1, 3)), ((0, 2), (2,), (1, 2)),
                 ((), (6,), (6,)), (BIG, BIG, (1,))]


def select_op(c, x, y):
    return ew.select(c, x, y)


def test_select_forward_and_grad():
    for sc, sx, sy in SELECT_SHAPES:
        c, x, y = rand(sc, "bool", seed=1), rand(sx, "float64", seed=2), rand(sy, "float64", seed=3)
        check_op(select_op, [c, x, y], np.where, "cpu")
    c, x, y = rand((2, 1, 3), "bool", seed=1), rand((4, 1), "float64", seed=2), rand((1, 3), "float64", seed=3)
    check_grad(select_op, [c, x, y])


@pytest.mark.parametrize("dtype", ["float32", "float16", "int32", "bool"])
def test_select_parity(dtype):
    for sc, sx, sy in SELECT_SHAPES:
        c, x, y = rand(sc, "bool", seed=1), rand(sx, dtype, seed=2), rand(sy, dtype, seed=3)
        check_parity(select_op, [c, x, y], "sim", grad=dtype == "float32" and sc == (3, 1))


# ---- errors --------------------------------------------------------------------------------

def test_errors_name_the_op_and_inputs():
    x, i = gf.constant([1.0, 2.0]), gf.constant([1, 2], dtype=gf.int32)
    with pytest.raises(InvalidArgumentError, match=r"add: .*float32\[2\].*int32\[2\].*gf.cast"):
        gf.add(x, i)
    with pytest.raises(InvalidArgumentError, match=r"multiply: shapes \(2,\) and \(3,\) cannot be broadcast"):
        gf.multiply(x, gf.constant([1.0, 2.0, 3.0]))
    with pytest.raises(InvalidArgumentError, match=r"exp: needs a floating-point input, got int32\[2\]"):
        gf.exp(i)
    with pytest.raises(InvalidArgumentError, match=r"where: needs a bool condition"):
        gf.where(x, x, x)
    with gf.device("cpu"):
        c = gf.constant([1.0, 2.0])
    with gf.device("sim"):
        s = gf.constant([1.0, 2.0])
    with pytest.raises(InvalidArgumentError, match=r"add: inputs are on different devices .*cpu.*sim"):
        gf.add(c, s)
