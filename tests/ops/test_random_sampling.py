"""gf.random.categorical and gf.random.shuffle: the distributions they draw from (many samples, fixed seeds),
the same samples for the same seeds on every device, and bad input."""
import numpy as np
import pytest

import gpuflow as gf
from gpuflow.errors import InvalidArgumentError


@pytest.mark.parametrize("dtype", [gf.float32, gf.float64, gf.float16])
def test_categorical_draws_softmax_of_the_logits(dtype):
    gf.random.set_seed(3)
    probs = np.array([[0.1, 0.6, 0.3, 0.0], [0.25, 0.25, 0.25, 0.25]])
    with np.errstate(divide="ignore"):
        logits = gf.cast(gf.constant(np.log(probs)), dtype)  # log 0 = -inf: never drawn
    n = 40000
    samples = gf.random.categorical(logits, n)
    assert samples.dtype == gf.int64 and samples.shape == (2, n)
    for row, p in zip(samples.numpy(), probs):
        freq = np.bincount(row, minlength=4) / n
        assert freq[p == 0].sum() == 0
        np.testing.assert_allclose(freq, p, atol=4 * np.sqrt(0.25 / n))  # 4 standard deviations at worst


def test_categorical_repeats_under_seeds_on_every_device(device):
    gf.random.set_seed(5)
    got = gf.random.categorical(gf.constant([[1.0, 2.0, 0.5]]), 64, dtype=gf.int32, seed=9).numpy()
    with gf.device("cpu"):
        gf.random.set_seed(5)
        reference = gf.random.categorical(gf.constant([[1.0, 2.0, 0.5]]), 64, dtype=gf.int32, seed=9).numpy()
    np.testing.assert_array_equal(got, reference)
    assert got.dtype == np.int32


def test_shuffle_permutes_rows_uniformly(device):
    x = gf.constant(np.arange(12).reshape(6, 2))
    out = gf.random.shuffle(x, seed=1).numpy()
    assert sorted(map(tuple, out)) == sorted(map(tuple, x.numpy()))  # the same rows, pairs kept
    gf.random.set_seed(0)
    firsts = np.array([int(gf.random.shuffle(gf.constant(np.arange(4)))[0]) for _ in range(2000)])
    np.testing.assert_allclose(np.bincount(firsts, minlength=4) / 2000, 0.25, atol=4 * np.sqrt(0.1875 / 2000))


def test_bad_input_is_named():
    with pytest.raises(InvalidArgumentError, match=r"random.categorical: logits must be float \[batch, classes\]"):
        gf.random.categorical(gf.constant([1.0, 2.0]), 3)
    with pytest.raises(InvalidArgumentError, match="num_samples must be >= 0"):
        gf.random.categorical(gf.constant([[1.0, 2.0]]), -1)
    with pytest.raises(InvalidArgumentError, match="dtype must be int32 or int64"):
        gf.random.categorical(gf.constant([[1.0, 2.0]]), 1, dtype=gf.float32)
    with pytest.raises(InvalidArgumentError, match="random.shuffle: value must have at least one axis"):
        gf.random.shuffle(gf.constant(1.0))
