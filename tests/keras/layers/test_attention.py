"""MultiHeadAttention against a NumPy reference written from its definition: self- and cross-attention, masks,
causal masking, value_dim/output_shape, scores, dropout only in training; gradients against autograd; and in a
compiled model that trains, saves and loads."""
import autograd
import autograd.numpy as anp
import numpy as np
import pytest

import gpuflow as gf

layers = gf.keras.layers


def _reference(layer, q, v, k=None, mask=None, causal=False, xp=np):
    w = {x.name.split("/", 1)[1].split(":")[0]: x.numpy() for x in layer.weights}
    k = v if k is None else k

    def proj(name, x):
        y = xp.einsum("btd,dhk->bthk", x, w[f"{name}/kernel"])
        return y + w[f"{name}/bias"] if f"{name}/bias" in w else y
    qp, kp, vp = proj("query", q) / np.sqrt(layer.key_dim), proj("key", k), proj("value", v)
    scores = xp.einsum("bthk,bshk->bhts", qp, kp)
    allowed = np.ones(scores.shape, bool)
    if mask is not None:
        allowed = allowed & mask[:, None]
    if causal:
        allowed = allowed & np.tril(np.ones(scores.shape[-2:], bool))
    scores = xp.where(allowed, scores, -1e9)
    e = xp.exp(scores - xp.max(scores, axis=-1, keepdims=True))
    probs = e / xp.sum(e, axis=-1, keepdims=True)
    out = xp.einsum("bhts,bshv,hvo->bto", probs, vp, w["attention_output/kernel"])
    if "attention_output/bias" in w:
        out = out + w["attention_output/bias"]
    return out, probs


def _rand(shape, seed):
    return np.random.default_rng(seed).normal(size=shape)


@pytest.mark.parametrize("cross", [False, True])
def test_matches_the_definition(device, cross):
    layer = layers.MultiHeadAttention(3, 4, value_dim=5 if cross else None, output_shape=6 if cross else None,
                                      bias_initializer=gf.keras.initializers.RandomNormal(seed=1), dtype="float64")
    q = _rand((2, 4, 7), 0)
    v = _rand((2, 6, 3), 1) if cross else q
    k = _rand((2, 6, 5), 2) if cross else None
    mask = np.random.default_rng(3).random((2, 4, 6 if cross else 4)) < 0.7
    mask[..., 0] = True  # every query sees at least one key
    out, scores = layer(gf.constant(q), gf.constant(v), None if k is None else gf.constant(k),
                        attention_mask=gf.constant(mask), return_attention_scores=True)
    expected, probs = _reference(layer, q, v, k, mask)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(scores.numpy(), probs, rtol=1e-9, atol=1e-12)
    assert out.shape == (2, 4, 6 if cross else 7)


def test_causal_mask_and_no_bias():
    layer = layers.MultiHeadAttention(2, 3, use_bias=False, dtype="float64")
    x = _rand((2, 5, 4), 4)
    out = layer(gf.constant(x), use_causal_mask=True)
    np.testing.assert_allclose(out.numpy(), _reference(layer, x, x, causal=True)[0], rtol=1e-9, atol=1e-12)
    assert len(layer.weights) == 4
    query, memory = _rand((2, 3, 4), 10), _rand((2, 5, 4), 11)  # Keras' causal mask counts from the first position
    np.testing.assert_allclose(layer(gf.constant(query), gf.constant(memory), use_causal_mask=True).numpy(),
                               _reference(layer, query, memory, causal=True)[0], rtol=1e-9, atol=1e-12)
    # the first position attends to itself only: changing later positions leaves it as it was
    changed = x.copy()
    changed[:, 1:] += 1.0
    np.testing.assert_allclose(layer(gf.constant(changed), use_causal_mask=True).numpy()[:, 0], out.numpy()[:, 0],
                               rtol=1e-12)


def test_dropout_only_in_training():
    layer = layers.MultiHeadAttention(2, 3, dropout=0.5, seed=7)
    x = gf.constant(_rand((2, 4, 3), 5).astype(np.float32))
    plain = layer(x).numpy()
    np.testing.assert_array_equal(layer(x, training=False).numpy(), plain)
    assert not np.allclose(layer(x, training=True).numpy(), plain)


def test_gradients_against_autograd():
    layer = layers.MultiHeadAttention(2, 3, dtype="float64")
    q, v = _rand((2, 3, 4), 6), _rand((2, 5, 4), 7)
    layer(gf.constant(q), gf.constant(v))
    cot = _rand((2, 3, 4), 8)
    for argnum in (0, 1):
        expected = autograd.grad(lambda a, b: anp.sum(_reference(layer, a, b, xp=anp)[0] * cot), argnum)(q, v)
        args = [gf.constant(q), gf.constant(v)]
        with gf.GradientTape() as tape:
            tape.watch(args[argnum])
            loss = gf.reduce_sum(layer(*args) * gf.constant(cot))
        np.testing.assert_allclose(tape.gradient(loss, args[argnum]).numpy(), expected, rtol=1e-8, atol=1e-12)


def test_a_transformer_block_trains_saves_and_loads(tmp_path):
    x = gf.keras.Input((6, 8))
    attended = layers.MultiHeadAttention(2, 4, name="att")(x, x, use_causal_mask=True)
    h = layers.LayerNormalization()(layers.Add()([x, attended]))
    out = layers.Dense(1)(layers.GlobalAveragePooling1D()(h))
    model = gf.keras.Model(x, out)
    model.compile(gf.keras.optimizers.Adam(0.01), "mse")
    rng = np.random.default_rng(9)
    data = rng.normal(size=(64, 6, 8)).astype(np.float32)
    target = data[:, :, :2].sum(axis=(1, 2))[:, None]
    history = model.fit(data, target, batch_size=16, epochs=20, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0] / 2
    model.save(tmp_path / "transformer.keras")
    again = gf.keras.models.load_model(tmp_path / "transformer.keras")
    np.testing.assert_allclose(again.predict(data[:4], verbose=0), model.predict(data[:4], verbose=0), rtol=1e-6)


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match="num_heads, key_dim and value_dim must be positive"):
        layers.MultiHeadAttention(0, 3)
    with pytest.raises(NotImplementedError, match="attention_axes"):
        layers.MultiHeadAttention(2, 3, attention_axes=(1, 2))
    with pytest.raises(ValueError, match=r"query must be \[batch, sequence, features\]"):
        layers.MultiHeadAttention(2, 3)(gf.zeros((2, 3)))
    with pytest.raises(ValueError, match="key and value need the same sequence length"):
        layers.MultiHeadAttention(2, 3)(gf.zeros((1, 2, 3)), gf.zeros((1, 4, 3)), gf.zeros((1, 5, 3)))
