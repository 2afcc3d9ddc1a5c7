"""Rescaling: inputs * scale + offset in the layer's dtype."""
import numpy as np

from gpuflow.keras import layers
from tests.harness import check_op


def test_rescaling_ints_to_floats(device):
    images = np.arange(24, dtype=np.int32).reshape(2, 2, 2, 3) * 10
    out = check_op(layers.Rescaling(1 / 127.5, offset=-1), [images], lambda x: x / 127.5 - 1, device)
    assert out.dtype.name == "float32"


def test_rescaling_per_channel(device):
    x = np.ones((2, 3), np.float32)
    check_op(layers.Rescaling([0.5, 2.0, 3.0], offset=[0.0, 1.0, -1.0]), [x],
             lambda x: x * np.array([0.5, 2, 3]) + np.array([0, 1, -1]), device)
    assert layers.Rescaling(2.0).compute_output_shape((None, 3)) == (None, 3)
