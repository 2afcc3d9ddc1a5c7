"""Packing gradients into a few flat buffers and back."""
import numpy as np
import pytest

import gpuflow as gf
from gpuflow.distribute.buckets import Plan


def tensors():
    rng = np.random.default_rng(0)
    return [gf.constant(rng.standard_normal(s).astype(np.float32)) for s in [(3, 4), (4,), (), (2, 2, 2)]] + \
        [gf.constant(np.arange(5, dtype=np.int64)), gf.constant(rng.standard_normal((6,)))]


def test_pack_unpack_round_trip_one_buffer_per_dtype():
    values = tensors()
    plan = Plan.for_tensors(values)
    assert [d.name for d in plan.dtypes] == ["float32", "int64", "float64"]
    buffers = plan.pack(values)
    assert [b.shape for b in buffers] == [(12 + 4 + 1 + 8,), (5,), (6,)]
    for a, b in zip(values, plan.unpack(buffers)):
        assert a.shape == b.shape and a.dtype == b.dtype
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_size_cap_and_num_packs_split_buffers():
    values = [gf.zeros([256]) for _ in range(8)]  # 1 KiB each
    assert len(Plan.for_tensors(values, bucket_bytes=2048).buckets) == 4
    assert len(Plan.for_tensors(values, num_packs=2).buckets) == 2
    assert len(Plan.for_tensors(values).buckets) == 1
    big = [gf.zeros([4096])]  # a tensor larger than the cap gets a buffer of its own
    assert len(Plan.for_tensors(big + values, bucket_bytes=2048).buckets) == 5


def test_check_names_the_differing_value():
    plan = Plan.for_tensors(tensors())
    other = tensors()
    other[1] = gf.zeros([5])
    with pytest.raises(ValueError, match=r"replica 2 gave different values than replica 0 \(value 1: float32\[5\] vs "
                                         r"float32\[4\]\)"):
        plan.check(other, "replica 2")
