"""Structure errors show every shape or spec involved."""
import json

import numpy as np
import pytest

import gpuflow as gf

Dataset = gf.data.Dataset
Error = gf.errors.InvalidArgumentError


def test_mismatched_slices_show_every_component():
    with pytest.raises(Error) as info:
        Dataset.from_tensor_slices((np.zeros((3, 2)), {"y": np.zeros(4), "w": np.zeros(3)}))
    text = str(info.value)
    assert "component[0] has shape (3, 2)" in text
    assert "component[1]['w'] has shape (3,)" in text and "component[1]['y'] has shape (4,)" in text


def test_scalar_slices_and_unsupported_values_are_refused():
    with pytest.raises(Error, match=r"component\[1\] has shape \(\)"):
        Dataset.from_tensor_slices(([1, 2], 3))
    with pytest.raises(Error, match="rectangular"):
        Dataset.from_tensor_slices([[1, 2], [3]])
    with pytest.raises(Error, match="NumPy dtype <U1.*not strings"):
        Dataset.from_tensor_slices(["a", "b"])


def test_generator_mismatches_show_expected_and_given():
    sig = (gf.TensorSpec([2], gf.float32), gf.TensorSpec([], gf.int32))

    def first(gen):
        return next(iter(Dataset.from_generator(gen, output_signature=sig)))

    with pytest.raises(Error, match=r"element 0\[0\]: expected float32\[2\], got shape \(3,\)"):
        first(lambda: iter([([1.0, 2.0, 3.0], 1)]))
    with pytest.raises(Error, match=r"element 0\[0\]: expected float32\[2\], got an array of dtype float64"):
        first(lambda: iter([(np.zeros(2), 1)]))
    with pytest.raises(Error, match=r"element 0\[1\]: expected int32\[\], got 0.5"):
        first(lambda: iter([([1.0, 2.0], 0.5)]))
    with pytest.raises(Error, match=r"does not match the element structure \(float32\[2\], int32\[\]\)"):
        first(lambda: iter([([1.0, 2.0], 1, 2)]))
    with pytest.raises(Error, match="output_signature"):
        Dataset.from_generator(lambda: iter([1]))


def test_concatenate_mismatch_shows_both_specs():
    a = Dataset.from_tensor_slices((np.zeros((2, 3), np.float32), [1, 2]))
    b = Dataset.from_tensor_slices((np.zeros((2, 3)), [1, 2]))
    with pytest.raises(Error) as info:
        a.concatenate(b)
    assert "(float32[3], int32[])" in str(info.value) and "(float64[3], int32[])" in str(info.value)
    with pytest.raises(Error, match=r"float32\[\]"):
        Dataset.range(3).concatenate(Dataset.from_tensor_slices([1.0]))


def test_reduce_state_must_keep_its_dtype():
    with pytest.raises(Error, match=r"expected int64\[\], got float32\[\]"):
        Dataset.range(3).reduce(np.int64(0), lambda s, x: 0.5)


def test_cache_refuses_pickled_arrays(tmp_path):
    folder = tmp_path / "c.gfcache"
    folder.mkdir()
    (folder / "index.json").write_text(json.dumps({"format": "gpuflow.data.cache/1", "structure": {"leaf": "int64"},
                                                   "chunks": 1}))
    np.savez(folder / "chunk-000000.npz", e0_0=np.array([{"not": "data"}], dtype=object))
    with pytest.raises(Error, match="damaged"):
        list(Dataset.range(1).cache(str(tmp_path / "c")))
