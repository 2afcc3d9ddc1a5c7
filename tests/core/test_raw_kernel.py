"""gf.cuda.RawKernel: user CUDA on gpuflow tensors, run here by the simulator."""
import numpy as np
import pytest

import gpuflow as gf
from gpuflow.errors import InvalidArgumentError, KernelError

SAXPY = r'''
#include "common.cuh"
extern "C" __global__ void saxpy(float a, const float* x, float* y, long long n) {
    GF_GRID_STRIDE_LOOP(i, n) y[i] = a * x[i] + y[i];
}'''


def test_a_user_kernel_runs_on_sim_and_writes_in_place():
    kernel = gf.cuda.RawKernel(SAXPY, "saxpy")
    with gf.device("sim"):
        x = gf.constant(np.arange(1000, dtype=np.float32))
        y = gf.ones([1000])
    kernel((4,), (128,), (np.float32(2), x, y, np.int64(1000)))
    np.testing.assert_allclose(y.numpy(), 2 * np.arange(1000) + 1)


def test_double_scalars_are_accepted():
    kernel = gf.cuda.RawKernel('extern "C" __global__ void put(double* y, double a) { y[0] = a; }', "put")
    with gf.device("sim"):
        y = gf.zeros([1], dtype=gf.float64)
    kernel(1, 1, (y, np.float64(2.5)))
    assert y.numpy()[0] == 2.5


def test_python_scalars_are_refused_with_advice():
    kernel = gf.cuda.RawKernel(SAXPY, "saxpy")
    with gf.device("sim"):
        x, y = gf.ones([4]), gf.ones([4])
    with pytest.raises(InvalidArgumentError, match="argument 0 is a Python float.*np.float32"):
        kernel(1, 4, (2.0, x, y, np.int64(4)))


def test_a_mistyped_scalar_is_caught_by_the_simulator():
    kernel = gf.cuda.RawKernel(SAXPY, "saxpy")
    with gf.device("sim"):
        x, y = gf.ones([4]), gf.ones([4])
    with pytest.raises(KernelError, match="argument 3"):
        kernel(1, 4, (np.float32(2), x, y, np.int32(4)))


def test_kernels_do_not_run_on_cpu():
    kernel = gf.cuda.RawKernel(SAXPY, "saxpy")
    x, y = gf.ones([4]), gf.ones([4])
    with pytest.raises(InvalidArgumentError, match="run on 'cuda' or 'sim'"):
        kernel(1, 4, (np.float32(2), x, y, np.int64(4)))


def test_tensors_on_two_devices_are_refused():
    kernel = gf.cuda.RawKernel(SAXPY, "saxpy")
    x = gf.ones([4])
    with gf.device("sim"):
        y = gf.ones([4])
    with pytest.raises(InvalidArgumentError, match="different devices"):
        kernel(1, 4, (np.float32(2), x, y, np.int64(4)))
