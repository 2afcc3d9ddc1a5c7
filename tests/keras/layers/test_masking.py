"""Keras masking: Embedding(mask_zero=True) and Masking make masks; layers pass them on (Sequential,
functional, nested models, merges) or drop them; masked SimpleRNN/LSTM/GRU/Bidirectional on
post-padded batches give exactly what the same layer gives each unpadded sequence alone; masked
losses and metrics are the NumPy masked means; fit learns with padded variable-length data."""
import warnings

import numpy as np
import pytest

import gpuflow as gf
from gpuflow.keras import layers
from gpuflow.keras.engine.keras_tensor import KerasTensor
from tests.harness import check_grad, rand
from tests.keras.layers.layer_helpers import built, with_weights

RNNS = {"SimpleRNN": layers.SimpleRNN, "LSTM": layers.LSTM, "GRU": layers.GRU}
N_STATES = {"SimpleRNN": 1, "LSTM": 2, "GRU": 1}


def mask_of(t):
    m = getattr(t, "_keras_mask", None)
    return None if m is None else np.asarray(m.numpy())


def carrying(x, mask):
    """A tensor of x that carries `mask`, as a masking layer's output does."""
    t = gf.constant(x)
    t._keras_mask = gf.constant(mask)
    return t


def padded_batch(lengths, steps, features, seed=0):
    """Random sequences post-padded with random junk (not zeros), and the (batch, steps) mask of the real steps:
    a layer that looked at a padded step would show it."""
    x = rand((len(lengths), steps, features), seed=seed)
    mask = np.arange(steps)[None, :] < np.asarray(lengths)[:, None]
    return x, mask


# ---------------------------------------------------------------- making masks

def test_embedding_mask_zero_makes_the_mask_of_nonzero_ids(device):
    ids = np.array([[3, 1, 0, 0], [2, 0, 4, 0], [0, 0, 0, 0]], np.int32)
    layer = layers.Embedding(5, 3, mask_zero=True)
    out = layer(ids)
    np.testing.assert_array_equal(mask_of(out), ids != 0)
    assert out.device.startswith(device)
    assert layer.compute_mask(gf.constant(ids)).dtype == gf.bool
    np.testing.assert_array_equal(out.numpy(), layer.embeddings.numpy()[ids])  # row 0 is still looked up
    assert mask_of(layers.Embedding(5, 3)(ids)) is None
    assert layers.Embedding(5, 3).compute_mask(gf.constant(ids)) is None
    # Float ids (NumPy floats become floatx) mask the same way.
    np.testing.assert_array_equal(mask_of(layers.Embedding(5, 3, mask_zero=True)(ids.astype(np.float32))), ids != 0)


def test_masking_layer_masks_steps_whose_features_all_equal_mask_value(device):
    x = rand((3, 5, 4), seed=1)
    x[0, 1] = 0.5
    x[1, 3:] = 0.5
    x[2, 0, :3] = 0.5  # only some features equal mask_value: the step stays
    layer = layers.Masking(mask_value=0.5)
    out = layer(x)
    expected_mask = np.any(x != 0.5, axis=-1)
    np.testing.assert_array_equal(mask_of(out), expected_mask)
    np.testing.assert_array_equal(out.numpy(), x * expected_mask[..., None])
    np.testing.assert_array_equal(layer.compute_mask(gf.constant(x)).numpy(), expected_mask)
    assert mask_of(layers.Masking()(np.zeros((2, 3, 1), np.float32))).sum() == 0


# ---------------------------------------------------------------- propagation

def test_pass_through_layers_keep_the_mask_and_others_drop_it_with_a_warning():
    ids = np.array([[3, 1, 0], [2, 0, 0]], np.int32)
    x = layers.Embedding(5, 4, mask_zero=True)(ids)
    for layer in (layers.Dense(3), layers.Activation("relu"), layers.Dropout(0.5), layers.ReLU(),
                  layers.LeakyReLU(), layers.Softmax(), layers.LayerNormalization(), layers.BatchNormalization(),
                  layers.Rescaling(2.0)):
        np.testing.assert_array_equal(mask_of(layer(x, training=True)), ids != 0, err_msg=layer.name)
    for layer in (layers.Flatten(), layers.Reshape((2, 6)), layers.Conv1D(2, 2), layers.GlobalMaxPooling1D()):
        with pytest.warns(UserWarning, match="does not support masking"):
            out = layer(x)
        assert mask_of(out) is None
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            layer(x)  # warned once per layer, not on every batch


def test_sequential_propagates_the_mask_eagerly_and_symbolically():
    ids = np.array([[3, 1, 0, 0], [2, 2, 4, 0]], np.int32)
    model = gf.keras.Sequential([gf.keras.Input((4,), dtype="int32"), layers.Embedding(5, 3, mask_zero=True),
                                 layers.Dense(6), layers.LSTM(4, return_sequences=True), layers.Dropout(0.1)])
    out = model(ids)
    np.testing.assert_array_equal(mask_of(out), ids != 0)
    symbolic = model.outputs[0]._keras_mask
    assert isinstance(symbolic, KerasTensor) and symbolic.shape == (None, 4) and symbolic.dtype == gf.bool
    # A last output has no time axis, so no mask; a model built from data masks the same.
    last = gf.keras.Sequential([layers.Embedding(5, 3, mask_zero=True), layers.GRU(2)])
    assert mask_of(last(ids)) is None
    assert getattr(last.outputs[0], "_keras_mask", None) is None
    # An explicit mask= on a model goes to its first layers.
    x = rand((2, 4, 3))
    plain = gf.keras.Sequential([layers.SimpleRNN(2, return_sequences=True)])
    given = np.array([[True, False, True, True], [True] * 4])
    np.testing.assert_array_equal(mask_of(plain(gf.constant(x), mask=gf.constant(given))), given)


def test_functional_merges_combine_masks_as_keras_3():
    a_ids = np.array([[1, 2, 0, 0], [3, 0, 0, 0]], np.int32)
    b_ids = np.array([[1, 0, 3, 0], [3, 3, 3, 3]], np.int32)
    a_in, b_in, c_in = gf.keras.Input((4,), dtype="int32"), gf.keras.Input((4,), dtype="int32"), gf.keras.Input((4, 3))
    a = layers.Embedding(5, 3, mask_zero=True)(a_in)
    b = layers.Embedding(5, 3, mask_zero=True)(b_in)
    outs = [layers.Add()([a, b]), layers.Multiply()([a, b]), layers.Add()([a, c_in]),
            layers.Concatenate()([a, b]), layers.Concatenate(axis=1)([a, b]), layers.Concatenate()([a, c_in]),
            layers.Add()([c_in, c_in])]
    for t in outs[:-1]:
        assert t._keras_mask.dtype == gf.bool and t._keras_mask.shape[0] is None
    assert outs[4]._keras_mask.shape == (None, 8)
    assert getattr(outs[-1], "_keras_mask", None) is None
    model = gf.keras.Model([a_in, b_in, c_in], outs)
    got = model([a_ids, b_ids, rand((2, 4, 3))])
    ma, mb = a_ids != 0, b_ids != 0
    expected = [ma & mb, ma & mb, ma, ma | mb, np.concatenate([ma, mb], axis=1), np.ones_like(ma), None]
    for t, e in zip(got, expected):
        if e is None:
            assert mask_of(t) is None
        else:
            np.testing.assert_array_equal(mask_of(t), e)


def test_nested_models_pass_masks_in_and_out():
    ids = np.array([[3, 1, 0, 0], [2, 2, 4, 1]], np.int32)
    inner = gf.keras.Sequential([gf.keras.Input((4, 3)), layers.LSTM(5, return_sequences=True)])
    inp = gf.keras.Input((4,), dtype="int32")
    seq = inner(layers.Embedding(5, 3, mask_zero=True)(inp))
    assert seq._keras_mask.shape == (None, 4)
    out = layers.GlobalAveragePooling1D()(seq)
    model = gf.keras.Model(inp, [seq, out])
    got_seq, got_out = model(ids)
    np.testing.assert_array_equal(mask_of(got_seq), ids != 0)
    seq_np, m = got_seq.numpy(), ids != 0
    np.testing.assert_allclose(got_out.numpy(), (seq_np * m[..., None]).sum(1) / m.sum(1, keepdims=True), rtol=1e-6)
    assert mask_of(got_out) is None
    # A nested model that makes the mask itself hands it out, symbolically and when run.
    embed = gf.keras.Sequential([gf.keras.Input((4,), dtype="int32"), layers.Embedding(5, 3, mask_zero=True)])
    outer_in = gf.keras.Input((4,), dtype="int32")
    embedded = embed(outer_in)
    assert embedded._keras_mask.shape == (None, 4)
    outer = gf.keras.Model(outer_in, layers.SimpleRNN(2, return_sequences=True)(embedded))
    np.testing.assert_array_equal(mask_of(outer(ids)), ids != 0)
    # mask= on a functional model goes onto its inputs.
    feats = gf.keras.Input((4, 3))
    tagger = gf.keras.Model(feats, layers.GRU(2, return_sequences=True)(feats))
    given = np.array([[True, True, False, False], [True, True, True, True]])
    x = rand((2, 4, 3))
    np.testing.assert_array_equal(mask_of(tagger(gf.constant(x), mask=gf.constant(given))), given)


def test_own_mask_can_be_passed_explicitly_in_a_functional_graph():
    inp = gf.keras.Input((4,), dtype="int32")
    x = layers.Embedding(5, 3, mask_zero=True)(inp)
    y = layers.SimpleRNN(2, return_sequences=True)(x, mask=x._keras_mask)
    model = gf.keras.Model(inp, y)
    ids = np.array([[3, 0, 0, 0]], np.int32)
    np.testing.assert_array_equal(mask_of(model(ids)), ids != 0)
    other = layers.Embedding(5, 3, mask_zero=True)(gf.keras.Input((4,), dtype="int32"))
    with pytest.raises(ValueError, match="mask placeholder"):
        layers.SimpleRNN(2)(x, mask=other._keras_mask)
    with pytest.raises(ValueError, match="mask placeholder"):
        layers.Multiply()([x, x._keras_mask])


def test_custom_layers_make_pass_or_stop_masks_as_in_keras_3():
    class NonZero(layers.Layer):  # overriding compute_mask is enough to make a mask (Keras 3's default)
        def compute_mask(self, inputs, mask=None):
            return gf.not_equal(inputs[..., 0], 0.0)

    class Scale(layers.Layer):
        def __init__(self):
            super().__init__()
            self.supports_masking = True  # passes its input's mask on

        def call(self, inputs, mask=None):
            self.seen = mask
            return inputs * 2.0

    class NoMask(layers.Layer):  # tf.keras' way to stop a mask: compute_mask returns None
        def compute_mask(self, inputs, mask=None):
            return None
    x = np.array([[[1.0], [0.0], [2.0]]], np.float32)
    made = NonZero()(x)
    np.testing.assert_array_equal(mask_of(made), [[True, False, True]])
    scale = Scale()
    np.testing.assert_array_equal(mask_of(scale(made)), [[True, False, True]])
    np.testing.assert_array_equal(scale.seen.numpy(), [[True, False, True]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert mask_of(NoMask()(made)) is None
    assert not layers.Layer().supports_masking and NonZero().supports_masking


def test_lambda_mask_argument_and_function_mask_parameter():
    ids = np.array([[3, 0]], np.int32)
    x = layers.Embedding(5, 3, mask_zero=True)(ids)
    seen = {}

    def double(t, mask=None):
        seen["mask"] = mask
        return t * 2
    out = layers.Lambda(double, mask=lambda inputs, mask: gf.logical_not(mask))(x)
    np.testing.assert_array_equal(seen["mask"].numpy(), ids != 0)
    np.testing.assert_array_equal(mask_of(out), ids == 0)
    with pytest.warns(UserWarning, match="does not support masking"):
        assert mask_of(layers.Lambda(lambda t: t * 2)(x)) is None
    # An identity layer that drops the mask returns a copy: its input keeps its own mask, gradients flow.
    with pytest.warns(UserWarning, match="does not support masking"):
        with gf.GradientTape() as tape:
            tape.watch(x)
            same = layers.Lambda(lambda t: t)(x)
            total = gf.reduce_sum(same * 3.0)
    assert same is not x and mask_of(same) is None
    np.testing.assert_array_equal(mask_of(x), ids != 0)
    np.testing.assert_array_equal(same.numpy(), x.numpy())
    np.testing.assert_array_equal(tape.gradient(total, x).numpy(), np.full(x.shape, 3.0))


# ---------------------------------------------------------------- recurrent layers

def run_alone(layer, x, length):
    """The layer on one unpadded sequence: (output, states)."""
    out = layer(gf.constant(x[None, :length]))
    return [o.numpy()[0] for o in out]


@pytest.mark.parametrize("kind", sorted(RNNS))
@pytest.mark.parametrize("go_backwards", [False, True])
def test_masked_rnn_matches_each_unpadded_sequence(device, kind, go_backwards):
    lengths = [5, 2, 1, 3]
    x, mask = padded_batch(lengths, 5, 3, seed=2)
    layer = RNNS[kind](4, return_sequences=True, return_state=True, go_backwards=go_backwards)
    seq, *states = layer(gf.constant(x), mask=gf.constant(mask))
    last = built(RNNS[kind](4, return_state=True, go_backwards=go_backwards), (None, 5, 3))
    last.set_weights(layer.get_weights())
    final, *last_states = last(gf.constant(x), mask=gf.constant(mask))
    seq, states, final = seq.numpy(), [s.numpy() for s in states], final.numpy()
    for i, n in enumerate(lengths):
        alone_seq, *alone_states = run_alone(layer, x[i], n)
        for got, want in zip([s[i] for s in states] + [s.numpy()[i] for s in last_states],
                             alone_states + alone_states):
            np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(final[i], alone_seq[-1], rtol=1e-6, atol=1e-6)
        if go_backwards:  # processed last step first: the padded steps come first and output zeros
            np.testing.assert_allclose(seq[i, 5 - n:], alone_seq, rtol=1e-6, atol=1e-6)
            np.testing.assert_array_equal(seq[i, :5 - n], 0.0)
        else:  # a masked step repeats the previous output (zero_output_for_mask=False, Keras' default)
            np.testing.assert_allclose(seq[i, :n], alone_seq, rtol=1e-6, atol=1e-6)
            np.testing.assert_array_equal(seq[i, n:], np.broadcast_to(seq[i, n - 1], seq[i, n:].shape))


@pytest.mark.parametrize("kind", sorted(RNNS))
def test_masked_rnn_zero_output_for_mask_and_fully_masked_rows(kind):
    lengths = [3, 0]
    x, mask = padded_batch(lengths, 4, 2, seed=3)
    layer = RNNS[kind](3, return_sequences=True, return_state=True, zero_output_for_mask=True)
    seq, *states = layer(gf.constant(x), mask=gf.constant(mask))
    seq = seq.numpy()
    np.testing.assert_array_equal(seq[0, 3:], 0.0)
    np.testing.assert_allclose(seq[0, :3], run_alone(layer, x[0], 3)[0], rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(seq[1], 0.0)
    for s in states:  # nothing to read: the states stay the initial zeros
        np.testing.assert_array_equal(s.numpy()[1], 0.0)
    assert layer.get_config()["zero_output_for_mask"] is True
    # The last output is the last processed step's: zeros when that step is masked, as Keras' rnn gives it.
    last = built(RNNS[kind](3, zero_output_for_mask=True), (None, 4, 2))
    last.set_weights(layer.get_weights())
    np.testing.assert_array_equal(last(gf.constant(x), mask=gf.constant(mask)).numpy(), 0.0)


def test_embedding_mask_reaches_the_lstm_in_sequential_models(device):
    # Padding the same ids to more steps changes nothing: the LSTM skips the padded steps.
    ids = np.array([[3, 1, 4, 0, 0], [2, 0, 0, 0, 0], [1, 2, 3, 4, 1]], np.int32)
    model = gf.keras.Sequential([layers.Embedding(5, 3, mask_zero=True), layers.LSTM(4)])
    short = model(ids).numpy()
    longer = model(np.pad(ids, ((0, 0), (0, 3)))).numpy()
    np.testing.assert_allclose(longer, short, rtol=1e-6, atol=1e-7)
    unmasked = gf.keras.Sequential([layers.Embedding(5, 3), layers.LSTM(4)])
    unmasked(ids)
    unmasked.set_weights(model.get_weights())
    assert not np.allclose(unmasked(np.pad(ids, ((0, 0), (0, 3)))).numpy()[:2], short[:2], atol=1e-4)


@pytest.mark.parametrize("merge_mode", ["concat", "sum", None])
def test_masked_bidirectional_matches_each_unpadded_sequence(device, merge_mode):
    lengths = [4, 1, 3]
    x, mask = padded_batch(lengths, 4, 3, seed=4)
    layer = layers.Bidirectional(layers.LSTM(3, return_sequences=True), merge_mode=merge_mode)
    out = layer(carrying(x, mask))
    outs = [o.numpy() for o in out] if merge_mode is None else [out.numpy()]
    assert layer.forward_layer.zero_output_for_mask and layer.backward_layer.zero_output_for_mask
    np.testing.assert_array_equal(mask_of(out[0] if merge_mode is None else out), mask)
    last = built(layers.Bidirectional(layers.LSTM(3, return_state=True), merge_mode=merge_mode), (None, 4, 3))
    last.set_weights(layer.get_weights())
    final = last(gf.constant(x), mask=gf.constant(mask))
    for i, n in enumerate(lengths):
        alone = layer(gf.constant(x[i:i + 1, :n]))
        alone = [a.numpy()[0] for a in alone] if merge_mode is None else [alone.numpy()[0]]
        for got, want in zip(outs, alone):
            np.testing.assert_allclose(got[i, :n], want, rtol=1e-6, atol=1e-6)
            np.testing.assert_array_equal(got[i, n:], 0.0)  # both directions output zeros at padded steps
        alone_final = last(gf.constant(x[i:i + 1, :n]))
        for got, want in zip(final, alone_final):
            np.testing.assert_allclose(got.numpy()[i], want.numpy()[0], rtol=1e-6, atol=1e-6)
        assert all(mask_of(t) is None for t in final)


def test_masked_lstm_gradients_float64():
    lengths = [3, 1]
    x, mask = padded_batch(lengths, 3, 2, seed=5)
    layer = built(layers.LSTM(2, return_sequences=True, dtype="float64"), (None, 3, 2))
    m = gf.constant(mask)

    def run(inputs, kernel, recurrent_kernel, bias):
        fn = with_weights(layer, ["kernel", "recurrent_kernel", "bias"])
        saved = layer.call
        layer.call = lambda t, **kw: saved(t, mask=m, **{k: v for k, v in kw.items() if k != "mask"})
        try:
            return fn(inputs, kernel, recurrent_kernel, bias)
        finally:
            del layer.call
    weights = [v.numpy() for v in (layer.kernel, layer.recurrent_kernel, layer.bias)]
    grads = check_grad(run, [x.astype(np.float64)] + weights)
    # The padded steps are never read: their inputs get no gradient.
    np.testing.assert_array_equal(grads[0].numpy()[~mask], 0.0)


def test_masked_rnn_errors_and_output_masks():
    layer = layers.GRU(2, return_sequences=True, go_backwards=True)
    x, mask = padded_batch([2, 1], 3, 2)
    with pytest.raises(ValueError, match="mask must have shape"):
        layer(gf.constant(x), mask=gf.constant(mask[:, :2]))
    out = layer(carrying(x, mask))
    np.testing.assert_array_equal(mask_of(out), mask)  # in input order, as Keras keeps it with go_backwards
    # An explicit mask= is that call's only (Keras 3): the output mask follows the input tensor's mask.
    assert mask_of(layer(gf.constant(x), mask=gf.constant(mask))) is None
    states = layers.LSTM(2, return_sequences=True, return_state=True)(carrying(x, mask))
    assert [mask_of(t) is None for t in states] == [False, True, True]
    masked_input = layers.Masking()(np.where(mask[..., None], x, 0.0).astype(np.float32))
    np.testing.assert_array_equal(mask_of(layers.SimpleRNN(2, return_sequences=True)(masked_input)), mask)


# ---------------------------------------------------------------- pooling, normalization

def test_global_average_pooling_1d_averages_the_unmasked_steps(device):
    x, mask = padded_batch([3, 1, 4], 4, 2, seed=6)
    out = layers.GlobalAveragePooling1D()(gf.constant(x), mask=gf.constant(mask))
    expected = (x * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-6)
    assert mask_of(out) is None
    keep = layers.GlobalAveragePooling1D(keepdims=True)(gf.constant(x), mask=gf.constant(mask))
    np.testing.assert_allclose(keep.numpy()[:, 0], expected, rtol=1e-6)
    np.testing.assert_allclose(layers.GlobalAveragePooling1D()(x).numpy(), x.mean(1), rtol=1e-6)


def test_batch_normalization_training_moments_skip_masked_steps():
    x, mask = padded_batch([3, 1], 3, 2, seed=7)
    layer = layers.BatchNormalization(momentum=0.5, epsilon=1e-3)
    out = layer(gf.constant(x), mask=gf.constant(mask), training=True).numpy()
    kept = x[mask]
    mean, var = kept.mean(0), kept.var(0)
    np.testing.assert_allclose(out[mask], (kept - mean) / np.sqrt(var + 1e-3), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(layer.moving_mean.numpy(), 0.5 * mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(layer.moving_variance.numpy(), 0.5 + 0.5 * var, rtol=1e-5)


# ---------------------------------------------------------------- losses, metrics, fit

def seq_model(vocab=6, classes=3, steps=5):
    inp = gf.keras.Input((steps,), dtype="int32")
    x = layers.Embedding(vocab, 4, mask_zero=True)(inp)
    x = layers.LSTM(5, return_sequences=True)(x)
    return gf.keras.Model(inp, layers.Dense(classes)(x))


def np_sparse_ce_from_logits(labels, logits):
    logits = logits.astype(np.float64)
    logz = np.log(np.exp(logits - logits.max(-1, keepdims=True)).sum(-1)) + logits.max(-1)
    return logz - np.take_along_axis(logits, labels[..., None], -1)[..., 0]


def test_masked_sequence_loss_is_the_numpy_masked_mean(device):
    ids = np.array([[1, 2, 3, 0, 0], [4, 0, 0, 0, 0], [5, 1, 2, 3, 4]], np.int32)
    labels = np.random.default_rng(0).integers(0, 3, size=ids.shape)
    mask = ids != 0
    model = seq_model()
    logits = model(ids)
    np.testing.assert_array_equal(mask_of(logits), mask)
    ce = np_sparse_ce_from_logits(labels, logits.numpy())
    loss = gf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    np.testing.assert_allclose(float(loss(labels, logits)), ce[mask].mean(), rtol=1e-5)
    weights = np.array([1.0, 2.0, 0.5])
    np.testing.assert_allclose(float(loss(labels, logits, sample_weight=weights)),
                               (ce * mask * weights[:, None]).sum() / mask.sum(), rtol=1e-5)
    summed = gf.keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction="sum")
    np.testing.assert_allclose(float(summed(labels, logits)), ce[mask].sum(), rtol=1e-5)
    assert np.isfinite(float(loss(labels[:1], layers.Embedding(3, 3, mask_zero=True)(np.zeros((1, 5), np.int32)))))

    # compile/evaluate: the loss (a function here) and the accuracy are masked means; sample weights combine.
    model.compile(loss=lambda y, p: gf.keras.losses.sparse_categorical_crossentropy(y, p, from_logits=True),
                  metrics=["sparse_categorical_accuracy"], weighted_metrics=["sparse_categorical_accuracy"])
    correct = (logits.numpy().argmax(-1) == labels)
    logs = model.evaluate(ids, labels, batch_size=3, sample_weight=weights, verbose=0, return_dict=True)
    np.testing.assert_allclose(logs["loss"], (ce * mask * weights[:, None]).sum() / mask.sum(), rtol=1e-5)
    np.testing.assert_allclose(logs["sparse_categorical_accuracy"], correct[mask].mean(), rtol=1e-6)
    w = mask * weights[:, None]
    np.testing.assert_allclose(logs["weighted_sparse_categorical_accuracy"], (correct * w).sum() / w.sum(),
                               rtol=1e-6)


def test_fit_learns_a_padded_variable_length_task_with_mask_zero():
    # Label: whether the LAST real token is >= 5. The ids are post-padded with 0 to 8 steps; the masked
    # LSTM's final output is the one at the last real token, so the answer does not depend on the padding.
    rng = np.random.default_rng(0)
    n, steps = 384, 8
    lengths = rng.integers(1, steps + 1, size=n)
    ids = rng.integers(1, 9, size=(n, steps)).astype(np.int32)
    ids[np.arange(steps)[None, :] >= lengths[:, None]] = 0
    labels = (ids[np.arange(n), lengths - 1] >= 5).astype(np.float32)
    model = gf.keras.Sequential([layers.Embedding(9, 8, mask_zero=True), layers.LSTM(16),
                                 layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=gf.keras.optimizers.Adam(0.02), loss="binary_crossentropy", metrics=["accuracy"])
    model.fit(ids, labels, batch_size=32, epochs=12, verbose=0)
    assert model.evaluate(ids, labels, verbose=0, return_dict=True)["accuracy"] > 0.95
    # More padding leaves every prediction as it was: the mask, not the learned weights, skips the pads.
    np.testing.assert_allclose(model.predict(np.pad(ids, ((0, 0), (0, 4))), verbose=0),
                               model.predict(ids, verbose=0), rtol=1e-5, atol=1e-6)
