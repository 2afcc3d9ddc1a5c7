"""shuffle (determinism, reshuffling), prefetch (same elements, errors, thread shutdown) and cache."""
import gc
import os
import threading
import time

import numpy as np
import pytest

import gpuflow as gf

Dataset = gf.data.Dataset


def values(ds):
    return [gf.nest.map_structure(lambda a: a.tolist(), e) for e in ds.as_numpy_iterator()]


# --- shuffle ---------------------------------------------------------------------------------------

def test_shuffle_is_a_permutation_repeatable_from_the_seed():
    a = values(Dataset.range(50).shuffle(10, seed=7))
    assert sorted(a) == list(range(50)) and a != list(range(50))
    assert values(Dataset.range(50).shuffle(10, seed=7)) == a
    assert values(Dataset.range(50).shuffle(10, seed=8)) != a


def test_shuffle_uses_the_global_seed_without_an_op_seed():
    gf.random.set_seed(5)
    a = values(Dataset.range(30).shuffle(30))
    gf.random.set_seed(5)
    assert values(Dataset.range(30).shuffle(30)) == a
    gf.random.set_seed(6)
    assert values(Dataset.range(30).shuffle(30)) != a


def test_shuffle_reshuffles_each_epoch_unless_told_not_to():
    ds = Dataset.range(30).shuffle(30, seed=1)
    first, second = values(ds), values(ds)
    assert first != second and sorted(first) == sorted(second)
    assert values(Dataset.range(30).shuffle(30, seed=1)) == first  # epoch 0 again for a new dataset
    fixed = Dataset.range(30).shuffle(30, seed=1, reshuffle_each_iteration=False)
    assert values(fixed) == values(fixed)
    repeated = values(Dataset.range(30).shuffle(30, seed=1).repeat(2))
    assert repeated[:30] == first and repeated[30:] == second


def test_a_small_buffer_only_mixes_nearby_elements():
    out = values(Dataset.range(100).shuffle(3, seed=0))
    # With 3 slots, the element at position i was among the first i + 3 inputs.
    assert all(v < i + 3 for i, v in enumerate(out)) and sorted(out) == list(range(100))


def test_element_spec_does_not_advance_the_epoch():
    ds = Dataset.range(20).shuffle(20, seed=3).map(lambda x: x * 1)
    reference = values(Dataset.range(20).shuffle(20, seed=3))
    assert ds.element_spec == gf.TensorSpec((), gf.int64)
    assert values(ds) == reference
    assert len(ds) == 20


# --- prefetch --------------------------------------------------------------------------------------

def test_prefetch_yields_the_same_elements():
    ds = Dataset.from_tensor_slices((np.arange(20.0), np.arange(20))).batch(3)
    for size in (1, 4, gf.data.AUTOTUNE, 0):
        assert values(ds.prefetch(size)) == values(ds)
    assert ds.prefetch(2).element_spec == ds.element_spec and len(ds.prefetch(2)) == 7


def test_prefetch_reraises_producer_errors_in_the_consumer():
    def gen():
        yield 1
        yield 2
        raise RuntimeError("sensor unplugged")

    ds = Dataset.from_generator(gen, output_signature=gf.TensorSpec((), gf.int32)).prefetch(4)
    it = iter(ds)
    assert int(next(it)) == 1 and int(next(it)) == 2
    with pytest.raises(RuntimeError, match="sensor unplugged"):
        next(it)


def _prefetch_threads():
    return [t for t in threading.enumerate() if t.name == "gf.data.prefetch"]


def test_prefetch_thread_stops_when_the_iterator_is_dropped():
    before = len(_prefetch_threads())
    it = iter(Dataset.range(10).repeat().prefetch(2))
    next(it)
    assert len(_prefetch_threads()) == before + 1
    del it
    gc.collect()
    deadline = time.monotonic() + 5
    while len(_prefetch_threads()) > before and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(_prefetch_threads()) == before


def test_prefetched_elements_arrive_on_the_consumers_device():
    with gf.device("sim"):
        devices = {x.device for x in Dataset.range(4).prefetch(2)}
    assert devices == {"sim:0"}


# --- cache -----------------------------------------------------------------------------------------

def _counting(n, calls):
    return Dataset.range(n).map(lambda x: (calls.append(1), x * 10)[1])


def test_memory_cache_replays_the_first_complete_pass():
    calls = []
    ds = _counting(4, calls).cache()
    assert values(ds) == [0, 10, 20, 30] and len(calls) == 4
    assert values(ds) == [0, 10, 20, 30] and len(calls) == 4
    assert len(ds) == 4


def test_a_partial_pass_is_not_cached():
    calls = []
    ds = _counting(4, calls).cache()
    assert values(ds.take(2)) == [0, 10]
    assert values(ds) == [0, 10, 20, 30] and len(calls) == 6


def test_file_cache_writes_npz_and_reads_it_back(tmp_path):
    calls = []
    element = lambda x: (calls.append(1), {"x": gf.fill([2], gf.cast(x, gf.bfloat16)), "y": x})[1]  # noqa: E731
    prefix = tmp_path / "train"
    ds = Dataset.range(3).map(element).cache(str(prefix))
    first = values(ds)
    assert len(calls) == 3
    folder = tmp_path / "train.gfcache"
    assert sorted(os.listdir(folder)) == ["chunk-000000.npz", "index.json"]
    again = Dataset.range(3).map(element).cache(str(prefix))  # a new dataset finds the files
    assert values(again) == first and len(calls) == 3
    assert next(again.as_numpy_iterator())["x"].dtype == gf.bfloat16.np


def test_an_interrupted_file_cache_leaves_nothing(tmp_path):
    ds = Dataset.range(5).cache(str(tmp_path / "part"))
    assert values(ds.take(2)) == [0, 1]
    gc.collect()
    assert os.listdir(tmp_path) == []


def test_a_damaged_cache_file_is_an_error_not_code(tmp_path):
    folder = tmp_path / "bad.gfcache"
    folder.mkdir()
    (folder / "index.json").write_text('{"format": "something else"}')
    with pytest.raises(gf.errors.InvalidArgumentError, match="not a readable gpuflow cache"):
        values(Dataset.range(2).cache(str(tmp_path / "bad")))
