"""Attention (Luong, 'dot' and 'concat' scores) and AdditiveAttention (Bahdanau) against NumPy written from
Keras 3's definitions: scales, value and query masks, causal masking, attention scores; gradients against autograd;
and in a functional model."""
import autograd
import autograd.numpy as anp
import numpy as np
import pytest

import gpuflow as gf

layers = gf.keras.layers


def _reference(layer, q, v, k=None, value_mask=None, query_mask=None, causal=False, xp=np):
    k = v if k is None else k
    weights = {w.name.split("/")[-1].split(":")[0]: w.numpy() for w in layer.weights}
    if isinstance(layer, layers.AdditiveAttention):
        summed = xp.tanh(q[:, :, None, :] + k[:, None, :, :])
        scores = xp.sum(summed * weights["scale"] if "scale" in weights else summed, axis=-1)
    elif layer.score_mode == "dot":
        scores = xp.einsum("btd,bsd->bts", q, k) * weights.get("scale", 1.0)
    else:
        summed = (q[:, :, None, :] + k[:, None, :, :]) * weights.get("scale", 1.0)
        scores = weights["concat_score_weight"] * xp.sum(xp.tanh(summed), axis=-1)
    allowed = np.ones(scores.shape, bool)
    if value_mask is not None:
        allowed = allowed & value_mask[:, None, :]
    if causal:
        allowed = allowed & np.tril(np.ones(scores.shape[1:], bool))
    scores = xp.where(allowed, scores, -1e9)
    e = xp.exp(scores - xp.max(scores, axis=-1, keepdims=True))
    probs = e / xp.sum(e, axis=-1, keepdims=True)
    out = xp.einsum("bts,bsd->btd", probs, v)
    if query_mask is not None:
        out = out * query_mask[:, :, None]
    return out, probs


def _rand(shape, seed):
    return np.random.default_rng(seed).normal(size=shape)


@pytest.mark.parametrize("make", [lambda: layers.Attention(dtype="float64"),
                                  lambda: layers.Attention(use_scale=True, dtype="float64"),
                                  lambda: layers.Attention(use_scale=True, score_mode="concat", dtype="float64"),
                                  lambda: layers.AdditiveAttention(dtype="float64"),
                                  lambda: layers.AdditiveAttention(use_scale=False, dtype="float64")])
def test_matches_keras_definition(device, make):
    layer = make()
    q, v, k = _rand((2, 3, 4), 0), _rand((2, 5, 4), 1), _rand((2, 5, 4), 2)
    value_mask = np.array([[True] * 5, [True, True, True, False, False]])
    query_mask = np.array([[True, False, True], [True, True, True]])
    out, probs = layer([gf.constant(q), gf.constant(v), gf.constant(k)],
                       mask=[gf.constant(query_mask), gf.constant(value_mask)], return_attention_scores=True)
    expected, expected_probs = _reference(layer, q, v, k, value_mask, query_mask)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(probs.numpy(), expected_probs, rtol=1e-9, atol=1e-12)


def test_causal_and_gradients():
    layer = layers.Attention(use_scale=True, dtype="float64")
    x = _rand((2, 4, 3), 3)
    out = layer([gf.constant(x), gf.constant(x)], use_causal_mask=True)
    np.testing.assert_allclose(out.numpy(), _reference(layer, x, x, causal=True)[0], rtol=1e-9, atol=1e-12)
    cot = _rand((2, 4, 3), 4)
    expected = autograd.grad(lambda a: anp.sum(_reference(layer, a, a, causal=True, xp=anp)[0] * cot))(x)
    t = gf.constant(x)
    with gf.GradientTape() as tape:
        tape.watch(t)
        loss = gf.reduce_sum(layer([t, t], use_causal_mask=True) * gf.constant(cot))
    np.testing.assert_allclose(tape.gradient(loss, t).numpy(), expected, rtol=1e-8, atol=1e-12)


def test_in_a_functional_model_and_bad_input():
    q, v = gf.keras.Input((3, 4)), gf.keras.Input((5, 4))
    model = gf.keras.Model([q, v], layers.AdditiveAttention()([q, v]))
    assert tuple(model.output_shape) == (None, 3, 4)
    out = model([gf.constant(_rand((2, 3, 4), 5).astype(np.float32)),
                 gf.constant(_rand((2, 5, 4), 6).astype(np.float32))])
    assert out.shape == (2, 3, 4)
    with pytest.raises(ValueError, match=r"call it on \[query, value\]"):
        layers.Attention()(gf.zeros((1, 2, 3)))
    with pytest.raises(ValueError, match="score_mode must be 'dot' or 'concat'"):
        layers.Attention(score_mode="general")
