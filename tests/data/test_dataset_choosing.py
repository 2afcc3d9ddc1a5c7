"""Dataset.choose_from_datasets and Dataset.sample_from_datasets (and their tf.data.experimental names), as tf.data's."""
from __future__ import annotations

import numpy as np
import pytest

import gpuflow as gf

Dataset = gf.data.Dataset


def _values(ds):
    return [int(x) for x in ds.as_numpy_iterator()]


def _choices(*ks):
    return Dataset.from_tensor_slices(np.array(ks, np.int64))


def test_choose_follows_the_choices_and_stops_at_an_empty_dataset():
    a, b, c = Dataset.range(0, 5), Dataset.range(100, 102), Dataset.range(200, 300)
    choices = _choices(0, 1, 2, 1, 0, 1, 2, 0)
    assert _values(Dataset.choose_from_datasets([a, b, c], choices)) == [0, 100, 200, 101, 1]
    # not stopping: a choice of a dataset that ran out is skipped
    assert _values(Dataset.choose_from_datasets([a, b, c], choices, stop_on_empty_dataset=False)) == \
        [0, 100, 200, 101, 1, 201, 2]
    assert _values(gf.data.experimental.choose_from_datasets([a, b], _choices(1, 0))) == [100, 0]


def test_choose_with_nested_elements():
    a = Dataset.from_tensor_slices({"x": np.arange(3.0, dtype=np.float32), "y": np.arange(3)})
    b = Dataset.from_tensor_slices({"x": -np.arange(3.0, dtype=np.float32), "y": 10 + np.arange(3)})
    out = list(Dataset.choose_from_datasets([a, b], _choices(1, 0, 1)).as_numpy_iterator())
    assert [(float(e["x"]), int(e["y"])) for e in out] == [(-0.0, 10), (0.0, 0), (-1.0, 11)]


def test_sample_repeats_from_a_seed_and_uses_every_element_once():
    a, b = Dataset.range(0, 300), Dataset.range(1000, 1100)
    first = _values(Dataset.sample_from_datasets([a, b], [0.75, 0.25], seed=4))
    assert first == _values(Dataset.sample_from_datasets([a, b], [0.75, 0.25], seed=4))
    assert first != _values(Dataset.sample_from_datasets([a, b], [0.75, 0.25], seed=5))
    assert sorted(first) == list(range(300)) + list(range(1000, 1100))  # the rest of a once b ran out
    for source in ([x for x in first if x < 1000], [x for x in first if x >= 1000]):
        assert source == sorted(source)  # each dataset's own order is kept


def test_sample_draws_by_the_weights():
    ones, twos, threes = (Dataset.from_tensors(np.int64(k)).repeat() for k in (1, 2, 3))
    drawn = np.array(_values(Dataset.sample_from_datasets([ones, twos, threes], [0.2, 0.5, 0.3], seed=0).take(6000)))
    shares = [np.mean(drawn == k) for k in (1, 2, 3)]
    np.testing.assert_allclose(shares, [0.2, 0.5, 0.3], atol=0.025)  # ~4 standard deviations at n = 6000
    assert Dataset.sample_from_datasets([ones, twos], seed=0).cardinality().numpy() == \
        gf.data.experimental.INFINITE_CARDINALITY
    assert Dataset.sample_from_datasets([ones, Dataset.range(3)]).cardinality().numpy() == \
        gf.data.experimental.UNKNOWN_CARDINALITY


def test_sample_stops_at_the_first_empty_dataset_when_asked():
    a, b = Dataset.range(0, 3), Dataset.range(100, 200)
    out = _values(Dataset.sample_from_datasets([a, b], [0.9, 0.1], seed=1, stop_on_empty_dataset=True))
    assert len([x for x in out if x < 100]) == 3 and len(out) < 103


def test_sample_rerandomizes_each_pass_only_when_asked():
    a, b = Dataset.range(0, 50), Dataset.range(100, 150)
    fixed = Dataset.sample_from_datasets([a, b], seed=2)
    assert _values(fixed) == _values(fixed)
    fresh = Dataset.sample_from_datasets([a, b], seed=2, rerandomize_each_iteration=True)
    assert _values(fresh) != _values(fresh)
    gf.random.set_seed(7)
    one = _values(gf.data.experimental.sample_from_datasets([a, b]))
    gf.random.set_seed(7)
    assert one == _values(gf.data.experimental.sample_from_datasets([a, b]))


@pytest.mark.parametrize("make, message", [
    (lambda: Dataset.sample_from_datasets([Dataset.range(3), Dataset.range(2)], [1.0]),
     r"weights must be 2 finite numbers >= 0 \(one per dataset\), not all 0; got \[1.0\]"),
    (lambda: Dataset.sample_from_datasets([Dataset.range(3)], [-1.0]), "weights must be 1 finite numbers"),
    (lambda: Dataset.sample_from_datasets([Dataset.range(3), Dataset.range(2)], [0.0, 0.0]), "not all 0"),
    (lambda: Dataset.sample_from_datasets([]), "give at least one dataset"),
    (lambda: Dataset.sample_from_datasets([Dataset.range(3), [1, 2]]), "must be gf.data.Dataset objects"),
    (lambda: Dataset.sample_from_datasets([Dataset.range(3), Dataset.from_tensor_slices(np.ones((2, 2)))]),
     "same structure, dtypes and ranks"),
    (lambda: Dataset.choose_from_datasets([Dataset.range(3)], Dataset.range(2).map(lambda x: gf.cast(x, gf.int32))),
     "choice_dataset must have scalar int64 elements, got int32"),
])
def test_bad_arguments_are_named(make, message):
    with pytest.raises(gf.errors.InvalidArgumentError, match=message):
        make()


def test_a_choice_out_of_range_is_named():
    ds = Dataset.choose_from_datasets([Dataset.range(3), Dataset.range(3)], _choices(0, 2))
    with pytest.raises(gf.errors.InvalidArgumentError, match="gave 2, not an index of the 2 datasets"):
        _values(ds)
