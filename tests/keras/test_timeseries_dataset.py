"""keras.utils.timeseries_dataset_from_array against a pure-NumPy reference of Keras 3's rule: window i starts at
start_index + i * sequence_stride, takes sequence_length steps sampling_rate apart, pairs with targets at its
start, and stops before end_index; batches of batch_size, the last one smaller."""
import numpy as np
import pytest

import gpuflow as gf
from tests.harness import rand

timeseries = gf.keras.utils.timeseries_dataset_from_array


def reference(data, targets, sequence_length, sequence_stride=1, sampling_rate=1, batch_size=128, start_index=None,
              end_index=None):
    start = start_index or 0
    end = len(data) if end_index is None else end_index
    count = end - start - (sequence_length - 1) * sampling_rate
    if targets is not None:
        count = min(count, len(targets))
    starts = range(0, max(count, 0), sequence_stride)
    windows = [data[start + s + np.arange(sequence_length) * sampling_rate] for s in starts]
    labels = [targets[start + s] for s in starts] if targets is not None else None
    if batch_size is None:
        return [w if labels is None else (w, t) for w, t in zip(windows, labels or windows)]
    out = []
    for k in range(0, len(windows), batch_size):
        w = np.stack(windows[k:k + batch_size])
        out.append(w if labels is None else (w, np.stack(labels[k:k + batch_size])))
    return out


def _elements(dataset):
    return list(dataset.as_numpy_iterator())


def _assert_same(got, expected):
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        for a, b in zip(g if isinstance(g, tuple) else (g,), e if isinstance(e, tuple) else (e,)):
            assert a.dtype == b.dtype and a.shape == b.shape
            np.testing.assert_array_equal(a, b)


CASES = [
    dict(n=20, features=(), sequence_length=4),
    dict(n=30, features=(3,), sequence_length=5, sequence_stride=2, batch_size=4),
    dict(n=25, features=(2, 2), sequence_length=3, sampling_rate=3, batch_size=5),
    dict(n=40, features=(3,), sequence_length=6, sequence_stride=3, sampling_rate=2, batch_size=3, start_index=5,
         end_index=33),
    dict(n=15, features=(1,), sequence_length=15, batch_size=2),     # one window: the whole series
    dict(n=12, features=(2,), sequence_length=5, batch_size=None),  # unbatched
    dict(n=10, features=(), sequence_length=4, end_index=5, batch_size=2),
]


@pytest.mark.parametrize("with_targets", [True, False])
@pytest.mark.parametrize("case", CASES, ids=str)
def test_windows_match_the_numpy_reference(case, with_targets):
    case = dict(case)
    n, features = case.pop("n"), case.pop("features")
    data = rand((n,) + features, "float64", seed=n)
    targets = rand((n,), "int32", low=0, high=100, seed=1) if with_targets else None
    got = _elements(timeseries(data, targets, **case))
    _assert_same(got, reference(data, targets, **case))
    if case.get("batch_size", 128) is not None and got:
        sizes = [len(b[0] if with_targets else b) for b in got]
        assert all(s == case.get("batch_size", 128) for s in sizes[:-1]) and 0 < sizes[-1]


def test_targets_pair_with_the_window_start_and_cap_the_count():
    data = np.arange(100).reshape(50, 2).astype(np.float32)
    targets = np.arange(50, 80)  # shorter than the data: 30 windows at most
    (x, y), = _elements(timeseries(data, targets, sequence_length=10, batch_size=None).batch(1000))
    assert len(x) == len(y) == 30
    np.testing.assert_array_equal(x[:, 0, 0] / 2, y - 50)  # window i starts at step i, target targets[i]
    ds = timeseries(data, data[10:, 0], sequence_length=10, batch_size=8)  # predict the step after each window
    for xb, yb in ds:
        np.testing.assert_array_equal(xb.numpy()[:, -1, 0] + 2, yb.numpy())


def test_works_with_tensors_and_keeps_dtypes():
    data, targets = gf.constant(rand((12, 2))), gf.constant(np.arange(12, dtype=np.int64))
    x, y = next(iter(timeseries(data, targets, sequence_length=3, batch_size=4)))
    assert (x.dtype, y.dtype, tuple(x.shape), tuple(y.shape)) == (gf.float32, gf.int64, (4, 3, 2), (4,))
    assert timeseries(data, None, 3).element_spec.shape.as_list() == [None, 3, 2]


def test_too_long_a_window_gives_an_empty_dataset():
    assert _elements(timeseries(np.arange(5.0), None, sequence_length=6)) == []


def test_shuffle_keeps_every_pair_and_repeats_with_a_seed():
    data = np.arange(60.0).reshape(30, 2)
    targets = np.arange(30) * 10
    plain = [(tuple(x.reshape(-1)), int(t)) for b in _elements(timeseries(data, targets, 4, batch_size=5))
             for x, t in zip(*b)]

    def shuffled(seed):
        return [(tuple(x.reshape(-1)), int(t)) for b in _elements(timeseries(data, targets, 4, batch_size=5,
                                                                             shuffle=True, seed=seed))
                for x, t in zip(*b)]
    first = shuffled(7)
    assert sorted(first) == sorted(plain) and first != plain
    assert shuffled(7) == first
    assert all(t == 10 * x[0] / 2 for x, t in first)  # each window still carries its own target


@pytest.mark.parametrize("kwargs,match", [
    (dict(start_index=-1), "start_index must be in"), (dict(start_index=20), "start_index must be in"),
    (dict(start_index=5, end_index=5), "end_index must be higher than start_index"),
    (dict(end_index=20), r"end_index must be in \(0, 20\)"), (dict(sampling_rate=0), "sampling_rate must be > 0"),
    (dict(sequence_stride=20), "sequence_stride must be > 0 and lower than the length of the data"),
    (dict(sequence_length=0), "sequence_length must be > 0")])
def test_bad_arguments_are_keras_errors(kwargs, match):
    args = dict(sequence_length=3)
    args.update(kwargs)
    with pytest.raises(ValueError, match=f"timeseries_dataset_from_array: {match}"):
        timeseries(np.arange(20.0), None, **args)


def test_a_compiled_fit_reads_it():
    series = np.sin(np.arange(200) / 5).astype(np.float32)[:, None]
    train = timeseries(series[:-8], series[8:, 0], sequence_length=8, batch_size=32)
    model = gf.keras.Sequential([gf.keras.Input((8, 1)), gf.keras.layers.Flatten(), gf.keras.layers.Dense(1)])
    model.compile(gf.keras.optimizers.Adam(0.05), "mse")
    loss = model.fit(train, epochs=10, verbose=0).history["loss"]
    assert loss[-1] < loss[0] / 4
