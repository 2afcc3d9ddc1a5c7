"""gf.cuda.RawKernel's scalar rules that exist for CuPy's sake, on sim (and cuda where there is a GPU)."""
import ml_dtypes
import numpy as np
import pytest

import gpuflow as gf
from gpuflow.errors import InvalidArgumentError

FLAG = r'''
extern "C" __global__ void put_flag(int* y, bool on) { y[0] = on ? 7 : 3; }'''

DEVICES = ["sim", pytest.param("cuda", marks=pytest.mark.gpu)]

BF16 = r'''
#include "common.cuh"
extern "C" __global__ void put_bf16(__nv_bfloat16* y, __nv_bfloat16 v) { y[0] = v; }'''


@pytest.mark.parametrize("device", DEVICES)
def test_a_python_bool_is_refused_like_int_and_float(device):
    # CuPy passes a Python bool as int64 (it tests isinstance(x, int) first), the simulator as one byte:
    # refusing it keeps the two from disagreeing.
    kernel = gf.cuda.RawKernel(FLAG, "put_flag")
    with gf.device(device):
        y = gf.zeros([1], dtype=gf.int32)
    with pytest.raises(InvalidArgumentError, match="argument 1 is a Python bool"):
        kernel(1, 1, (y, True))
    kernel(1, 1, (y, np.bool_(True)))
    assert y.numpy()[0] == 7


@pytest.mark.parametrize("device", DEVICES)
def test_a_bfloat16_scalar_reaches_the_kernel_exactly(device):
    # On a GPU the scalar goes to CuPy as its uint16 bits (CuPy 13 has no bfloat16 scalar type).
    kernel = gf.cuda.RawKernel(BF16, "put_bf16")
    with gf.device(device):
        y = gf.zeros([1], dtype=gf.bfloat16)
    kernel(1, 1, (y, ml_dtypes.bfloat16(1.5)))
    assert y.numpy()[0] == ml_dtypes.bfloat16(1.5) and y.dtype == gf.bfloat16
