"""map, filter, repeat, take, skip, shard, interleave, flat_map, enumerate: values, element_spec, cardinality."""
import threading
import time

import numpy as np
import pytest

import gpuflow as gf
from gpuflow.data import AUTOTUNE, INFINITE_CARDINALITY, UNKNOWN_CARDINALITY

Dataset = gf.data.Dataset


def values(ds):
    return [gf.nest.map_structure(lambda a: a.tolist(), e) for e in ds.as_numpy_iterator()]


def card(ds):
    return int(ds.cardinality())


def test_map_unpacks_tuples_and_passes_dicts_whole():
    pairs = Dataset.from_tensor_slices(([1.0, 2.0], [10, 20]))
    ds = pairs.map(lambda x, y: {"sum": x + gf.cast(y, gf.float32), "y": y})
    assert values(ds) == [{"sum": 11.0, "y": 10}, {"sum": 22.0, "y": 20}]
    assert ds.element_spec == {"sum": gf.TensorSpec((), gf.float32), "y": gf.TensorSpec((), gf.int32)}
    dicts = Dataset.from_tensor_slices({"a": [1, 2]}).map(lambda d: d["a"] * 3)
    assert values(dicts) == [3, 6] and card(dicts) == 2


def test_map_receives_host_tensors_and_may_return_python_values():
    seen = []
    ds = Dataset.range(2).map(lambda x: (seen.append(x.device), 1.5)[1])
    with gf.device("sim"):
        assert values(ds) == [1.5, 1.5]
    assert seen == ["cpu:0", "cpu:0"]  # the pipeline runs on the host, whatever the consumer's device
    assert ds.element_spec == gf.TensorSpec((), gf.float32)


def test_map_spec_keeps_unknown_batch_dims_unknown():
    rows = Dataset.from_tensor_slices(np.zeros((10, 3), np.float32))
    assert rows.batch(4).map(lambda x: gf.reduce_sum(x, axis=1)).element_spec == gf.TensorSpec((None,), gf.float32)
    assert rows.batch(4).map(lambda x: x * 2.0).element_spec == gf.TensorSpec((None, 3), gf.float32)
    fixed = rows.batch(4, drop_remainder=True).map(lambda x: x[:, :2])
    assert fixed.element_spec == gf.TensorSpec((4, 2), gf.float32)


def test_parallel_map_keeps_order_and_runs_concurrently():
    active, peak, lock = [0], [0], threading.Lock()

    def slow(x):
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        time.sleep(0.01 * (int(x) % 3))  # later elements often finish first
        with lock:
            active[0] -= 1
        return x * 2

    ds = Dataset.range(30).map(slow, num_parallel_calls=4)
    assert values(ds) == [2 * i for i in range(30)]
    assert peak[0] > 1
    assert values(Dataset.range(10).map(lambda x: x + 1, num_parallel_calls=AUTOTUNE, deterministic=False)) == list(
        range(1, 11))


def test_filter():
    ds = Dataset.range(10).filter(lambda x: x % 3 == 0)
    assert values(ds) == [0, 3, 6, 9]
    assert card(ds) == UNKNOWN_CARDINALITY and ds.element_spec == gf.TensorSpec((), gf.int64)
    with pytest.raises(gf.errors.InvalidArgumentError, match="scalar bool"):
        values(Dataset.range(3).filter(lambda x: x + 1))


def test_repeat():
    assert values(Dataset.range(3).repeat(2)) == [0, 1, 2, 0, 1, 2]
    assert values(Dataset.range(2).repeat().take(5)) == [0, 1, 0, 1, 0]
    assert values(Dataset.range(0).repeat()) == []  # empty forever is empty, not a hang
    assert [card(d) for d in (Dataset.range(3).repeat(2), Dataset.range(3).repeat(), Dataset.range(0).repeat(),
                              Dataset.range(3).repeat(0), Dataset.range(3).filter(lambda x: True).repeat(2))] == [
        6, INFINITE_CARDINALITY, 0, 0, UNKNOWN_CARDINALITY]


def test_take_and_skip():
    ds = Dataset.range(10)
    assert values(ds.take(3)) == [0, 1, 2] and card(ds.take(3)) == 3
    assert values(ds.take(-1)) == list(range(10)) and card(ds.take(20)) == 10
    assert card(ds.repeat().take(4)) == 4
    assert values(ds.skip(7)) == [7, 8, 9] and card(ds.skip(7)) == 3 and card(ds.skip(20)) == 0
    assert values(ds.skip(-1)) == [] and card(ds.skip(-1)) == 0
    assert card(ds.repeat().skip(3)) == INFINITE_CARDINALITY


def test_shard():
    ds = Dataset.range(10)
    assert values(ds.shard(3, 0)) == [0, 3, 6, 9] and card(ds.shard(3, 0)) == 4
    assert values(ds.shard(3, 2)) == [2, 5, 8] and card(ds.shard(3, 2)) == 3
    with pytest.raises(gf.errors.InvalidArgumentError, match=r"index must be in \[0, num_shards=3\), got 3"):
        ds.shard(3, 3)


def test_interleave_matches_tfs_documented_order():
    ds = Dataset.range(1, 6).interleave(lambda x: Dataset.from_tensors(x).repeat(6), cycle_length=2, block_length=4)
    assert values(ds) == [1, 1, 1, 1, 2, 2, 2, 2, 1, 1, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 3, 3, 4, 4,
                          5, 5, 5, 5, 5, 5]
    assert ds.element_spec == gf.TensorSpec((), gf.int64) and card(ds) == UNKNOWN_CARDINALITY


def test_flat_map_and_enumerate():
    ds = Dataset.range(1, 4).flat_map(lambda n: Dataset.range(n))
    assert values(ds) == [0, 0, 1, 0, 1, 2]
    en = Dataset.from_tensor_slices([7.0, 8.0]).enumerate(start=5)
    assert values(en) == [(5, 7.0), (6, 8.0)] and card(en) == 2
    assert en.element_spec == (gf.TensorSpec((), gf.int64), gf.TensorSpec((), gf.float32))


def test_bad_arguments_say_what_was_given():
    with pytest.raises(gf.errors.InvalidArgumentError, match="take: count must be an integer, got str"):
        Dataset.range(3).take("2")
    with pytest.raises(gf.errors.InvalidArgumentError, match="batch: batch_size must be >= 1, got 0"):
        Dataset.range(3).batch(0)
    with pytest.raises(gf.errors.InvalidArgumentError, match="map: map_func must be callable, got int"):
        Dataset.range(3).map(3)
