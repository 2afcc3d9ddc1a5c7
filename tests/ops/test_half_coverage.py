"""float16 and bfloat16 through every primitive that takes floats, on cpu and sim.

CASES holds one call per primitive (through its public op where there is one); each runs in float16 and in
bfloat16 and must (a) keep the dtype, (b) agree with the same call in float32 within a few units of the half
dtype's precision, and (c) agree between sim and cpu, gradients included where the primitive has a rule. A
primitive that takes no floats is in NOT_FLOAT, and test_every_primitive_is_covered fails for a new primitive
in neither table, so a float op cannot land without half-precision coverage. The accuracy of the common ops
against float64 is measured more tightly in test_precision.py.
"""
import numpy as np
import pytest

import gpuflow as gf
from gpuflow.ops import dense_prims, image_prims, norm_prims, rnn_prims
from gpuflow.ops import elementwise as ew
from gpuflow.ops.dispatch import PRIMITIVES
from gpuflow.ops.image_ops import projective_transform
from tests.harness import EPS, check_parity

HALVES = ["float16", "bfloat16"]
NOT_FLOAT = {"logical_and", "logical_not", "logical_or", "ravel_index"}  # bool and int64 index math only


def _u(shape, low=-2.0, high=2.0, seed=0):
    return np.random.default_rng(seed).uniform(low, high, size=shape)


def _spd(n=4, seed=0):
    a = _u((n, n), seed=seed)
    return a @ a.T + n * np.eye(n)


def _seeded(draw, dtype):
    gf.random.set_seed(5)
    return draw((50,), dtype=dtype)


# name: (fn(*tensors), inputs as float64 arrays (cast to the dtype under test) or (array, "keep") for
# arrays passed in their own dtype, scale: how many half ulps of the output's magnitude the result may be off)
CASES = {}
for _name in ew.UNARY:
    if _name == "logical_not":
        continue
    _low, _high = {"log": (0.1, 3), "sqrt": (0.1, 3), "rsqrt": (0.1, 3), "reciprocal": (0.3, 3),
                   "log1p": (-0.5, 3)}.get(_name, (-3, 3))
    CASES[_name] = ((lambda p: lambda x: p(x, alpha=0.3) if p.name in ("leaky_relu", "elu") else p(x))(ew.unary[_name]),
                    [_u((5, 7), _low, _high)], 4)
for _name in ew.BINARY:
    if _name in ("logical_and", "logical_or"):
        continue
    _y = _u((7,), 0.5, 2.0, seed=1) if _name in ("divide", "floordiv", "mod", "pow") else _u((7,), seed=1)
    _x = _u((5, 7), 0.5, 2.0) if _name == "pow" else np.round(_u((5, 7)) * 4) / 4  # exact in bfloat16: no tie flips
    CASES[_name] = ((lambda p: lambda x, y: p(x, y))(ew.binary[_name]), [_x, np.round(_y * 8) / 8], 4)
CASES.update({
    "select": (lambda c, x, y: gf.where(c, x, y), [(_u((4, 5)) > 0, "keep"), _u((4, 5)), _u((5,), seed=1)], 0),
    "cast": (lambda x: gf.cast(x, gf.float64), [_u((4, 5))], 0),
    "reduce_sum": (lambda x: gf.reduce_sum(x, axis=1), [_u((6, 300))], 8),
    "reduce_max": (lambda x: gf.reduce_max(x, axis=0), [_u((6, 30))], 0),
    "reduce_min": (lambda x: gf.reduce_min(x, axis=[0, 1]), [_u((6, 30))], 0),
    "reduce_prod": (lambda x: gf.reduce_prod(x, axis=1), [_u((6, 8), 0.5, 1.5)], 8),
    "reduce_logsumexp": (lambda x: gf.reduce_logsumexp(x, axis=1), [_u((6, 30))], 8),
    "argmax": (lambda x: gf.argmax(x, axis=1), [_u((6, 30))], 0),
    "argmin": (lambda x: gf.argmin(x, axis=0), [_u((6, 30))], 0),
    "matmul": (gf.matmul, [_u((5, 16)), _u((16, 3), seed=1)], 16),
    "softmax": (gf.nn.softmax, [_u((4, 10))], 4),
    "log_softmax": (gf.nn.log_softmax, [_u((4, 10))], 4),
    "softmax_xent": (lambda y, x: gf.nn.softmax_cross_entropy_with_logits(y, x),
                     [np.eye(10)[[1, 3, 5, 7]], _u((4, 10))], 8),
    "sparse_softmax_xent": (lambda y, x: gf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=x),
                            [(np.array([1, 3, 5, 7], np.int32), "keep"), _u((4, 10))], 8),
    "bias_act": (lambda x, b: dense_prims.bias_act(x, b, activation="tanh"), [_u((6, 5)), _u((5,), seed=1)], 4),
    "layer_norm": (lambda x, g, b: norm_prims.layer_norm(x, g, b, epsilon=1e-3)[0],
                   [_u((6, 16)), _u((16,), 0.5, 1.5, seed=1), _u((16,), seed=2)], 16),
    "batch_norm": (lambda x, g, b: norm_prims.batch_norm(x, g, b, epsilon=1e-3)[0],
                   [_u((16, 5)), _u((5,), 0.5, 1.5, seed=1), _u((5,), seed=2)], 16),
    "dropout": (lambda x: gf.nn.dropout(x, rate=0.5, seed=3) * 0.0 + x, [_u((6, 8))], 0),
    "im2col": (lambda x, w: gf.nn.conv2d(x, w, strides=1, padding="SAME"), [_u((2, 6, 6, 3)), _u((3, 3, 3, 4),
                                                                                               seed=1)], 32),
    "max_pool2d": (lambda x: gf.nn.max_pool2d(x, 2, 2, "VALID"), [_u((2, 6, 6, 3))], 0),
    "avg_pool2d": (lambda x: gf.nn.avg_pool2d(x, 3, 1, "SAME"), [_u((2, 6, 6, 3))], 4),
    "lstm_cell": (lambda z, c: rnn_prims.lstm_cell(z, c)[0], [_u((3, 20)), _u((3, 5), seed=1)], 8),
    "gru_cell": (lambda zx, zh, h: rnn_prims.gru_cell(zx, zh, h), [_u((3, 15)), _u((3, 15), seed=1),
                                                                    _u((3, 5), seed=2)], 8),
    "cumsum": (lambda x: gf.cumsum(x, axis=1, exclusive=True), [_u((4, 40))], 16),
    "cumprod": (lambda x: gf.math.cumprod(x, axis=0, reverse=True), [_u((6, 5), 0.5, 1.5)], 16),
    "cumulative_logsumexp": (lambda x: gf.math.cumulative_logsumexp(x, axis=1), [_u((4, 40))], 16),
    "sort": (lambda x: gf.sort(x, axis=-1, direction="DESCENDING"), [_u((4, 33))], 0),
    "sort_with_indices": (lambda x: gf.math.top_k(x, k=5)[0], [_u((4, 33))], 0),
    "searchsorted": (lambda s, v: gf.searchsorted(s, v), [np.sort(_u((3, 20)), axis=1), _u((3, 7), seed=1)], 0),
    "scatter_reduce": (lambda x, ids: gf.math.unsorted_segment_max(x, ids, 4),
                       [_u((9, 3)), (np.array([0, 3, 3, 1, 0, 2, 2, 2, 1], np.int32), "keep")], 0),
    "scatter_add": (lambda x, ids: gf.math.unsorted_segment_sum(x, ids, 4),
                    [_u((9, 3)), (np.array([0, 3, 3, 1, 0, 2, 2, 2, 1], np.int32), "keep")], 8),
    "gather": (lambda x: gf.gather(x, [2, 0, 2], axis=1), [_u((4, 5))], 0),
    "one_hot": (lambda x: gf.one_hot([0, 2], 3, on_value=x[0, 0], off_value=x[0, 1]), [_u((1, 2))], 0),
    "pad": (lambda x: gf.pad(x, [[1, 0], [0, 2]], mode="REFLECT"), [_u((4, 5))], 0),
    "concat": (lambda x, y: gf.concat([x, y], axis=0), [_u((2, 5)), _u((3, 5), seed=1)], 0),
    "tile": (lambda x: gf.tile(x, [2, 3]), [_u((2, 5))], 0),
    "transpose": (lambda x: gf.transpose(x, [1, 0]), [_u((40, 33))], 0),
    "reshape": (lambda x: gf.reshape(x, [5, 4]), [_u((4, 5))], 0),
    "broadcast_to": (lambda x: gf.broadcast_to(x, [3, 4, 5]), [_u((4, 1))], 0),
    "strided_slice": (lambda x: x[1:, ::-2], [_u((4, 5))], 0),
    "copy_to": (lambda x: gf.identity(x), [_u((4, 5))], 0),
    "stop_gradient": (lambda x: gf.stop_gradient(x) * x, [_u((4, 5))], 4),
    "check_numerics": (lambda x: gf.debugging.check_numerics(x, "half"), [_u((4, 5))], 0),
    # Draws are made in their own dtype, not rounded from float32's: no float32 comparison (ulps None);
    # test_random.py checks their distributions. Seeded in the call, so every device draws the same numbers.
    "random_uniform": (lambda x: _seeded(gf.random.uniform, x.dtype), [_u((1,))], None),
    "random_normal": (lambda x: _seeded(gf.random.normal, x.dtype), [_u((1,))], None),
    "truncated_normal": (lambda x: _seeded(gf.random.truncated_normal, x.dtype), [_u((1,))], None),
    "matrix_inverse": (gf.linalg.inv, [_spd()], 64),
    "slogdet": (lambda x: gf.linalg.slogdet(x)[1], [_spd()], 64),
    "matrix_solve": (gf.linalg.solve, [_spd(), _u((4, 2), seed=1)], 64),
    "cholesky": (gf.linalg.cholesky, [_spd()], 64),
    "triangular_solve": (lambda a, b: gf.linalg.triangular_solve(a, b), [np.linalg.cholesky(_spd()), _u((4, 2))], 64),
    "qr": (lambda x: gf.abs(gf.linalg.qr(x)[1]), [_spd()], 64),  # |R|: the signs of a QR are a convention
    "svd": (lambda x: gf.linalg.svd(x, compute_uv=False), [_spd()], 64),
    "eigh": (lambda x: gf.linalg.eigh(x)[0], [_spd()], 64),
    # gf.image.resize returns float32 from halves, as TF's does: the primitive itself keeps the dtype.
    "image_resample": (lambda x: image_prims.image_resample(x, axis=2, n_in=9, n_out=6, method="bilinear",
                                                            antialias=True, adjoint=False), [_u((1, 4, 9, 2))], 8),
    "image_projective_transform": (lambda x, t: projective_transform(x, t), [_u((1, 5, 6, 2)), (np.array(
        [[1.0, 0.1, 0.2, 0.05, 0.9, 0.1, 0.0, 0.0]], np.float32), "keep")], 8),
})
# Primitives that only run inside another's gradient, with the case whose gradient runs them.
BY_GRADIENT = {"col2im": "im2col", "max_pool2d_grad": "max_pool2d", "avg_pool2d_grad": "avg_pool2d",
               "strided_slice_grad": "strided_slice", "sparse_softmax_xent_grad": "sparse_softmax_xent",
               "lstm_cell_grad": "lstm_cell", "gru_cell_grad": "gru_cell"}
OPTIMIZERS = {"sgd_update": ("SGD", {}), "sgd_momentum_update": ("SGD", {"momentum": 0.9}),
              "adam_update": ("Adam", {}), "adam_amsgrad_update": ("Adam", {"amsgrad": True}),
              "adamax_update": ("Adamax", {}), "nadam_update": ("Nadam", {}), "adagrad_update": ("Adagrad", {}),
              "rmsprop_update": ("RMSprop", {}), "rmsprop_momentum_update": ("RMSprop", {"momentum": 0.9}),
              "rmsprop_centered_update": ("RMSprop", {"centered": True}),
              "rmsprop_centered_momentum_update": ("RMSprop", {"centered": True, "momentum": 0.9}),
              "adadelta_update": ("Adadelta", {}), "lion_update": ("Lion", {})}


def test_every_primitive_is_covered():
    covered = set(CASES) | set(BY_GRADIENT) | set(OPTIMIZERS) | NOT_FLOAT
    assert not set(PRIMITIVES) - covered, f"primitives with no half-precision case: {sorted(set(PRIMITIVES) - covered)}"
    assert not covered - set(PRIMITIVES), f"cases for no primitive: {sorted(covered - set(PRIMITIVES))}"
    assert set(BY_GRADIENT.values()) <= set(CASES)


def _inputs(case_inputs, dtype):
    return [a[0] if isinstance(a, tuple) else a.astype(gf.as_dtype(dtype).np) for a in case_inputs]


def _run(fn, arrays, device):
    with gf.device(device):
        out = fn(*[gf.constant(a) for a in arrays])
    return out


@pytest.mark.parametrize("dtype", HALVES)
@pytest.mark.parametrize("name", sorted(CASES))
def test_half_matches_float32_and_sim_matches_cpu(name, dtype):
    fn, case_inputs, ulps = CASES[name]
    arrays = _inputs(case_inputs, dtype)
    out = _run(fn, arrays, "cpu")
    wide = _run(fn, [a.astype(np.float32) if a.dtype == gf.as_dtype(dtype).np else a for a in arrays], "cpu")
    if out.dtype.is_floating and name != "cast":
        assert out.dtype.name == dtype, f"{name} in {dtype} gave {out.dtype.name}"
    if ulps is not None:
        got, want = out.numpy().astype(np.float64), wide.numpy().astype(np.float64)
        tol = (ulps + 1) * EPS[dtype] * max(1.0, float(np.abs(want).max(initial=0)))
        np.testing.assert_allclose(got, want, rtol=0, atol=tol, err_msg=f"{name} in {dtype} vs float32")
    bound = ((ulps or 0) + 2) * EPS[dtype]
    check_parity(fn, arrays, "sim", grad=ulps is not None and name not in ("argmax", "argmin", "searchsorted"),
                 rtol=bound, atol=bound)


@pytest.mark.parametrize("dtype", HALVES)
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_optimizer_updates_in_half(name, dtype):
    cls, kwargs = OPTIMIZERS[name]
    results = {}
    for device, var_dtype in (("cpu", dtype), ("sim", dtype), ("cpu", "float32")):
        with gf.device(device):
            v = gf.Variable(_u((33,)).astype(gf.as_dtype(var_dtype).np))
            opt = getattr(gf.keras.optimizers, cls)(learning_rate=0.1, **kwargs)
            for step in range(3):
                opt.apply_gradients([(gf.constant(_u((33,), seed=step + 1).astype(v.dtype.np)), v)])
            assert v.dtype.name == var_dtype
            results[device, var_dtype] = v.numpy().astype(np.float64)
    tol = 16 * EPS[dtype] * 2
    np.testing.assert_allclose(results["sim", dtype], results["cpu", dtype], rtol=0, atol=tol)
    np.testing.assert_allclose(results["cpu", dtype], results["cpu", "float32"], rtol=0, atol=tol)
