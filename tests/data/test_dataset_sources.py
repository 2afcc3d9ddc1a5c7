"""Dataset sources: from_tensor_slices, from_tensors, from_generator, range, zip, concatenate; iteration."""
import collections

import numpy as np
import pytest

import gpuflow as gf
from gpuflow.data import INFINITE_CARDINALITY, UNKNOWN_CARDINALITY

Dataset = gf.data.Dataset


def values(ds):
    return [gf.nest.map_structure(lambda a: a.tolist(), e) for e in ds.as_numpy_iterator()]


def spec(shape, dtype):
    return gf.TensorSpec(shape, dtype)


def test_from_tensor_slices_of_tuple_dict_and_nested():
    x = np.arange(6, dtype=np.float64).reshape(3, 2)
    ds = Dataset.from_tensor_slices((x, {"label": [1, 2, 3], "w": np.array([0.5, 1.0, 2.0], np.float32)}))
    assert values(ds) == [([0.0, 1.0], {"label": 1, "w": 0.5}), ([2.0, 3.0], {"label": 2, "w": 1.0}),
                          ([4.0, 5.0], {"label": 3, "w": 2.0})]
    assert ds.element_spec == (spec((2,), gf.float64), {"label": spec((), gf.int32), "w": spec((), gf.float32)})
    assert int(ds.cardinality()) == 3 and len(ds) == 3


def test_python_values_get_tf_dtypes_and_numpy_dtypes_are_kept_or_widened():
    assert Dataset.from_tensor_slices([1.5, 2.5]).element_spec.dtype == gf.float32
    assert Dataset.from_tensor_slices([1, 2]).element_spec.dtype == gf.int32
    assert Dataset.from_tensor_slices([2**40, 1]).element_spec.dtype == gf.int64
    assert Dataset.from_tensor_slices(np.zeros(2, np.float64)).element_spec.dtype == gf.float64
    assert Dataset.from_tensor_slices([True, False]).element_spec.dtype == gf.bool
    pixels = Dataset.from_tensor_slices(np.array([[255, 0]], np.uint8))  # image data stays uint8
    assert pixels.element_spec == spec((2,), gf.uint8) and values(pixels) == [[255, 0]]
    counts = Dataset.from_tensor_slices(np.array([7, 65535], np.uint16))  # gpuflow has no uint16: widened, exact
    assert counts.element_spec == spec((), gf.int32) and values(counts) == [7, 65535]


def test_from_tensor_slices_of_tensors_and_namedtuples():
    Point = collections.namedtuple("Point", "x y")
    ds = Dataset.from_tensor_slices(Point(gf.constant([1.0, 2.0]), gf.constant([3, 4])))
    first = next(iter(ds))
    assert isinstance(first, Point) and float(first.x) == 1.0 and int(first.y) == 3
    assert ds.element_spec == Point(spec((), gf.float32), spec((), gf.int32))


def test_slices_do_not_alias_the_users_array():
    x = np.arange(3.0)
    ds = Dataset.from_tensor_slices(x)
    x[0] = 100.0
    got = list(ds.as_numpy_iterator())
    got[1][...] = -1.0  # as_numpy_iterator hands out copies
    assert values(ds) == [0.0, 1.0, 2.0]


def test_from_tensors_is_one_element():
    ds = Dataset.from_tensors(([1, 2, 3], 7.0))
    assert values(ds) == [([1, 2, 3], 7.0)]
    assert ds.element_spec == (spec((3,), gf.int32), spec((), gf.float32)) and len(ds) == 1


def test_from_generator_with_signature_converts_python_values():
    def gen():
        for i in range(3):
            yield [i] * (i + 1), i * 0.5

    sig = (gf.TensorSpec([None], gf.int64), gf.TensorSpec([], gf.float32))
    ds = Dataset.from_generator(gen, output_signature=sig)
    assert values(ds) == [([0], 0.0), ([1, 1], 0.5), ([2, 2, 2], 1.0)]
    assert ds.element_spec == sig and int(ds.cardinality()) == UNKNOWN_CARDINALITY
    assert [e[0].dtype for e in ds] == [gf.int64] * 3


def test_from_generator_with_output_types_and_shapes_and_args():
    ds = Dataset.from_generator(lambda n: ((i, {"sq": i * i}) for i in range(int(n))),
                                output_types=(gf.int32, {"sq": gf.int32}), output_shapes=((), {"sq": ()}), args=(3,))
    assert values(ds) == [(0, {"sq": 0}), (1, {"sq": 1}), (2, {"sq": 4})]


def test_range_like_tf():
    assert values(Dataset.range(5)) == [0, 1, 2, 3, 4]
    assert values(Dataset.range(2, 8, 3)) == [2, 5]
    assert values(Dataset.range(5, 0, -2)) == [5, 3, 1]
    assert Dataset.range(3).element_spec == spec((), gf.int64)
    assert Dataset.range(3, dtype=gf.int32).element_spec == spec((), gf.int32)
    assert [len(Dataset.range(*a)) for a in ((0,), (10,), (2, 8, 3), (5, 0, -2))] == [0, 10, 2, 3]


def test_zip_stops_at_the_shortest_and_nests():
    a, b = Dataset.range(3), Dataset.range(10, 15)
    ds = Dataset.zip((a, {"b": b}))
    assert values(ds) == [(0, {"b": 10}), (1, {"b": 11}), (2, {"b": 12})]
    assert ds.element_spec == (spec((), gf.int64), {"b": spec((), gf.int64)})
    assert len(ds) == 3
    assert values(Dataset.zip(a, b)) == [(0, 10), (1, 11), (2, 12)]
    assert int(Dataset.zip((a, b.repeat())).cardinality()) == 3
    assert int(Dataset.zip((a.repeat(), b.repeat())).cardinality()) == INFINITE_CARDINALITY
    assert int(Dataset.zip((a, b.filter(lambda x: True))).cardinality()) == UNKNOWN_CARDINALITY


def test_concatenate_merges_specs():
    a = Dataset.from_tensor_slices(np.zeros((2, 3), np.float32))
    b = Dataset.from_tensor_slices(np.ones((1, 4), np.float32))
    ds = a.concatenate(b)
    assert values(ds) == [[0.0] * 3, [0.0] * 3, [1.0] * 4]
    assert ds.element_spec == spec((None,), gf.float32) and len(ds) == 3
    assert int(a.concatenate(b.repeat()).cardinality()) == INFINITE_CARDINALITY


def test_iteration_is_repeatable_and_yields_tensors_on_the_current_device():
    ds = Dataset.from_tensor_slices((np.arange(3.0), [1, 2, 3])).map(lambda x, y: (x * 2.0, y))
    assert values(ds) == values(ds)
    for device in ("cpu", "sim"):
        with gf.device(device):
            x, y = next(iter(ds))
            assert isinstance(x, gf.Tensor) and x.device == f"{device}:0" and y.device == f"{device}:0"
            assert x.dtype == gf.float64 and y.dtype == gf.int32


def test_len_of_unknown_and_infinite_is_a_type_error():
    with pytest.raises(TypeError, match="infinite"):
        len(Dataset.range(3).repeat())
    with pytest.raises(TypeError, match="unknown"):
        len(Dataset.range(3).filter(lambda x: x > 0))


def test_reduce_folds_on_the_host_and_returns_on_the_current_device():
    ds = Dataset.range(1, 5)
    with gf.device("sim"):
        total = ds.reduce(np.int64(0), lambda state, x: state + x)
    assert total.device == "sim:0" and int(total) == 10
    pair = Dataset.from_tensor_slices(([1.0, 2.0], [3, 4])).reduce(
        (0.0, 0), lambda s, e: (s[0] + e[0], s[1] + e[1]))
    assert float(pair[0]) == 3.0 and int(pair[1]) == 7
