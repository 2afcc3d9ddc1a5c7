"""TruePositives/FalsePositives/TrueNegatives/FalseNegatives, FBetaScore/F1Score, MeanIoU and CosineSimilarity:
Keras' documented examples, NumPy references, accumulation over batches with sample weights, configs, lookup by
name, and use in a compiled fit."""
import numpy as np
import pytest

import gpuflow as gf

M = gf.keras.metrics
Y_TRUE = np.array([[1, 1, 1], [1, 0, 0], [1, 1, 0]], np.float32)
Y_PRED = np.array([[0.2, 0.6, 0.7], [0.2, 0.6, 0.6], [0.6, 0.8, 0.0]], np.float32)


def test_keras_documented_examples():
    for cls, expected in ((M.TruePositives, 2.0), (M.FalsePositives, 1.0), (M.TrueNegatives, 0.0),
                          (M.FalseNegatives, 1.0)):
        metric = cls()
        metric.update_state([0, 1, 1, 1], [1, 0, 1, 1])
        assert float(metric.result()) == expected, cls.__name__
    f1 = M.F1Score(threshold=0.5)
    f1.update_state(Y_TRUE, Y_PRED)
    np.testing.assert_allclose(f1.result().numpy(), [0.5, 0.8, 0.6666667], rtol=1e-6)
    f2 = M.FBetaScore(beta=2.0, threshold=0.5)
    f2.update_state(Y_TRUE, Y_PRED)
    np.testing.assert_allclose(f2.result().numpy(), [0.3846154, 0.90909094, 0.8333334], rtol=1e-6)
    iou = M.MeanIoU(num_classes=2)
    iou.update_state([0, 0, 1, 1], [0, 1, 0, 1])
    assert float(iou.result()) == pytest.approx(1 / 3, rel=1e-6)
    cosine = M.CosineSimilarity(axis=1)
    cosine.update_state([[0.0, 1.0], [1.0, 1.0]], [[1.0, 0.0], [1.0, 1.0]])
    assert float(cosine.result()) == pytest.approx(0.5, rel=1e-6)


def _np_fbeta(tp, fp, fn, beta):
    p, r = tp / (tp + fp + 1e-7), tp / (tp + fn + 1e-7)
    with np.errstate(invalid="ignore", divide="ignore"):
        f = np.where(beta ** 2 * p + r == 0, 0.0, p * r / (beta ** 2 * p + r)) * (1 + beta ** 2)
    return f


@pytest.mark.parametrize("average", [None, "micro", "macro", "weighted"])
def test_fbeta_averages_over_batches_with_weights(device, average):
    rng = np.random.default_rng(0)
    metric = M.FBetaScore(average=average, beta=0.5)
    tp = fp = fn = support = 0
    for _ in range(3):
        y = (rng.random((8, 4)) < 0.4).astype(np.float32)
        scores = rng.random((8, 4)).astype(np.float32)
        w = rng.random(8).astype(np.float32)
        pred = (scores == scores.max(-1, keepdims=True)).astype(np.float32)  # no threshold: each row's argmax
        tp, fp = tp + (pred * y * w[:, None]).sum(0), fp + (pred * (1 - y) * w[:, None]).sum(0)
        fn, support = fn + ((1 - pred) * y * w[:, None]).sum(0), support + (y * w[:, None]).sum(0)
        metric.update_state(y, scores, sample_weight=w)
    if average == "micro":
        expected = _np_fbeta(tp.sum(), fp.sum(), fn.sum(), 0.5)
    else:
        per_class = _np_fbeta(tp, fp, fn, 0.5)
        expected = {None: per_class, "macro": per_class.mean(),
                    "weighted": (per_class * support / support.sum()).sum()}[average]
    np.testing.assert_allclose(metric.result().numpy(), expected, rtol=1e-5)


def test_mean_iou_options():
    y_true = np.array([0, 1, 2, 2, 1, 0])
    y_pred = np.array([0, 2, 2, 2, 1, 1])
    metric = M.MeanIoU(num_classes=4, ignore_class=1)  # class 3 never appears: left out of the mean
    metric.update_state(y_true, y_pred)
    kept = y_true != 1
    cm = np.zeros((4, 4))
    np.add.at(cm, (y_true[kept], y_pred[kept]), 1)
    tp = np.diag(cm)
    denominator = cm.sum(0) + cm.sum(1) - tp
    expected = np.sum(tp[denominator > 0] / denominator[denominator > 0]) / np.count_nonzero(denominator)
    assert float(metric.result()) == pytest.approx(expected, rel=1e-6)
    one_hot = M.MeanIoU(num_classes=3, sparse_y_true=False, sparse_y_pred=False)
    one_hot.update_state(np.eye(3)[y_true], np.eye(3)[y_pred] * 0.9)
    plain = M.MeanIoU(num_classes=3)
    plain.update_state(y_true, y_pred)
    assert float(one_hot.result()) == pytest.approx(float(plain.result()))


@pytest.mark.parametrize("metric", [M.TruePositives(thresholds=[0.3, 0.7]), M.F1Score(average="macro", threshold=0.4),
                                    M.FBetaScore(beta=2.0), M.MeanIoU(3, ignore_class=0), M.CosineSimilarity(axis=0)])
def test_configs_round_trip_and_names_resolve(metric):
    again = M.deserialize(M.serialize(metric))
    assert type(again) is type(metric) and again.get_config() == metric.get_config()
    if not isinstance(metric, M.MeanIoU):  # (MeanIoU needs num_classes: Keras cannot make one from its name either)
        assert isinstance(M.get(type(metric).__name__), type(metric))
    assert M.get("cosine_similarity") is M.cosine_similarity


def test_in_a_compiled_fit():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(64, 5)).astype(np.float32)
    y = np.eye(3)[(x[:, :3]).argmax(-1)].astype(np.float32)
    model = gf.keras.Sequential([gf.keras.Input((5,)), gf.keras.layers.Dense(3, activation="softmax")])
    model.compile("adam", "categorical_crossentropy",
                  metrics=[M.F1Score(average="macro"), M.TruePositives(), M.MeanIoU(3, sparse_y_true=False,
                                                                                    sparse_y_pred=False)])
    logs = model.fit(x, y, batch_size=16, epochs=2, verbose=0).history
    assert {"f1_score", "true_positives", "mean_io_u"} <= set(logs)
    assert all(0.0 <= v <= 1.0 for v in logs["f1_score"] + logs["mean_io_u"])
    results = model.evaluate(x, y, verbose=0, return_dict=True)
    assert 0.0 <= results["f1_score"] <= 1.0 and results["true_positives"] <= 64
