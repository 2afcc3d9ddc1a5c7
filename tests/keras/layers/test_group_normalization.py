"""GroupNormalization: forward vs a NumPy reference of Keras 3's definition, on every device and axis layout;
float64 gradients wrt inputs, gamma and beta vs finite differences; half-precision inputs; input errors; a
compiled fit."""
import numpy as np
import pytest

import gpuflow as gf
from gpuflow.keras import layers
from layer_helpers import built, np_weights, with_weights
from tests.harness import check_grad, check_op, rand


def ref_group_norm(x, groups, axis, gamma, beta, eps):
    """Keras 3: split the channels of `axis` into groups; normalise each sample over its group's channels and
    every other non-batch axis (biased variance); then one gamma and beta per channel."""
    x = x.astype(np.float64)
    axis = axis % x.ndim
    channels = x.shape[axis]
    grouped = x.reshape(x.shape[:axis] + (groups, channels // groups) + x.shape[axis + 1:])
    reduce = tuple(i for i in range(1, grouped.ndim) if i != axis)
    mean = grouped.mean(axis=reduce, keepdims=True)
    var = grouped.var(axis=reduce, keepdims=True)
    y = ((grouped - mean) / np.sqrt(var + eps)).reshape(x.shape)
    bshape = [channels if i == axis else 1 for i in range(x.ndim)]
    return y * gamma.reshape(bshape) + beta.reshape(bshape)


def randomize(layer):
    for i, w in enumerate(layer.trainable_weights):
        w.assign(rand(tuple(w.shape), w.dtype.name, 0.5, 1.5, seed=10 + i))
    return layer


CASES = [((4, 6), 3, -1), ((2, 5, 8), 4, -1), ((2, 3, 4, 6), 2, -1), ((2, 6, 3, 4), 3, 1), ((3, 4, 2), -1, 1),
         ((2, 3, 8), 1, 2), ((2, 4, 5, 6), 6, -1)]


@pytest.mark.parametrize("shape,groups,axis", CASES)
def test_forward_matches_keras_definition(device, shape, groups, axis):
    layer = randomize(built(layers.GroupNormalization(groups=groups, axis=axis, epsilon=1e-5), shape))
    gamma, beta = np_weights(layer, "gamma", "beta")
    n_groups = shape[axis] if groups == -1 else groups
    check_op(layer, [rand(shape, low=-3, high=5)], lambda x: ref_group_norm(x, n_groups, axis, gamma, beta, 1e-5),
             device, rtol=1e-4, atol=1e-4)


def test_defaults_and_flags():
    layer = layers.GroupNormalization()
    assert (layer.groups, layer.axis, layer.epsilon, layer.center, layer.scale) == (32, -1, 1e-3, True, True)
    x = rand((2, 3, 64), low=-4, high=4)
    ones, zeros = np.ones(64), np.zeros(64)
    np.testing.assert_allclose(layer(x).numpy(), ref_group_norm(x, 32, -1, ones, zeros, 1e-3), rtol=1e-4, atol=1e-5)
    assert [w.name.split("/")[-1] for w in layer.trainable_weights] == ["gamma:0", "beta:0"]
    bare = layers.GroupNormalization(groups=2, center=False, scale=False)
    np.testing.assert_allclose(bare(rand((3, 4))).numpy(), ref_group_norm(rand((3, 4)), 2, -1, ones[:4], zeros[:4],
                                                                            1e-3), rtol=1e-4, atol=1e-5)
    assert bare.weights == []


@pytest.mark.parametrize("shape,groups,axis", [((2, 6), 3, -1), ((2, 3, 4), 2, -1), ((2, 4, 3), 2, 1)])
def test_grad_wrt_inputs_gamma_and_beta(shape, groups, axis):
    layer = randomize(built(layers.GroupNormalization(groups, axis=axis, dtype="float64"), shape))
    check_grad(with_weights(layer, ["gamma", "beta"]), [rand(shape)] + np_weights(layer, "gamma", "beta"))


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_half_inputs_are_normalised_in_float32(device, dtype):
    layer = layers.GroupNormalization(2, dtype=dtype)
    x = rand((3, 5, 4), dtype, low=100, high=104)  # a large mean: half-precision statistics would lose it
    out = layer(gf.constant(x))
    assert out.dtype == gf.as_dtype(dtype)
    expected = ref_group_norm(x.astype(np.float32), 2, -1, np.ones(4), np.zeros(4), 1e-3)
    np.testing.assert_allclose(out.numpy().astype(np.float64), expected, rtol=2e-2, atol=3e-2)


def test_input_errors_name_the_layer():
    with pytest.raises(ValueError, match=r"group_normalization.*\(GroupNormalization\): 6 channels \(axis -1 of "
                                         r"shape \(2, 6\)\) cannot be split into 4 groups"):
        layers.GroupNormalization(4)(rand((2, 6)))
    with pytest.raises(ValueError, match=r"12 channels .* cannot be split into 32 groups"):
        layers.GroupNormalization()(rand((2, 12)))
    with pytest.raises(ValueError, match="axis 0 must be a non-batch axis"):
        layers.GroupNormalization(1, axis=0)(rand((2, 6)))
    with pytest.raises(ValueError, match="axis 3 must be a non-batch axis"):
        layers.GroupNormalization(1, axis=3)(rand((2, 6)))
    with pytest.raises(ValueError, match="groups must be >= 1"):
        layers.GroupNormalization(0)
    with pytest.raises(ValueError, match="axis must be one int"):
        layers.GroupNormalization(2, axis=[1, 2])
    layer = built(layers.GroupNormalization(2), (2, 4))
    with pytest.raises(ValueError, match=r"was built for size \(4,\) on axes \[1\] but got inputs of shape \(2, 6\)"):
        layer(rand((2, 6)))


def test_a_compiled_fit_trains_it():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(64, 5, 8)).astype(np.float32) * 3 + 1
    y = (x[:, :, :4].mean(axis=(1, 2)) > x[:, :, 4:].mean(axis=(1, 2))).astype(np.float32)[:, None]
    model = gf.keras.Sequential([gf.keras.Input((None, 8)), layers.GroupNormalization(4),
                                 layers.GlobalAveragePooling1D(), layers.Dense(1, activation="sigmoid")])
    assert model.output_shape == (None, 1)
    model.compile(gf.keras.optimizers.Adam(0.05), "binary_crossentropy")
    loss = model.fit(x, y, batch_size=16, epochs=8, verbose=0).history["loss"]
    assert loss[-1] < loss[0]
    norm = model.layers[0]
    assert not np.allclose(norm.gamma.numpy(), 1) and not np.allclose(norm.beta.numpy(), 0)
    np.testing.assert_allclose(model.predict(x[:4], verbose=0), model(x[:4]).numpy(), rtol=1e-5, atol=1e-6)
