"""tf.nn.max_pool / avg_pool / convolution pick the 1-D or 2-D op by the input's rank; max_pool1d and avg_pool1d."""
import numpy as np
import pytest

import gpuflow as gf
from gpuflow.errors import InvalidArgumentError
from tests.harness import rand


@pytest.mark.parametrize("generic, one_d, two_d", [(gf.nn.max_pool, gf.nn.max_pool1d, gf.nn.max_pool2d),
                                                    (gf.nn.avg_pool, gf.nn.avg_pool1d, gf.nn.avg_pool2d)])
def test_pools_by_rank(generic, one_d, two_d):
    x3, x4 = rand((2, 9, 3), seed=1), rand((2, 7, 8, 3), seed=2)
    np.testing.assert_array_equal(generic(x3, 3, 2, "SAME").numpy(), one_d(x3, 3, 2, "SAME").numpy())
    np.testing.assert_array_equal(generic(x4, 2, 2, "VALID").numpy(), two_d(x4, 2, 2, "VALID").numpy())
    windows = x3[:, :8].reshape(2, 4, 2, 3)
    expected = windows.max(axis=2) if generic is gf.nn.max_pool else windows.mean(axis=2)
    np.testing.assert_allclose(one_d(x3, 2, 2, "VALID").numpy(), expected, rtol=1e-6)


def test_convolution_by_rank():
    x3, k3 = rand((2, 9, 3), seed=3), rand((3, 3, 4), seed=4)
    x4, k4 = rand((2, 7, 8, 3), seed=5), rand((3, 2, 3, 4), seed=6)
    np.testing.assert_array_equal(gf.nn.convolution(x3, k3, padding="SAME").numpy(),
                                  gf.nn.conv1d(x3, k3, 1, "SAME").numpy())
    np.testing.assert_array_equal(gf.nn.convolution(x4, k4, strides=2, dilations=1).numpy(),
                                  gf.nn.conv2d(x4, k4, 2, "VALID").numpy())


@pytest.mark.parametrize("call", [lambda x: gf.nn.max_pool(x, 2, 2, "VALID"), lambda x: gf.nn.avg_pool(x, 2, 2, "VALID"),
                                  lambda x: gf.nn.convolution(x, gf.ones((2, 2, 2, 1, 1)))])
def test_rank_5_is_refused(call):
    with pytest.raises(InvalidArgumentError, match="3-D data \\(rank 5\\) is not supported"):
        call(gf.zeros((1, 4, 4, 4, 1)))
