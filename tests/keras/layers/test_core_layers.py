"""Core layers: forward vs NumPy, float64 gradients, training behaviour and input errors."""
import math

import numpy as np
import pytest

import gpuflow as gf
from gpuflow.keras import layers, regularizers
from layer_helpers import built, np_weights, with_weights
from tests.harness import check_grad, check_op, rand


ACTIVATIONS = {"tanh": np.tanh, "gelu": lambda z: 0.5 * z * (1 + np.vectorize(math.erf, otypes=[float])(z / math.sqrt(2)))}


@pytest.mark.parametrize("activation", ["tanh", "gelu"])  # fused with the bias add, and not
@pytest.mark.parametrize("shape", [(4, 3), (1, 3), (0, 3), (2, 5, 3), (2, 2, 2, 3)])
def test_dense_forward(device, shape, activation):
    layer = built(layers.Dense(4, activation=activation, bias_initializer="glorot_uniform"), shape)
    x = rand(shape)
    k, b = np_weights(layer, "kernel", "bias")
    check_op(layer, [x], lambda x: ACTIVATIONS[activation](x @ k + b), device)
    assert layer.compute_output_shape((None,) + shape[1:]) == (None,) + shape[1:-1] + (4,)


def test_dense_without_bias_and_linear():
    layer = layers.Dense(2, use_bias=False)
    x = rand((3, 5))
    y = layer(x)
    assert layer.bias is None and len(layer.weights) == 1
    np.testing.assert_allclose(y.numpy(), x @ layer.kernel.numpy(), rtol=1e-6)


@pytest.mark.parametrize("activation", ["sigmoid", "silu"])
@pytest.mark.parametrize("shape", [(3, 2), (2, 2, 3)])
def test_dense_grad(shape, activation):
    layer = built(layers.Dense(2, activation=activation, dtype="float64",
                               bias_initializer="random_normal"), shape)
    check_grad(with_weights(layer, ["kernel", "bias"]), [rand(shape)] + np_weights(layer, "kernel", "bias"))


def test_dense_regularizers_become_losses():
    layer = layers.Dense(3, kernel_regularizer=regularizers.L2(0.1), activity_regularizer="l1")
    y = layer(rand((2, 4)))
    kernel_loss, activity_loss = layer.losses
    assert float(kernel_loss) == pytest.approx(0.1 * (layer.kernel.numpy() ** 2).sum(), rel=1e-5)
    assert float(activity_loss) == pytest.approx(0.01 * np.abs(y.numpy()).sum(), rel=1e-5)


def test_dense_input_errors():
    with pytest.raises(ValueError, match=r"dense.*\(Dense\): expects inputs of rank >= 2.*got shape \(3,\)"):
        layers.Dense(2)(rand((3,)))
    layer = layers.Dense(2)
    layer(rand((1, 4)))
    with pytest.raises(ValueError, match=r"built for 4 input features but got inputs of shape \(1, 5\)"):
        layer(rand((1, 5)))
    with pytest.raises(ValueError, match="units must be a positive integer"):
        layers.Dense(0)


def test_dropout_training_and_inference():
    x = np.ones((200, 50), np.float32)
    layer = layers.Dropout(0.3)
    np.testing.assert_array_equal(layer(x).numpy(), x)  # training defaults to False
    y = layer(x, training=True).numpy()
    kept = y != 0
    assert kept.mean() == pytest.approx(0.7, abs=0.02)
    np.testing.assert_allclose(y[kept], 1 / 0.7, rtol=1e-6)


def test_dropout_noise_shape_shares_the_mask_and_seed_repeats():
    x = np.ones((4, 6, 5), np.float32)
    y = layers.Dropout(0.5, noise_shape=(None, 1, 5))(x, training=True).numpy()
    assert (y == y[:, :1, :]).all() and (y == 0).any() and (y != 0).any()
    gf.random.set_seed(3)
    a = layers.Dropout(0.5, seed=11)(x, training=True).numpy()
    gf.random.set_seed(3)
    b = layers.Dropout(0.5, seed=11)(x, training=True).numpy()
    np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match=r"noise_shape \(1, 5\) needs one entry per axis"):
        layers.Dropout(0.5, noise_shape=(1, 5))(x, training=True)


def test_dropout_gradient_uses_the_same_mask():
    x = gf.constant(np.ones((30, 20)))
    with gf.GradientTape() as tape:
        tape.watch(x)
        y = layers.Dropout(0.4, dtype="float64")(x, training=True)
    np.testing.assert_array_equal(tape.gradient(y, x).numpy(), y.numpy())


def test_flatten_reshape_permute(device):
    x = rand((2, 3, 4, 5))
    check_op(layers.Flatten(), [x], lambda x: x.reshape(2, -1), device)
    check_op(layers.Flatten(data_format="channels_first"), [x],
             lambda x: x.transpose(0, 2, 3, 1).reshape(2, -1), device)
    check_op(layers.Reshape((-1, 10)), [x], lambda x: x.reshape(2, 6, 10), device)
    check_op(layers.Permute((3, 1, 2)), [x], lambda x: x.transpose(0, 3, 1, 2), device)
    assert layers.Flatten().compute_output_shape((None, 3, None)) == (None, None)
    assert layers.Reshape((-1, 10)).compute_output_shape((None, 3, 4, 5)) == (None, 6, 10)
    assert layers.Permute((2, 1)).compute_output_shape((None, 3, 4)) == (None, 4, 3)
    assert layers.Flatten()(rand((0, 3, 2))).shape == (0, 6)


def test_reshape_and_permute_errors():
    with pytest.raises(ValueError, match=r"reshape \(Reshape\): cannot reshape samples of shape \(3, 4\) \(12 values\) "
                                         r"to \(5, -1\)"):
        layers.Reshape((5, -1), name="reshape")(rand((2, 3, 4)))
    with pytest.raises(ValueError, match="at most one -1"):
        layers.Reshape((-1, -1))
    with pytest.raises(ValueError, match=r"permutation of 1..2"):
        layers.Permute((0, 1))
    with pytest.raises(ValueError, match=r"need inputs of rank 3, got shape \(2, 3, 4, 5\)"):
        layers.Permute((2, 1))(rand((2, 3, 4, 5)))


def test_activation_relu_leaky_softmax(device):
    x = rand((3, 7), low=-8, high=8)
    check_op(layers.Activation("softplus"), [x], lambda x: np.log1p(np.exp(x)), device)
    check_op(layers.ReLU(max_value=6.0, negative_slope=0.1, threshold=0.5), [x],
             lambda x: np.where(x >= 6, 6, np.where(x >= 0.5, x, 0.1 * (x - 0.5))), device)
    check_op(layers.LeakyReLU(), [x], lambda x: np.where(x > 0, x, 0.3 * x), device)
    check_op(layers.LeakyReLU(alpha=0.1), [x], lambda x: np.where(x > 0, x, 0.1 * x), device)

    def softmax(x, axis):
        e = np.exp(x - x.max(axis=axis, keepdims=True))
        return e / e.sum(axis=axis, keepdims=True)
    check_op(layers.Softmax(axis=0), [x], lambda x: softmax(x, 0), device)
    x3 = rand((2, 3, 4))
    check_op(layers.Softmax(axis=(1, 2)), [x3], lambda x: softmax(x, (1, 2)), device, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="negative_slope must be >= 0"):
        layers.ReLU(negative_slope=-1)


def test_softmax_mask_zeroes_masked_positions():
    x = rand((2, 5))
    mask = np.array([[True, True, False, True, False], [False] * 5])
    y = layers.Softmax()(x, mask=gf.constant(mask)).numpy()
    e = np.exp(x[0, mask[0]])
    np.testing.assert_allclose(y[0, mask[0]], e / e.sum(), rtol=1e-5)
    assert (y[0, ~mask[0]] < 1e-30).all()
    np.testing.assert_allclose(y[1], np.full(5, 0.2), rtol=1e-6)  # all masked: uniform, not NaN


def test_lambda_runs_in_memory_but_refuses_config():
    layer = layers.Lambda(lambda x, k: x * k, arguments={"k": 3.0}, output_shape=(4,))
    x = rand((2, 4))
    np.testing.assert_allclose(layer(x).numpy(), 3 * x)
    assert layer.compute_output_shape((None, 4)) == (None, 4)
    with pytest.raises(NotImplementedError, match="Lambda layers are not serialised"):
        layer.get_config()


def test_embedding_forward_and_grad(device):
    ids = np.array([[0, 6, 2], [2, 2, 5]], np.int32)
    layer = built(layers.Embedding(7, 3), ids.shape)
    table = layer.embeddings.numpy()
    check_op(layer, [ids], lambda i: table[i], device)
    assert layer.compute_output_shape((None, 3)) == (None, 3, 3)
    table_np = table.astype(np.float64)
    grad_layer = built(layers.Embedding(7, 3, dtype="float64"), ids.shape)
    check_grad(lambda t: with_weights(grad_layer, ["embeddings"])(gf.constant(ids), t), [table_np])


def test_embedding_errors():
    layer = layers.Embedding(4, 2)
    with pytest.raises(gf.errors.InvalidArgumentError):
        layer(np.array([[1, 4]], np.int32)).numpy()
    assert layers.Embedding(4, 2)(np.array([[1.0, 3.0]])).shape == (1, 2, 2)  # float ids are cast back
