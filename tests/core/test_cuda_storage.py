"""The cuda backend's one way back from a device array to its gpuflow dtype (gpuflow/backend/cuda/storage.py)."""
import numpy as np
import pytest

import gpuflow as gf
from gpuflow import dtypes
from gpuflow.backend.cuda.storage import BFLOAT16_STORAGE, ctype, dtype_of


@pytest.mark.parametrize("dtype", dtypes.ALL, ids=lambda d: d.name)
def test_every_dtype_maps_back_from_its_numpy_storage(dtype):
    array = np.zeros(3, dtype.np)  # sim's storage: NumPy arrays of the dtype itself
    assert dtype_of(array) is dtype
    assert ctype(array) == dtype.ctype


def test_a_uint16_buffer_is_bfloat16_bits_as_on_a_gpu():
    array = np.zeros((2, 2), BFLOAT16_STORAGE)
    assert dtype_of(array) is gf.bfloat16
    assert ctype(array) == "__nv_bfloat16"


def test_an_array_of_no_gpuflow_dtype_is_refused_by_name():
    with pytest.raises(TypeError, match="complex64"):
        dtype_of(np.zeros(1, np.complex64))
