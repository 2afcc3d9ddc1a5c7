"""SimpleRNN / LSTM / GRU / Bidirectional: forward vs NumPy step loops with the layers' own weights,
gradients, return_sequences/return_state/go_backwards/initial_state, Bidirectional merge modes,
weight shapes, configs, errors."""
import numpy as np
import pytest

import gpuflow as gf
from gpuflow.keras import layers
from tests.harness import check_grad, rand


def sig(v):
    return 1 / (1 + np.exp(-v))


def np_simple(x, w, u, b, h):
    return [np.tanh(x @ w + h[0] @ u + b)]


def np_lstm(x, w, u, b, state):
    h, c = state
    z = x @ w + h @ u + b
    i, f, g, o = np.split(z, 4, axis=1)
    c = sig(f) * c + sig(i) * np.tanh(g)
    return [sig(o) * np.tanh(c), c]


def np_gru(x, w, u, b, state, reset_after=True):
    h = state[0]
    n = u.shape[0]
    if reset_after:
        xz, xr, xh = np.split(x @ w + b[0], 3, axis=1)
        hz, hr, hh = np.split(h @ u + b[1], 3, axis=1)
        z, r = sig(xz + hz), sig(xr + hr)
        cand = np.tanh(xh + r * hh)
    else:
        xz, xr, xh = np.split(x @ w + b, 3, axis=1)
        z, r = sig(xz + h @ u[:, :n]), sig(xr + h @ u[:, n:2 * n])
        cand = np.tanh(xh + (r * h) @ u[:, 2 * n:])
    return [z * h + (1 - z) * cand]


def np_run(step, x, weights, states, go_backwards=False):
    """The reference time loop: returns (outputs per processed step, final states)."""
    outs = []
    order = range(x.shape[1] - 1, -1, -1) if go_backwards else range(x.shape[1])
    for t in order:
        states = step(x[:, t].astype(np.float64), *weights, states)
        outs.append(states[0])
    return np.stack(outs, axis=1), states


CELLS = {"SimpleRNN": (layers.SimpleRNN, np_simple, 1), "LSTM": (layers.LSTM, np_lstm, 2),
         "GRU": (layers.GRU, np_gru, 1)}


def weights(layer):
    return [v.numpy().astype(np.float64) for v in (layer.kernel, layer.recurrent_kernel, layer.bias)]


@pytest.mark.parametrize("kind", list(CELLS))
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("shape", [(1, 1, 2), (3, 5, 4)])
def test_forward_vs_numpy_step_loop(device, kind, go_backwards, shape):
    cls, step, n_states = CELLS[kind]
    layer = cls(3, return_sequences=True, return_state=True, go_backwards=go_backwards,
                bias_initializer="random_uniform")
    x = rand(shape, seed=1)
    seq, *states = layer(x)
    init = [np.zeros((shape[0], 3))] * n_states
    ref_seq, ref_states = np_run(step, x, weights(layer), init, go_backwards)
    np.testing.assert_allclose(seq.numpy(), ref_seq, rtol=1e-5, atol=1e-5)
    for s, r in zip(states, ref_states):
        np.testing.assert_allclose(s.numpy(), r, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kwargs,step", [
    (dict(reset_after=False), lambda x, w, u, b, s: np_gru(x, w, u, b, s, reset_after=False)),
])
def test_gru_reset_before(device, kwargs, step):
    layer = layers.GRU(4, bias_initializer="random_uniform", **kwargs)
    x = rand((2, 4, 3), seed=2)
    out = layer(x).numpy()
    assert layer.bias.shape == (12,)
    np.testing.assert_allclose(out, np_run(step, x, weights(layer), [np.zeros((2, 4))])[1][0], rtol=1e-5, atol=1e-5)


def test_non_default_activations_run_the_composite_path(device):
    layer = layers.LSTM(2, activation="relu", recurrent_activation="hard_sigmoid")
    x = rand((2, 3, 2), seed=3)
    out = layer(x).numpy()
    w, u, b = weights(layer)
    relu, hard = (lambda v: np.maximum(v, 0)), (lambda v: np.clip(v / 6 + 0.5, 0, 1))
    h, c = np.zeros((2, 2)), np.zeros((2, 2))
    for t in range(3):
        i, f, g, o = np.split(x[:, t] @ w + h @ u + b, 4, axis=1)
        c = hard(f) * c + hard(i) * relu(g)
        h = hard(o) * relu(c)
    np.testing.assert_allclose(out, h, rtol=1e-5, atol=1e-5)


def test_initial_state(device):
    layer = layers.LSTM(3)
    x = rand((2, 4, 2), seed=4)
    h0, c0 = rand((2, 3), seed=5), rand((2, 3), seed=6)
    out = layer(x, initial_state=[h0, c0]).numpy()
    np.testing.assert_allclose(out, np_run(np_lstm, x, weights(layer), [h0, c0])[1][0], rtol=1e-5, atol=1e-5)


def test_keras_weight_shapes_and_defaults():
    lstm, gru, simple = layers.LSTM(5), layers.GRU(5), layers.GRU(5, reset_after=False)
    for layer in (lstm, gru, simple):
        layer.build((None, 7, 3))
    assert [tuple(v.shape) for v in lstm.weights] == [(3, 20), (5, 20), (20,)]
    assert [tuple(v.shape) for v in gru.weights] == [(3, 15), (5, 15), (2, 15)]
    assert tuple(simple.bias.shape) == (15,)
    assert [v.name.split("/")[-1] for v in lstm.weights] == ["kernel:0", "recurrent_kernel:0", "bias:0"]
    np.testing.assert_array_equal(lstm.bias.numpy(), np.r_[np.zeros(5), np.ones(5), np.zeros(10)])  # unit_forget_bias
    u = lstm.recurrent_kernel.numpy()
    np.testing.assert_allclose(u @ u.T, np.eye(5), atol=1e-5)  # 'orthogonal' recurrent initializer


@pytest.mark.parametrize("kind", list(CELLS))
def test_layer_gradients_float64(kind):
    cls = CELLS[kind][0]
    layer = cls(2, return_sequences=True, dtype="float64", bias_initializer="random_uniform")
    layer.build((1, 3, 2))

    def run(x, w, u, b):
        saved = layer.kernel, layer.recurrent_kernel, layer.bias
        layer.kernel, layer.recurrent_kernel, layer.bias = w, u, b
        try:
            return layer(x)
        finally:
            layer.kernel, layer.recurrent_kernel, layer.bias = saved
    check_grad(run, [rand((1, 3, 2), "float64", seed=7)] + weights(layer))


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_training_matches_on_sim(kind):
    # The fused cells' backward kernels through a whole sequence agree with the cpu reference.
    grads = {}
    for dev in ("cpu", "sim"):
        gf.random.set_seed(3)
        with gf.device(dev):
            layer = CELLS[kind][0](3, return_sequences=True, bias_initializer="random_uniform")
            x = gf.constant(rand((2, 4, 3), seed=8))
            with gf.GradientTape() as tape:
                tape.watch(x)
                loss = gf.reduce_sum(layer(x) ** 2)
            grads[dev] = [g.numpy() for g in tape.gradient(loss, [x] + layer.trainable_weights)]
    for a, b in zip(grads["sim"], grads["cpu"]):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("merge_mode,combine", [
    ("concat", lambda f, b: np.concatenate([f, b], -1)), ("sum", np.add), ("mul", np.multiply),
    ("ave", lambda f, b: (f + b) / 2), (None, lambda f, b: [f, b]),
])
def test_bidirectional_merge_modes(device, merge_mode, combine):
    bi = layers.Bidirectional(layers.GRU(3, return_sequences=True), merge_mode=merge_mode)
    x = rand((2, 4, 2), seed=9)
    out = bi(x)
    zeros = [np.zeros((2, 3))]
    fwd = np_run(np_gru, x, weights(bi.forward_layer), zeros)[0]
    bwd = np_run(np_gru, x, weights(bi.backward_layer), zeros, go_backwards=True)[0][:, ::-1]
    expected = combine(fwd, bwd)
    got = [o.numpy() for o in out] if merge_mode is None else out.numpy()
    np.testing.assert_allclose(np.asarray(got), np.asarray(expected), rtol=1e-5, atol=1e-5)
    shape = bi.compute_output_shape((2, 4, 2))
    assert ([tuple(s) for s in shape] if merge_mode is None else tuple(shape)) == \
        ([(2, 4, 3)] * 2 if merge_mode is None else (2, 4, 6 if merge_mode == "concat" else 3))


def test_bidirectional_states_and_config():
    bi = layers.Bidirectional(layers.LSTM(2, return_state=True), merge_mode="sum")
    assert bi.backward_layer.go_backwards and not bi.forward_layer.go_backwards
    out = bi(rand((2, 3, 4), seed=10))
    assert [tuple(o.shape) for o in out] == [(2, 2)] * 5  # merged, forward h, c, backward h, c
    assert [tuple(s) for s in bi.compute_output_shape((2, 3, 4))] == [(2, 2)] * 5
    assert len(bi.trainable_weights) == 6
    config = bi.get_config()
    clone = layers.Bidirectional.from_config(config)
    assert clone.get_config() == config and clone.merge_mode == "sum"


@pytest.mark.parametrize("kind,extra", [("SimpleRNN", {}), ("LSTM", {"unit_forget_bias": False}),
                                        ("GRU", {"reset_after": False})])
def test_config_round_trip(kind, extra):
    layer = CELLS[kind][0](4, activation="relu", use_bias=False, recurrent_initializer="glorot_uniform",
                           kernel_regularizer="l2", return_sequences=True, return_state=True, go_backwards=True,
                           **extra)
    config = layer.get_config()
    assert type(layer).from_config(config).get_config() == config
    for key, value in extra.items():
        assert config[key] == value
    assert config["recurrent_initializer"]["class_name"] == "GlorotUniform"


def test_symbolic_shapes():
    inputs = gf.keras.Input((None, 3))
    seq, h, c = layers.LSTM(4, return_sequences=True, return_state=True)(inputs)
    assert tuple(seq.shape) == (None, None, 4) and tuple(h.shape) == tuple(c.shape) == (None, 4)
    assert tuple(layers.Bidirectional(layers.SimpleRNN(2))(inputs).shape) == (None, 4)


def test_errors_name_the_layer_and_shapes():
    with pytest.raises(ValueError, match=r"\(LSTM\): expects inputs of rank 3 .* got shape \(2, 3\)"):
        layers.LSTM(2)(np.zeros((2, 3), np.float32))
    layer = layers.GRU(2)
    layer(np.zeros((1, 2, 3), np.float32))
    with pytest.raises(ValueError, match=r"\(GRU\): was built for 3 features .* \(1, 2, 5\)"):
        layer(np.zeros((1, 2, 5), np.float32))
    with pytest.raises(ValueError, match=r"\(LSTM\): initial_state must be 2 tensor\(s\) of shape \(1, 2\)"):
        layers.LSTM(2)(np.zeros((1, 2, 3), np.float32), initial_state=[np.zeros((1, 2), np.float32)])
    with pytest.raises(ValueError, match=r"Bidirectional: merge_mode must be one of"):
        layers.Bidirectional(layers.LSTM(2), merge_mode="max")
    with pytest.raises(ValueError, match=r"Bidirectional: layer must be a SimpleRNN, LSTM or GRU"):
        layers.Bidirectional(layers.Dense(2))


def test_dropout_masks_are_shared_over_time_and_only_in_training(device):
    # A linear SimpleRNN that copies its input: output_t = x_t * input_mask, so the mask is visible.
    layer = layers.SimpleRNN(4, activation="linear", kernel_initializer="identity", recurrent_initializer="zeros",
                             use_bias=False, dropout=0.5, return_sequences=True)
    x = np.ones((3, 5, 4), np.float32)
    np.testing.assert_array_equal(layer(x).numpy(), x)  # inference: no dropout
    out = layer(x, training=True).numpy()
    assert set(np.unique(out)) <= {0.0, 2.0} and 0 < np.count_nonzero(out) < out.size
    np.testing.assert_array_equal(out, np.broadcast_to(out[:, :1], out.shape))  # the same mask at every step


def test_recurrent_dropout_masks_the_state_into_the_recurrent_matmul(device):
    # h_t = x_t + h_{t-1} @ I with a masked h_{t-1}: step 2 is 1 + 2 * mask * 1.
    layer = layers.SimpleRNN(6, activation="linear", kernel_initializer="identity", recurrent_initializer="identity",
                             use_bias=False, recurrent_dropout=0.5, return_sequences=True)
    out = layer(np.ones((2, 2, 6), np.float32), training=True).numpy()
    np.testing.assert_array_equal(out[:, 0], 1)
    assert set(np.unique(out[:, 1])) <= {1.0, 3.0}


@pytest.mark.parametrize("kind", list(CELLS))
def test_dropout_in_config_and_range_checked(kind):
    layer = CELLS[kind][0](2, dropout=0.25, recurrent_dropout=0.1)
    assert layer.get_config()["dropout"] == 0.25 and layer.get_config()["recurrent_dropout"] == 0.1
    with pytest.raises(ValueError, match=r"recurrent_dropout must be in \[0, 1\), got 1.5"):
        CELLS[kind][0](2, recurrent_dropout=1.5)
    out = layer(np.ones((2, 3, 2), np.float32), training=True)
    assert tuple(out.shape) == (2, 2)


def test_bidirectional_owns_only_its_two_copies_weights():
    inner = layers.LSTM(2)
    inner(np.zeros((1, 3, 4), np.float32))  # built and used elsewhere
    bi = layers.Bidirectional(inner)
    bi(np.zeros((1, 3, 4), np.float32))
    assert len(bi.weights) == 6 and not any(w is v for w in bi.weights for v in inner.weights)
