"""softmax, log_softmax, the two softmax cross-entropies and sigmoid cross-entropy.

Forward against float64 NumPy references on every device (rows of length 1, 3, 1000 and
50_000; empty tensors; -inf, +inf and NaN logits), float64 finite-difference gradients on cpu
along every axis, sim/cuda parity against cpu, and the label checks."""
from __future__ import annotations

import numpy as np
import pytest

import gpuflow as gf
from gpuflow.ops import nn_prims
from tests.harness import TOL, check_grad, check_op, check_parity, rand


@pytest.fixture(params=["sim", pytest.param("cuda", marks=pytest.mark.gpu)])
def other(request):
    """A device compared with cpu by check_parity."""
    return request.param


def np_log_softmax(x, axis=-1):
    m = np.max(x, axis=axis, keepdims=True, initial=-np.inf)
    shifted = x - np.where(np.isfinite(m), m, 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def np_softmax(x, axis=-1):
    with np.errstate(invalid="ignore"):
        return np.exp(np_log_softmax(x, axis))


def np_sparse_xent(logits, labels):
    return -np.take_along_axis(np_log_softmax(logits), labels[..., None].astype(np.int64), axis=-1)[..., 0]


def np_xent(logits, labels):
    with np.errstate(invalid="ignore"):
        return -np.sum(labels * np_log_softmax(logits), axis=-1)


SHAPES = [(1,), (3,), (4, 7), (2, 1000), (3, 50_000), (2, 3, 5), (0, 5), (5, 0)]


@pytest.mark.parametrize("shape", SHAPES)
def test_softmax_forward(device, shape):
    x = rand(shape, low=-4, high=4, seed=1)
    check_op(gf.nn.softmax, [x], np_softmax, device)
    check_op(gf.nn.log_softmax, [x], np_log_softmax, device)


@pytest.mark.parametrize("axis", [0, 1, -3])
def test_softmax_other_axes(device, axis):
    x = rand((3, 4, 5), seed=2)
    check_op(lambda t: gf.nn.softmax(t, axis=axis), [x], lambda a: np_softmax(a, axis), device)
    check_op(lambda t: gf.nn.log_softmax(t, axis=axis), [x], lambda a: np_log_softmax(a, axis), device)


def test_softmax_special_values(device):
    inf, nan = np.inf, np.nan
    x = np.array([[-inf, -inf, -inf], [0.0, -inf, 1.0], [inf, 0.0, 1.0], [nan, 0.0, 1.0], [80.0, 0.0, -80.0]],
                 "float32")
    check_op(gf.nn.softmax, [x], np_softmax, device)
    check_op(gf.nn.log_softmax, [x], np_log_softmax, device)
    out = check_op(gf.nn.softmax, [x[:1]], np_softmax, device).numpy()
    assert np.isnan(out).all(), "a row of all -inf has no softmax (NaN, like NumPy and TF)"


@pytest.mark.parametrize("label_dtype", ["int32", "int64"])
@pytest.mark.parametrize("shape", [(1,), (3,), (4, 7), (2, 1000), (3, 50_000), (2, 3, 5), (0, 5)])
def test_sparse_xent_forward(device, shape, label_dtype):
    logits = rand(shape, seed=3)
    labels = np.random.default_rng(4).integers(0, shape[-1], shape[:-1]).astype(label_dtype)
    check_op(nn_prims.sparse_softmax_xent, [logits, labels],
             lambda x, y: [np_sparse_xent(x, y), np_softmax(x)], device)
    check_op(lambda x, y: gf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=x), [logits, labels],
             np_sparse_xent, device)


@pytest.mark.parametrize("shape", [(1,), (3,), (4, 7), (2, 1000), (3, 50_000), (2, 3, 5), (0, 5), (4, 0)])
def test_xent_forward(device, shape):
    logits, labels = rand(shape, seed=5), rand(shape, low=0, high=1, seed=6)
    check_op(nn_prims.softmax_xent, [logits, labels], lambda x, y: [np_xent(x, y), np_log_softmax(x)], device)
    check_op(lambda x, y: gf.nn.softmax_cross_entropy_with_logits(y, x, axis=0), [logits, labels],
             lambda x, y: -np.sum(y * np_log_softmax(x, 0), axis=0), device)


def test_xent_with_minus_inf_logits(device):
    # A -inf logit with a zero label contributes 0 * -inf = NaN, as in NumPy; a row without
    # -inf is unaffected.
    logits = np.array([[0.0, -np.inf, 1.0], [0.5, 2.0, -1.0]], "float32")
    labels = np.array([[0.5, 0.0, 0.5], [0.2, 0.3, 0.5]], "float32")
    check_op(nn_prims.softmax_xent, [logits, labels], lambda x, y: [np_xent(x, y), np_log_softmax(x)], device)
    check_op(nn_prims.sparse_softmax_xent, [logits, np.array([2, 1], "int32")],
             lambda x, y: [np_sparse_xent(x, y), np_softmax(x)], device)


def test_sigmoid_xent_forward(device):
    logits = np.array([-1000.0, -30.0, -2.5, -0.1, 0.0, 0.3, 4.0, 30.0, 1000.0], "float32")
    labels = rand(logits.shape, low=0, high=1, seed=7)
    # log(1 + exp(x)) - x*z, written the way that survives |x| = 1000 in float64.
    reference = lambda x, z: np.logaddexp(0, x) - x * z  # noqa: E731
    out = check_op(lambda x, z: gf.nn.sigmoid_cross_entropy_with_logits(labels=z, logits=x), [logits, labels],
                   reference, device)
    assert np.isfinite(out.numpy()).all()


# ---- parity on sim/cuda vs cpu ----------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16", "float64"])
@pytest.mark.parametrize("shape", [(3,), (5, 37), (2, 3000)])
def test_parity(other, dtype, shape):
    # Half precision: forward only, within one rounding of the dtype.
    kw = dict(grad=dtype in ("float32", "float64"), rtol=TOL[dtype][0], atol=TOL[dtype][1])
    logits, labels = rand(shape, dtype, -4, 4, seed=8), rand(shape, dtype, 0, 1, seed=9)
    ids = np.random.default_rng(10).integers(0, shape[-1], shape[:-1]).astype(np.int32)
    check_parity(gf.nn.softmax, [logits], other, **kw)
    check_parity(gf.nn.log_softmax, [logits], other, **kw)
    check_parity(lambda x: gf.nn.softmax(x, axis=0), [logits], other, **kw)
    check_parity(nn_prims.sparse_softmax_xent, [logits, ids], other, **kw)
    check_parity(nn_prims.softmax_xent, [logits, labels], other, **kw)
    check_parity(lambda z, x: gf.nn.sigmoid_cross_entropy_with_logits(labels=z, logits=x), [labels, logits], other,
                 **kw)


# ---- gradients (cpu, float64 finite differences) ------------------------------------------
@pytest.mark.parametrize("axis", [0, 1, -1])
def test_softmax_grads(axis):
    x = rand((3, 4, 5), "float64", seed=11)
    check_grad(lambda t: gf.nn.softmax(t, axis=axis), [x])
    check_grad(lambda t: gf.nn.log_softmax(t, axis=axis), [x])


def test_xent_grads():
    logits, labels = rand((3, 5), "float64", seed=12), rand((3, 5), "float64", 0, 1, seed=13)
    ids = np.array([0, 4, 2], np.int32)
    # Both outputs carry a cotangent, so the rules for the softmax/log_softmax outputs are checked too.
    check_grad(nn_prims.sparse_softmax_xent, [logits, ids])
    check_grad(nn_prims.softmax_xent, [logits, labels])  # w.r.t. logits and labels
    check_grad(lambda x, y: gf.nn.softmax_cross_entropy_with_logits(y, x, axis=0), [logits, labels])
    check_grad(lambda x: gf.nn.sparse_softmax_cross_entropy_with_logits(labels=ids, logits=x), [logits])


def test_sigmoid_xent_grads():
    logits = np.array([[-30.0, -2.5, -0.1], [0.3, 4.0, 30.0]])
    labels = rand(logits.shape, "float64", 0, 1, seed=14)
    check_grad(lambda x, z: gf.nn.sigmoid_cross_entropy_with_logits(labels=z, logits=x), [logits, labels])
    # At |x| = 1000 the gradient w.r.t. x is sigmoid(x) - z, computed without overflow.
    big = np.array([-1000.0, 1000.0])
    with gf.GradientTape() as tape:
        x = gf.constant(big)
        tape.watch(x)
        y = gf.nn.sigmoid_cross_entropy_with_logits(labels=gf.constant([0.25, 0.25], dtype="float64"), logits=x)
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), [-0.25, 0.75])


# ---- errors ----------------------------------------------------------------------------
def test_label_errors(device):
    logits = gf.constant(rand((2, 3)))
    err = gf.errors.InvalidArgumentError
    with pytest.raises(err, match=r"labels must be class ids in \[0, 3\).*got values from 0 to 3"):
        gf.nn.sparse_softmax_cross_entropy_with_logits(labels=gf.constant([0, 3]), logits=logits)
    with pytest.raises(err, match=r"got values from -1 to 1"):
        gf.nn.sparse_softmax_cross_entropy_with_logits(labels=gf.constant([-1, 1]), logits=logits)
    with pytest.raises(err, match=r"labels int32\[3\] must have the shape of logits float32\[2, 3\]"):
        gf.nn.sparse_softmax_cross_entropy_with_logits(labels=gf.constant([0, 1, 2]), logits=logits)
    with pytest.raises(err, match="labels must be integer class ids, got float32"):
        gf.nn.sparse_softmax_cross_entropy_with_logits(labels=gf.constant([0.0, 1.0]), logits=logits)
    with pytest.raises(err, match=r"labels float32\[2, 2\] and logits float32\[2, 3\] must have one shape"):
        gf.nn.softmax_cross_entropy_with_logits(gf.constant(rand((2, 2))), logits)
    with pytest.raises(err, match="softmax: needs a floating-point input"):
        gf.nn.softmax(gf.constant([1, 2]))
    with pytest.raises(err, match="softmax: axis 2 is out of range"):
        gf.nn.softmax(logits, axis=2)


# ---- the fused backward of the sparse cross-entropy ---------------------------------------
@pytest.mark.parametrize("dtype, label_dtype", [("float32", "int32"), ("float32", "int64"), ("float64", "int32"),
                                                ("float16", "int32"), ("bfloat16", "int32")])
@pytest.mark.parametrize("shape", [(0, 4), (3, 7), (2, 3, 300)])
def test_fused_sparse_xent_backward_parity(other, dtype, label_dtype, shape):
    probs, g = rand(shape, dtype, 0, 1, seed=15), rand(shape[:-1], dtype, -2, 2, seed=16)
    ids = np.random.default_rng(17).integers(0, shape[-1], shape[:-1]).astype(label_dtype)
    check_parity(nn_prims.sparse_softmax_xent_grad, [g, probs, ids], other, grad=False, rtol=TOL[dtype][0],
                 atol=TOL[dtype][1])


def test_the_loss_gradient_is_one_fused_op_against_numpy():
    logits = rand((4, 6), "float64", -3, 3, seed=18)
    ids = np.array([0, 5, 2, 2], np.int32)
    x = gf.constant(logits)
    with gf.GradientTape() as tape:
        tape.watch(x)
        loss = gf.reduce_sum(gf.nn.sparse_softmax_cross_entropy_with_logits(labels=ids, logits=x))
    grad = tape.gradient(loss, x)
    e = np.exp(logits - logits.max(-1, keepdims=True))
    np.testing.assert_allclose(grad.numpy(), e / e.sum(-1, keepdims=True) - np.eye(6)[ids], rtol=1e-12, atol=1e-12)

    @gf.function
    def grad_of(t):
        with gf.GradientTape() as tape:
            tape.watch(t)
            total = gf.reduce_sum(gf.nn.sparse_softmax_cross_entropy_with_logits(labels=ids, logits=t))
        return tape.gradient(total, t)
    ops = [node.prim.name for node in grad_of.get_concrete_function(x).graph.nodes]
    assert "sparse_softmax_xent_grad" in ops and "one_hot" not in ops and "softmax" not in ops
