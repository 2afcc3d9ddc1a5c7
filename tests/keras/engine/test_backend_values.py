"""gf.keras.backend.get_value / set_value, as tf.keras callbacks use them."""
import numpy as np
import pytest

import gpuflow as gf


def test_get_and_set_value_of_a_variable():
    v = gf.Variable([1.0, 2.0])
    gf.keras.backend.set_value(v, [3.0, 4.0])
    np.testing.assert_array_equal(gf.keras.backend.get_value(v), [3.0, 4.0])


def test_learning_rate_reads_as_a_number_and_set_value_says_how_to_change_it():
    opt = gf.keras.optimizers.SGD(0.1)
    assert gf.keras.backend.get_value(opt.learning_rate) == pytest.approx(0.1)
    with pytest.raises(TypeError, match="optimizer.learning_rate = value"):
        gf.keras.backend.set_value(opt.learning_rate, 0.5)
