"""batch, padded_batch, unbatch: values, element_spec, cardinality and the errors for ragged elements."""
import numpy as np
import pytest

import gpuflow as gf
from gpuflow.data import INFINITE_CARDINALITY, UNKNOWN_CARDINALITY

Dataset = gf.data.Dataset


def values(ds):
    return [gf.nest.map_structure(lambda a: a.tolist(), e) for e in ds.as_numpy_iterator()]


def test_batch_stacks_components():
    ds = Dataset.from_tensor_slices((np.arange(10).reshape(5, 2), [0.5] * 5)).batch(2)
    assert values(ds) == [([[0, 1], [2, 3]], [0.5, 0.5]), ([[4, 5], [6, 7]], [0.5, 0.5]), ([[8, 9]], [0.5])]
    assert ds.element_spec == (gf.TensorSpec((None, 2), gf.int64), gf.TensorSpec((None,), gf.float32))
    assert len(ds) == 3


def test_batch_drop_remainder_and_cardinality():
    ds = Dataset.range(10).batch(4, drop_remainder=True)
    assert values(ds) == [[0, 1, 2, 3], [4, 5, 6, 7]] and len(ds) == 2
    assert ds.element_spec == gf.TensorSpec((4,), gf.int64)
    assert len(Dataset.range(8).batch(4)) == 2 and len(Dataset.range(9).batch(4)) == 3
    assert int(Dataset.range(3).repeat().batch(2).cardinality()) == INFINITE_CARDINALITY
    assert int(Dataset.range(3).filter(lambda x: True).batch(2).cardinality()) == UNKNOWN_CARDINALITY


def test_batch_of_different_shapes_shows_both_and_suggests_padded_batch():
    ds = Dataset.range(1, 4).map(lambda n: gf.fill([n], 1.0)).batch(3)
    with pytest.raises(gf.errors.InvalidArgumentError) as info:
        values(ds)
    text = str(info.value)
    assert "(1,)" in text and "(2,)" in text and "padded_batch" in text


def test_padded_batch_pads_to_the_longest_in_each_batch():
    ds = Dataset.range(1, 5).map(lambda n: gf.fill([n], n)).padded_batch(2)
    assert values(ds) == [[[1, 0], [2, 2]], [[3, 3, 3, 0], [4, 4, 4, 4]]]
    assert ds.element_spec == gf.TensorSpec((None, None), gf.int64) and len(ds) == 2


def test_padded_batch_with_shapes_values_and_structure():
    ds = Dataset.range(1, 4).map(lambda n: (gf.fill([n], 1.0), n))
    padded = ds.padded_batch(3, padded_shapes=([5], []), padding_values=(-1.0, np.int64(0)), drop_remainder=True)
    assert values(padded) == [([[1.0, -1.0, -1.0, -1.0, -1.0], [1.0, 1.0, -1.0, -1.0, -1.0],
                                [1.0, 1.0, 1.0, -1.0, -1.0]], [1, 2, 3])]
    assert padded.element_spec == (gf.TensorSpec((3, 5), gf.float32), gf.TensorSpec((3,), gf.int64))
    with pytest.raises(gf.errors.InvalidArgumentError, match=r"larger than the padded shape \(2,\)"):
        values(ds.padded_batch(3, padded_shapes=([2], [])))
    with pytest.raises(gf.errors.InvalidArgumentError, match="does not match the element structure"):
        ds.padded_batch(2, padded_shapes=[5])


def test_unbatch_inverts_batch():
    ds = Dataset.from_tensor_slices((np.arange(6).reshape(3, 2), [1.0, 2.0, 3.0])).batch(2)
    flat = ds.unbatch()
    assert values(flat) == [([0, 1], 1.0), ([2, 3], 2.0), ([4, 5], 3.0)]
    assert flat.element_spec == (gf.TensorSpec((2,), gf.int64), gf.TensorSpec((), gf.float32))
    assert int(flat.cardinality()) == UNKNOWN_CARDINALITY
    mismatched = Dataset.from_tensors((np.zeros(2), np.zeros(3))).unbatch()
    with pytest.raises(gf.errors.InvalidArgumentError, match=r"same first dimension; got component\[0\] \(2,\), "
                                                             r"component\[1\] \(3,\)"):
        values(mismatched)
