"""AUC(multi_label=True), num_labels and label_weights against a float64 NumPy reference of Keras 3's definition,
for both curves and every summation method, on cpu and sim."""
import numpy as np
import pytest

import gpuflow as gf
from gpuflow.keras import metrics
from harness import rng

R = rng(11)
N, L = 16, 4


def _batches(n_batches=3, labels=L, ties=False):
    out = []
    for _ in range(n_batches):
        y = (R.random((N, labels)) < 0.4).astype(np.float32)
        p = R.random((N, labels)).astype(np.float32)
        if ties:  # values on the threshold grid and repeated scores exercise the > comparison and flat segments
            p = np.round(p * 4) / 4
        out.append((y, p, R.uniform(0.2, 2.0, N).astype(np.float32)))
    return out


def _thresholds(num_thresholds):
    return np.array([-1e-7] + [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)] + [1 + 1e-7])


def _counts(y, p, w, thresholds):
    """(tp, fp, tn, fn), each (thresholds,) for 1-D data; Keras: predicted positive when p > t, label when y != 0."""
    above = p[None, :] > thresholds[:, None]
    pos = (y != 0)[None, :]
    return [np.sum(w * m, axis=1) for m in (above & pos, above & ~pos, ~above & ~pos, ~above & pos)]


def _div(a, b):
    return np.where(b != 0, a / np.where(b != 0, b, 1.0), 0.0)


def _area(tp, fp, tn, fn, curve, method):
    """Keras 3's AUC.result for one curve of counts (float64)."""
    if curve == "PR" and method == "interpolation":  # Davis & Goadrich
        dtp, p = tp[:-1] - tp[1:], tp + fp
        slope = _div(dtp, np.maximum(p[:-1] - p[1:], 0))
        intercept = tp[1:] - slope * p[1:]
        ratio = np.where((p[:-1] > 0) & (p[1:] > 0), _div(p[:-1], np.maximum(p[1:], 0)), 1.0)
        return np.sum(_div(slope * (dtp + intercept * np.log(ratio)), np.maximum(tp[1:] + fn[1:], 0)))
    if curve == "ROC":
        x, yy = _div(fp, fp + tn), _div(tp, tp + fn)
    else:
        x, yy = _div(tp, tp + fn), _div(tp, tp + fp)
    heights = {"interpolation": (yy[:-1] + yy[1:]) / 2, "minoring": np.minimum(yy[:-1], yy[1:]),
               "majoring": np.maximum(yy[:-1], yy[1:])}[method]
    return np.sum((x[:-1] - x[1:]) * heights)


def reference(batches, curve, method, num_thresholds=200, multi_label=True, label_weights=None):
    y, p, w = (np.concatenate(parts).astype(np.float64) for parts in zip(*batches))
    w = np.broadcast_to(w[:, None], y.shape)
    ts = _thresholds(num_thresholds)
    if not multi_label:  # pooled: every value on one curve, each label's values scaled by its weight
        lw = np.ones(y.shape[1]) if label_weights is None else np.asarray(label_weights, np.float64)
        return _area(*_counts(y.ravel(), p.ravel(), (w * lw).ravel(), ts), curve, method)
    areas = np.array([_area(*_counts(y[:, j], p[:, j], w[:, j], ts), curve, method) for j in range(y.shape[1])])
    if label_weights is None:
        return areas.mean()
    lw = np.asarray(label_weights, np.float64)
    return np.sum(areas * lw) / np.sum(lw)


def _run(metric, batches):
    for y, p, w in batches:
        metric.update_state(y, p, sample_weight=w)
    value = float(metric.result())
    metric.reset_state()
    assert all(np.all(v.numpy() == 0) for v in metric.variables), "reset_state left state behind"
    return value


CURVES = [("ROC", "interpolation"), ("ROC", "minoring"), ("ROC", "majoring"), ("PR", "interpolation"),
          ("PR", "minoring"), ("PR", "majoring")]


@pytest.mark.parametrize("curve,method", CURVES)
@pytest.mark.parametrize("ties", [False, True])
def test_multi_label_is_the_mean_of_per_label_areas(device, curve, method, ties):
    batches = _batches(ties=ties)
    auc = metrics.AUC(curve=curve, summation_method=method, multi_label=True)
    assert auc.variables == []  # built on the first batch, from its number of labels
    value = _run(auc, batches)
    assert auc.true_positives.shape == (200, L) and auc.true_positives.device == f"{device}:0"
    np.testing.assert_allclose(value, reference(batches, curve, method), rtol=1e-5, atol=1e-6)
    # The same as averaging single-label AUCs computed one label at a time.
    singles = []
    for j in range(L):
        single = metrics.AUC(curve=curve, summation_method=method)
        singles.append(_run(single, [(y[:, j], p[:, j], w) for y, p, w in batches]))
    np.testing.assert_allclose(value, np.mean(singles), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("curve,method", CURVES[::2] + [("PR", "interpolation")])
def test_label_weights_weigh_the_label_areas_and_num_labels_builds_up_front(device, curve, method):
    batches = _batches()
    weights = [0.5, 0.0, 2.0, 1.0]
    auc = metrics.AUC(curve=curve, summation_method=method, multi_label=True, num_labels=L, label_weights=weights,
                      num_thresholds=50)
    assert [tuple(v.shape) for v in auc.variables] == [(50, L)] * 4
    np.testing.assert_allclose(_run(auc, batches), reference(batches, curve, method, 50, label_weights=weights),
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("curve", ["ROC", "PR"])
def test_label_weights_without_multi_label_weigh_the_pooled_values(device, curve):
    batches = _batches()
    weights = [1.0, 3.0, 0.25, 0.0]
    auc = metrics.AUC(curve=curve, label_weights=weights)
    assert tuple(auc.true_positives.shape) == (200,)
    np.testing.assert_allclose(_run(auc, batches),
                               reference(batches, curve, "interpolation", multi_label=False, label_weights=weights),
                               rtol=1e-5, atol=1e-6)


def test_multi_label_from_logits_and_explicit_thresholds():
    batches = _batches()
    logit_batches = [(y, np.log(p / (1 - p)).astype(np.float32), w) for y, p, w in batches]
    auc = metrics.AUC(multi_label=True, from_logits=True, thresholds=[0.25, 0.5, 0.75])
    value = _run(auc, logit_batches)
    y, p, w = (np.concatenate(parts).astype(np.float64) for parts in zip(*batches))
    ts = np.array([-1e-7, 0.25, 0.5, 0.75, 1 + 1e-7])
    expected = np.mean([_area(*_counts(y[:, j], p[:, j], w, ts), "ROC", "interpolation") for j in range(L)])
    np.testing.assert_allclose(value, expected, rtol=1e-5)


def test_multi_label_in_fit_and_config_round_trip():
    x = R.normal(size=(32, 3)).astype(np.float32)
    y = (x[:, :2] > 0).astype(np.float32)
    model = gf.keras.Sequential([gf.keras.Input((3,)), gf.keras.layers.Dense(2, activation="sigmoid")])
    model.compile(optimizer="sgd", loss="binary_crossentropy", metrics=[metrics.AUC(multi_label=True, name="auc")])
    history = model.fit(x, y, batch_size=8, epochs=2, verbose=0)
    assert 0.0 <= history.history["auc"][-1] <= 1.0
    auc = metrics.AUC(multi_label=True, num_labels=3, label_weights=[1, 2, 3], curve="PR", summation_method="minoring")
    again = metrics.deserialize(metrics.serialize(auc))
    assert again.get_config() == auc.get_config() and again.multi_label and again.label_weights == [1.0, 2.0, 3.0]
    assert metrics.AUC(multi_label=True).result().numpy() == 0.0  # nothing seen yet


def test_bad_multi_label_input_is_named():
    with pytest.raises(ValueError, match="num_labels .* only used with multi_label=True"):
        metrics.AUC(num_labels=3)
    with pytest.raises(ValueError, match="label_weights must be one number >= 0"):
        metrics.AUC(multi_label=True, label_weights=[1.0, -1.0])
    with pytest.raises(ValueError, match="2 label_weights for num_labels=3"):
        metrics.AUC(multi_label=True, num_labels=3, label_weights=[1.0, 1.0])
    with pytest.raises(ValueError, match=r"y_pred must be \(samples, labels\), got shape \[16\]"):
        metrics.AUC(multi_label=True).update_state(np.zeros(N), np.zeros(N))
    with pytest.raises(ValueError, match=r"3 label_weights for y_pred with 4 labels"):
        metrics.AUC(label_weights=[1, 1, 1]).update_state(np.zeros((N, L)), np.zeros((N, L)))
    auc = metrics.AUC(multi_label=True, num_labels=3)
    with pytest.raises(ValueError, match=r"built for 3 labels, got y_pred of shape \[16, 4\]"):
        auc.update_state(np.zeros((N, L)), np.zeros((N, L)))
