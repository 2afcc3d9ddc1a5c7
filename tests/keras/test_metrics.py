"""Metrics vs hand-computed NumPy values over several weighted update_state calls, then reset_state."""
import numpy as np
import pytest

import gpuflow as gf
from gpuflow.keras import metrics
from harness import rng

R = rng(5)
N, C = 8, 5


def batches(n_batches=3):
    """(labels, one-hot, probabilities, weights) per batch."""
    out = []
    for _ in range(n_batches):
        labels = R.integers(0, C, N)
        probs = R.dirichlet(np.ones(C), N).astype(np.float32)
        out.append((labels, np.eye(C, dtype=np.float32)[labels], probs, R.uniform(0.1, 2.0, N).astype(np.float32)))
    return out


def run(metric, calls):
    """Feeds every call (args, kwargs) to update_state; checks reset_state zeroes the state after."""
    for args, kwargs in calls:
        metric.update_state(*args, **kwargs)
    value = metric.result().numpy()
    metric.reset_state()
    assert all(np.all(v.numpy() == 0) for v in metric.variables), "reset_state left state behind"
    return value


def weighted_mean(per_sample, weights):
    return np.sum(np.concatenate(per_sample) * np.concatenate(weights)) / np.sum(np.concatenate(weights))


def in_top_k(labels, probs, k):
    target = probs[np.arange(len(labels)), labels]
    return ((probs > target[:, None]).sum(-1) < k).astype(np.float64)


DATA = batches()
CLASSIFICATION = [
    ("sparse_categorical_accuracy", metrics.SparseCategoricalAccuracy, lambda l, o, p: (l, p),
     lambda l, o, p: (p.argmax(-1) == l).astype(float)),
    ("sparse_categorical_accuracy_column", metrics.SparseCategoricalAccuracy,
     lambda l, o, p: (l[:, None].astype(np.float32), p), lambda l, o, p: (p.argmax(-1) == l).astype(float)),
    ("categorical_accuracy", metrics.CategoricalAccuracy, lambda l, o, p: (o, p),
     lambda l, o, p: (p.argmax(-1) == l).astype(float)),
    ("top_2", lambda: metrics.TopKCategoricalAccuracy(k=2), lambda l, o, p: (o, p),
     lambda l, o, p: in_top_k(l, p, 2)),
    ("sparse_top_3", lambda: metrics.SparseTopKCategoricalAccuracy(k=3), lambda l, o, p: (l, p),
     lambda l, o, p: in_top_k(l, p, 3)),
    ("accuracy", metrics.Accuracy, lambda l, o, p: (l, p.argmax(-1)), lambda l, o, p: (p.argmax(-1) == l).astype(float)),
    ("binary_accuracy", lambda: metrics.BinaryAccuracy(threshold=0.3), lambda l, o, p: (o, p),
     lambda l, o, p: ((p > 0.3) == o).mean(-1)),
    ("mse", metrics.MeanSquaredError, lambda l, o, p: (o, p), lambda l, o, p: ((o - p) ** 2).mean(-1)),
    ("mae", metrics.MeanAbsoluteError, lambda l, o, p: (o, p), lambda l, o, p: np.abs(o - p).mean(-1)),
    ("wrapped_loss", lambda: metrics.MeanMetricWrapper(gf.keras.losses.categorical_crossentropy, name="cce"),
     lambda l, o, p: (o, p), lambda l, o, p: -np.log(np.clip(p[np.arange(N), l], 1e-7, 1))),
]


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("name,make,inputs,reference", CLASSIFICATION, ids=[c[0] for c in CLASSIFICATION])
def test_mean_metrics(name, make, inputs, reference, weighted):
    metric = make()
    calls = [(inputs(l, o, p), {"sample_weight": w} if weighted else {}) for l, o, p, w in DATA]
    expected = weighted_mean([reference(l, o, p) for l, o, p, _ in DATA],
                             [w if weighted else np.ones(N) for *_, w in DATA])
    np.testing.assert_allclose(run(metric, calls), expected, rtol=1e-5)
    assert metric.result().numpy() == 0  # after reset: divide_no_nan, not NaN


def test_mean_and_sum():
    values = [R.normal(size=(4, 3)), R.normal(size=(2, 3))]
    weights = [R.uniform(size=4), R.uniform(size=2)]
    mean, total = metrics.Mean(), metrics.Sum()
    for v, w in zip(values, weights):
        mean.update_state(v, sample_weight=w)
        total.update_state(v, sample_weight=w)
    mean.update_state(2.5)  # a scalar counts as one sample of weight 1
    per_sample = [v.mean(-1) for v in values]
    expected_mean = (sum((p * w).sum() for p, w in zip(per_sample, weights)) + 2.5) / (sum(w.sum() for w in weights) + 1)
    np.testing.assert_allclose(mean.result().numpy(), expected_mean, rtol=1e-5)
    np.testing.assert_allclose(total.result().numpy(), sum((v.sum(-1) * w).sum() for v, w in zip(values, weights)),
                               rtol=1e-5)
    assert [v.name for v in mean.variables] == ["mean/total", "mean/count"]
    count = sum(w.sum() for w in weights) + 1
    # calling the metric updates it and returns the running result
    assert float(mean(np.array([1.0, 3.0]))) == pytest.approx((expected_mean * count + 4) / (count + 2), rel=1e-5)


def confusion(y, p, w, t):
    pos = p > t
    return (np.sum(w * (pos & (y == 1))), np.sum(w * (pos & (y == 0))), np.sum(w * (~pos & (y == 0))),
            np.sum(w * (~pos & (y == 1))))


BIN = [((R.random(12) < 0.5).astype(np.float32), R.random(12).astype(np.float32), R.uniform(0.2, 2, 12))
       for _ in range(3)]


@pytest.mark.parametrize("thresholds", [None, 0.3, [0.2, 0.5, 0.8]])
def test_precision_and_recall(thresholds):
    ts = [0.5] if thresholds is None else np.atleast_1d(thresholds)
    y, p, w = (np.concatenate(x) for x in zip(*BIN))
    counts = np.array([confusion(y, p, w, t) for t in ts])
    tp, fp, fn = counts[:, 0], counts[:, 1], counts[:, 3]
    for cls, expected in [(metrics.Precision, tp / (tp + fp)), (metrics.Recall, tp / (tp + fn))]:
        value = run(cls(thresholds=thresholds), [((yb, pb), {"sample_weight": wb}) for yb, pb, wb in BIN])
        np.testing.assert_allclose(value, expected[0] if thresholds is None or np.ndim(thresholds) == 0 else expected,
                                   rtol=1e-5)


def test_precision_top_k():
    _, onehot, probs, _ = DATA[0]
    top2 = np.argsort(-probs, axis=-1)[:, :2]
    kept = np.zeros_like(probs, dtype=bool)
    np.put_along_axis(kept, top2, True, axis=-1)
    expected = (kept & (onehot == 1)).sum() / kept.sum()
    np.testing.assert_allclose(run(metrics.Precision(top_k=2), [((onehot, probs), {})]), expected, rtol=1e-6)
    in_class = (kept[:, 3] & (onehot[:, 3] == 1)).sum() / max(kept[:, 3].sum(), 1)
    np.testing.assert_allclose(run(metrics.Precision(top_k=2, class_id=3), [((onehot, probs), {})]), in_class,
                               rtol=1e-6)


def keras_auc(y, p, w, num_thresholds=200, curve="ROC"):
    """Keras' AUC from its counts, in NumPy: trapezoids for ROC, Davis & Goadrich for PR."""
    ts = [-1e-7] + [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)] + [1 + 1e-7]
    tp, fp, tn, fn = np.array([confusion(y, p, w, t) for t in ts]).T
    div = lambda a, b: np.where(b != 0, a / np.where(b != 0, b, 1), 0.0)  # noqa: E731
    if curve == "ROC":
        x, yy = div(fp, fp + tn), div(tp, tp + fn)
        return np.sum((x[:-1] - x[1:]) * (yy[:-1] + yy[1:]) / 2)
    dtp, pp = tp[:-1] - tp[1:], tp + fp
    slope = div(dtp, np.maximum(pp[:-1] - pp[1:], 0))
    intercept = tp[1:] - slope * pp[1:]
    ratio = np.where((pp[:-1] > 0) & (pp[1:] > 0), div(pp[:-1], np.maximum(pp[1:], 0)), 1.0)
    return np.sum(div(slope * (dtp + intercept * np.log(ratio)), np.maximum(tp[1:] + fn[1:], 0)))


def exact_roc_auc(y, p, w):
    pos, neg = y == 1, y == 0
    pairs = w[pos][:, None] * w[neg][None, :]
    return np.sum(pairs * ((p[pos][:, None] > p[neg][None, :]) + 0.5 * (p[pos][:, None] == p[neg][None, :]))) / pairs.sum()


@pytest.mark.parametrize("curve", ["ROC", "PR"])
def test_auc_matches_keras_interpolation(curve):
    y, p, w = (np.concatenate(x) for x in zip(*BIN))
    value = run(metrics.AUC(curve=curve), [((yb, pb), {"sample_weight": wb}) for yb, pb, wb in BIN])
    np.testing.assert_allclose(value, keras_auc(y, p, w, curve=curve), atol=1e-3 if curve == "ROC" else 1e-5)
    if curve == "ROC":
        assert abs(value - exact_roc_auc(y, p, w)) < 0.02  # 200 thresholds approximate the exact area


def test_auc_from_logits_and_riemann_sums():
    y, p, _ = BIN[0]
    logits = np.log(p / (1 - p))
    exact = exact_roc_auc(y, p, np.ones_like(p))
    auc = metrics.AUC(from_logits=True, num_thresholds=1000)
    auc.update_state(y, logits)
    assert abs(float(auc.result()) - exact) < 0.01
    lo, hi = metrics.AUC(summation_method="minoring"), metrics.AUC(summation_method="majoring")
    lo.update_state(y, p), hi.update_state(y, p)
    assert float(lo.result()) <= exact + 1e-6 <= float(hi.result()) + 2e-6


def test_get_resolves_names_and_configs_round_trip():
    assert metrics.get("accuracy") is metrics.accuracy and metrics.get("acc") is metrics.accuracy
    assert metrics.get("mse") is gf.keras.losses.mean_squared_error
    assert metrics.get("sparse_categorical_accuracy") is metrics.sparse_categorical_accuracy
    assert isinstance(metrics.get("AUC"), metrics.AUC)
    for metric in [metrics.AUC(num_thresholds=50, curve="PR"), metrics.Precision(thresholds=[0.1, 0.4]),
                   metrics.BinaryAccuracy(threshold=0.7), metrics.SparseTopKCategoricalAccuracy(k=3), metrics.Mean()]:
        again = metrics.deserialize(metrics.serialize(metric))
        assert type(again) is type(metric) and again.get_config() == metric.get_config()
    with pytest.raises(ValueError, match="unknown metric 'acuracy'"):
        metrics.get("acuracy")


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="thresholds must be numbers in"):
        metrics.Precision(thresholds=1.5)
    with pytest.raises(ValueError, match="curve"):
        metrics.AUC(curve="DET")
    with pytest.raises(ValueError, match="without its class axis"):
        metrics.SparseCategoricalAccuracy().update_state(np.zeros((N, 2)), DATA[0][2])
