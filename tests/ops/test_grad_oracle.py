"""Grad rules checked against an independent autodiff: HIPS autograd, differentiating NumPy code.

The sim parity tests compare a grad rule with itself (rules are shared Python, so sim and cpu
agree even when a rule is wrong), and finite differences only say something away from kinks.
Here every rule is compared, in float64 on cpu, with autograd's derivative of the same function
written from its definition in autograd.numpy: a different implementation of differentiation and
of the forward maths. Inputs are random and kept off kinks and ties, where autograd's conventions
differ from TF's (it splits a maximum's tie in half); test_grad_ties.py pins those down.
autograd is pure Python on NumPy (a test-only dependency in the `test` extra).
"""
import math

import autograd as ag  # the `test` extra installs it: a missing oracle must fail, not skip
import autograd.numpy as anp
import autograd.scipy.special as aspecial
import numpy as np
import pytest

import gpuflow as gf
from gpuflow.ops import dense_prims, norm_prims, rnn_prims

# A second derivative that does not depend on an input (beta's, in a norm layer) is zero, and autograd says so.
pytestmark = pytest.mark.filterwarnings("ignore:Output seems independent of input")


def _rng(seed):
    return np.random.default_rng(seed)


def _away_from(x, points, gap=0.05):
    """x with every element at least `gap` from each kink in `points` (so neither autodiff sits on one)."""
    for p in points:
        near = np.abs(x - p) < gap
        x = np.where(near, p + np.sign(x - p + 1e-12) * gap * 2, x)
    return x


def _uniform(shape, low=-2.0, high=2.0, seed=0, kinks=(0.0,)):
    return _away_from(_rng(seed).uniform(low, high, size=shape), kinks)


def _outputs(out):
    return list(out) if isinstance(out, (list, tuple)) else [out]


def compare(gf_fn, ag_fn, inputs, wrt=None, order=1):
    """Gradients of sum_k <fn(*inputs)_k, c_k> (c random) w.r.t. inputs[wrt], gpuflow's tape vs autograd.

    order=2 compares the gradient of <grad, v> (a Hessian-vector product), through nested tapes."""
    wrt = list(range(len(inputs))) if wrt is None else wrt
    cots = [_rng(7 + k).uniform(0.5, 1.5, size=np.shape(o)) for k, o in enumerate(_outputs(ag_fn(*inputs)))]
    vs = [_rng(11 + i).uniform(-1, 1, size=np.shape(inputs[i])) for i in wrt]

    def ag_loss(*args):
        return sum(anp.sum(o * c) for o, c in zip(_outputs(ag_fn(*args)), cots))

    def ag_second(*args):
        return sum(anp.sum(ag.grad(ag_loss, i)(*args) * v) for i, v in zip(wrt, vs))

    target = ag_loss if order == 1 else ag_second
    expected = [ag.grad(target, i)(*inputs) for i in wrt]

    with gf.device("cpu"):
        args = [gf.constant(a) if isinstance(a, np.ndarray) else a for a in inputs]
        watched = [args[i] for i in wrt]

        def gf_loss():
            return gf.add_n([gf.reduce_sum(o * gf.constant(c)) for o, c in zip(_outputs(gf_fn(*args)), cots)])

        with gf.GradientTape() as outer:
            outer.watch(watched)
            if order == 1:
                target_value = gf_loss()
            else:
                with gf.GradientTape() as inner:
                    inner.watch(watched)
                    loss = gf_loss()
                grads = inner.gradient(loss, watched)
                target_value = gf.add_n([gf.reduce_sum(g * gf.constant(v)) for g, v in zip(grads, vs)])
        actual = outer.gradient(target_value, watched)
    for i, a, e in zip(wrt, actual, expected):
        np.testing.assert_allclose(a.numpy(), e, rtol=1e-9, atol=1e-11, err_msg=f"gradient w.r.t. input {i}")


# ---- elementwise -------------------------------------------------------------------------------

def _gelu(x):
    return x * 0.5 * (1 + aspecial.erf(x / math.sqrt(2)))


def _gelu_tanh(x):
    return 0.5 * x * (1 + anp.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))


def _sigmoid(x):
    return 1 / (1 + anp.exp(-x))


UNARY = {  # name: (gpuflow, autograd, (low, high), kinks)
    "negative": (gf.negative, lambda x: -x, (-2, 2), ()),
    "abs": (gf.abs, anp.abs, (-2, 2), (0,)),
    "exp": (gf.exp, anp.exp, (-2, 2), ()),
    "log": (gf.math.log, anp.log, (0.1, 3), ()),
    "log1p": (gf.math.log1p, anp.log1p, (-0.5, 3), ()),
    "sqrt": (gf.sqrt, anp.sqrt, (0.1, 3), ()),
    "rsqrt": (gf.math.rsqrt, lambda x: 1 / anp.sqrt(x), (0.1, 3), ()),
    "square": (gf.square, lambda x: x * x, (-2, 2), ()),
    "reciprocal": (gf.math.reciprocal, lambda x: 1 / x, (0.2, 3), ()),
    "sin": (gf.sin, anp.sin, (-3, 3), ()),
    "cos": (gf.cos, anp.cos, (-3, 3), ()),
    "tanh": (gf.tanh, anp.tanh, (-3, 3), ()),
    "sigmoid": (gf.sigmoid, _sigmoid, (-4, 4), ()),
    "erf": (gf.math.erf, aspecial.erf, (-2, 2), ()),
    "erfc": (gf.math.erfc, aspecial.erfc, (-2, 2), ()),
    "expm1": (gf.math.expm1, anp.expm1, (-2, 2), ()),
    "tan": (gf.math.tan, anp.tan, (-1.3, 1.3), ()),
    "asin": (gf.math.asin, anp.arcsin, (-0.9, 0.9), ()),
    "acos": (gf.math.acos, anp.arccos, (-0.9, 0.9), ()),
    "atan": (gf.math.atan, anp.arctan, (-3, 3), ()),
    "sinh": (gf.math.sinh, anp.sinh, (-2, 2), ()),
    "cosh": (gf.math.cosh, anp.cosh, (-2, 2), ()),
    "asinh": (gf.math.asinh, anp.arcsinh, (-3, 3), ()),
    "acosh": (gf.math.acosh, anp.arccosh, (1.1, 3), ()),
    "atanh": (gf.math.atanh, anp.arctanh, (-0.9, 0.9), ()),
    "relu": (gf.nn.relu, lambda x: anp.maximum(x, 0.0), (-2, 2), (0,)),
    "relu6": (gf.nn.relu6, lambda x: anp.minimum(anp.maximum(x, 0.0), 6.0), (-2, 8), (0, 6)),
    "leaky_relu": (lambda x: gf.nn.leaky_relu(x, 0.3), lambda x: anp.where(x > 0, x, 0.3 * x), (-2, 2), (0,)),
    "elu": (lambda x: gf.math.elu(x, 0.7),
            lambda x: anp.where(x > 0, x, 0.7 * (anp.exp(x) - 1)), (-2, 2), (0,)),
    "softplus": (gf.nn.softplus, lambda x: anp.logaddexp(0.0, x), (-4, 4), ()),
    "silu": (gf.nn.silu, lambda x: x * _sigmoid(x), (-4, 4), ()),
    "gelu": (gf.nn.gelu, _gelu, (-3, 3), ()),
    "gelu_tanh": (lambda x: gf.nn.gelu(x, approximate=True), _gelu_tanh, (-3, 3), ()),
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary(name):
    ours, theirs, (low, high), kinks = UNARY[name]
    x = _uniform((3, 7), low, high, kinks=kinks)
    compare(ours, theirs, [x])


@pytest.mark.parametrize("name", ["tanh", "sigmoid", "softplus", "gelu", "erf", "log", "reciprocal"])
def test_unary_second_order(name):
    ours, theirs, (low, high), kinks = UNARY[name]
    compare(ours, theirs, [_uniform((9,), low, high, kinks=kinks)], order=2)


BINARY = {  # name: (gpuflow, autograd, x range, y range)
    "add": (gf.add, lambda x, y: x + y, (-2, 2), (-2, 2)),
    "subtract": (gf.subtract, lambda x, y: x - y, (-2, 2), (-2, 2)),
    "multiply": (gf.multiply, lambda x, y: x * y, (-2, 2), (-2, 2)),
    "divide": (gf.divide, lambda x, y: x / y, (-2, 2), (0.5, 2)),
    "pow": (gf.pow, lambda x, y: x ** y, (0.2, 2), (-2, 2)),
    "mod": (gf.math.mod, anp.mod, (-5, 5), (0.7, 2)),
    "maximum": (gf.maximum, anp.maximum, (-2, 2), (-2, 2)),
    "minimum": (gf.minimum, anp.minimum, (-2, 2), (-2, 2)),
    "atan2": (gf.math.atan2, anp.arctan2, (0.3, 2), (-2, 2)),
    "squared_difference": (lambda x, y: gf.square(x - y), lambda x, y: (x - y) ** 2, (-2, 2), (-2, 2)),
}


@pytest.mark.parametrize("shapes", [((4, 5), (4, 5)), ((4, 5), (5,)), ((3, 1, 5), (4, 1)), ((), (2, 3))],
                         ids=str)
@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_with_broadcasting(name, shapes):
    ours, theirs, xr, yr = BINARY[name]
    x = _rng(1).uniform(*xr, size=shapes[0])
    y = _rng(2).uniform(*yr, size=shapes[1])
    # Continuous draws never tie or land on mod's jumps, and autodiff (unlike finite differences) is exact
    # right next to them, so no input needs moving.
    compare(ours, theirs, [x, y])


def test_where_and_cast():
    x, y = _rng(1).normal(size=(3, 4)), _rng(2).normal(size=(3, 4))
    cond = _rng(3).random((3, 4)) < 0.5
    compare(lambda a, b: gf.where(gf.constant(cond), a, b), lambda a, b: anp.where(cond, a, b), [x, y])
    compare(lambda a: gf.cast(gf.cast(a, gf.float32), gf.float64) * 0 + a * 3.0, lambda a: a * 3.0, [x])


# ---- reductions --------------------------------------------------------------------------------

REDUCTIONS = {
    "reduce_sum": (gf.reduce_sum, anp.sum),
    "reduce_mean": (gf.reduce_mean, anp.mean),
    "reduce_max": (gf.reduce_max, anp.max),
    "reduce_min": (gf.reduce_min, anp.min),
    "reduce_prod": (gf.reduce_prod, anp.prod),
    "reduce_logsumexp": (gf.reduce_logsumexp, lambda x, axis, keepdims: aspecial.logsumexp(x, axis, keepdims=keepdims)),
    "reduce_variance": (gf.math.reduce_variance, anp.var),
    "reduce_std": (gf.math.reduce_std, anp.std),
}


@pytest.mark.parametrize("axis,keepdims", [(None, False), (1, False), ((0, 2), True), (-1, True)], ids=str)
@pytest.mark.parametrize("name", sorted(REDUCTIONS))
def test_reduction(name, axis, keepdims):
    ours, theirs = REDUCTIONS[name]
    x = _rng(3).permutation(np.linspace(-2, 2, 60)).reshape(3, 4, 5)  # distinct values: no ties
    x = np.where(np.abs(x) < 0.05, 0.3, x) if name == "reduce_prod" else x
    compare(lambda t: ours(t, axis=axis, keepdims=keepdims), lambda t: theirs(t, axis=axis, keepdims=keepdims), [x])


def test_reduce_prod_with_zeros():
    # prod's rule has its own branches for one zero and for several. autograd's own prod rule divides by x
    # (NaN at a zero), so the reference is the product written out, which autograd differentiates term by term.
    x = np.array([[0.0, 2.0, 3.0], [0.0, 0.0, 4.0], [1.5, -2.0, 0.5]])
    compare(lambda t: gf.reduce_prod(t, axis=1), lambda t: t[:, 0] * t[:, 1] * t[:, 2], [x])


# ---- nn ----------------------------------------------------------------------------------------

def _softmax(x, axis=-1):
    e = anp.exp(x - anp.max(x, axis=axis, keepdims=True))
    return e / anp.sum(e, axis=axis, keepdims=True)


def _log_softmax(x, axis=-1):
    return x - aspecial.logsumexp(x, axis=axis, keepdims=True)


@pytest.mark.parametrize("axis", [-1, 0, 1])
def test_softmax_and_log_softmax(axis):
    x = _rng(4).normal(size=(3, 5, 4)) * 2
    compare(lambda t: gf.nn.softmax(t, axis=axis), lambda t: _softmax(t, axis), [x])
    compare(lambda t: gf.nn.log_softmax(t, axis=axis), lambda t: _log_softmax(t, axis), [x])


def test_softmax_second_order():
    x = _rng(4).normal(size=(2, 6))
    compare(gf.nn.softmax, _softmax, [x], order=2)
    compare(gf.nn.log_softmax, _log_softmax, [x], order=2)


def test_cross_entropies():
    logits = _rng(5).normal(size=(6, 4)) * 2
    labels = _softmax(_rng(6).normal(size=(6, 4)))
    compare(lambda lab, lo: gf.nn.softmax_cross_entropy_with_logits(lab, lo),
            lambda lab, lo: -anp.sum(lab * _log_softmax(lo), axis=-1), [labels, logits])
    sparse = np.array([0, 3, 1, 2, 3, 0])
    compare(lambda lo: gf.nn.sparse_softmax_cross_entropy_with_logits(labels=gf.constant(sparse), logits=lo),
            lambda lo: -_log_softmax(lo)[np.arange(6), sparse], [logits])
    binary = _rng(7).random((6, 4))
    compare(lambda lab, lo: gf.nn.sigmoid_cross_entropy_with_logits(labels=lab, logits=lo),
            lambda lab, lo: anp.logaddexp(0.0, lo) - lab * lo, [binary, logits])


def test_cross_entropy_second_order():
    logits, labels = _rng(5).normal(size=(3, 4)), _softmax(_rng(6).normal(size=(3, 4)))
    compare(lambda lo: gf.nn.softmax_cross_entropy_with_logits(gf.constant(labels), lo),
            lambda lo: -anp.sum(labels * _log_softmax(lo), axis=-1), [logits], order=2)


def test_l2_loss_and_bias_add():
    x, b = _rng(8).normal(size=(4, 3)), _rng(9).normal(size=(3,))
    compare(gf.nn.l2_loss, lambda t: anp.sum(t * t) / 2, [x])
    compare(gf.nn.bias_add, lambda t, c: t + c, [x, b])


@pytest.mark.parametrize("activation", sorted(dense_prims.ACTIVATIONS))
def test_fused_bias_activation(activation):
    acts = {"linear": lambda z: z, "relu": lambda z: anp.maximum(z, 0.0),
            "relu6": lambda z: anp.minimum(anp.maximum(z, 0.0), 6.0), "sigmoid": _sigmoid, "tanh": anp.tanh,
            "elu": lambda z: anp.where(z > 0, z, anp.exp(z) - 1)}
    x = _uniform((5, 4), -3, 8, seed=10, kinks=(0.0, 6.0))
    b = np.zeros(4)
    compare(lambda t, c: dense_prims.bias_act(t, c, activation=activation), lambda t, c: acts[activation](t + c),
            [x, b])


# ---- linalg, movement --------------------------------------------------------------------------

@pytest.mark.parametrize("ta,tb,shapes", [(False, False, ((3, 4), (4, 2))), (True, False, ((4, 3), (4, 2))),
                                         (False, True, ((2, 3, 4), (2, 5, 4))), (True, True, ((4, 3), (2, 4)))])
def test_matmul(ta, tb, shapes):
    a, b = _rng(1).normal(size=shapes[0]), _rng(2).normal(size=shapes[1])

    def t(m, flag):
        return anp.swapaxes(m, -1, -2) if flag else m
    compare(lambda x, y: gf.matmul(x, y, transpose_a=ta, transpose_b=tb), lambda x, y: anp.matmul(t(x, ta), t(y, tb)),
            [a, b])


def test_tensordot():
    a, b = _rng(1).normal(size=(2, 3, 4)), _rng(2).normal(size=(4, 3, 5))
    compare(lambda x, y: gf.tensordot(x, y, axes=[[1, 2], [1, 0]]),
            lambda x, y: anp.tensordot(x, y, axes=[[1, 2], [1, 0]]), [a, b])


def test_movement_ops():
    x = _rng(3).normal(size=(3, 4, 2))
    y = _rng(4).normal(size=(3, 1, 2))
    compare(lambda a, b: gf.concat([a, b, a], axis=1), lambda a, b: anp.concatenate([a, b, a], axis=1), [x, y])
    compare(lambda a: gf.stack([a, a * 2.0], axis=1), lambda a: anp.stack([a, a * 2.0], axis=1), [x])
    compare(lambda a: gf.transpose(a, [2, 0, 1]), lambda a: anp.transpose(a, [2, 0, 1]), [x])
    compare(lambda a: gf.reshape(a, [4, -1]), lambda a: anp.reshape(a, (4, -1)), [x])
    compare(lambda a: gf.tile(a, [2, 1, 3]), lambda a: anp.tile(a, (2, 1, 3)), [x])
    compare(lambda a: gf.broadcast_to(a, [2, 3, 4, 2]), lambda a: a[None] * anp.ones((2, 1, 1, 1)), [x])
    compare(lambda a: a[1:, ::2, -1], lambda a: a[1:, ::2, -1], [x])
    compare(lambda a: gf.reverse(a, [1]), lambda a: a[:, ::-1], [x])
    idx = np.array([2, 0, 2, 1])
    compare(lambda a: gf.gather(a, gf.constant(idx), axis=0), lambda a: a[idx], [x])
    compare(lambda a: gf.pad(a, [[1, 0], [2, 1], [0, 0]]), _pad_reference, [x])
    compare(lambda a: gf.pad(a, [[0, 0], [2, 1], [0, 0]], mode="REFLECT"), lambda a: a[:, [2, 1, 0, 1, 2, 3, 2], :],
            [x])


def _pad_reference(a):
    # [[1, 0], [2, 1], [0, 0]] zero padding, from concatenations (autograd differentiates those).
    a = anp.concatenate([anp.zeros((1,) + a.shape[1:]), a], axis=0)
    n = a.shape[0]
    return anp.concatenate([anp.zeros((n, 2, 2)), a, anp.zeros((n, 1, 2))], axis=1)


# ---- convolution and pooling -------------------------------------------------------------------

def _conv2d_reference(x, k, stride, pads):
    top, bottom, left, right = pads
    n, h, w, c = x.shape
    x = anp.concatenate([anp.zeros((n, top, w, c)), x, anp.zeros((n, bottom, w, c))], axis=1)
    x = anp.concatenate([anp.zeros((n, x.shape[1], left, c)), x, anp.zeros((n, x.shape[1], right, c))], axis=2)
    kh, kw = k.shape[:2]
    oh, ow = (x.shape[1] - kh) // stride + 1, (x.shape[2] - kw) // stride + 1
    out = 0
    for i in range(kh):
        for j in range(kw):
            patch = x[:, i:i + stride * (oh - 1) + 1:stride, j:j + stride * (ow - 1) + 1:stride, :]
            out = out + anp.einsum("nhwc,cf->nhwf", patch, k[i, j])
    return out


@pytest.mark.parametrize("stride,padding,pads", [(1, "VALID", (0, 0, 0, 0)), (2, "SAME", (1, 1, 1, 1)),
                                                 (2, "SAME", (0, 1, 0, 1))], ids=str)
def test_conv2d(stride, padding, pads):
    h = 5 if pads != (0, 1, 0, 1) else 4  # tf's SAME splits the padding per size; these sizes give `pads`
    x, k = _rng(1).normal(size=(2, h, h, 3)), _rng(2).normal(size=(3, 3, 3, 4))
    if pads == (0, 1, 0, 1):
        k = k[:2, :2]
    compare(lambda a, b: gf.nn.conv2d(a, b, strides=stride, padding=padding),
            lambda a, b: _conv2d_reference(a, b, stride, pads), [x, k])


def test_pooling():
    x = _rng(3).permutation(np.linspace(-3, 3, 2 * 6 * 6 * 2)).reshape(2, 6, 6, 2)  # distinct: no ties

    def windows(a, reduce):
        return anp.stack([anp.stack([reduce(a[:, 2 * i:2 * i + 3, 2 * j:2 * j + 3, :], axis=(1, 2))
                                     for j in range(2)], axis=1) for i in range(2)], axis=1)
    compare(lambda a: gf.nn.max_pool2d(a, 3, 2, "VALID"), lambda a: windows(a, anp.max), [x])
    compare(lambda a: gf.nn.avg_pool2d(a, 3, 2, "VALID"), lambda a: windows(a, anp.mean), [x])


# ---- fused primitives: normalisation and recurrent cells ----------------------------------------

def _layer_norm_reference(x, gamma, beta, eps=1e-3):
    mean = anp.mean(x, axis=-1, keepdims=True)
    rstd = 1 / anp.sqrt(anp.mean((x - mean) ** 2, axis=-1, keepdims=True) + eps)
    return (x - mean) * rstd * gamma + beta, mean[..., 0], rstd[..., 0]


def _batch_norm_reference(x, gamma, beta, eps=1e-3):
    mean = anp.mean(x, axis=0)
    var = anp.mean((x - mean) ** 2, axis=0)
    return (x - mean) / anp.sqrt(var + eps) * gamma + beta, mean, var


@pytest.mark.parametrize("order", [1, 2])
def test_normalisation(order):
    x, g, b = _rng(1).normal(size=(5, 6)), _rng(2).normal(size=6), _rng(3).normal(size=6)
    compare(lambda *a: norm_prims.layer_norm(*a, epsilon=1e-3), _layer_norm_reference, [x, g, b], order=order)
    compare(lambda *a: norm_prims.batch_norm(*a, epsilon=1e-3), _batch_norm_reference, [x, g, b], order=order)


def _lstm_reference(z, c_prev):
    i, f, g, o = (z[:, k * c_prev.shape[1]:(k + 1) * c_prev.shape[1]] for k in range(4))
    c = _sigmoid(f) * c_prev + _sigmoid(i) * anp.tanh(g)
    return _sigmoid(o) * anp.tanh(c), c


def _gru_reference(zx, zh, h_prev):
    u = h_prev.shape[1]
    z = _sigmoid(zx[:, :u] + zh[:, :u])
    r = _sigmoid(zx[:, u:2 * u] + zh[:, u:2 * u])
    hh = anp.tanh(zx[:, 2 * u:] + r * zh[:, 2 * u:])
    return z * h_prev + (1 - z) * hh


@pytest.mark.parametrize("order", [1, 2])
def test_recurrent_cells(order):
    z, c = _rng(1).normal(size=(3, 8)), _rng(2).normal(size=(3, 2))
    compare(rnn_prims.lstm_cell, _lstm_reference, [z, c], order=order)
    zx, zh, h = _rng(3).normal(size=(3, 6)), _rng(4).normal(size=(3, 6)), _rng(5).normal(size=(3, 2))
    compare(rnn_prims.gru_cell, _gru_reference, [zx, zh, h], order=order)


# ---- TF's composite functions (test_tf_composites.py checks their values and guarded points) -------------------

def _l2_normalize_reference(x, axis):
    return x / anp.sqrt(anp.maximum(anp.sum(x * x, axis=axis, keepdims=True), 1e-12))


def _clip_by_norm_reference(t, clip):
    return t * clip / anp.maximum(anp.sqrt(anp.sum(t * t)), clip)


@pytest.mark.parametrize("order", [1, 2])
def test_guarded_arithmetic_away_from_its_guards(order):
    x, y = _rng(1).normal(size=(3, 4)), _uniform((4,), 0.5, 2.0, seed=2)  # y > 0, x != 0: the plain formulas
    compare(gf.math.divide_no_nan, lambda a, b: a / b, [x, y], order=order)
    compare(gf.math.xlogy, lambda a, b: a * anp.log(b), [x, y], order=order)
    compare(gf.math.xdivy, lambda a, b: a / b, [x, y], order=order)
    compare(gf.math.squared_difference, lambda a, b: (a - b) ** 2, [x, y], order=order)
    compare(gf.math.log_sigmoid, lambda a: -anp.logaddexp(0.0, -a), [x * 4], order=order)


def test_selu_softsign_and_l2_normalize():
    x = _uniform((4, 5), -3, 3, seed=3)  # away from selu's kink at 0
    compare(gf.nn.selu, lambda a: 1.0507009873554805 * anp.where(a > 0, a, 1.6732632423543772 * (anp.exp(a) - 1)),
            [x])
    compare(gf.nn.softsign, lambda a: a / (1 + anp.abs(a)), [x])
    for axis in (None, 1, (0, 1)):
        compare(lambda a, ax=axis: gf.nn.l2_normalize(a, axis=ax), lambda a, ax=axis: _l2_normalize_reference(a, ax),
                [x], order=2)


@pytest.mark.parametrize("clip", [0.5, 50.0], ids=["clipped", "unclipped"])
def test_clipping_by_norm(clip):
    a, b = _rng(4).normal(size=(3, 4)), _rng(5).normal(size=(6,))
    compare(lambda t: gf.clip_by_norm(t, clip), lambda t: _clip_by_norm_reference(t, clip), [a])
    compare(lambda s, t: gf.linalg.global_norm([s, t]), lambda s, t: anp.sqrt(anp.sum(s * s) + anp.sum(t * t)), [a, b])

    def clipped_reference(s, t):
        norm = anp.sqrt(anp.sum(s * s) + anp.sum(t * t))
        scale = clip * anp.minimum(1.0 / norm, 1.0 / clip)
        return [s * scale, t * scale, norm]
    compare(lambda s, t: [*gf.clip_by_global_norm([s, t], clip)[0], gf.clip_by_global_norm([s, t], clip)[1]],
            clipped_reference, [a, b])


def test_linspace_ends():
    start, stop = _rng(6).normal(size=(3,)), _rng(7).normal(size=(3,))
    steps = np.arange(6) / 5
    compare(lambda s, e: gf.linspace(s, e, 6, axis=1), lambda s, e: s[:, None] + steps * (e - s)[:, None],
            [start, stop])


def test_moments_batch_normalization_and_weighted_cross_entropy():
    x = _rng(8).normal(size=(5, 3)) * 2
    compare(lambda t: list(gf.nn.moments(t, axes=[0])), lambda t: [anp.mean(t, 0), anp.var(t, 0)], [x], order=2)
    m, v, o, s = _rng(9).normal(size=3), _uniform((3,), 0.5, 2.0, seed=10), _rng(11).normal(size=3), \
        _rng(12).normal(size=3)
    compare(lambda *a: gf.nn.batch_normalization(*a, variance_epsilon=1e-3),
            lambda t, mm, vv, oo, ss: (t - mm) / anp.sqrt(vv + 1e-3) * ss + oo, [x, m, v, o, s])
    labels = _rng(13).random((5, 3))
    compare(lambda z, t: gf.nn.weighted_cross_entropy_with_logits(z, t, 2.5),
            lambda z, t: (1 - z) * t + (1 + 1.5 * z) * (anp.logaddexp(0.0, -anp.abs(t)) + anp.maximum(-t, 0.0)),
            [labels, x])
    compare(lambda t: gf.math.reduce_euclidean_norm(t, 1), lambda t: anp.sqrt(anp.sum(t * t, 1)), [x], order=2)


def test_embedding_lookup_gradient_adds_repeated_rows():
    table, ids = _rng(14).normal(size=(6, 3)), np.array([[1, 4], [1, 1]])
    compare(lambda t: gf.nn.embedding_lookup(t, gf.constant(ids)), lambda t: t[ids], [table])
    compare(lambda t: gf.nn.embedding_lookup(t, gf.constant(ids), max_norm=0.5),
            lambda t: t[ids] * 0.5 / anp.maximum(anp.sqrt(anp.sum(t[ids] ** 2, -1, keepdims=True)), 0.5), [table])
