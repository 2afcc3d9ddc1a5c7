import numpy as np
import pytest

import gpuflow as gf
from gpuflow.keras import backend
from gpuflow.keras.utils import set_random_seed, to_categorical


def test_to_categorical_one_hot_rows():
    np.testing.assert_array_equal(to_categorical([0, 2, 1]), np.eye(3, dtype=np.float32)[[0, 2, 1]])
    assert to_categorical(np.array([[1], [0]]), num_classes=4).shape == (2, 4)  # a trailing 1 is dropped
    assert to_categorical(np.array([[0, 1], [1, 0]])).shape == (2, 2, 2)
    with pytest.raises(ValueError, match="does not fit num_classes=2"):
        to_categorical([0, 2], num_classes=2)
    with pytest.raises(ValueError, match="whole numbers"):
        to_categorical([0.5])


def test_set_random_seed_repeats_initial_weights():
    set_random_seed(7)
    first = gf.keras.initializers.get("glorot_uniform")((3, 2)).numpy()
    set_random_seed(7)
    np.testing.assert_array_equal(gf.keras.initializers.get("glorot_uniform")((3, 2)).numpy(), first)


def test_backend_settings():
    assert backend.floatx() == "float32" and backend.epsilon() == 1e-7
    with pytest.raises(ValueError, match="not a floating dtype"):
        backend.set_floatx("int32")
    assert [backend.unique_name("dense") for _ in range(3)] == ["dense", "dense_1", "dense_2"]
    backend.clear_session()
    assert backend.unique_name("dense") == "dense"
