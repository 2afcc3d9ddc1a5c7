"""tf.random.stateless_uniform / stateless_normal / stateless_truncated_normal: numbers that depend on the seed pair
alone (not on draws before, the global seed, the device, or being traced), with the distributions asked for."""
import numpy as np
import pytest

import gpuflow as gf

STATELESS = [gf.random.stateless_uniform, gf.random.stateless_normal, gf.random.stateless_truncated_normal]


@pytest.mark.parametrize("fn", STATELESS)
def test_the_seed_alone_decides_the_numbers(fn):
    first = fn([4, 5], seed=[3, 7]).numpy()
    gf.random.set_seed(99)
    gf.random.uniform([10])  # draws in between change nothing
    np.testing.assert_array_equal(fn([4, 5], seed=gf.constant([3, 7])).numpy(), first)
    assert not np.array_equal(fn([4, 5], seed=[3, 8]).numpy(), first)
    assert not np.array_equal(fn([4, 5], seed=[4, 7]).numpy(), first)
    with gf.device("sim"):
        np.testing.assert_array_equal(fn([4, 5], seed=(3, 7)).numpy(), first)
    traced = gf.function(lambda: fn([4, 5], seed=(3, 7)))
    np.testing.assert_array_equal(traced().numpy(), first)
    np.testing.assert_array_equal(traced().numpy(), first)  # a replay draws the same again


def test_distributions_and_parameters():
    u = gf.random.stateless_uniform([20000], seed=[1, 2], minval=-2.0, maxval=3.0).numpy()
    assert u.min() >= -2.0 and u.max() < 3.0 and abs(u.mean() - 0.5) < 0.05
    z = gf.random.stateless_normal([20000], seed=[1, 2], mean=1.0, stddev=2.0, dtype=gf.float64).numpy()
    assert z.dtype == np.float64 and abs(z.mean() - 1.0) < 0.05 and abs(z.std() - 2.0) < 0.05
    t = gf.random.stateless_truncated_normal([20000], seed=[1, 2]).numpy()
    assert np.abs(t).max() <= 2.0 and 0.85 < t.std() < 0.9  # a unit normal cut at 2 sigma: std 0.88
    k = gf.random.stateless_uniform([5000], seed=[5, 5], minval=3, maxval=7, dtype=gf.int32).numpy()
    assert k.dtype == np.int32 and set(np.unique(k)) == {3, 4, 5, 6}


@pytest.mark.parametrize("seed, message", [([1, 2, 3], "seed must hold 2 integers"),
                                            ("ab", "seed must be a shape \\[2\\] integer tensor")])
def test_a_bad_seed_is_named(seed, message):
    with pytest.raises(ValueError, match="random.stateless_uniform: " + message):
        gf.random.stateless_uniform([2], seed=seed)


def test_an_integer_dtype_needs_maxval():
    with pytest.raises(ValueError, match="random.stateless_uniform: an integer dtype needs maxval"):
        gf.random.stateless_uniform([2], seed=[1, 2], dtype=gf.int32)
