"""Row-wise ops on 0-d tensors and cross-entropies with labels of the wrong rank.

TF refuses a scalar for softmax / log_softmax / argmax / the cross-entropies; gpuflow does too, with
an error naming the op and the shape instead of one from a transpose or range check inside it.
Reductions of a scalar keep NumPy's leniency (axis None, 0 or -1) and give a clear error otherwise."""
from __future__ import annotations

import numpy as np
import pytest

import gpuflow as gf

SCALAR = 2.5


@pytest.mark.parametrize("op", [gf.nn.softmax, gf.nn.log_softmax, gf.math.softmax])
def test_softmax_of_a_scalar_raises_naming_the_op(device, op):
    with pytest.raises(gf.errors.InvalidArgumentError, match=r"softmax: logits must have rank >= 1.*0-d float32\[\]"):
        op(gf.constant(SCALAR))


@pytest.mark.parametrize("axis", [0, -1])
def test_softmax_of_a_scalar_raises_for_any_axis(device, axis):
    with pytest.raises(gf.errors.InvalidArgumentError, match="rank >= 1"):
        gf.nn.softmax(gf.constant(SCALAR), axis=axis)


def test_softmax_of_one_element_rows_still_works(device):
    # The hint in the error (add an axis) gives what a TF user would get from a [1] tensor.
    np.testing.assert_allclose(gf.nn.softmax(gf.reshape(gf.constant(SCALAR), [1])).numpy(), [1.0])
    np.testing.assert_allclose(gf.nn.log_softmax(gf.constant([[SCALAR]]), axis=0).numpy(), [[0.0]])


@pytest.mark.parametrize("name", ["argmax", "argmin"])
@pytest.mark.parametrize("axis", [None, 0, -1])
def test_arg_extremes_of_a_scalar_raise_naming_the_op(device, name, axis):
    with pytest.raises(gf.errors.InvalidArgumentError, match=rf"{name}: input is a 0-d float32\[\] tensor"):
        getattr(gf.math, name)(gf.constant(SCALAR), axis=axis)


@pytest.mark.parametrize("name", ["reduce_sum", "reduce_max", "reduce_min", "reduce_prod", "reduce_mean",
                                  "reduce_logsumexp"])
@pytest.mark.parametrize("axis", [None, 0, -1, [0], [-1]])
def test_reductions_of_a_scalar_accept_none_zero_and_minus_one(device, name, axis):
    out = getattr(gf.math, name)(gf.constant(SCALAR), axis=axis)
    assert out.shape == ()
    np.testing.assert_allclose(out.numpy(), SCALAR, rtol=1e-6)


@pytest.mark.parametrize("name", ["reduce_sum", "reduce_max", "reduce_mean"])
@pytest.mark.parametrize("axis", [1, -2, [0, 1]])
def test_reductions_of_a_scalar_name_the_op_for_other_axes(device, name, axis):
    with pytest.raises(gf.errors.InvalidArgumentError, match=rf"{name}: axis -?\d is out of range for a 0-d"):
        getattr(gf.math, name)(gf.constant(SCALAR), axis=axis)


def test_reductions_of_a_vector_still_check_the_range(device):
    with pytest.raises(gf.errors.InvalidArgumentError, match=r"axis 1 .* rank 1; use an axis in \[-1, 0\]"):
        gf.reduce_sum(gf.constant([1.0, 2.0]), axis=1)


def test_sparse_xent_with_scalar_logits_raises(device):
    with pytest.raises(gf.errors.InvalidArgumentError,
                       match=r"sparse_softmax_cross_entropy_with_logits: logits must have rank >= 1"):
        gf.nn.sparse_softmax_cross_entropy_with_logits(labels=gf.constant(0), logits=gf.constant(SCALAR))


@pytest.mark.parametrize("labels_shape, logits_shape", [((2,), (2,)), ((2, 1), (2, 3)), ((), (2, 3))])
def test_sparse_xent_with_labels_of_the_wrong_rank_names_both_ranks(device, labels_shape, logits_shape):
    labels = gf.constant(np.zeros(labels_shape, np.int32))
    logits = gf.constant(np.zeros(logits_shape, np.float32))
    with pytest.raises(gf.errors.InvalidArgumentError,
                       match=rf"labels int32{list(labels_shape)} have rank {len(labels_shape)} but logits "
                             rf"float32{list(logits_shape)} have rank {len(logits_shape)}".replace("[", r"\[")):
        gf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)


def test_dense_xent_with_scalar_logits_raises(device):
    with pytest.raises(gf.errors.InvalidArgumentError,
                       match=r"softmax_cross_entropy_with_logits: logits must have rank >= 1"):
        gf.nn.softmax_cross_entropy_with_logits(labels=gf.constant(1.0), logits=gf.constant(SCALAR))


def test_dense_xent_along_axis_0_with_mismatched_labels_names_both_shapes(device):
    # Before, the labels went through the logits' transpose and failed inside it.
    with pytest.raises(gf.errors.InvalidArgumentError, match=r"labels float32\[2\] and logits float32\[2, 3\]"):
        gf.nn.softmax_cross_entropy_with_logits(labels=gf.constant([1.0, 0.0]), logits=gf.zeros([2, 3]), axis=0)


def test_dense_xent_along_axis_0_matches_the_transposed_call(device):
    logits = np.random.default_rng(0).normal(size=(3, 4)).astype(np.float32)
    labels = np.eye(3, 4, dtype=np.float32)
    along_0 = gf.nn.softmax_cross_entropy_with_logits(labels=labels, logits=logits, axis=0)
    last = gf.nn.softmax_cross_entropy_with_logits(labels=labels.T, logits=logits.T)
    np.testing.assert_allclose(along_0.numpy(), last.numpy(), rtol=1e-5, atol=1e-6)
