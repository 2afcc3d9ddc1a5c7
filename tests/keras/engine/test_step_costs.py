"""What the fit step no longer redoes per batch, and that the results are unchanged: a loss's signature is
read once per compile (a recompile sees the new loss), batches copy the user's arrays exactly once and never
alias them, shuffled batches are the same samples as before."""
from __future__ import annotations

import numpy as np
import pytest

import gpuflow as gf
from gpuflow.keras.engine import compile_utils, data_adapter

keras = gf.keras


def _model():
    model = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    return model


def _data(n=12):
    rng = np.random.default_rng(0)
    return rng.standard_normal((n, 3)).astype(np.float32), rng.standard_normal((n, 1)).astype(np.float32)


def test_loss_signature_is_read_once_per_compile(monkeypatch):
    calls = []
    real = compile_utils._accepts_sample_weight
    monkeypatch.setattr(compile_utils, "_accepts_sample_weight", lambda fn: calls.append(fn) or real(fn))
    x, y = _data()
    model = _model()
    model.fit(x, y, batch_size=4, epochs=2, verbose=0)  # 6 steps
    assert len(calls) == 1


def test_recompile_sees_the_new_loss_and_how_it_takes_sample_weight():
    x, y = _data()
    sw = np.linspace(0.0, 2.0, len(x)).astype(np.float32)
    model = _model()
    model.evaluate(x, y, verbose=0)  # the first loss is set up (and its signature read)
    seen = []

    def plain(y_true, y_pred):  # no sample_weight parameter: weighted and averaged by the engine
        seen.append("plain")
        return gf.reduce_mean(gf.square(y_true - y_pred), axis=-1)

    def weighted(y_true, y_pred, sample_weight=None):  # takes it: called with it, result used as it is
        seen.append(sample_weight is not None)
        return gf.constant(5.0)

    model.compile(optimizer="sgd", loss=plain)
    pred = model.predict(x, verbose=0)
    got = model.evaluate(x, y, sample_weight=sw, batch_size=len(x), verbose=0)
    per_sample = ((y - pred) ** 2).mean(axis=-1)
    np.testing.assert_allclose(got, (per_sample * sw).mean(), rtol=1e-5)
    assert seen == ["plain"]
    model.compile(optimizer="sgd", loss=weighted)
    assert model.evaluate(x, y, sample_weight=sw, batch_size=len(x), verbose=0) == pytest.approx(5.0)
    assert seen == ["plain", True]


def test_call_loss_without_a_precomputed_answer_still_reads_the_signature():
    y_true, y_pred = gf.constant([[1.0], [3.0]]), gf.constant([[0.0], [0.0]])
    value = compile_utils.call_loss(lambda t, p: gf.square(t - p)[:, 0], y_true, y_pred, gf.constant([1.0, 0.0]))
    assert float(value) == pytest.approx(0.5)
    assert float(compile_utils.call_loss(lambda t, p, sample_weight=None: gf.constant(2.0), y_true, y_pred)) == 2.0


@pytest.mark.parametrize("shuffle", [False, True])
def test_batches_never_alias_the_users_arrays(shuffle):
    x, y = _data()
    batches = data_adapter.ArrayBatches(x, y, batch_size=5, shuffle=shuffle)
    got = [tuple(t.numpy() for t in batch) for batch in batches.epoch()]
    x_before = x.copy()
    for batch in batches.epoch():
        kept = [t.numpy() for t in batch]
        x[...] = 1e6  # the user changes the data after the batch was made
        y[...] = 1e6
        np.testing.assert_array_equal(batch[0].numpy(), kept[0])
        np.testing.assert_array_equal(batch[1].numpy(), kept[1])
        x[...], y[...] = x_before, _data()[1]
    assert [b[0].shape[0] for b in got] == [5, 5, 2]
    rows = np.concatenate([b[0] for b in got])
    if shuffle:  # a permutation of the samples, each once
        rows = rows[np.lexsort(rows.T)]
        np.testing.assert_array_equal(rows, x_before[np.lexsort(x_before.T)])
    else:
        np.testing.assert_array_equal(rows, x_before)


def test_shuffled_batches_follow_the_global_seed_and_keep_x_y_pairs():
    x, y = _data()
    y = np.arange(len(x), dtype=np.float32)[:, None]
    x[:, 0] = y[:, 0]
    gf.random.set_seed(3)
    first = [b[0].numpy()[:, 0].tolist() for b in data_adapter.ArrayBatches(x, y, batch_size=4, shuffle=True).epoch()]
    gf.random.set_seed(3)
    for batch, xs in zip(data_adapter.ArrayBatches(x, y, batch_size=4, shuffle=True).epoch(), first):
        assert batch[0].numpy()[:, 0].tolist() == xs == batch[1].numpy()[:, 0].tolist()


def test_float64_and_dict_data_become_float32_batches():
    x, y = _data(6)
    batches = data_adapter.ArrayBatches({"a": x.astype(np.float64)}, y.astype(np.float64), batch_size=4,
                                        shuffle=True, steps=3)
    out = list(batches.epoch())
    assert len(out) == 3 and all(b[0]["a"].dtype == gf.float32 and b[1].dtype == gf.float32 for b in out)
    assert [b[1].shape[0] for b in out] == [4, 2, 4]  # steps beyond the data wrap around, as before


def test_train_on_batch_copies_the_callers_arrays():
    x, y = _data(4)
    batch = data_adapter.pack(x, y)
    x[...] = 0.0
    assert np.all(batch[0].numpy() != 0.0)


def test_symbolic_call_check_matches_any_symbolic():
    from gpuflow.keras.engine.layer_symbolic import any_symbolic_call
    from gpuflow.keras.engine.keras_tensor import any_symbolic
    kt, t = keras.Input((3,)), gf.constant([[1.0, 2.0, 3.0]])
    cases = [((t,), {}), ((t,), {"training": True}), ((kt,), {}), ((t,), {"mask": kt}), ((t, [t, (kt,)]), {}),
             ((t,), {"extra": {"a": [t], "b": {"c": kt}}}), (([t, t],), {"training": None}), ((t, 3.0), {"k": "s"}),
             (({"x": t},), {"extra": [[t]]})]
    for args, kwargs in cases:
        assert any_symbolic_call(args, kwargs) == any_symbolic((args, kwargs)), (args, kwargs)


class _MaybeLoss(keras.layers.Layer):
    def call(self, x, add=False):
        if add:
            self.add_loss(gf.reduce_sum(x))
        return x


def test_add_loss_values_are_forgotten_at_the_next_outermost_call_only():
    inner = _MaybeLoss()
    outer = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2)])
    outer.add(inner)
    x = gf.constant([[1.0, 2.0]])
    inner(x, add=True)
    assert [float(v) for v in inner.losses] == [3.0]
    inner(x, add=True)
    assert len(inner.losses) == 1  # replaced, not accumulated
    inner(x)
    assert inner.losses == []
    inner(x, add=True)
    outer(x)  # the model's call is the outermost one: the inner layer's old value is dropped
    assert inner.losses == [] and outer.losses == []
