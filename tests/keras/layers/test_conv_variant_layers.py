"""Conv2DTranspose, DepthwiseConv2D and SeparableConv2D: Keras 3's output shapes and weights, values against
direct-loop references (tests/ops/test_conv_variants.py), and training in a compiled fit."""
import numpy as np
import pytest

import gpuflow as gf
from tests.harness import rand
from tests.ops.test_conv_variants import ref_conv2d_transpose, ref_depthwise

layers = gf.keras.layers


@pytest.mark.parametrize("kwargs, size, expected", [
    (dict(kernel_size=3, strides=2, padding="same"), 6, 12),
    (dict(kernel_size=3, strides=2, padding="valid"), 6, 13),
    (dict(kernel_size=1, strides=3, padding="valid"), 4, 12),
    (dict(kernel_size=3, strides=2, padding="same", output_padding=1), 6, 12),
    (dict(kernel_size=3, strides=2, padding="valid", output_padding=1), 6, 14),
    (dict(kernel_size=2, strides=1, padding="valid", dilation_rate=2), 5, 7),
])
def test_conv2d_transpose_output_sizes_are_keras(kwargs, size, expected):
    layer = layers.Conv2DTranspose(2, **kwargs)
    x = rand((1, size, size, 3), seed=1)
    y = layer(x)
    assert tuple(y.shape) == (1, expected, expected, 2) == tuple(layer.compute_output_shape(x.shape))
    kernel, bias = (w.numpy() for w in layer.weights)
    pads = {"same": "SAME", "valid": "VALID"}[kwargs["padding"]]
    stride, dil = kwargs["strides"], kwargs.get("dilation_rate", 1)
    want = ref_conv2d_transpose(x.astype(np.float64), kernel, (expected, expected), (stride, stride), pads,
                                (dil, dil)) + bias
    np.testing.assert_allclose(y.numpy(), want, rtol=1e-5, atol=1e-5)


def test_depthwise_and_separable_values_and_weights():
    x = rand((2, 7, 6, 3), seed=2)
    depthwise = layers.DepthwiseConv2D((3, 2), strides=(2, 1), padding="same", depth_multiplier=2,
                                       bias_initializer="glorot_uniform")
    y = depthwise(x).numpy()
    kernel, bias = (w.numpy() for w in depthwise.weights)
    assert kernel.shape == (3, 2, 3, 2) and bias.shape == (6,) and y.shape == (2, 4, 6, 6)
    np.testing.assert_allclose(y, ref_depthwise(x.astype(np.float64), kernel, (2, 1), "SAME", (1, 1)) + bias,
                               rtol=1e-5, atol=1e-5)
    separable = layers.SeparableConv2D(4, 3, activation="relu", bias_initializer="glorot_uniform")
    y = separable(x).numpy()
    names = [w.name.split("/")[-1].split(":")[0] for w in separable.weights]
    assert names == ["depthwise_kernel", "pointwise_kernel", "bias"]
    dk, pk, b = (w.numpy() for w in separable.weights)
    want = np.maximum(ref_depthwise(x.astype(np.float64), dk, (1, 1), "VALID", (1, 1)) @ pk[0, 0] + b, 0)
    np.testing.assert_allclose(y, want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("make", [
    lambda: layers.Conv2DTranspose(2, 3, strides=2, padding="same", activation="relu"),
    lambda: layers.DepthwiseConv2D(3, padding="same", depth_multiplier=2),
    lambda: layers.SeparableConv2D(3, 3, padding="same"),
])
def test_a_model_with_the_layer_trains_compiled(make):
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((32, 6, 6, 2)).astype(np.float32), rng.integers(0, 3, 32).astype(np.int32)
    with gf.device("cpu"):
        gf.keras.utils.set_random_seed(4)
        model = gf.keras.Sequential([gf.keras.Input((6, 6, 2)), make(), layers.GlobalAveragePooling2D(),
                                     layers.Dense(3)])
        model.compile(gf.keras.optimizers.Adam(1e-2), gf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        history = model.fit(x, y, batch_size=8, epochs=4, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < losses[0]


@pytest.mark.parametrize("make, message", [
    (lambda: layers.Conv2DTranspose(2, 3, strides=2, output_padding=2), r"output_padding must be 2 ints"),
    (lambda: layers.Conv2DTranspose(0, 3), "filters must be a positive integer"),
    (lambda: layers.DepthwiseConv2D(3, depth_multiplier=0), "depth_multiplier must be a positive integer"),
    (lambda: layers.SeparableConv2D(4, 3, padding="causal"), "padding must be 'valid' or 'same'"),
])
def test_bad_arguments_are_named(make, message):
    with pytest.raises(ValueError, match=message):
        make()
