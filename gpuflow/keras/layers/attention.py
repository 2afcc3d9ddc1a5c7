"""MultiHeadAttention, as Keras 3's, for [batch, sequence, features] inputs.

    q = query @ Wq + bq, k = key @ Wk + bk, v = value @ Wv + bv        (per head: [batch, seq, heads, dim])
    scores = softmax(q k^T / sqrt(key_dim), masked)                   [batch, heads, query seq, key seq]
    output = (dropout(scores) v) @ Wo + bo                            [batch, query seq, output features]

The weights have Keras' shapes and names (query/kernel [features, heads, key_dim], ..., attention_output/kernel
[heads, value_dim, output features]), so weights move between the two; each projection is one einsum.
"""
from __future__ import annotations

import math

from ... import dtypes, ops
from ...ops.einsum import einsum
from ...ops.nn_ops import dropout, softmax
from ...tensor import TensorShape
from ..engine.base_layer import Layer
from ._kernel_bias import OPTIONS, _module, set_kernel_bias_options


class MultiHeadAttention(Layer):
    """Scaled dot-product attention with `num_heads` heads over [batch, sequence, features] inputs.

        Called as `layer(query, value, key=None, attention_mask=None, return_attention_scores=False,
        training=None, use_causal_mask=False)`: key defaults to value, and value to query (self-attention).
        attention_mask [batch, query seq, key seq] (or broadcastable) is True where a query may attend.

        Differs from Keras:
            Inputs have rank 3 (`attention_axes` other than None is refused); the masks Keras takes from
            the inputs' `_keras_mask` are not applied: pass them as attention_mask.
    """

    def __init__(self, num_heads, key_dim, value_dim=None, dropout=0.0, use_bias=True, output_shape=None,
                 attention_axes=None, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if int(num_heads) <= 0 or int(key_dim) <= 0 or (value_dim is not None and int(value_dim) <= 0):
            raise ValueError(f"{self.name} (MultiHeadAttention): num_heads, key_dim and value_dim must be positive, "
                             f"got {num_heads}, {key_dim}, {value_dim}")
        if attention_axes is not None:
            raise NotImplementedError(f"{self.name} (MultiHeadAttention): attention_axes={attention_axes!r} is not "
                                      f"supported; inputs are [batch, sequence, features], attending over the sequence")
        self.num_heads, self.key_dim = int(num_heads), int(key_dim)
        self.value_dim = self.key_dim if value_dim is None else int(value_dim)
        self.dropout, self.seed = float(dropout), seed
        self.output_shape_ = None if output_shape is None else int(
            output_shape[0] if isinstance(output_shape, (list, tuple)) else output_shape)
        self.attention_axes = attention_axes
        set_kernel_bias_options(self, None, use_bias, kernel_initializer=kernel_initializer,
                                bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
                                bias_regularizer=bias_regularizer, activity_regularizer=activity_regularizer,
                                kernel_constraint=kernel_constraint, bias_constraint=bias_constraint)
        self._projections = None

    # ---- weights ----------------------------------------------------------------------------------------
    def _maybe_build(self, inputs):
        """Nothing yet: the projections need value's and key's feature sizes too, so call builds from all three."""

    def build(self, query_shape, value_shape=None, key_shape=None):
        """Make the four projections from the inputs' feature sizes (value's and key's default to query's)."""
        query_shape = TensorShape(query_shape)
        value_shape = query_shape if value_shape is None else TensorShape(value_shape)
        key_shape = value_shape if key_shape is None else TensorShape(key_shape)
        for what, shape in (("query", query_shape), ("value", value_shape), ("key", key_shape)):
            if len(shape) != 3 or shape[-1] is None:
                raise ValueError(f"{self.name} (MultiHeadAttention): {what} must be [batch, sequence, features] with "
                                 f"a known feature size, got shape {shape}")
        out = self.output_shape_ or query_shape[-1]
        h = self.num_heads
        self._projections = {
            "query": self._dense("query", (query_shape[-1], h, self.key_dim), (h, self.key_dim)),
            "key": self._dense("key", (key_shape[-1], h, self.key_dim), (h, self.key_dim)),
            "value": self._dense("value", (value_shape[-1], h, self.value_dim), (h, self.value_dim)),
            "attention_output": self._dense("attention_output", (h, self.value_dim, out), (out,))}
        self.built = True

    def _dense(self, name, kernel_shape, bias_shape):
        kernel = self.add_weight(f"{name}/kernel", kernel_shape, initializer=self.kernel_initializer,
                                 regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        bias = self.add_weight(f"{name}/bias", bias_shape, initializer=self.bias_initializer,
                               regularizer=self.bias_regularizer, constraint=self.bias_constraint) \
            if self.use_bias else None
        return kernel, bias

    def _project(self, name, equation, x):
        kernel, bias = self._projections[name]
        y = einsum(equation, x, kernel)
        return y if bias is None else y + bias

    # ---- the call ---------------------------------------------------------------------------------------
    def call(self, query, value=None, key=None, attention_mask=None, return_attention_scores=False, training=None,
             use_causal_mask=False):
        value = query if value is None else value
        key = value if key is None else key
        if self._projections is None:
            self.build(query.shape, value.shape, key.shape)
        if key.shape[1] != value.shape[1]:
            raise ValueError(f"{self.name} (MultiHeadAttention): key and value need the same sequence length, got "
                             f"shapes {tuple(key.shape)} and {tuple(value.shape)}")
        q = self._project("query", "btd,dhk->bthk", query) * (1.0 / math.sqrt(self.key_dim))
        k = self._project("key", "bsd,dhk->bshk", key)
        v = self._project("value", "bsd,dhv->bshv", value)
        scores = einsum("bthk,bshk->bhts", q, k)
        mask = self._mask(attention_mask, use_causal_mask, query.shape[1], key.shape[1])
        probs, dropped = _attention_probs(scores, mask, self.dropout, self.seed, training)
        attended = einsum("bhts,bshv->bthv", dropped, v)
        output = self._project("attention_output", "bthv,hvo->bto", attended)
        if self.activity_regularizer is not None:
            self.add_loss(self.activity_regularizer(output))
        return (output, probs) if return_attention_scores else output

    def _mask(self, attention_mask, causal, t, s):
        """The boolean [batch or 1, 1, query seq, key seq] mask of the allowed pairs, or None."""
        mask = None
        if attention_mask is not None:
            mask = ops.cast(ops.convert_to_tensor(attention_mask), dtypes.bool)
            if mask.ndim == 2:
                mask = mask[None]
            if mask.ndim != 3:
                raise ValueError(f"{self.name} (MultiHeadAttention): attention_mask must be [batch, query seq, key "
                                 f"seq], got shape {tuple(mask.shape)}")
            mask = mask[:, None]
        if causal:
            lower = _causal(t, s)[None, None]
            mask = lower if mask is None else ops.logical_and(mask, lower)
        return mask

    def get_config(self):
        config = {**super().get_config(), "num_heads": self.num_heads, "key_dim": self.key_dim,
                  "value_dim": self.value_dim, "dropout": self.dropout, "use_bias": self.use_bias,
                  "output_shape": self.output_shape_, "attention_axes": self.attention_axes, "seed": self.seed}
        config.update({option: _module(option).serialize(getattr(self, option)) for option in OPTIONS})
        return config


def _causal(t, s):
    """[t, s]: True where key position <= query position, as Keras' causal mask (counted from the first)."""
    return ops.range(s)[None, :] <= ops.range(t)[:, None]


def _attention_probs(scores, allowed, rate, seed, training):
    """(softmax of the scores over the last axis, pairs not `allowed` given none; the same after dropout at `rate`
    in training)."""
    if allowed is not None:
        scores = ops.where(allowed, scores, _large_negative(scores.dtype))
    probs = softmax(scores, axis=-1)
    return probs, dropout(probs, rate, seed=seed) if training and rate else probs


def _large_negative(dtype):
    """What a masked score becomes: Keras' -1e9, or half's largest negative in float16."""
    return -65500.0 if dtype == dtypes.float16 else -1e9



class Attention(Layer):
    """Dot-product attention (Luong), as Keras 3's: called on [query, value] or [query, value, key] of shapes
    [batch, Tq, dim] and [batch, Tv, dim], it returns softmax(scores) @ value, scores = query @ key^T (times a
    learned scalar with use_scale=True). score_mode='concat' scores sum(tanh(query + key)) instead. `mask`
    = [query_mask, value_mask]: value positions masked out get no weight, masked query rows give zeros."""

    def __init__(self, use_scale=False, score_mode="dot", dropout=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        if score_mode not in ("dot", "concat"):
            raise ValueError(f"{self.name} (Attention): score_mode must be 'dot' or 'concat', got {score_mode!r}")
        self.use_scale, self.score_mode, self.dropout, self.seed = bool(use_scale), score_mode, float(dropout), seed
        self.scale = self.concat_score_weight = None

    def build(self, input_shape):
        if self.use_scale:
            self.scale = self.add_weight("scale", (), initializer="ones")
        if self.score_mode == "concat":
            self.concat_score_weight = self.add_weight("concat_score_weight", (), initializer="ones")

    def _scores(self, query, key):
        if self.score_mode == "dot":
            scores = einsum("btd,bsd->bts", query, key)
            return scores * self.scale if self.scale is not None else scores
        summed = query[:, :, None, :] + key[:, None, :, :]
        if self.scale is not None:
            summed = summed * self.scale
        return self.concat_score_weight * ops.reduce_sum(ops.tanh(summed), axis=-1)

    def call(self, inputs, mask=None, return_attention_scores=False, training=None, use_causal_mask=False):
        if not isinstance(inputs, (list, tuple)) or len(inputs) not in (2, 3):
            raise ValueError(f"{self.name} ({type(self).__name__}): call it on [query, value] or [query, value, key]")
        query, value = inputs[0], inputs[1]
        key = inputs[2] if len(inputs) == 3 else value
        for what, t in (("query", query), ("value", value), ("key", key)):
            if t.ndim != 3:
                raise ValueError(f"{self.name} ({type(self).__name__}): {what} must be [batch, steps, dim], got "
                                 f"shape {tuple(t.shape)}")
        scores = self._scores(query, key)
        query_mask, value_mask = (list(mask) + [None, None])[:2] if isinstance(mask, (list, tuple)) else (None, None)
        allowed = None
        if value_mask is not None:
            allowed = ops.cast(ops.convert_to_tensor(value_mask), dtypes.bool)[:, None, :]
        if use_causal_mask:
            lower = _causal(scores.shape[1], scores.shape[2])[None]
            allowed = lower if allowed is None else ops.logical_and(allowed, lower)
        probs, dropped = _attention_probs(scores, allowed, self.dropout, self.seed, training)
        output = einsum("bts,bsd->btd", dropped, value)
        if query_mask is not None:
            output = output * ops.cast(ops.convert_to_tensor(query_mask), output.dtype)[:, :, None]
        return (output, probs) if return_attention_scores else output

    def get_config(self):
        return {**super().get_config(), "use_scale": self.use_scale, "score_mode": self.score_mode,
                "dropout": self.dropout, "seed": self.seed}


class AdditiveAttention(Attention):
    """Additive attention (Bahdanau), as Keras 3's: scores = sum(scale * tanh(query + key)) over dim, scale a
    learned vector (use_scale=True); otherwise as Attention."""

    def __init__(self, use_scale=True, dropout=0.0, seed=None, **kwargs):
        super().__init__(use_scale=use_scale, score_mode="dot", dropout=dropout, seed=seed, **kwargs)

    def build(self, input_shape):
        dim = TensorShape(input_shape[0] if isinstance(input_shape, (list, tuple)) and
                          isinstance(input_shape[0], (list, tuple, TensorShape)) else input_shape)[-1]
        if self.use_scale:
            self.scale = self.add_weight("scale", (dim,), initializer="glorot_uniform")

    def _scores(self, query, key):
        summed = ops.tanh(query[:, :, None, :] + key[:, None, :, :])
        return ops.reduce_sum(summed * self.scale if self.scale is not None else summed, axis=-1)

    def get_config(self):
        config = super().get_config()
        config.pop("score_mode")
        return config
