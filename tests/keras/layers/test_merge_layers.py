"""Merge layers: forward vs NumPy, shape checks naming the shapes, functional aliases."""
import numpy as np
import pytest

import gpuflow as gf
from gpuflow.keras import layers
from tests.harness import check_op, check_grad, rand

A, B, C = rand((2, 3, 4), seed=1), rand((2, 3, 4), seed=2), rand((2, 3, 4), seed=3)


@pytest.mark.parametrize("cls,ref", [
    (layers.Add, lambda a, b, c: a + b + c), (layers.Multiply, lambda a, b, c: a * b * c),
    (layers.Average, lambda a, b, c: (a + b + c) / 3), (layers.Maximum, lambda a, b, c: np.maximum(np.maximum(a, b), c)),
    (layers.Minimum, lambda a, b, c: np.minimum(np.minimum(a, b), c))])
def test_elementwise_merges(device, cls, ref):
    check_op(lambda a, b, c: cls()([a, b, c]), [A, B, C], ref, device)


def test_subtract_takes_exactly_two(device):
    check_op(lambda a, b: layers.Subtract()([a, b]), [A, B], np.subtract, device)
    with pytest.raises(ValueError, match=r"\(Subtract\): needs exactly 2 inputs, got 3"):
        layers.Subtract()([A, B, C])


def test_size_one_axes_broadcast():
    out = layers.Add()([A, A[:, :1]])
    np.testing.assert_allclose(out.numpy(), A + A[:, :1], rtol=1e-6)


def test_shape_mismatch_names_the_layer_axis_and_shapes():
    with pytest.raises(ValueError, match=r"add.*\(Add\): input shapes differ on axis 2 \(\(2, 3, 4\), \(2, 3, 5\)\)"):
        layers.Add()([A, rand((2, 3, 5))])
    with pytest.raises(ValueError, match="different ranks"):
        layers.Multiply()([A, rand((2, 3))])
    with pytest.raises(ValueError, match=r"call it on a list of tensors"):
        layers.Add()(A)


@pytest.mark.parametrize("axis", [-1, 0, 1])
def test_concatenate(device, axis):
    b = rand((2, 3, 4)[:axis % 3] + (5,) + (2, 3, 4)[axis % 3 + 1:], seed=4)
    check_op(lambda a, b: layers.Concatenate(axis=axis)([a, b]), [A, b],
             lambda a, b: np.concatenate([a, b], axis=axis), device)


def test_concatenate_errors_and_shapes():
    with pytest.raises(ValueError, match=r"input shapes differ on axis 1 .*only the concatenation axis -1 may differ"):
        layers.Concatenate()([A, rand((2, 4, 4))])
    assert layers.Concatenate(axis=1).compute_output_shape([(None, 3, 4), (None, 2, 4)]) == (None, 5, 4)
    assert layers.Concatenate().compute_output_shape([(None, 3, None), (None, 3, 2)]) == (None, 3, None)
    assert layers.Add().compute_output_shape([(None, 3), (None, 1)]) == (None, 3)


def test_grads_flow_to_every_input():
    # float64 layers: a float32 layer would cast check_grad's float64 inputs to float32 (Keras' autocast).
    f64 = {"dtype": "float64"}
    check_grad(lambda a, b: layers.Maximum(**f64)([a, b]) + layers.Concatenate(axis=0, **f64)([a, b])[:2],
               [A[:1], B[:1]])
    check_grad(lambda a, b: layers.Average(**f64)([a, b]) * layers.Multiply(**f64)([a, b]), [A[:1], B[:1]])


def test_functional_aliases_in_a_model():
    x1, x2 = gf.keras.Input((3,)), gf.keras.Input((3,))
    s = layers.add([x1, x2])
    cat = layers.concatenate([s, x1], axis=-1)
    assert tuple(cat.shape) == (None, 6)
    for fn, ref in [(layers.subtract, np.subtract), (layers.multiply, np.multiply), (layers.maximum, np.maximum),
                    (layers.minimum, np.minimum), (layers.average, lambda a, b: (a + b) / 2)]:
        np.testing.assert_allclose(fn([A, B]).numpy(), ref(A, B), rtol=1e-6)
