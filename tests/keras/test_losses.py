"""Losses vs float64 NumPy references: every reduction, sample weights, logits both ways, label
smoothing, label layouts; gradients of the cross-entropies by finite differences."""
import numpy as np
import pytest

import gpuflow as gf
from gpuflow.keras import losses
from harness import check_grad, rng

EPS = 1e-7


def softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def ref_cce(y, p):
    p = np.clip(p / p.sum(-1, keepdims=True), EPS, 1 - EPS)
    return -(y * np.log(p)).sum(-1)


def ref_bce(y, p):
    p = np.clip(p, EPS, 1 - EPS)
    return -(y * np.log(p) + (1 - y) * np.log(1 - p)).mean(-1)


def ref_huber(y, p, delta=1.0):
    e = np.abs(p - y)
    return np.where(e <= delta, 0.5 * e ** 2, delta * e - 0.5 * delta ** 2).mean(-1)


def ref_kld(y, p):
    y, p = np.clip(y, EPS, 1), np.clip(p, EPS, 1)
    return (y * np.log(y / p)).sum(-1)


def reduce(values, weights, reduction):
    if weights is not None:
        values = values * weights
    if reduction == "none":
        return values
    return values.sum() if reduction == "sum" else values.sum() / values.size


R = rng(3)
N, C = 6, 4
PROBS = softmax(R.normal(size=(N, C)))
ONEHOT = np.eye(C)[R.integers(0, C, N)]
SOFT_TARGET = softmax(R.normal(size=(N, C)))
REG_TRUE, REG_PRED = R.normal(size=(N, 3)), R.normal(size=(N, 3)) * 1.5
BIN_TRUE = (R.random((N, 3)) < 0.5).astype(np.float64)
BIN_PRED = R.uniform(0.05, 0.95, (N, 3))
WEIGHTS = R.uniform(0.2, 2.0, N)

CASES = [
    ("mse", losses.MeanSquaredError(), REG_TRUE, REG_PRED, lambda y, p: ((y - p) ** 2).mean(-1)),
    ("mae", losses.MeanAbsoluteError(), REG_TRUE, REG_PRED, lambda y, p: np.abs(y - p).mean(-1)),
    ("huber", losses.Huber(), REG_TRUE, REG_PRED, ref_huber),
    ("huber_delta", losses.Huber(delta=0.3), REG_TRUE, REG_PRED, lambda y, p: ref_huber(y, p, 0.3)),
    ("kld", losses.KLDivergence(), SOFT_TARGET, PROBS, ref_kld),
    ("cce", losses.CategoricalCrossentropy(), ONEHOT, PROBS, ref_cce),
    ("cce_unnormalised", losses.CategoricalCrossentropy(), SOFT_TARGET, PROBS * 3.0, ref_cce),
    ("cce_logits", losses.CategoricalCrossentropy(from_logits=True), SOFT_TARGET, np.log(PROBS) + 0.7,
     lambda y, z: ref_cce(y, softmax(z))),
    ("cce_smoothing", losses.CategoricalCrossentropy(label_smoothing=0.2), ONEHOT, PROBS,
     lambda y, p: ref_cce(y * 0.8 + 0.2 / C, p)),
    ("sparse", losses.SparseCategoricalCrossentropy(), ONEHOT.argmax(-1), PROBS,
     lambda y, p: ref_cce(np.eye(C)[y], p)),
    ("sparse_float_column", losses.SparseCategoricalCrossentropy(), ONEHOT.argmax(-1)[:, None].astype(np.float32),
     PROBS, lambda y, p: ref_cce(np.eye(C)[y[:, 0].astype(int)], p)),
    ("sparse_logits", losses.SparseCategoricalCrossentropy(from_logits=True), ONEHOT.argmax(-1), np.log(PROBS) * 2,
     lambda y, z: ref_cce(np.eye(C)[y], softmax(z))),
    ("bce", losses.BinaryCrossentropy(), BIN_TRUE, BIN_PRED, ref_bce),
    ("bce_logits", losses.BinaryCrossentropy(from_logits=True), BIN_TRUE, np.log(BIN_PRED / (1 - BIN_PRED)) * 3,
     lambda y, z: ref_bce(y, sigmoid(z))),
    ("bce_smoothing", losses.BinaryCrossentropy(label_smoothing=0.1), BIN_TRUE, BIN_PRED,
     lambda y, p: ref_bce(y * 0.9 + 0.05, p)),
    ("bce_logits_smoothing", losses.BinaryCrossentropy(from_logits=True, label_smoothing=0.1), BIN_TRUE,
     np.log(BIN_PRED / (1 - BIN_PRED)), lambda y, z: ref_bce(y * 0.9 + 0.05, sigmoid(z))),
]


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "none"])
@pytest.mark.parametrize("weights", [None, "flat", "column"])
@pytest.mark.parametrize("name,loss,y_true,y_pred,reference", CASES, ids=[c[0] for c in CASES])
def test_loss_matches_reference(name, loss, y_true, y_pred, reference, reduction, weights):
    loss = type(loss).from_config({**loss.get_config(), "reduction": reduction})
    sw = {None: None, "flat": WEIGHTS, "column": WEIGHTS[:, None]}[weights]
    out = loss(gf.constant(y_true), gf.constant(y_pred), sample_weight=None if sw is None else gf.constant(sw))
    assert out.dtype == gf.float64
    expected = reduce(reference(y_true, y_pred), WEIGHTS if weights else None, reduction)
    if reduction == "none" and weights == "column":
        expected = expected[:, None]  # Keras aligns ranks by expanding the losses to (N, 1)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-10, atol=1e-12)


def test_float32_inputs_give_float32_and_the_functions_agree():
    out = losses.get("sparse_categorical_crossentropy")(ONEHOT.argmax(-1), PROBS.astype(np.float32))
    assert out.dtype == gf.float32 and out.shape == (N,)
    np.testing.assert_allclose(out.numpy(), ref_cce(ONEHOT, PROBS), rtol=1e-5)
    for alias in ("mse", "MSE", "mean_squared_error"):
        np.testing.assert_allclose(losses.get(alias)(REG_TRUE, REG_PRED).numpy(), ((REG_TRUE - REG_PRED) ** 2).mean(-1))
    np.testing.assert_allclose(losses.get("kld")(SOFT_TARGET, PROBS).numpy(), ref_kld(SOFT_TARGET, PROBS))


def test_half_precision_predictions_give_a_float32_loss():
    out = losses.CategoricalCrossentropy()(ONEHOT.astype(np.float16), PROBS.astype(np.float16))
    assert out.dtype == gf.float32
    np.testing.assert_allclose(out.numpy(), ref_cce(ONEHOT, PROBS.astype(np.float16).astype(np.float64)).mean(), rtol=1e-5)


def test_probabilities_are_clipped_like_keras():
    out = losses.BinaryCrossentropy()(np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]]))
    np.testing.assert_allclose(out.numpy(), -np.log(EPS), rtol=1e-6)


def test_rank_alignment_of_targets():
    """(N,) targets against (N, 1) predictions: Keras expands the targets, it does not broadcast to (N, N)."""
    y, p = REG_TRUE[:, 0], REG_PRED[:, :1]
    np.testing.assert_allclose(losses.MeanSquaredError()(y, p).numpy(), ((y - p[:, 0]) ** 2).mean())


def test_empty_batch_is_zero():
    assert float(losses.MeanSquaredError()(np.zeros((0, 2)), np.zeros((0, 2)))) == 0.0


@pytest.mark.parametrize("loss,y_true,y_pred", [
    (losses.CategoricalCrossentropy(), SOFT_TARGET[:3], PROBS[:3]),
    (losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1), ONEHOT[:3], np.log(PROBS[:3])),
    (losses.SparseCategoricalCrossentropy(), ONEHOT[:3].argmax(-1), PROBS[:3]),
    (losses.SparseCategoricalCrossentropy(from_logits=True), ONEHOT[:3].argmax(-1), np.log(PROBS[:3])),
    (losses.BinaryCrossentropy(), BIN_TRUE[:3], BIN_PRED[:3]),
    (losses.BinaryCrossentropy(from_logits=True), BIN_TRUE[:3], np.log(BIN_PRED[:3] / (1 - BIN_PRED[:3]))),
], ids=["cce", "cce_logits", "sparse", "sparse_logits", "bce", "bce_logits"])
def test_cross_entropy_gradients(loss, y_true, y_pred):
    check_grad(lambda t, p: loss(t, p, sample_weight=WEIGHTS[:3]), [y_true, y_pred], wrt=[1])


def test_config_round_trips_and_identifiers():
    for loss in [c[1] for c in CASES]:
        again = losses.deserialize(losses.serialize(loss))
        assert type(again) is type(loss) and again.get_config() == loss.get_config()
    assert losses.get("BinaryCrossentropy").name == "binary_crossentropy"
    assert losses.SparseCategoricalCrossentropy(from_logits=True).from_logits is True
    wrapped = losses.LossFunctionWrapper(losses.huber, name="h", delta=2.0)
    assert losses.deserialize(losses.serialize(wrapped)).get_config() == wrapped.get_config()
    assert losses.get(None) is None and losses.get(losses.mae) is losses.mae


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="reduction must be one of"):
        losses.MeanSquaredError(reduction="average")
    with pytest.raises(ValueError, match="unknown loss 'msee'"):
        losses.get("msee")
    with pytest.raises(ValueError, match="sparse_categorical_crossentropy"):
        losses.CategoricalCrossentropy()(ONEHOT.argmax(-1), PROBS)
    with pytest.raises(ValueError, match="without its last"):
        losses.SparseCategoricalCrossentropy()(ONEHOT, PROBS[:, :2])
    with pytest.raises(TypeError):
        losses.Huber(deltaa=1.0)
