"""Dot: per-sample dot products against a NumPy reference of Keras 3's batch_dot, for every axes form, with
normalize=True (cosine similarity); gradients; output shapes; errors naming the shapes; a compiled fit."""
import numpy as np
import pytest

import gpuflow as gf
from gpuflow.keras import layers
from tests.harness import check_grad, check_op, rand


def ref_dot(x, y, axes, normalize=False):
    """Keras 3: contract axis a of x with axis b of y for each sample; x's other axes, then y's; (batch, 1) for
    two 2-D inputs. normalize scales each input by min(1 / |x|, 1e7) along its axis first."""
    a, b = [axes, axes] if isinstance(axes, int) else list(axes)
    a, b = a % x.ndim, b % y.ndim
    if normalize:
        x = x * np.minimum(1 / np.sqrt((x * x).sum(axis=a, keepdims=True)), 1e7)
        y = y * np.minimum(1 / np.sqrt((y * y).sum(axis=b, keepdims=True)), 1e7)
    out = np.stack([np.tensordot(xi, yi, axes=(a - 1, b - 1)) for xi, yi in zip(x, y)])
    return out.reshape(-1, 1) if out.ndim == 1 else out


CASES = [((4, 5), (4, 5), 1), ((4, 5), (4, 5), -1), ((3, 4, 5), (3, 6, 5), 2), ((3, 4, 5), (3, 4, 6), (1, 1)),
         ((3, 4, 5), (3, 5), (2, 1)), ((3, 5), (3, 5, 2), (1, 1)), ((2, 3, 4, 5), (2, 5, 3), (-1, 1)),
         ((2, 3, 4), (2, 6, 3, 2), (1, 2))]


@pytest.mark.parametrize("normalize", [False, True])
@pytest.mark.parametrize("sx,sy,axes", CASES)
def test_matches_keras_batch_dot(device, sx, sy, axes, normalize):
    layer = layers.Dot(axes=axes, normalize=normalize)
    check_op(lambda x, y: layer([x, y]), [rand(sx, seed=1), rand(sy, seed=2)],
             lambda x, y: ref_dot(x, y, axes, normalize), device, rtol=1e-5, atol=1e-5)
    assert layer.compute_output_shape([(None,) + sx[1:], (None,) + sy[1:]]) == \
        (None,) + ref_dot(rand(sx), rand(sy), axes).shape[1:]


def test_functional_form_and_symbolic_shape():
    a, b = gf.keras.Input((None, 4)), gf.keras.Input((3, 4))
    assert tuple(layers.dot([a, b], axes=2).shape) == (None, None, 3)
    assert tuple(layers.Dot(1)([gf.keras.Input((4,)), gf.keras.Input((4,))]).shape) == (None, 1)
    x, y = rand((2, 3)), rand((2, 3), seed=1)
    np.testing.assert_allclose(layers.dot([x, y], axes=1, normalize=True).numpy(), ref_dot(x, y, 1, True), rtol=1e-6)


def test_normalize_keeps_a_zero_vector_finite():
    x, y = np.zeros((2, 3), np.float32), rand((2, 3))
    np.testing.assert_array_equal(layers.Dot(1, normalize=True)([x, y]).numpy(), np.zeros((2, 1)))


@pytest.mark.parametrize("normalize", [False, True])
@pytest.mark.parametrize("sx,sy,axes", [((2, 3), (2, 3), 1), ((2, 3, 2), (2, 2, 4), (2, 1))])
def test_gradients(sx, sy, axes, normalize):
    layer = layers.Dot(axes, normalize=normalize, dtype="float64")
    check_grad(lambda x, y: layer([x, y]), [rand(sx, seed=3), rand(sy, seed=4)])


def test_errors_name_the_layer_and_shapes():
    with pytest.raises(ValueError, match=r"dot.*\(Dot\): the inputs' axes differ \(3 != 4\) for axes 1; shapes "
                                         r"\(2, 3\), \(2, 4\)"):
        layers.Dot(1)([rand((2, 3)), rand((2, 4))])
    with pytest.raises(ValueError, match=r"batch sizes differ \(2 != 3\)"):
        layers.Dot(1)([rand((2, 3)), rand((3, 3))])
    with pytest.raises(ValueError, match=r"axes 0 must name a non-batch axis of each input"):
        layers.Dot(0)([rand((2, 3)), rand((2, 3))])
    with pytest.raises(ValueError, match=r"inputs need a batch axis and rank >= 2"):
        layers.Dot(-1)([rand((3,)), rand((3,))])
    with pytest.raises(ValueError, match=r"call it on a list of two tensors"):
        layers.Dot(1)([rand((2, 3))] * 3)
    with pytest.raises(ValueError, match=r"axes must be an int or a list of two ints"):
        layers.Dot([1, 2, 3])
    with pytest.raises(TypeError, match=r"axes must be an int or a list of two ints, got str"):
        layers.Dot("1")


def test_a_compiled_fit_trains_through_it():
    rng = np.random.default_rng(5)
    a, b = rng.normal(size=(64, 4)).astype(np.float32), rng.normal(size=(64, 4)).astype(np.float32)
    target = (a * b).sum(axis=1, keepdims=True) * 0.5
    x1, x2 = gf.keras.Input((4,)), gf.keras.Input((4,))
    out = layers.Dot(axes=1)([layers.Dense(4, use_bias=False)(x1), x2])
    model = gf.keras.Model([x1, x2], out)
    model.compile(gf.keras.optimizers.Adam(0.05), "mse")
    loss = model.fit([a, b], target, batch_size=16, epochs=15, verbose=0).history["loss"]
    assert loss[-1] < loss[0] / 4
